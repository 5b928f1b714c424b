import { describe, expect, test } from 'vitest';
import { applyEvent, decideRoute, expiresAt, isExpired, parseStatusEvent, type CommandRow, type StatusEvent } from './lifecycle.ts';

const NOW = Date.parse('2026-05-01T08:00:00Z');
const row = (over: Partial<CommandRow> = {}): CommandRow => ({ id: 'c1', device: '356307042441013', status: 'queued', text: 'getinfo', instance: null, expires_at: '2026-05-01T08:10:00.000Z', sent_at: null, ...over });
const ev = (over: Partial<Extract<StatusEvent, { kind: 'command' }>> = {}): Extract<StatusEvent, { kind: 'command' }> => ({ kind: 'command', id: 'c1', imei: '356307042441013', status: 'sent', atMs: NOW, instance: 'A', ...over });

describe('decideRoute', () => {
  test.each<[string, Partial<CommandRow>, string | undefined, unknown]>([
    ['queued, online', {}, 'A', { action: 'route', instance: 'A' }],
    ['queued, offline', {}, undefined, { action: 'wait' }],
    ['routed here already (job delivered twice)', { status: 'routed', instance: 'A' }, 'A', { action: 'skip', reason: 'already-routed' }],
    ['routed to a dead instance, device now on B', { status: 'routed', instance: 'A' }, 'B', { action: 'route', instance: 'B' }],
    ['routed, instance died, device offline', { status: 'routed', instance: 'A' }, undefined, { action: 'wait' }],
    ['sent: never sent twice', { status: 'sent', instance: 'A' }, 'B', { action: 'skip', reason: 'in-flight' }],
    ['responded', { status: 'responded' }, 'A', { action: 'skip', reason: 'terminal' }],
    ['expired status', { status: 'expired' }, 'A', { action: 'skip', reason: 'terminal' }],
    ['past expires_at', { expires_at: '2026-05-01T08:00:00.000Z' }, 'A', { action: 'expire' }],
  ])('%s', (_what, over, route, decision) => {
    expect(decideRoute(row(over), route, NOW)).toEqual(decision);
  });
});

describe('applyEvent', () => {
  test.each<[string, Partial<CommandRow>, Partial<Extract<StatusEvent, { kind: 'command' }>>, unknown]>([
    ['sent on routed', { status: 'routed', instance: 'A' }, {}, { patch: { status: 'sent', sent_at: '2026-05-01T08:00:00.000Z', instance: 'A' }, reroute: false }],
    ['sent twice', { status: 'sent', instance: 'A' }, {}, undefined],
    ['responded', { status: 'sent', instance: 'A', sent_at: '2026-05-01T07:59:59.000Z' }, { status: 'responded', response: 'ver 1' }, { patch: { status: 'responded', response: 'ver 1', responded_at: '2026-05-01T08:00:00.000Z', sent_at: '2026-05-01T07:59:59.000Z', instance: 'A' }, reroute: false }],
    ['a report of another instance is stale', { status: 'routed', instance: 'B' }, { status: 'failed', error: 'INGEST_ERR_NOT_CONNECTED' }, undefined],
    ['terminal rows do not move', { status: 'expired', instance: 'A' }, { status: 'responded', response: 'late' }, undefined],
    ['not connected: back to queued', { status: 'routed', instance: 'A' }, { status: 'failed', error: 'INGEST_ERR_NOT_CONNECTED' }, { patch: { status: 'queued', instance: null, routed_at: null }, reroute: true }],
    ['dropped before it was written: back to queued', { status: 'routed', instance: 'A' }, { status: 'failed', error: 'INGEST_ERR_DISCONNECTED' }, { patch: { status: 'queued', instance: null, routed_at: null }, reroute: true }],
    ['dropped after it was written: failed', { status: 'sent', instance: 'A' }, { status: 'failed', error: 'INGEST_ERR_DISCONNECTED' }, { patch: { status: 'failed', error: 'INGEST_ERR_DISCONNECTED', instance: 'A' }, reroute: false }],
    ['timeout: failed', { status: 'sent', instance: 'A' }, { status: 'failed', error: 'INGEST_ERR_COMMAND_TIMEOUT' }, { patch: { status: 'failed', error: 'INGEST_ERR_COMMAND_TIMEOUT', instance: 'A' }, reroute: false }],
  ])('%s', (_what, over, event, outcome) => {
    expect(applyEvent(row(over), ev(event))).toEqual(outcome);
  });
});

describe('parseStatusEvent', () => {
  test.each<[Record<string, string>, unknown]>([
    [{ id: 'c1', imei: '1', status: 'responded', response: 'ok', at: '5', instance: 'A' }, { kind: 'command', id: 'c1', imei: '1', status: 'responded', response: 'ok', atMs: 5, instance: 'A' }],
    [{ imei: '1', status: 'online', at: '5', instance: 'A' }, { kind: 'online', imei: '1', atMs: 5, instance: 'A' }],
    [{ id: 'c1', imei: '1', status: 'weird', at: '5', instance: 'A' }, undefined],
    [{ imei: '1', status: 'sent', at: '5', instance: 'A' }, undefined],
    [{ id: 'c1', imei: '1', status: 'sent', at: 'x', instance: 'A' }, undefined],
  ])('%j', (fields, event) => {
    expect(parseStatusEvent(fields)).toEqual(event);
  });
});

test('expiry is inclusive and ttl is in seconds', () => {
  expect(expiresAt(NOW, 600)).toBe('2026-05-01T08:10:00.000Z');
  expect(isExpired({ expires_at: expiresAt(NOW, 1) }, NOW + 1000)).toBe(true);
  expect(isExpired({ expires_at: expiresAt(NOW, 1) }, NOW + 999)).toBe(false);
  expect(isExpired({ expires_at: null }, NOW)).toBe(false);
});
