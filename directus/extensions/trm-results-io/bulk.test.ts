import { describe, expect, test } from 'vitest';
import { allocateIdsStatement, checkCreate, checkPatch, deleteStatement, insertStatements, missing, parseBulk, updateStatements, type CollectionOverview, type FieldOverview, type SqlValue } from './bulk.ts';
import { BulkError } from './errors.ts';

const field = (name: string, type: string, o: Partial<FieldOverview> = {}): [string, FieldOverview] => [name, { field: name, type, dbType: null, nullable: true, defaultValue: null, special: [], ...o }];

/** waypoint_passes as Directus's schema overview describes it (snapshots/schema.yaml). */
const PASSES: CollectionOverview = {
  collection: 'waypoint_passes',
  primary: 'id',
  fields: Object.fromEntries([
    field('id', 'integer', { nullable: false, defaultValue: "nextval('waypoint_passes_id_seq'::regclass)" }),
    field('key', 'string', { nullable: false }),
    field('stage', 'integer', { nullable: false, special: ['m2o'] }),
    field('validated', 'boolean', { nullable: false, defaultValue: false, special: ['cast-boolean'] }),
    field('passed_at', 'timestamp'),
    field('distance_m', 'float'),
    field('evidence', 'json', { dbType: 'json', special: ['cast-json'] }),
    field('date_created', 'timestamp', { special: ['date-created'] }),
    field('user_created', 'uuid', { special: ['user-created'] }),
    field('date_updated', 'timestamp', { special: ['date-updated'] }),
    field('user_updated', 'uuid', { special: ['user-updated'] }),
  ]),
};

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return [(e as BulkError).code, (e as Error).message];
  }
  return undefined;
};

describe('parseBulk', () => {
  test('reads the three steps, ids out of the updates', () => {
    expect(parseBulk({ delete: [3], update: [{ id: 4, validated: true }], create: [{ key: 'k' }] }, 'id', 10)).toEqual({ delete: [3], update: [{ id: 4, patch: { validated: true } }], create: [{ key: 'k' }] });
    expect(parseBulk({}, 'id', 10)).toEqual({ delete: [], update: [], create: [] });
  });

  test.each<[string, unknown, string, RegExp]>([
    ['not an object', [1], 'BULK_ERR_BAD_INPUT', /must be an object/],
    ['an unknown member', { upsert: [] }, 'BULK_ERR_BAD_INPUT', /unknown member "upsert"/],
    ['a step that is not an array', { delete: 3 }, 'BULK_ERR_BAD_INPUT', /"delete" must be an array/],
    ['a string id', { delete: ['3'] }, 'BULK_ERR_BAD_INPUT', /delete\[0\]: "id" must be a positive integer/],
    ['id 0', { update: [{ id: 0, key: 'k' }] }, 'BULK_ERR_BAD_INPUT', /update\[0\]: "id" must be a positive integer/],
    ['an id twice', { delete: [3, 3] }, 'BULK_ERR_BAD_INPUT', /delete\[1\]: id 3 appears twice/],
    ['an update without fields', { update: [{ id: 3 }] }, 'BULK_ERR_BAD_INPUT', /no field to update/],
    ['a create that is not an object', { create: [null] }, 'BULK_ERR_BAD_INPUT', /create\[0\] must be an object/],
    ['too many rows', { delete: [1, 2], create: [{}, {}] }, 'BULK_ERR_TOO_MANY_ROWS', /4 rows in one request; at most 3/],
  ])('refuses %s', (_what, body, code, message) => {
    const [c, m] = codeOf(() => parseBulk(body, 'id', 3)) ?? [];
    expect(c).toBe(code);
    expect(m).toMatch(message);
  });
});

describe('checkCreate / checkPatch', () => {
  test('converts values as Directus stores them', () => {
    expect(checkCreate(PASSES, { key: 'k', stage: 7, validated: false, passed_at: '2025-06-08T06:02:30+02:00', distance_m: 1.5, evidence: { fixes: [] } }, 0)).toEqual({ key: 'k', stage: 7, validated: false, passed_at: '2025-06-08T04:02:30.000Z', distance_m: 1.5, evidence: '{"fixes":[]}' });
    expect(checkPatch(PASSES, { passed_at: null, evidence: null }, 0)).toEqual({ passed_at: null, evidence: null });
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a missing required field', { stage: 7 }, /create\[0\]: "key" is required/],
    ['an unknown field', { key: 'k', stage: 7, colour: 'red' }, /"colour" is not a writable field/],
    ['the primary key', { key: 'k', stage: 7, id: 5 }, /"id" is not a writable field/],
    ['a managed field', { key: 'k', stage: 7, date_created: '2025-01-01T00:00:00Z' }, /"date_created" is not a writable field/],
    ['a fraction for an integer', { key: 'k', stage: 7.5 }, /"stage" must be an integer/],
    ['an integer beyond int4', { key: 'k', stage: 2 ** 31 }, /"stage" must be an integer/],
    ['a string for a float', { key: 'k', stage: 7, distance_m: '1.5' }, /"distance_m" must be a float/],
    ['not an instant', { key: 'k', stage: 7, passed_at: 'soon' }, /"passed_at" must be a timestamp/],
    ['null where not nullable', { key: 'k', stage: 7, validated: null }, /"validated" cannot be null/],
  ])('refuses %s', (_what, row, message) => {
    const [code, m] = codeOf(() => checkCreate(PASSES, row, 0)) ?? [];
    expect(code).toBe('BULK_ERR_BAD_INPUT');
    expect(m).toMatch(message);
  });
});

describe('statements', () => {
  test('one INSERT per field set, with the pre-allocated ids and the create specials', () => {
    const rows: Record<string, SqlValue>[] = [{ key: 'a', stage: 1, evidence: '{}' }, { key: 'b', stage: 1 }, { key: 'c', stage: 2, evidence: null }];
    const [first, second] = insertStatements(PASSES, rows, [11, 12, 13], '2025-06-08T06:00:00.000Z', 'u-1');
    expect(first.sql).toBe('INSERT INTO "waypoint_passes" ("id", "evidence", "key", "stage", "date_created", "user_created") SELECT v."id", v."evidence"::json, v."key", v."stage", ?::timestamptz, ?::uuid FROM unnest(?::int4[], ?::text[], ?::text[], ?::int4[]) AS v("id", "evidence", "key", "stage")');
    expect(first.bindings).toEqual(['2025-06-08T06:00:00.000Z', 'u-1', [11, 13], ['{}', null], ['a', 'c'], [1, 2]]);
    expect(second.bindings).toEqual(['2025-06-08T06:00:00.000Z', 'u-1', [12], ['b'], [1]]);
  });

  test('one UPDATE per field set, each row its own values, with the update specials', () => {
    const [s] = updateStatements(PASSES, [{ id: 4, values: { validated: true } }, { id: 5, values: { validated: false } }], 'now', null);
    expect(s.sql).toBe('UPDATE "waypoint_passes" SET "validated" = v."validated", "date_updated" = ?::timestamptz, "user_updated" = ?::uuid FROM unnest(?::int4[], ?::bool[]) AS v("id", "validated") WHERE "waypoint_passes"."id" = v."id" RETURNING "waypoint_passes"."id"');
    expect(s.bindings).toEqual(['now', null, [4, 5], [true, false]]);
  });

  test('delete, id allocation, missing ids', () => {
    expect(deleteStatement(PASSES, [4, 5])).toEqual({ sql: 'DELETE FROM "waypoint_passes" WHERE "id" = ANY(?::int4[]) RETURNING "id"', bindings: [[4, 5]] });
    expect(allocateIdsStatement(PASSES, 3).bindings).toEqual(['"waypoint_passes"', 'id', 3]);
    expect(missing([4, 5, 6], ['5', 4])).toEqual([6]);
  });
});
