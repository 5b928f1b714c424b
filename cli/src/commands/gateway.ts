import { notYet } from '../command.ts';

export const command = notYet('gateway', 'live gateway: authenticated WebSocket fan-out of live positions', 'issue #9 (live-gateway)');
