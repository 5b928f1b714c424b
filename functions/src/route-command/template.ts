/**
 * Command templates: an organisation's allowed commands (`command_templates`: key, text with
 * `{arg}` placeholders). An operator picks a template and fills its arguments; the text sent
 * to the device is rendered here, never typed by the operator, so nobody can send arbitrary
 * text (issue #10, "Safety"). Pure: no I/O.
 *
 * Rules (docs/commands.md, "Templates"):
 * - key: `[a-z][a-z0-9_]{0,63}`; text: printable ASCII (0x20–0x7E), at most 255 characters,
 *   braces only around a placeholder name `[a-z][a-z0-9_]{0,31}`;
 * - args: exactly the template's placeholders (unknown or missing → refused); each value a
 *   string, finite number or boolean whose text is 1–64 characters of `A–Z a–z 0–9 . _ : , ? + - = / @ # *`
 *   (no spaces, `;`, quotes or control characters: an argument cannot add parameters or a
 *   second command);
 * - the rendered text is at most 255 characters, and arguments may not turn a text command
 *   into a binary one (ingest sends text made only of hex pairs as raw bytes).
 */
import { CommandError, CommandErrorCode } from './errors.ts';

export const MAX_TEMPLATE_KEY = 64;
/** `commands.text` and `command_templates.text` are varchar(255) */
export const MAX_TEXT = 255;
export const MAX_ARG_LENGTH = 64;
export const MAX_ARGS = 16;

const KEY = /^[a-z][a-z0-9_]{0,63}$/;
const PLACEHOLDER = /\{([a-z][a-z0-9_]{0,31})\}/g;
const PRINTABLE = /^[\x20-\x7e]*$/;
const ARG_VALUE = /^[A-Za-z0-9._:,?+\-=/@#*]+$/;
const HEX_PAIRS = /^(?:[0-9a-fA-F]{2})+$/;

export type ArgValue = string | number | boolean;

export function checkTemplateKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY.test(key)) throw new CommandError(CommandErrorCode.BAD_TEMPLATE, `template key must match ${KEY.source}`, { field: 'key' });
  return key;
}

/** The placeholder names of a template text, in order of first appearance; throws on a bad text. */
export function placeholders(text: unknown): string[] {
  if (typeof text !== 'string' || text.trim() === '') throw new CommandError(CommandErrorCode.BAD_TEMPLATE, 'template text must be a non-empty string', { field: 'text' });
  if (text.length > MAX_TEXT) throw new CommandError(CommandErrorCode.BAD_TEMPLATE, `template text is longer than ${MAX_TEXT} characters`, { field: 'text' });
  if (!PRINTABLE.test(text)) throw new CommandError(CommandErrorCode.BAD_TEMPLATE, 'template text must be printable ASCII', { field: 'text' });
  const names: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (!names.includes(m[1])) names.push(m[1]);
  // any brace left once the placeholders are taken out is a malformed placeholder
  if (/[{}]/.test(text.replace(PLACEHOLDER, ''))) throw new CommandError(CommandErrorCode.BAD_TEMPLATE, 'template text has a brace that is not a {placeholder} (names: lower case, digits, _)', { field: 'text' });
  if (names.length > MAX_ARGS) throw new CommandError(CommandErrorCode.BAD_TEMPLATE, `template has more than ${MAX_ARGS} placeholders`, { field: 'text' });
  return names;
}

function argText(name: string, value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'boolean') text = value ? '1' : '0';
  else throw new CommandError(CommandErrorCode.BAD_ARGS, `argument "${name}" must be a string, a number or a boolean`, { arg: name });
  if (text.length === 0 || text.length > MAX_ARG_LENGTH) throw new CommandError(CommandErrorCode.BAD_ARGS, `argument "${name}" must be 1–${MAX_ARG_LENGTH} characters`, { arg: name });
  if (!ARG_VALUE.test(text)) throw new CommandError(CommandErrorCode.BAD_ARGS, `argument "${name}" may only hold letters, digits and . _ : , ? + - = / @ # * (no spaces, control characters or ;)`, { arg: name });
  return text;
}

/** Args as given in a `commands` payload: absent/null = none; an object otherwise. */
export function normaliseArgs(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      throw new CommandError(CommandErrorCode.BAD_ARGS, 'args must be a JSON object');
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CommandError(CommandErrorCode.BAD_ARGS, 'args must be a JSON object of argument → value');
  return raw as Record<string, unknown>;
}

/** The device text of a template with its arguments filled, or a coded refusal. */
export function renderCommand(templateText: string, rawArgs: unknown): string {
  const names = placeholders(templateText);
  const args = normaliseArgs(rawArgs);
  const unknown = Object.keys(args).filter((k) => !names.includes(k));
  if (unknown.length > 0) throw new CommandError(CommandErrorCode.BAD_ARGS, `unknown argument(s): ${unknown.slice(0, 5).join(', ')}; this template takes ${names.length ? names.join(', ') : 'none'}`, { unknown: unknown.slice(0, 5) });
  const missing = names.filter((n) => !(n in args));
  if (missing.length > 0) throw new CommandError(CommandErrorCode.BAD_ARGS, `missing argument(s): ${missing.join(', ')}`, { missing });
  const values = new Map(names.map((n) => [n, argText(n, args[n])]));
  const text = templateText.replace(PLACEHOLDER, (_, name: string) => values.get(name)!);
  if (text.length > MAX_TEXT) throw new CommandError(CommandErrorCode.BAD_ARGS, `the command text would be longer than ${MAX_TEXT} characters`);
  if (names.length > 0 && HEX_PAIRS.test(text)) throw new CommandError(CommandErrorCode.BAD_ARGS, 'arguments may not turn the command into hex bytes (sent as binary)');
  return text;
}
