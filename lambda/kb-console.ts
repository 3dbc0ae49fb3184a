import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BedrockAgentClient } from '@aws-sdk/client-bedrock-agent';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import {
  describeJob,
  getIngestionJob,
  IngestionBusyError,
  IngestionJobFailedError,
  IngestionWaitExhaustedError,
  isRunning,
  type JobReport,
  jobFailed,
  type KbTarget,
  sleep as realSleep,
  startIngestionJob,
  waitForJob,
} from '../shared/aws/kb-ingestion.js';
import { describeFirstIssue } from '../shared/zod-issues.js';

/*
 * Ad hoc ingestion from the Lambda console, for a runbook changed between deploys (after
 * `copilot kb sync`, or an upload to the source bucket). Test events:
 *   {}                                  start a job, return its id at once
 *   {"jobId": "ABC123"}                 status and statistics of that job
 *   {"wait": true}                      start a job and wait for it within this invocation
 *   {"jobId": "ABC123", "wait": true}   wait for that job
 * Anything else is refused with one line saying what is accepted.
 */

/** The console event: nothing, a job id, and/or a wish to wait. */
export const ConsoleEventSchema = z.strictObject({
  jobId: z.string().trim().min(1, 'jobId must be a non-empty string').optional(),
  wait: z.boolean().optional(),
});
export type ConsoleEvent = z.infer<typeof ConsoleEventSchema>;

/** What the invocation returns (shown as the console's result). */
export interface ConsoleResult {
  readonly jobId: string;
  readonly status: string;
  /** True when this invocation started the job. */
  readonly started: boolean;
  /** True when the job has ended (whatever the outcome). */
  readonly finished: boolean;
  readonly startedAt: string | null;
  readonly statistics: Readonly<Record<string, number>>;
  readonly failureReasons: readonly string[];
  readonly message: string;
}

export class ConsoleEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleEventError';
  }
}

const ACCEPTED =
  'expected {} (start a job), {"jobId": "<id>"} (its status), {"wait": true} (start and wait) ' +
  'or {"jobId": "<id>", "wait": true}';

export function parseConsoleEvent(event: unknown): ConsoleEvent {
  const parsed = ConsoleEventSchema.safeParse(event ?? {});
  if (!parsed.success)
    throw new ConsoleEventError(`invalid event: ${describeFirstIssue(parsed.error)}; ${ACCEPTED}`);
  return parsed.data;
}

/** The function's environment (set by the construct). */
export const ConsoleEnvSchema = z.object({
  COPILOT_KB_ID: z.string().min(1),
  COPILOT_KB_DATA_SOURCE_ID: z.string().min(1),
  /** Seconds between status reads while waiting. */
  KB_CONSOLE_POLL_SECONDS: z.coerce.number().positive().default(10),
});

export interface ConsoleDependencies {
  readonly client: BedrockAgentClient;
  readonly target: KbTarget;
  /** @default 10 000 */
  readonly pollIntervalMs?: number;
  /** @default a real pause; tests pass one that returns at once */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Time kept back from the Lambda timeout to answer in. @default 5 000 */
  readonly reserveMs?: number;
}

const result = (report: JobReport, started: boolean, message: string): ConsoleResult => ({
  jobId: report.jobId,
  status: report.status,
  started,
  finished: !isRunning(report.status),
  startedAt: report.startedAt,
  statistics: report.statistics,
  failureReasons: report.failureReasons,
  message,
});

/** Runs one console request. A job that fails while waited for fails the invocation. */
export async function runConsole(
  event: ConsoleEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  deps: ConsoleDependencies,
): Promise<ConsoleResult> {
  const interval = deps.pollIntervalMs ?? 10_000;
  let report: JobReport;
  let started = false;
  if (event.jobId !== undefined) {
    report = await getIngestionJob(deps.client, deps.target, event.jobId);
  } else {
    try {
      report = await startIngestionJob(deps.client, deps.target, { description: 'console' });
      started = true;
    } catch (error) {
      // One job at a time: report the running one instead of failing, so it can be followed.
      if (!(error instanceof IngestionBusyError) || error.runningJob === undefined) throw error;
      report = error.runningJob;
    }
  }
  const what = started ? 'started' : event.jobId !== undefined ? 'read' : 'already running';
  if (event.wait !== true || !isRunning(report.status)) {
    if (event.wait === true && jobFailed(report)) throw new IngestionJobFailedError(report);
    return result(report, started, `${what}: ${describeJob(report)}`);
  }
  // Poll while the invocation has time left; the budget is a count of polls.
  const left = context.getRemainingTimeInMillis() - (deps.reserveMs ?? 5_000);
  const maxPolls = Math.max(1, Math.floor(left / interval));
  try {
    const done = await waitForJob(deps.client, deps.target, report.jobId, {
      maxPolls,
      intervalMs: interval,
      ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    });
    if (jobFailed(done)) throw new IngestionJobFailedError(done);
    return result(done, started, `finished: ${describeJob(done)}`);
  } catch (error) {
    if (!(error instanceof IngestionWaitExhaustedError)) throw error;
    // Not seen to end, whatever the last read said: when every poll was throttled there is no
    // read at all, and the report we started from is the newest word on the job.
    const last = error.report.status === 'UNKNOWN' ? report : error.report;
    return {
      ...result(
        last,
        started,
        `still ${last.status} when this invocation had to return; invoke again with ` +
          `{"jobId": "${report.jobId}", "wait": true}`,
      ),
      finished: false,
    };
  }
}

const logger = new Logger({ serviceName: 'copilot-kb-console' });
let deps: ConsoleDependencies | undefined;

function depsFromEnv(): ConsoleDependencies {
  if (deps !== undefined) return deps;
  const env = ConsoleEnvSchema.safeParse(process.env);
  if (!env.success)
    throw new Error(`invalid console function environment: ${describeFirstIssue(env.error)}`);
  deps = {
    client: new BedrockAgentClient({}),
    target: {
      knowledgeBaseId: env.data.COPILOT_KB_ID,
      dataSourceId: env.data.COPILOT_KB_DATA_SOURCE_ID,
    },
    pollIntervalMs: env.data.KB_CONSOLE_POLL_SECONDS * 1000,
    sleep: realSleep,
  };
  return deps;
}

/** The Lambda entry: zod at the edge, then {@link runConsole}. */
export const handler = middy<unknown, ConsoleResult>()
  .use(injectLambdaContext(logger, { logEvent: true }))
  .handler((event, context) => runConsole(parseConsoleEvent(event), context, depsFromEnv()));
