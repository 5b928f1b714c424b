/**
 * Builds docs/errors.md, the one page listing every error code, from the sources: each code's
 * description is the doc comment above it in its package's errors.ts (`/** … *\/ KEY: 'CODE'`).
 * `node scripts/errors-doc.ts --write` rewrites the page; tests/error-codes.test.ts fails when
 * the committed page is not what this script would write.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const SCAN = ['common', 'cli', 'ingest-daemon', 'db-writer', 'live-gateway', 'functions', 'connector', 'safety', 'directus/src', 'directus/extensions', 'template/node24-ts/runtime', 'demo', 'simulator'];
const CODE = /'([A-Z][A-Z0-9]*_ERR_[A-Z0-9_]+)'/g;
const DESCRIBED = /\/\*\*\s*([\s\S]*?)\s*\*\/\s*\n\s*[A-Za-z_][A-Za-z0-9_]*:\s*'([A-Z][A-Z0-9]*_ERR_[A-Z0-9_]+)'/g;

const PARTS: [prefix: string, part: string, doc: string][] = [
  ['INGEST', 'ingest daemon', 'ingest.md'],
  ['WRITER', 'db-writer', 'writer.md'],
  ['GW', 'live gateway', 'live.md'],
  ['FN', 'functions runtime', 'functions.md'],
  ['CONNECTOR', 'connector', 'functions.md'],
  ['TRIGGER', 'triggers', 'functions.md'],
  ['RECOMPUTE', 'recompute', 'recompute.md'],
  ['DIRECTUS_IO', 'functions’ Directus I/O', 'recompute.md'],
  ['BULK', 'bulk result writes (Directus endpoint trm-results-io)', 'recompute.md'],
  ['PEN', 'penalties', 'penalties.md'],
  ['PENALTIES', 'evaluate-penalties', 'penalties.md'],
  ['SO', 'start order', 'start-order.md'],
  ['STARTORDER', 'generate-start-order', 'start-order.md'],
  ['START_ORDER', 'generate-start-order', 'start-order.md'],
  ['COMMAND', 'device commands', 'commands.md'],
  ['SAFETY', 'safety alerts', 'safety.md'],
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (name.endsWith('.ts') && !/\.(test|int\.test|faults\.test)\.ts$/.test(name) && name !== 'testing.ts' && !path.includes('/testing/')) out.push(path);
  }
  return out;
}

export function collectCodes(): Map<string, { description: string; files: Set<string> }> {
  const codes = new Map<string, { description: string; files: Set<string> }>();
  for (const dir of SCAN) {
    for (const file of files(join(root, dir))) {
      const text = readFileSync(file, 'utf8');
      const rel = relative(root, file);
      for (const m of text.matchAll(CODE)) {
        const entry = codes.get(m[1]) ?? { description: '', files: new Set<string>() };
        entry.files.add(rel);
        codes.set(m[1], entry);
      }
      for (const m of text.matchAll(DESCRIBED)) {
        const entry = codes.get(m[2])!;
        if (!entry.description) entry.description = m[1].split('\n').map((l) => l.replace(/^\s*\*\s?/, '').trim()).join(' ').trim();
      }
    }
  }
  // codes whose source has no doc comment: the meaning from the part's doc table (| `CODE` | meaning |)
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && f !== 'errors.md').map((f) => readFileSync(join(root, 'docs', f), 'utf8'));
  for (const [code, entry] of codes) {
    if (entry.description) continue;
    const row = new RegExp(`^\\|[^\\n]*\`${code}\`[^|\\n]*\\|\\s*([^|\\n]+?)\\s*\\|`, 'm');
    for (const text of docs) {
      const m = row.exec(text);
      if (m && m[1] && !/^`/.test(m[1])) {
        entry.description = m[1];
        break;
      }
    }
  }
  return codes;
}

function partOf(code: string): [string, string] {
  const match = PARTS.filter(([p]) => code.startsWith(`${p}_ERR_`)).sort((a, b) => b[0].length - a[0].length)[0];
  return match ? [match[1], `[${match[2]}](${match[2]})`] : ['foundation (provisioning, db-init, schema, Directus boot, config)', '[README](../README.md)'];
}

export function render(): string {
  const codes = [...collectCodes().entries()].sort(([a], [b]) => a.localeCompare(b));
  const groups = new Map<string, { doc: string; rows: string[] }>();
  for (const [code, { description, files: where }] of codes) {
    const [part, doc] = partOf(code);
    const group = groups.get(part) ?? { doc, rows: [] };
    group.rows.push(`| \`${code}\` | ${description.replace(/\|/g, '\\|') || '—'} | ${[...where].sort().map((f) => `\`${f}\``).join(', ')} |`);
    groups.set(part, group);
  }
  const sections = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([part, g]) => `## ${part}\n\nDetails: ${g.doc}.\n\n| code | meaning | defined in |\n|---|---|---|\n${g.rows.join('\n')}\n`);
  return `# Error codes\n\nEvery coded error TRM raises, by part (generated from the sources by \`node scripts/errors-doc.ts --write\`;\n\`tests/error-codes.test.ts\` keeps this page current). Errors are \`TrmError\`s with a stable \`code\`;\nbad input is a \`PermanentError\` (never retried by queues). The live channel's protocol codes\n(\`UNAUTHENTICATED\`, \`FORBIDDEN\`, \`NOT_FOUND\`, \`BAD_REQUEST\`, \`TOKEN_EXPIRED\`, \`UNAVAILABLE\`) are in\n[live.md](live.md).\n\n${sections.join('\n')}`;
}

if (process.argv.includes('--write')) {
  writeFileSync(join(root, 'docs', 'errors.md'), render());
  process.stdout.write(`docs/errors.md: ${collectCodes().size} codes\n`);
}
