/** generate-start-order (issue 8): I/O around the start-order core. docs/start-order.md, "Function". */
export { createStartOrderService } from './service.ts';
export type { StartOrderService } from './service.ts';
export { runStartOrder } from './generate.ts';
export type { StartOrderDeps, StartOrderSummary } from './generate.ts';
export { nextStage, previousStage } from './plan.ts';
export { START_ORDER_ERR } from './errors.ts';
