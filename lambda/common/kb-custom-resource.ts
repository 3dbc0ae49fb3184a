import { createHash } from 'node:crypto';
import type { BedrockAgentClient } from '@aws-sdk/client-bedrock-agent';
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';
import * as z from 'zod';
import {
  getIngestionJob,
  IngestionBusyError,
  IngestionJobFailedError,
  IngestionThrottledError,
  isRunning,
  type JobReport,
  jobFailed,
  type KbTarget,
  listIngestionJobs,
  startIngestionJob,
} from '../../shared/aws/kb-ingestion.js';
import { describeFirstIssue } from '../../shared/zod-issues.js';

/*
 * The deploy-time ingestion (Provider framework, `onEvent` + `isComplete`). Create, and an Update
 * that changes the corpus hash or the knowledge base, start an ingestion job; `isComplete` polls it
 * until it ends, and a failed job fails the deploy with Bedrock's reasons. When another job is
 * already running (an operator's console run, say) the start is deferred: `isComplete` waits for
 * that job, then starts one and follows the first job that started after the request, so the
 * corpus just uploaded is what gets ingested. Delete calls nothing: the vectors follow the
 * knowledge base's removal policy.
 */

/** The custom resource's properties, as CloudFormation passes them (strings). */
export const IngestionPropertiesSchema = z.object({
  KnowledgeBaseId: z.string().min(1),
  DataSourceId: z.string().min(1),
  /** SHA-256 of the corpus objects; a change is what makes CloudFormation send an Update. */
  CorpusHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest'),
});
export type IngestionProperties = z.infer<typeof IngestionPropertiesSchema>;

/** What `onEvent` hands to `isComplete` (and CloudFormation keeps as attributes). */
export interface IngestionData {
  /** The job started by `onEvent`, or '' when the start was deferred. */
  readonly IngestionJobId: string;
  /** ISO time of the request: the deferred path follows the first job started after it. */
  readonly RequestedAt: string;
  /** 'true' when nothing needed ingesting (an Update that changed neither corpus nor ids). */
  readonly Skipped: string;
}

export class IngestionPropertiesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestionPropertiesError';
  }
}

/** The deploy gave up waiting; the job goes on. */
export class IngestionDeployTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestionDeployTimeoutError';
  }
}

export interface IngestionResourceDependencies {
  readonly client: BedrockAgentClient;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * How long `isComplete` waits for the job before failing the deploy, in seconds, measured from
   * the request. The Provider's own total timeout is set a little longer, so this message (with
   * the job id) is what the operator sees rather than a bare "timed out".
   */
  readonly maxWaitSeconds: number;
  readonly log?: { info(message: string, extra: Record<string, unknown>): void };
}

function propertiesOf(raw: unknown, which: string): IngestionProperties {
  const parsed = IngestionPropertiesSchema.safeParse(raw);
  if (!parsed.success)
    throw new IngestionPropertiesError(
      `invalid ${which} of the ingestion custom resource: ${describeFirstIssue(parsed.error)}`,
    );
  return parsed.data;
}

const targetOf = (p: IngestionProperties): KbTarget => ({
  knowledgeBaseId: p.KnowledgeBaseId,
  dataSourceId: p.DataSourceId,
});

/**
 * Bedrock wants 33–256 characters of [a-zA-Z0-9-]; a digest of the request id keeps a retried
 * `onEvent` (the Provider retries failed invocations) from starting a second job.
 */
export function clientTokenOf(requestId: string, salt = ''): string {
  return createHash('sha256').update(`${requestId}\0${salt}`).digest('hex');
}

function completion(report: JobReport): CdkCustomResourceIsCompleteResponse {
  if (jobFailed(report)) throw new IngestionJobFailedError(report);
  const s = report.statistics;
  return {
    IsComplete: true,
    Data: {
      IngestionJobId: report.jobId,
      Status: report.status,
      DocumentsScanned: String(s.numberOfDocumentsScanned ?? 0),
      DocumentsIndexed: String(
        (s.numberOfNewDocumentsIndexed ?? 0) + (s.numberOfModifiedDocumentsIndexed ?? 0),
      ),
      DocumentsDeleted: String(s.numberOfDocumentsDeleted ?? 0),
    },
  };
}

export interface IngestionResourceHandlers {
  onEvent(event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse<IngestionData>>;
  isComplete(event: CdkCustomResourceIsCompleteEvent): Promise<CdkCustomResourceIsCompleteResponse>;
}

export function createIngestionResource(
  deps: IngestionResourceDependencies,
): IngestionResourceHandlers {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? { info: () => undefined };

  async function onEvent(
    event: CdkCustomResourceEvent,
  ): Promise<CdkCustomResourceResponse<IngestionData>> {
    if (event.RequestType === 'Delete') {
      // The vectors belong to the knowledge base and go (or stay) with it.
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const props = propertiesOf(event.ResourceProperties, 'properties');
    const target = targetOf(props);
    const physicalId = `${props.KnowledgeBaseId}/${props.DataSourceId}/ingestion`;
    const requestedAt = new Date(now()).toISOString();
    if (event.RequestType === 'Update') {
      const old = IngestionPropertiesSchema.safeParse(event.OldResourceProperties);
      if (
        old.success &&
        old.data.CorpusHash === props.CorpusHash &&
        old.data.KnowledgeBaseId === props.KnowledgeBaseId &&
        old.data.DataSourceId === props.DataSourceId
      ) {
        log.info('corpus and knowledge base unchanged: no ingestion', {});
        return {
          PhysicalResourceId: physicalId,
          Data: { IngestionJobId: '', RequestedAt: requestedAt, Skipped: 'true' },
        };
      }
    }
    try {
      const job = await startIngestionJob(deps.client, target, {
        clientToken: clientTokenOf(event.RequestId),
        description: `deploy ${event.RequestType.toLowerCase()}, corpus ${props.CorpusHash.slice(0, 12)}`,
      });
      log.info('ingestion job started', { jobId: job.jobId, corpusHash: props.CorpusHash });
      return {
        PhysicalResourceId: physicalId,
        Data: { IngestionJobId: job.jobId, RequestedAt: requestedAt, Skipped: 'false' },
      };
    } catch (error) {
      if (error instanceof IngestionBusyError || error instanceof IngestionThrottledError) {
        log.info('ingestion start deferred', { reason: error.message });
        return {
          PhysicalResourceId: physicalId,
          Data: { IngestionJobId: '', RequestedAt: requestedAt, Skipped: 'false' },
        };
      }
      throw error;
    }
  }

  /** Deferred start: follow the first job started since the request, or start one when free. */
  async function deferred(
    event: CdkCustomResourceIsCompleteEvent,
    target: KbTarget,
    requestedAtMs: number,
  ): Promise<JobReport | undefined> {
    const newest = (await listIngestionJobs(deps.client, target, { maxResults: 5 }))[0];
    // Summaries carry no failure reasons: read the job itself.
    if (newest?.startedAt != null && Date.parse(newest.startedAt) >= requestedAtMs)
      return getIngestionJob(deps.client, target, newest.jobId);
    if (newest !== undefined && isRunning(newest.status)) return undefined;
    try {
      const job = await startIngestionJob(deps.client, target, {
        clientToken: clientTokenOf(event.RequestId, 'deferred'),
        description: 'deploy (deferred start)',
      });
      log.info('deferred ingestion job started', { jobId: job.jobId });
      return job;
    } catch (error) {
      if (error instanceof IngestionBusyError) return undefined;
      throw error;
    }
  }

  async function isComplete(
    event: CdkCustomResourceIsCompleteEvent,
  ): Promise<CdkCustomResourceIsCompleteResponse> {
    const data = (event.Data ?? {}) as Partial<IngestionData>;
    if (event.RequestType === 'Delete' || data.Skipped === 'true') return { IsComplete: true };
    const props = propertiesOf(event.ResourceProperties, 'properties');
    const target = targetOf(props);
    const requestedAtMs = Date.parse(data.RequestedAt ?? '');
    if (Number.isNaN(requestedAtMs))
      throw new IngestionPropertiesError('onEvent returned no RequestedAt; cannot follow the job');
    let report: JobReport | undefined;
    try {
      report =
        data.IngestionJobId !== undefined && data.IngestionJobId !== ''
          ? await getIngestionJob(deps.client, target, data.IngestionJobId)
          : await deferred(event, target, requestedAtMs);
    } catch (error) {
      // A throttled read is not a failed job: poll again next time.
      if (!(error instanceof IngestionThrottledError)) throw error;
    }
    if (report !== undefined && !isRunning(report.status)) return completion(report);
    const waitedSec = Math.floor((now() - requestedAtMs) / 1000);
    if (waitedSec >= deps.maxWaitSeconds) {
      const which =
        report === undefined
          ? 'no ingestion job could be started (another job kept running or Bedrock kept throttling)'
          : `ingestion job ${report.jobId} is still ${report.status}`;
      throw new IngestionDeployTimeoutError(
        `${which} after ${waitedSec} s (limit ${deps.maxWaitSeconds} s); the deploy stops waiting` +
          (report === undefined
            ? ''
            : `, the job goes on: check it with copilot kb status --job-id ${report.jobId}`),
      );
    }
    return { IsComplete: false };
  }

  return { onEvent, isComplete };
}
