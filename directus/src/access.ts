/**
 * Roles, policies and permissions (Directus 11 model: permissions hang off policies, roles and
 * users get policies through directus_access). Not part of schema snapshots, so they are kept
 * here as data and synchronised idempotently on every boot: each TRM policy's permissions are
 * replaced by the declared ones.
 *
 * Tenancy: users carry `organization`; every business row reaches its organisation through a
 * relation path, and each organisation role's permissions filter on
 * `$CURRENT_USER.organization` along that path.
 */
import type { Rest } from './rest.ts';

const ORG = '$CURRENT_USER.organization';
type Filter = Record<string, unknown>;

/** How each collection reaches its organisation. */
const orgPath: Record<string, string[]> = {
  organizations: ['id'],
  events: ['organization'],
  devices: ['organization'],
  command_templates: ['organization'],
  categories: ['event', 'organization'],
  stages: ['event', 'organization'],
  entries: ['event', 'organization'],
  penalty_rules: ['event', 'organization'],
  penalties: ['event', 'organization'],
  standings: ['event', 'organization'],
  recompute_runs: ['event', 'organization'],
  alerts: ['event', 'organization'],
  segments: ['stage', 'event', 'organization'],
  geofences: ['stage', 'event', 'organization'],
  waypoints: ['stage', 'event', 'organization'],
  speed_limit_zones: ['stage', 'event', 'organization'],
  stage_times: ['stage', 'event', 'organization'],
  waypoint_passes: ['stage', 'event', 'organization'],
  speed_infringements: ['stage', 'event', 'organization'],
  start_orders: ['stage', 'event', 'organization'],
  position_flags: ['device', 'organization'],
  commands: ['device', 'organization'],
  positions: ['imei', 'organization'],
};

export const TRM_COLLECTIONS = Object.keys(orgPath);

function nest(path: string[], leaf: Filter): Filter {
  return path.reduceRight<Filter>((inner, key) => ({ [key]: inner }), leaf);
}

export function orgFilter(collection: string): Filter {
  return nest(orgPath[collection], { _eq: ORG });
}

/** Rows of events that are public (for the public policy and competitors). */
function publicFilter(collection: string): Filter | undefined {
  const path = orgPath[collection];
  if (!path || collection === 'organizations' || path[0] === 'organization' && collection !== 'events') return undefined;
  if (collection === 'events') return { public_live: { _eq: true } };
  const toEvent = path.slice(0, path.indexOf('organization'));
  return nest(toEvent, { public_live: { _eq: true } });
}

type Action = 'create' | 'read' | 'update' | 'delete';
export interface PermissionSpec {
  collection: string;
  action: Action;
  permissions?: Filter | null;
  validation?: Filter | null;
  presets?: Record<string, unknown> | null;
  fields?: string[];
}

export interface PolicySpec {
  name: string;
  description: string;
  icon: string;
  app_access: boolean;
  admin_access: boolean;
  permissions: PermissionSpec[];
}

function orgScoped(collections: string[], actions: Action[]): PermissionSpec[] {
  const out: PermissionSpec[] = [];
  for (const collection of collections) {
    for (const action of actions) {
      const filter = orgFilter(collection);
      const direct = orgPath[collection].length === 1 && collection !== 'organizations';
      if (action === 'create') {
        // A create has no row to filter yet: validate the payload when the organisation is a
        // field of the row itself; nested paths are checked by the trm-tenancy hook.
        out.push({ collection, action, validation: direct ? { organization: { _eq: ORG } } : null, presets: direct ? { organization: ORG } : null });
      } else {
        out.push({ collection, action, permissions: filter, validation: action === 'update' && direct ? { organization: { _eq: ORG } } : null });
      }
    }
  }
  return out;
}

const ALL = TRM_COLLECTIONS;
/**
 * Rows only the recompute and the penalty evaluation write (their audit is recompute_runs, and
 * they keep no per-row revisions): people read them and correct their inputs (flags, overrides,
 * manual penalties) instead, so a hand edit cannot slip in untraced and be overwritten later.
 */
const COMPUTED = ['stage_times', 'waypoint_passes', 'speed_infringements', 'standings'];
const BUSINESS_WITHOUT_TELEMETRY = ALL.filter((c) => c !== 'positions');
const READ_OWN_ORG_USERS: PermissionSpec = { collection: 'directus_users', action: 'read', permissions: { organization: { _eq: ORG } }, fields: ['id', 'first_name', 'last_name', 'email', 'organization', 'role', 'status'] };

export const policies: PolicySpec[] = [
  {
    name: 'TRM organisation admin',
    description: 'Organiser staff who manage their organisation: course, entries, devices, rules, commands',
    icon: 'admin_panel_settings',
    app_access: true,
    admin_access: false,
    permissions: [
      ...orgScoped(BUSINESS_WITHOUT_TELEMETRY.filter((c) => c !== 'organizations' && !COMPUTED.includes(c)), ['create', 'read', 'update', 'delete']),
      ...orgScoped(COMPUTED, ['read']),
      ...orgScoped(['organizations'], ['read', 'update']),
      ...orgScoped(['positions'], ['read']),
      READ_OWN_ORG_USERS,
    ],
  },
  {
    name: 'TRM timing official',
    description: 'Timing officials / operators: flag faulty fixes, recompute, override penalties, lock start orders, command devices',
    icon: 'timer',
    app_access: true,
    admin_access: false,
    permissions: [
      ...orgScoped(ALL, ['read']),
      ...orgScoped(['position_flags', 'commands', 'penalties', 'alerts'], ['create', 'update']),
      ...orgScoped(['position_flags'], ['delete']),
      ...orgScoped(['start_orders', 'stages'], ['update']),
      READ_OWN_ORG_USERS,
    ],
  },
  {
    name: 'TRM viewer',
    description: 'Read-only access to the organisation',
    icon: 'visibility',
    app_access: true,
    admin_access: false,
    permissions: orgScoped(BUSINESS_WITHOUT_TELEMETRY, ['read']),
  },
  {
    name: 'TRM competitor',
    description: 'A competitor: their own entry and its results, and public events',
    icon: 'sports_motorsports',
    app_access: false,
    admin_access: false,
    permissions: [
      { collection: 'entries', action: 'read', permissions: { _or: [{ user: { _eq: '$CURRENT_USER' } }, { event: { public_live: { _eq: true } } }] } },
      { collection: 'events', action: 'read', permissions: { _or: [{ entries: { user: { _eq: '$CURRENT_USER' } } }, { public_live: { _eq: true } }] } },
      ...['stage_times', 'penalties', 'waypoint_passes', 'speed_infringements', 'start_orders', 'standings'].map<PermissionSpec>((collection) => ({ collection, action: 'read', permissions: { entry: { user: { _eq: '$CURRENT_USER' } } } })),
      ...['stages', 'categories', 'waypoints', 'geofences', 'segments', 'speed_limit_zones'].map<PermissionSpec>((collection) => ({ collection, action: 'read', permissions: publicFilter(collection) ?? null })),
    ],
  },
  {
    name: 'TRM service',
    description: 'The service account of the TRM daemons and functions (static token, never a person)',
    icon: 'smart_toy',
    app_access: false,
    admin_access: false,
    permissions: [
      ...ALL.flatMap((collection) => (['create', 'read', 'update', 'delete'] as Action[]).map<PermissionSpec>((action) => ({ collection, action, permissions: action === 'create' ? null : {} }))),
      { collection: 'directus_users', action: 'read', permissions: {}, fields: ['id', 'email', 'organization', 'role', 'status'] },
    ],
  },
];

/** What anyone may read without a token: public_live events and their course and results. */
export const publicPermissions: PermissionSpec[] = ['events', 'stages', 'categories', 'entries', 'waypoints', 'geofences', 'segments', 'speed_limit_zones', 'stage_times', 'standings', 'start_orders', 'penalties']
  .map((collection) => ({ collection, action: 'read' as const, permissions: publicFilter(collection) ?? null, fields: collection === 'entries' ? ['id', 'event', 'number', 'category', 'crew', 'team', 'vehicle', 'nationality', 'status'] : ['*'] }));

export const roles: { name: string; policy: string; icon: string }[] = [
  { name: 'Organisation admin', policy: 'TRM organisation admin', icon: 'admin_panel_settings' },
  { name: 'Timing official', policy: 'TRM timing official', icon: 'timer' },
  { name: 'Viewer', policy: 'TRM viewer', icon: 'visibility' },
  { name: 'Competitor', policy: 'TRM competitor', icon: 'sports_motorsports' },
  { name: 'TRM service', policy: 'TRM service', icon: 'smart_toy' },
];

interface Row {
  id: string;
}

async function findOne<T extends Row>(api: Rest, path: string, filter: Filter): Promise<T | undefined> {
  const rows = await api.request<T[]>('GET', `${path}?limit=1&filter=${encodeURIComponent(JSON.stringify(filter))}`);
  return rows[0];
}

async function syncPermissions(api: Rest, policyId: string, specs: PermissionSpec[]): Promise<void> {
  const existing = await api.request<Row[]>('GET', `/permissions?limit=-1&fields=id&filter=${encodeURIComponent(JSON.stringify({ policy: { _eq: policyId } }))}`);
  if (existing.length) await api.request('DELETE', '/permissions', existing.map((p) => p.id));
  if (specs.length) await api.request('POST', '/permissions', specs.map((s) => ({ policy: policyId, collection: s.collection, action: s.action, fields: s.fields ?? ['*'], permissions: s.permissions ?? null, validation: s.validation ?? null, presets: s.presets ?? null })));
}

export interface AccessIds {
  roles: Record<string, string>;
  policies: Record<string, string>;
  serviceUserId: string;
}

/** Creates or updates every TRM policy and role, the public permissions and the service account. */
export async function syncAccess(api: Rest, options: { serviceEmail: string; serviceToken: string }): Promise<AccessIds> {
  const policyIds: Record<string, string> = {};
  for (const p of policies) {
    const body = { name: p.name, description: p.description, icon: p.icon, app_access: p.app_access, admin_access: p.admin_access, enforce_tfa: false };
    let row = await findOne<Row>(api, '/policies', { name: { _eq: p.name } });
    if (row) await api.request('PATCH', `/policies/${row.id}`, body);
    else row = await api.request<Row>('POST', '/policies', body);
    policyIds[p.name] = row.id;
    await syncPermissions(api, row.id, p.permissions);
  }
  const publicPolicy = await findOne<Row>(api, '/policies', { name: { _eq: '$t:public_label' } });
  if (publicPolicy) await syncPermissions(api, publicPolicy.id, publicPermissions);

  const roleIds: Record<string, string> = {};
  for (const r of roles) {
    let row = await findOne<Row>(api, '/roles', { name: { _eq: r.name } });
    if (!row) row = await api.request<Row>('POST', '/roles', { name: r.name, icon: r.icon, policies: [{ policy: policyIds[r.policy] }] });
    roleIds[r.name] = row.id;
    const linked = await findOne<Row>(api, '/access', { role: { _eq: row.id }, policy: { _eq: policyIds[r.policy] } });
    if (!linked) await api.request('POST', '/access', { role: row.id, policy: policyIds[r.policy] });
  }

  let service = await findOne<Row>(api, '/users', { email: { _eq: options.serviceEmail } });
  const serviceBody = { email: options.serviceEmail, first_name: 'TRM', last_name: 'service', role: roleIds['TRM service'], token: options.serviceToken, status: 'active' };
  if (service) await api.request('PATCH', `/users/${service.id}`, serviceBody);
  else service = await api.request<Row>('POST', '/users', serviceBody);
  return { roles: roleIds, policies: policyIds, serviceUserId: service.id };
}
