/**
 * A Directus WebSocket client for integration tests: opens /websocket, authenticates with a
 * user's access token, subscribes to collections, answers pings, and keeps every message.
 */
import { waitUntil } from '../common/src/testing/wait.ts';
import { trm } from './directus-client.ts';

export interface DirectusWsMessage {
  type: string;
  event?: string;
  status?: string;
  uid?: string;
  data?: unknown[];
}

export interface DirectusSubscriber {
  messages: DirectusWsMessage[];
  /** subscribes (uid = the collection unless given) and waits for the `init` answer */
  subscribe(collection: string, fields: readonly string[], uid?: string): Promise<void>;
  /** rows pushed on subscription `uid` with `event` (create | update | delete) */
  pushed(uid: string, event: string): unknown[];
  close(): void;
}

export async function directusSubscriber(accessToken: string): Promise<DirectusSubscriber> {
  const messages: DirectusWsMessage[] = [];
  const ws = new WebSocket(`${trm().directusUrl.replace(/^http/, 'ws')}/websocket`);
  ws.addEventListener('message', (m) => {
    const msg = JSON.parse(String(m.data)) as DirectusWsMessage;
    if (msg.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
    messages.push(msg);
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  ws.send(JSON.stringify({ type: 'auth', access_token: accessToken }));
  await waitUntil('Directus WebSocket auth ok', () => messages.some((m) => m.type === 'auth' && m.status === 'ok'), { timeoutMs: 20_000 });
  return {
    messages,
    async subscribe(collection, fields, uid = collection) {
      ws.send(JSON.stringify({ type: 'subscribe', uid, collection, query: { fields } }));
      await waitUntil(`${collection} subscribed`, () => messages.some((m) => m.type === 'subscription' && m.uid === uid && m.event === 'init'), { timeoutMs: 20_000 });
    },
    pushed: (uid, event) => messages.filter((m) => m.type === 'subscription' && m.uid === uid && m.event === event).flatMap((m) => m.data ?? []),
    close: () => ws.close(),
  };
}
