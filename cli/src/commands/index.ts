import type { Command } from '../command.ts';
import { command as bench } from './bench.ts';
import { command as connector } from './connector.ts';
import { command as dbInit } from './db-init.ts';
import { command as directus } from './directus.ts';
import { command as functions } from './functions.ts';
import { command as gateway } from './gateway.ts';
import { command as ingest } from './ingest.ts';
import { command as recompute } from './recompute.ts';
import { command as safety } from './safety.ts';
import { applyCommand as schemaApply, snapshotCommand as schemaSnapshot } from './schema.ts';
import { command as simulate } from './simulate.ts';
import { command as test } from './test.ts';
import { command as up } from './up.ts';
import { command as writer } from './writer.ts';

export const commands: Command[] = [up, ingest, writer, gateway, functions, connector, safety, directus, dbInit, schemaApply, schemaSnapshot, simulate, recompute, bench, test];
