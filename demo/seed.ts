/**
 * Seeds the demo rally through Directus REST (as the SPA or an organiser would): the "TRM Demo"
 * organisation, its devices and command templates, the "Tirana Demo Rally" event (public live),
 * categories, stage SS1 near Tirana with its course, the entries, the Rally Albania 2025 rule
 * preset, and two demo users. Idempotent: a previous demo event is deleted (its course and
 * results cascade) and made again, so every `npm start` has a stage starting now.
 */
import type { Rest } from '../directus/src/rest.ts';
import { findPreset, presetPenaltyRules } from '../functions/src/presets/index.ts';
import { courseGeometry, MARKS } from './course.ts';
import { DEMO_ENTRIES } from './scenario.ts';

export const DEMO_ORG_SLUG = 'trm-demo';
/** one minute, so every start (and the time control due at it) falls on a whole minute */
export const DEMO_START_INTERVAL_S = 60;

/** The next whole minute at least `leadMs` from now: starts on the minute, as in a rally. */
export function nextDemoStart(nowMs: number, leadMs = 45_000): number {
  return Math.ceil((nowMs + leadMs) / 60_000) * 60_000;
}

export interface DemoUsers {
  operator: { email: string; password: string };
  viewer: { email: string; password: string };
}

export interface SeededDemo {
  organization: string;
  event: number;
  stage: number;
  entries: Record<number, number>;
  startAtMs: number;
}

interface Row {
  id: string | number;
}

async function find<T extends Row>(api: Rest, collection: string, filter: Record<string, unknown>): Promise<T[]> {
  return api.request<T[]>('GET', `/items/${collection}?limit=-1&filter=${encodeURIComponent(JSON.stringify(filter))}`);
}

const CATEGORIES = [
  { code: 'moto', name: 'Motorcycles', vehicle: 'moto', sort: 1 },
  { code: 'quad', name: 'Quads', vehicle: 'quad', sort: 2 },
  { code: 'car', name: 'Cars', vehicle: 'car', sort: 3 },
  { code: 'ssv', name: 'SSV', vehicle: 'ssv', sort: 4 },
];

const TEMPLATES = [
  { key: 'getinfo', text: 'getinfo', description: 'device runtime information' },
  { key: 'getgps', text: 'getgps', description: 'current GPS data' },
  { key: 'getver', text: 'getver', description: 'firmware version' },
  { key: 'setdigout', text: 'setdigout {state}', description: 'set digital outputs, e.g. state=1?' },
  { key: 'cpureset', text: 'cpureset', description: 'restart the device' },
];

export async function seedDemo(admin: Rest, options: { startAtMs: number; users: DemoUsers; roles: Record<string, string>; orgSlug?: string }): Promise<SeededDemo> {
  const { startAtMs } = options;
  const slug = options.orgSlug ?? DEMO_ORG_SLUG;
  let [org] = await find<Row>(admin, 'organizations', { slug: { _eq: slug } });
  org ??= await admin.request<Row>('POST', '/items/organizations', { name: slug === DEMO_ORG_SLUG ? 'TRM Demo' : `TRM Demo (${slug})`, slug });
  const organization = String(org.id);

  const old = await find<Row>(admin, 'events', { organization: { _eq: organization } });
  if (old.length) await admin.request('DELETE', '/items/events', old.map((e) => e.id));

  for (const e of DEMO_ENTRIES) {
    const [device] = await find<Row>(admin, 'devices', { imei: { _eq: e.imei } });
    const body = { organization, model: 'FMB920', label: `#${e.number}` };
    if (device) await admin.request('PATCH', `/items/devices/${e.imei}`, body);
    else await admin.request('POST', '/items/devices', { imei: e.imei, ...body });
  }
  const templates = await find<Row & { key: string }>(admin, 'command_templates', { organization: { _eq: organization } });
  const missing = TEMPLATES.filter((t) => !templates.some((x) => x.key === t.key));
  if (missing.length) await admin.request('POST', '/items/command_templates', missing.map((t) => ({ ...t, organization, active: true })));

  const event = await admin.request<Row>('POST', '/items/events', {
    organization,
    name: 'Tirana Demo Rally',
    slug: 'tirana-demo',
    starts_at: new Date(startAtMs - 3_600_000).toISOString(),
    ends_at: new Date(startAtMs + 6 * 3_600_000).toISOString(),
    timezone: 'Europe/Tirane',
    public_live: true,
    status: 'running',
  });
  const categories = await admin.request<(Row & { code: string })[]>('POST', '/items/categories', CATEGORIES.map((c) => ({ ...c, event: event.id })));
  const categoryId = (code: string) => categories.find((c) => c.code === code)!.id;

  const g = courseGeometry();
  const stage = await admin.request<Row>('POST', '/items/stages', {
    event: event.id,
    code: 'SS1',
    name: 'Tirana – Krrabë',
    kind: 'special',
    sequence: 1,
    planned_start: new Date(startAtMs).toISOString(),
    start_interval_s: DEMO_START_INTERVAL_S,
    max_time_s: 1_800,
    closes_at: new Date(startAtMs + 40 * 60_000).toISOString(),
    start_order_strategy: 'manual',
    status: 'running',
  });
  await admin.request('POST', '/items/segments', { stage: stage.id, sequence: 1, name: 'SH3 Tirana – Krrabë', route: g.route });
  await admin.request('POST', '/items/geofences', [
    { stage: stage.id, code: 'DSS', kind: 'start', sequence: 0, geometry: g.start },
    { stage: stage.id, code: 'SP1', kind: 'split', sequence: 1, geometry: g.split },
    { stage: stage.id, code: 'ASS', kind: 'finish', sequence: 2, geometry: g.finish },
    { stage: stage.id, code: 'TC0', kind: 'time_control', sequence: 0, geometry: g.timeControl, radius_m: MARKS.timeControlRadiusM, due_offset_s: 0 },
  ]);
  await admin.request('POST', '/items/waypoints', g.waypoints.map((w, i) => ({ stage: stage.id, code: w.code, type: w.type, sequence: i + 1, point: w.point, radius_m: w.radiusM })));
  await admin.request('POST', '/items/speed_limit_zones', { stage: stage.id, code: 'SLZ1', geometry: g.slz, limit_kmh: MARKS.slzLimitKmh, tolerance_kmh: 0 });

  const entries: Record<number, number> = {};
  const created = await admin.request<(Row & { number: number })[]>('POST', '/items/entries', DEMO_ENTRIES.map((e) => ({ event: event.id, number: e.number, crew: e.crew, category: categoryId(e.category), device: e.imei, status: 'registered' })));
  for (const row of created) entries[row.number] = Number(row.id);
  await admin.request('POST', '/items/start_orders', DEMO_ENTRIES.map((e, i) => ({ key: `${stage.id}:${entries[e.number]}`, stage: stage.id, entry: entries[e.number], position: i + 1, start_at: new Date(startAtMs + i * DEMO_START_INTERVAL_S * 1000).toISOString(), explanation: 'demo: manual order', locked: true, strategy: 'manual' })));

  const preset = findPreset('rally-albania-2025');
  if (preset) {
    const rules = presetPenaltyRules(preset).filter((r) => r.categoryId === null);
    await admin.request('POST', '/items/penalty_rules', rules.map((r) => ({ event: event.id, stage: null, category: null, name: `${preset.name}: ${r.evaluator}`, evaluator: r.evaluator, params: r.params, active: r.enabled, source: `preset ${preset.id} (${r.id})` })));
  }

  for (const [role, user] of [['Timing official', options.users.operator], ['Viewer', options.users.viewer]] as const) {
    const [existing] = await admin.request<Row[]>('GET', `/users?filter=${encodeURIComponent(JSON.stringify({ email: { _eq: user.email } }))}`);
    const body = { email: user.email, password: user.password, role: options.roles[role], organization, status: 'active', first_name: role === 'Viewer' ? 'Demo' : 'Demo', last_name: role };
    if (existing) await admin.request('PATCH', `/users/${existing.id}`, body);
    else await admin.request('POST', '/users', body);
  }
  return { organization, event: Number(event.id), stage: Number(stage.id), entries, startAtMs };
}
