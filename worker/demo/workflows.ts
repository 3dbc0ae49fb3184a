import { proxyActivities } from '@temporalio/workflow';
import type * as activities from './activities.js';

const { reserveStock, chargeCard } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

/** The demo's unit of work: an order that reserves stock and charges a card. */
export async function demoOrderWorkflow(orderId: string): Promise<string> {
  await reserveStock(orderId);
  await chargeCard(orderId);
  return `order ${orderId} done`;
}
