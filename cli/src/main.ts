/** `npx trm <command>`: one entry for every part of TRM (ARCHITECTURE.md, "Command line"). */
import { helpText, parse, type Command } from './command.ts';
import { commands } from './commands/index.ts';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: npx trm <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'npx trm <command> --help' explains one command.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`trm: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  let args;
  try {
    args = parse(command, rest);
  } catch (error) {
    process.stderr.write(`trm ${name}: ${(error as Error).message}\n\n${helpText(command)}`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(helpText(command));
    return 0;
  }
  return command.run(args, process.env);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const e = error as { code?: string; message?: string };
    process.stderr.write(`trm: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(error)}\n`);
    if (process.env.TRM_DEBUG) console.error(error);
    process.exitCode = 1;
  },
);
