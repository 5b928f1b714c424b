/** Test helpers over the real Directus of the run: admin client, users in organisations. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { login, rest, type Rest } from '../directus/src/rest.ts';

export function trm() {
  return inject('trm');
}

export function adminApi(): Rest {
  const t = trm();
  return rest(t.directusUrl, t.adminToken);
}

export function serviceApi(): Rest {
  const t = trm();
  return rest(t.directusUrl, t.serviceToken);
}

export interface TestOrg {
  id: string;
  slug: string;
}

export async function createOrg(label: string): Promise<TestOrg> {
  const slug = `${label}-${randomBytes(4).toString('hex')}`;
  const row = await adminApi().request<{ id: string }>('POST', '/items/organizations', { name: `Org ${slug}`, slug });
  return { id: row.id, slug };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  api: Rest;
  accessToken: string;
  refreshToken: string;
}

/** A user with one of the TRM roles ('Organisation admin', 'Timing official', 'Viewer', 'Competitor'), logged in. */
export async function createUser(role: string, organization: string | null, label = 'user'): Promise<TestUser> {
  const t = trm();
  const email = `${label}-${randomBytes(4).toString('hex')}@example.com`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const roleId = t.roles[role];
  if (!roleId) throw new Error(`unknown role ${role}; have ${Object.keys(t.roles).join(', ')}`);
  const user = await adminApi().request<{ id: string }>('POST', '/users', { email, password, role: roleId, organization, status: 'active' });
  const tokens = await login(t.directusUrl, email, password);
  return { id: user.id, email, password, api: rest(t.directusUrl, tokens.accessToken), accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}
