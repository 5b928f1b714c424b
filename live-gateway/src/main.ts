/**
 * live-gateway entrypoint (`trm gateway`): config, adapters, buildGateway, listen, signals.
 * Everything else is in gateway.ts and below.
 */
import { createLogger } from '../../common/src/log.ts';
import { createRedis } from '../../common/src/redis.ts';
import { createPool } from '../../common/src/pg.ts';
import { runUntilSignal } from '../../common/src/lifecycle.ts';
import { loadGatewayConfig } from './config.ts';
import { buildGateway } from './gateway.ts';

export async function main(env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadGatewayConfig(env);
  const log = createLogger('live-gateway', { level: config.logLevel });
  const redis = createRedis(config.redisUrl);
  const blocking = createRedis(config.redisUrl);
  const pool = createPool(config.databaseUrl, env, { application_name: 'trm-live-gateway', max: 5 });
  const gateway = await buildGateway({ config, redis, blocking, pool, log });
  await gateway.start();
  const address = await gateway.app.listen({ port: config.port, host: config.host });
  log.info(
    { address, group: gateway.consumer.group, localJwt: Boolean(config.directusSecret), directus: config.directusUrl, recheckIntervalMs: config.recheckIntervalMs },
    'live gateway listening',
  );
  runUntilSignal(
    {
      async close() {
        await gateway.close();
        await pool.end();
        redis.disconnect();
      },
    },
    log,
  );
  return new Promise<number>(() => {}); // runUntilSignal exits the process
}
