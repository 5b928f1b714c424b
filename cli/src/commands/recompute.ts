/**
 * `trm recompute`: a manual timing recompute (docs/recompute.md), in-process with the same code
 * as the `recompute` function, with progress per stage and entry and a summary; or, with
 * `--via-stream`, a request XADDed to recompute:requests for the connector.
 */
import type { Command } from '../command.ts';

const SCOPES = ['event', 'stage', 'entry', 'device'] as const;

export const command: Command = {
  name: 'recompute',
  summary: 'recompute stage times, waypoint passes and speed infringements',
  usage: 'recompute --event <id> | --stage <id> | --entry <id> | --device <imei> [--from ISO --to ISO] [--reason text] [--by name] [--via-stream] [--quiet]',
  options: {
    event: { type: 'string' },
    stage: { type: 'string' },
    entry: { type: 'string' },
    device: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    reason: { type: 'string' },
    by: { type: 'string' },
    'via-stream': { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  help: `Exactly one scope: an event (all its stages), a stage, an entry (every stage of its event)
or a device (the entries that use it). --from/--to select the stages whose time span overlaps
the window. Only the rows that changed are written through Directus; the run is recorded in
recompute_runs (requested_by = --by, default "cli:<user>") and penalty evaluation is queued for
what changed.

  DATABASE_URL, DIRECTUS_URL, DIRECTUS_TOKEN (the service token), REDIS_URL, TRM_REDIS_PREFIX
  RECOMPUTE_CONCURRENCY   entries read and computed at once (default 4)

--via-stream only XADDs the request to recompute:requests (the connector then calls the
recompute function) and prints the stream entry id.`,
  async run(args, env) {
    const chosen = SCOPES.filter((s) => typeof args.values[s] === 'string');
    if (chosen.length !== 1) {
      process.stderr.write(`trm recompute: give exactly one of ${SCOPES.map((s) => `--${s}`).join(', ')}\n`);
      return 2;
    }
    const scope = chosen[0];
    const { parseRecomputeRequest, requestRecompute } = await import('../../../common/src/triggers.ts');
    const { userInfo } = await import('node:os');
    let request;
    try {
      request = parseRecomputeRequest({
        scope,
        id: args.values[scope],
        from: args.values.from,
        to: args.values.to,
        reason: (args.values.reason as string | undefined) ?? 'manual recompute',
        requested_by: (args.values.by as string | undefined) ?? `cli:${userInfo().username}`,
      });
    } catch (error) {
      process.stderr.write(`trm recompute: ${(error as Error).message}\n`);
      return 2;
    }

    if (args.values['via-stream']) {
      const { createRedis } = await import('../../../common/src/redis.ts');
      const { redisKeys } = await import('../../../common/src/redis-keys.ts');
      const redis = createRedis(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
      try {
        const id = await requestRecompute(redis, redisKeys(env.TRM_REDIS_PREFIX ?? ''), request);
        process.stdout.write(`requested ${scope} ${request.id}: stream entry ${id}\n`);
        return 0;
      } finally {
        redis.disconnect();
      }
    }

    const { loadRecomputeConfig } = await import('../../../functions/src/recompute/config.ts');
    const { createRecomputeService } = await import('../../../functions/src/recompute/service.ts');
    const { totalChanges } = await import('../../../functions/src/recompute/recompute.ts');
    const service = createRecomputeService(loadRecomputeConfig(env));
    const out = (line: string) => process.stdout.write(`${line}\n`);
    const quiet = Boolean(args.values.quiet);
    const counts = (c: Record<string, { created: number; updated: number; deleted: number; unchanged: number }>) =>
      Object.entries(c)
        .map(([k, v]) => `${k} +${v.created} ~${v.updated} -${v.deleted} =${v.unchanged}`)
        .join(' · ');
    try {
      const summary = await service.run(request, {
        onProgress(e) {
          if (e.type === 'scope') out(`${scope} ${request.id}: ${e.events} event(s), ${e.stages} stage(s), ${e.entries} entr${e.entries === 1 ? 'y' : 'ies'}`);
          else if (e.type === 'stage') {
            out(`stage ${e.code} (#${e.stage}): ${e.entries} entries${e.skipped ? ' — SKIPPED' : ''}`);
            for (const n of e.notes) out(`  note ${n.kind}: ${n.feature}: ${n.message}`);
          } else if (e.type === 'entry' && !quiet) out(`  #${e.number} (entry ${e.entry}, ${e.device}): ${e.fixes} fixes → ${e.status}${e.issues ? `, ${e.issues} issue(s)` : ''}`);
          else if (e.type === 'stage-done') out(`  written: ${counts(e.changed)}`);
        },
      });
      out(`run ${summary.runId}: ${summary.stages.length} stage(s), ${summary.entries} entries, ${summary.fixes} fixes, ${totalChanges(summary.changed)} row(s) changed, ${summary.penaltyRequests.length} penalty evaluation(s) queued, ${(summary.durationMs / 1000).toFixed(1)} s`);
      out(`  ${counts(summary.changed)}`);
      return 0;
    } catch (error) {
      process.stderr.write(`trm recompute: ${(error as { code?: string }).code ?? 'ERROR'} ${(error as Error).message}\n`);
      return 1;
    } finally {
      await service.close();
    }
  },
};
