import {
  type BedrockAgentClient,
  GetIngestionJobCommand,
  type IngestionJob,
  type IngestionJobSummary,
  ListIngestionJobsCommand,
  StartIngestionJobCommand,
} from '@aws-sdk/client-bedrock-agent';
import { messageOf } from '../errors.js';

/*
 * Ingestion jobs of one Bedrock Knowledge Base data source: start, read, list and wait, with the
 * failures an operator must be able to tell apart (a job already running, throttling, a job that
 * failed, a wait that ran out of polls). The deploy-time custom resource, the console Lambda and
 * `copilot kb` all go through here. Waiting is counted in polls with an injected sleep, so a
 * budget is a number, not a clock.
 */

/** The data source whose jobs these are. Both ids are required before any call is made. */
export interface KbTarget {
  readonly knowledgeBaseId: string;
  readonly dataSourceId: string;
}

/** A job as the copilot reports it: plain JSON (ISO timestamps), statistics as numbers. */
export interface JobReport {
  readonly jobId: string;
  /** Bedrock's status (STARTING, IN_PROGRESS, COMPLETE, FAILED, STOPPING, STOPPED), as sent. */
  readonly status: string;
  readonly startedAt: string | null;
  readonly updatedAt: string | null;
  readonly statistics: Readonly<Record<string, number>>;
  readonly failureReasons: readonly string[];
}

/** Statuses from which a job still moves on its own. */
export function isRunning(status: string): boolean {
  return status === 'STARTING' || status === 'IN_PROGRESS' || status === 'STOPPING';
}

/**
 * A job that ended other than cleanly: anything but COMPLETE with no failed documents — failed,
 * stopped, or a status this code does not know (never read as success).
 */
export function jobFailed(report: JobReport): boolean {
  if (isRunning(report.status)) return false;
  return report.status !== 'COMPLETE' || (report.statistics.numberOfDocumentsFailed ?? 0) > 0;
}

/** Another ingestion job of this data source is running; Bedrock runs one at a time. */
export class IngestionBusyError extends Error {
  constructor(
    readonly target: KbTarget,
    readonly runningJob: JobReport | undefined,
    options?: ErrorOptions,
  ) {
    super(
      runningJob === undefined
        ? `another ingestion job is running for data source ${target.dataSourceId}`
        : `ingestion job ${runningJob.jobId} is already ${runningJob.status} for data source ${target.dataSourceId}`,
      options,
    );
    this.name = 'IngestionBusyError';
  }
}

/** Bedrock throttled the call, after the SDK's own retries. */
export class IngestionThrottledError extends Error {
  constructor(operation: string, options?: ErrorOptions) {
    super(`Bedrock throttled ${operation} (after the SDK's retries); try again shortly`, options);
    this.name = 'IngestionThrottledError';
  }
}

/** The job ended FAILED or STOPPED, or completed with failed documents. */
export class IngestionJobFailedError extends Error {
  constructor(readonly report: JobReport) {
    super(describeFailure(report));
    this.name = 'IngestionJobFailedError';
  }
}

/** The job was still running when the poll budget ran out; it goes on without us. */
export class IngestionWaitExhaustedError extends Error {
  constructor(
    readonly report: JobReport,
    readonly polls: number,
  ) {
    super(
      `ingestion job ${report.jobId} is still ${report.status} after ${polls} polls; ` +
        'it goes on running: check it with copilot kb status --job-id ' +
        report.jobId,
    );
    this.name = 'IngestionWaitExhaustedError';
  }
}

/** Any other failure of a Bedrock call, with the operation and the service's own words. */
export class IngestionCallError extends Error {
  constructor(
    readonly operation: string,
    readonly errorName: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${operation} failed: ${errorName}: ${message}`, options);
    this.name = 'IngestionCallError';
  }
}

const MAX_REASONS_CHARS = 1500;

function describeFailure(report: JobReport): string {
  const failedDocs = report.statistics.numberOfDocumentsFailed ?? 0;
  const head =
    report.status === 'COMPLETE'
      ? `ingestion job ${report.jobId} completed but ${failedDocs} document(s) failed`
      : `ingestion job ${report.jobId} ${report.status}`;
  if (report.failureReasons.length === 0) return `${head} (Bedrock gave no reason)`;
  // CloudFormation keeps about 4 KB of a failure reason; keep the first reasons whole.
  let reasons = report.failureReasons.join('; ');
  if (reasons.length > MAX_REASONS_CHARS) reasons = `${reasons.slice(0, MAX_REASONS_CHARS)}…`;
  return `${head}: ${reasons}`;
}

/** One line for people: the status and what the job did so far. */
export function describeJob(report: JobReport): string {
  const s = report.statistics;
  const n = (k: string) => s[k] ?? 0;
  return (
    `job ${report.jobId} ${report.status}: ${n('numberOfDocumentsScanned')} scanned, ` +
    `${n('numberOfNewDocumentsIndexed')} new, ${n('numberOfModifiedDocumentsIndexed')} modified, ` +
    `${n('numberOfDocumentsDeleted')} deleted, ${n('numberOfDocumentsFailed')} failed`
  );
}

function reportOf(operation: string, job: IngestionJob | IngestionJobSummary): JobReport {
  // A job without an id cannot be followed: an empty id would start a second job on the next
  // poll of the custom resource, and print `--job-id ` with nothing after it.
  if (job.ingestionJobId === undefined || job.ingestionJobId === '')
    throw new IngestionCallError(operation, 'EmptyResponse', 'no ingestionJobId in the answer');
  const stats: Record<string, number> = {};
  for (const [k, v] of Object.entries(job.statistics ?? {}))
    if (typeof v === 'number') stats[k] = v;
  return {
    jobId: job.ingestionJobId,
    status: job.status ?? 'UNKNOWN',
    startedAt: job.startedAt?.toISOString() ?? null,
    updatedAt: job.updatedAt?.toISOString() ?? null,
    statistics: stats,
    failureReasons: 'failureReasons' in job ? [...(job.failureReasons ?? [])] : [],
  };
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : 'Error');

/** Maps an SDK failure to the errors above: throttling is its own kind, everything else names the call. */
function callError(operation: string, error: unknown): Error {
  const name = errorName(error);
  if (name === 'ThrottlingException' || name === 'TooManyRequestsException')
    return new IngestionThrottledError(operation, { cause: error });
  return new IngestionCallError(operation, name, messageOf(error), { cause: error });
}

/** Checks the ids are there before any call: an empty id is a usage error, not a request. */
export function checkTarget(target: KbTarget): void {
  if (target.knowledgeBaseId.trim() === '')
    throw new IngestionCallError('ingestion', 'MissingId', 'the knowledge base id is empty');
  if (target.dataSourceId.trim() === '')
    throw new IngestionCallError('ingestion', 'MissingId', 'the data source id is empty');
}

export async function getIngestionJob(
  client: BedrockAgentClient,
  target: KbTarget,
  jobId: string,
): Promise<JobReport> {
  checkTarget(target);
  if (jobId.trim() === '')
    throw new IngestionCallError('GetIngestionJob', 'MissingId', 'the job id is empty');
  try {
    const out = await client.send(new GetIngestionJobCommand({ ...target, ingestionJobId: jobId }));
    if (out.ingestionJob === undefined)
      throw new IngestionCallError('GetIngestionJob', 'EmptyResponse', 'no ingestionJob');
    return reportOf('GetIngestionJob', out.ingestionJob);
  } catch (error) {
    if (error instanceof IngestionCallError) throw error;
    throw callError('GetIngestionJob', error);
  }
}

/** The data source's most recent jobs, newest first. */
export async function listIngestionJobs(
  client: BedrockAgentClient,
  target: KbTarget,
  { maxResults = 10, running = false }: { maxResults?: number; running?: boolean } = {},
): Promise<JobReport[]> {
  checkTarget(target);
  try {
    const out = await client.send(
      new ListIngestionJobsCommand({
        ...target,
        maxResults,
        sortBy: { attribute: 'STARTED_AT', order: 'DESCENDING' },
        ...(running
          ? {
              filters: [
                {
                  attribute: 'STATUS',
                  operator: 'EQ',
                  values: ['STARTING', 'IN_PROGRESS', 'STOPPING'],
                },
              ],
            }
          : {}),
      }),
    );
    return (out.ingestionJobSummaries ?? []).map((job) => reportOf('ListIngestionJobs', job));
  } catch (error) {
    if (error instanceof IngestionCallError) throw error;
    throw callError('ListIngestionJobs', error);
  }
}

/**
 * Starts a job. `clientToken` makes a repeated call (a retried deploy step) idempotent. When
 * Bedrock refuses because a job is already running (ConflictException, or the concurrent-job
 * quota), throws {@link IngestionBusyError} naming that job when it can be found.
 */
export async function startIngestionJob(
  client: BedrockAgentClient,
  target: KbTarget,
  { clientToken, description }: { clientToken?: string; description?: string } = {},
): Promise<JobReport> {
  checkTarget(target);
  try {
    const out = await client.send(
      new StartIngestionJobCommand({
        ...target,
        ...(clientToken === undefined ? {} : { clientToken }),
        ...(description === undefined ? {} : { description }),
      }),
    );
    if (out.ingestionJob === undefined)
      throw new IngestionCallError('StartIngestionJob', 'EmptyResponse', 'no ingestionJob');
    return reportOf('StartIngestionJob', out.ingestionJob);
  } catch (error) {
    if (error instanceof IngestionCallError) throw error;
    const name = errorName(error);
    if (name === 'ConflictException' || name === 'ServiceQuotaExceededException') {
      const running = await listIngestionJobs(client, target, { maxResults: 1, running: true })
        .then((jobs) => jobs[0])
        .catch(() => undefined);
      throw new IngestionBusyError(target, running, { cause: error });
    }
    throw callError('StartIngestionJob', error);
  }
}

export interface WaitOptions {
  /** How many times to read the job before giving up. */
  readonly maxPolls: number;
  /** Pause between polls, in ms. */
  readonly intervalMs: number;
  /** @default setTimeout-based sleep; tests pass one that returns at once */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called after every poll that read the job (progress output). */
  readonly onPoll?: (report: JobReport, poll: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls the job until it ends, at most `maxPolls` reads. A throttled read counts as a poll and
 * is retried at the next one (a busy API is not a failed job). Returns a finished report (check
 * it with {@link jobFailed}); throws {@link IngestionWaitExhaustedError} when the budget ran out.
 */
export async function waitForJob(
  client: BedrockAgentClient,
  target: KbTarget,
  jobId: string,
  options: WaitOptions,
): Promise<JobReport> {
  const pause = options.sleep ?? sleep;
  let last: JobReport | undefined;
  for (let poll = 1; poll <= options.maxPolls; poll++) {
    try {
      last = await getIngestionJob(client, target, jobId);
      options.onPoll?.(last, poll);
      if (!isRunning(last.status)) return last;
    } catch (error) {
      if (!(error instanceof IngestionThrottledError)) throw error;
    }
    if (poll < options.maxPolls) await pause(options.intervalMs);
  }
  throw new IngestionWaitExhaustedError(
    last ?? {
      jobId,
      status: 'UNKNOWN',
      startedAt: null,
      updatedAt: null,
      statistics: {},
      failureReasons: [],
    },
    options.maxPolls,
  );
}
