/** The shape of one `trm` subcommand. Each lives in commands/<name>.ts. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  summary: string;
  /** full --help text after the usage line */
  help: string;
  usage: string;
  options?: ParseArgsConfig['options'];
  allowPositionals?: boolean;
  run(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parse(command: Command, argv: string[]): ParsedArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, ...(command.options ?? {}) },
    allowPositionals: command.allowPositionals ?? false,
    strict: true,
  });
  return { values: values as ParsedArgs['values'], positionals };
}

export function helpText(command: Command): string {
  return `usage: npx trm ${command.usage}\n\n${command.summary}\n\n${command.help.trim()}\n`;
}

/** A subcommand whose work belongs to an issue that has not landed yet. */
export function notYet(name: string, summary: string, issue: string): Command {
  return {
    name,
    summary,
    usage: name,
    help: `Not built yet: this command arrives with ${issue}.`,
    async run() {
      process.stderr.write(`trm ${name}: not built yet — it arrives with ${issue}.\n`);
      return 2;
    },
  };
}
