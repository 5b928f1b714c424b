/** Public API of the start-order core (pure: no I/O, no clock). See docs/start-order.md. */
export type * from './types.ts';
export { generateStartOrder } from './generate-start-order.ts';
export { STRATEGIES, validateStartOrderParams } from './params.ts';
export { scheduleOffsetsMs } from './schedule.ts';
export * from './errors.ts';
