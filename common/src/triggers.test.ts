import { describe, expect, test } from 'vitest';
import { redisKeys } from './redis-keys.ts';
import { formatTopic, parseRecomputeRequest, parseTopic, topicKey } from './triggers.ts';

describe('topics', () => {
  test.each([
    ['stream:recompute:requests', { kind: 'stream', name: 'recompute:requests' }],
    [' queue:device-commands ', { kind: 'queue', name: 'device-commands' }],
  ])('parseTopic(%j)', (text, topic) => {
    expect(parseTopic(text)).toEqual(topic);
    expect(formatTopic(parseTopic(text))).toBe(text.trim());
  });

  test.each([['recompute:requests'], ['kafka:x'], ['queue:a:b'], ['stream:'], ['queue:']])('parseTopic(%j) refuses', (text) => {
    expect(() => parseTopic(text)).toThrow(/TRIGGER_ERR_BAD_TOPIC|topic|queue name/);
  });

  test('a stream topic is namespaced by the prefix; a queue name is not (BullMQ has its own prefix)', () => {
    const keys = redisKeys('t:1:');
    expect(topicKey(parseTopic('stream:recompute:requests'), keys)).toBe(keys.recomputeRequests);
    expect(topicKey(parseTopic('queue:device-commands'), keys)).toBe(keys.queues.deviceCommands);
  });
});

describe('parseRecomputeRequest', () => {
  test('normalises ids and instants, drops empty optionals', () => {
    expect(parseRecomputeRequest({ scope: 'entry', id: 12, from: '2026-05-01T08:00:00+02:00', to: '', reason: '' })).toEqual({ scope: 'entry', id: '12', from: '2026-05-01T06:00:00.000Z' });
  });
  test('accepts a JSON string', () => {
    expect(parseRecomputeRequest('{"scope":"event","id":"e"}')).toEqual({ scope: 'event', id: 'e' });
  });
  test.each([[null], [[]], ['{'], [{ scope: 'event' }], [{ scope: 'event', id: 1, to: '2026-13-45T00:00:00Z' }]])('refuses %j with FN_ERR_BAD_INPUT', (raw) => {
    expect(() => parseRecomputeRequest(raw)).toThrow(expect.objectContaining({ code: 'FN_ERR_BAD_INPUT' }));
  });
  // found by tests/faults/connector-backlog.faults.test.ts: a NUL went on to Directus, which
  // answered 500 (Postgres text cannot hold U+0000), so the connector retried it five times
  test.each([[{ scope: 'entry', id: '1\u00002' }], [{ scope: 'entry', id: '1', reason: 'a\u0000b' }], [{ scope: 'entry', id: '1', requested_by: '\u0000' }]])('NUL in an id or a text field is refused with FN_ERR_BAD_INPUT: %j', (raw) => {
    expect(() => parseRecomputeRequest(raw)).toThrow(expect.objectContaining({ code: 'FN_ERR_BAD_INPUT' }));
  });
});
