import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type Connection } from '@temporalio/client';
import { bundleWorkflowCode, type NativeConnection, Worker } from '@temporalio/worker';
import * as activities from './activities.js';

const here = dirname(fileURLToPath(import.meta.url));

export const DEMO_NAMESPACE = 'demo';
export const DEMO_TASK_QUEUE = 'demo-orders';

export interface DemoOptions {
  readonly connection: Connection;
  readonly nativeConnection: NativeConnection;
  /** Orders started per second. @default 3 */
  readonly ratePerSec?: number;
  /** Project root holding `worker/demo`. @default this file's */
  readonly root?: string;
}

export interface Demo {
  readonly starved: boolean;
  /**
   * Starves the demo: its worker is replaced by one with a single activity slot, so orders keep
   * arriving faster than they can be served and tasks wait for a worker.
   */
  starve(): Promise<void>;
  /** Restores a worker with enough slots; the backlog drains. */
  recover(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A load generator for `copilot dev --demo`: orders in the `demo` namespace on the same dev server
 * the copilot observes, with a switch that starves their workers, so a new user sees happy →
 * stressed (worker-limited) → recovery within minutes.
 */
export async function startDemo(o: DemoOptions): Promise<Demo> {
  const root = o.root ?? join(here, '../..');
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: join(root, 'worker/demo/workflows.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const client = new Client({ connection: o.connection, namespace: DEMO_NAMESPACE });
  const newWorker = (starved: boolean) =>
    Worker.create({
      connection: o.nativeConnection,
      namespace: DEMO_NAMESPACE,
      taskQueue: DEMO_TASK_QUEUE,
      workflowBundle,
      activities,
      maxConcurrentActivityTaskExecutions: starved ? 1 : 50,
      maxConcurrentActivityTaskPolls: starved ? 1 : 5,
    });
  let starved = false;
  let worker: Worker = await newWorker(false);
  let running: Promise<void> = worker.run();
  let n = 0;
  const period = 1000 / Math.max(0.1, o.ratePerSec ?? 3);
  const generator = setInterval(() => {
    const id = `order-${Date.now()}-${n++}`;
    client.workflow
      .start('demoOrderWorkflow', { taskQueue: DEMO_TASK_QUEUE, workflowId: id, args: [id] })
      .catch(() => undefined); // a refused start is just one order fewer
  }, period);

  const swap = async (toStarved: boolean) => {
    if (starved === toStarved) return;
    starved = toStarved;
    // One worker per namespace and task queue in a process: drain the old one, then replace it.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    worker = await newWorker(toStarved);
    running = worker.run();
  };
  return {
    get starved() {
      return starved;
    },
    starve: () => swap(true),
    recover: () => swap(false),
    async stop() {
      clearInterval(generator);
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    },
  };
}
