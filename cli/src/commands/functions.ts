/** `trm functions`: the local functions gateway (functions/gateway/main.ts; docs/functions.md). */
import type { Command } from '../command.ts';

const flags: Record<string, string> = { port: 'FUNCTIONS_PORT', host: 'FUNCTIONS_HOST', stack: 'TRM_STACK_FILE', only: 'FUNCTIONS_ONLY' };

export const command: Command = {
  name: 'functions',
  summary: 'local functions gateway with the OpenFaaS REST shape',
  usage: 'functions [--port PORT] [--host HOST] [--stack FILE] [--only fn1,fn2]',
  options: Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])),
  help: `Runs every stack.yml function in this process through the node24-ts template runtime, as
the container does: POST /function/<name>, POST /async-function/<name> (202 + X-Call-Id, result
POSTed to X-Callback-Url), GET /system/functions, GET /healthz. Flags override their variable:

  FUNCTIONS_PORT     listen port (default 8080; 0 = any free port, logged)
  FUNCTIONS_HOST     listen address (default 127.0.0.1; 0.0.0.0 in a container)
  TRM_STACK_FILE     the stack file (default stack.yml at the repository root)
  FUNCTIONS_ONLY     comma-separated function names to serve (default all)

Handlers read DATABASE_URL, DIRECTUS_URL, DIRECTUS_TOKEN… from this environment, laid under
each function's stack.yml environment. See docs/functions.md.`,
  async run(args, env) {
    const merged: NodeJS.ProcessEnv = { ...env };
    for (const [flag, name] of Object.entries(flags)) {
      const value = args.values[flag];
      if (typeof value === 'string') merged[name] = value;
    }
    const { main } = await import('../../../functions/gateway/main.ts');
    return main(merged);
  },
};
