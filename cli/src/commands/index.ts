import type { Command } from '../command.ts';
import { command as bench } from './bench.ts';
import { command as dbInit } from './db-init.ts';
import { command as connector } from './connector.ts';
import { command as functions } from './functions.ts';
import { command as gateway } from './gateway.ts';
import { command as ingest } from './ingest.ts';
import { command as recompute } from './recompute.ts';
import { command as simulate } from './simulate.ts';
import { command as writer } from './writer.ts';

export const commands: Command[] = [dbInit, ingest, writer, gateway, functions, connector, simulate, recompute, bench];
