import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReceivedRequest } from './sigv4.js';

/**
 * A stand-in for the Bedrock Agent control plane (no local Bedrock exists) that speaks the REST
 * JSON wire format of the three ingestion-job operations as `@aws-sdk/client-bedrock-agent`
 * sends and parses them:
 *
 * - StartIngestionJob: `PUT /knowledgebases/{kb}/datasources/{ds}/ingestionjobs/` → 202
 *   `{"ingestionJob":{…}}`; the same `clientToken` returns the same job; 409 ConflictException
 *   while another job of the data source runs (Bedrock runs one at a time);
 * - GetIngestionJob: `GET …/ingestionjobs/{id}` → 200 `{"ingestionJob":{…}}`, each read moving
 *   the job one step along its planned statuses;
 * - ListIngestionJobs: `POST …/ingestionjobs/` with `sortBy`, `filters`, `maxResults` → 200
 *   `{"ingestionJobSummaries":[…]}`.
 *
 * Errors carry `x-amzn-errortype` and a `{"message"}` body as the service does. Unknown ids are
 * 404 ResourceNotFoundException. A request without a well-formed SigV4 `authorization` header
 * (service `bedrock`) is refused with 403, and every request is recorded so tests can re-verify
 * the signature over the exact bytes (`expectSigV4Valid`).
 */

/** How a job started from now on behaves: the statuses successive reads return, and its outcome. */
export interface JobPlan {
  /** Read by read; the last one sticks. @default ['STARTING', 'IN_PROGRESS', 'COMPLETE'] */
  readonly statuses?: readonly string[];
  readonly statistics?: Record<string, number>;
  readonly failureReasons?: readonly string[];
  /** Answer without `ingestionJobId` (a malformed answer the client must refuse). */
  readonly withoutId?: boolean;
}

export interface FakeJob {
  readonly knowledgeBaseId: string;
  readonly dataSourceId: string;
  readonly ingestionJobId: string;
  readonly clientToken: string | undefined;
  readonly description: string | undefined;
  readonly startedAt: Date;
  readonly plan: Required<JobPlan>;
  /** Index into plan.statuses. */
  step: number;
}

export type Operation = 'StartIngestionJob' | 'GetIngestionJob' | 'ListIngestionJobs';

export interface FakeBedrockAgent {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  readonly jobs: FakeJob[];
  /** Plans for the next jobs started, in order; when empty, jobs complete after two reads. */
  readonly plans: JobPlan[];
  /** Answer the next `n` calls of `operation` with 429 ThrottlingException. */
  throttle(operation: Operation, n: number): void;
  /** Adds a job as if started elsewhere (the console, another deploy). */
  addJob(kb: string, ds: string, plan?: JobPlan, startedAt?: Date): FakeJob;
  /** Calls per operation, throttled ones included. */
  calls(operation: Operation): number;
  close(): Promise<void>;
}

const DEFAULT_STATUSES = ['STARTING', 'IN_PROGRESS', 'COMPLETE'];
const DEFAULT_STATISTICS = {
  numberOfDocumentsScanned: 15,
  numberOfMetadataDocumentsScanned: 15,
  numberOfNewDocumentsIndexed: 15,
  numberOfModifiedDocumentsIndexed: 0,
  numberOfMetadataDocumentsModified: 0,
  numberOfDocumentsDeleted: 0,
  numberOfDocumentsFailed: 0,
};
const RUNNING = new Set(['STARTING', 'IN_PROGRESS', 'STOPPING']);
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/[a-z0-9-]+\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-requestid': randomUUID(),
  };
  if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers).end(JSON.stringify(body));
}

const fail = (res: ServerResponse, status: number, type: string, message: string) =>
  send(res, status, { message }, type);

function jobJson(job: FakeJob, full: boolean): Record<string, unknown> {
  const status = job.plan.statuses[Math.min(job.step, job.plan.statuses.length - 1)] ?? 'COMPLETE';
  const done = !RUNNING.has(status);
  const out: Record<string, unknown> = {
    knowledgeBaseId: job.knowledgeBaseId,
    dataSourceId: job.dataSourceId,
    ...(job.plan.withoutId ? {} : { ingestionJobId: job.ingestionJobId }),
    status,
    startedAt: job.startedAt.toISOString(),
    updatedAt: new Date(job.startedAt.getTime() + job.step * 1000).toISOString(),
    statistics: done
      ? job.plan.statistics
      : { ...job.plan.statistics, numberOfNewDocumentsIndexed: 0, numberOfDocumentsFailed: 0 },
  };
  if (job.description !== undefined) out.description = job.description;
  if (full && done && job.plan.failureReasons.length > 0)
    out.failureReasons = job.plan.failureReasons;
  return out;
}

const statusOf = (job: FakeJob) =>
  job.plan.statuses[Math.min(job.step, job.plan.statuses.length - 1)] ?? 'COMPLETE';

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the server on 127.0.0.1. `dataSources` are the `kb/ds` pairs that exist; any other id
 * is 404.
 */
export async function startFakeBedrockAgent(
  dataSources: readonly { knowledgeBaseId: string; dataSourceId: string }[],
): Promise<FakeBedrockAgent> {
  const known = new Set(dataSources.map((d) => `${d.knowledgeBaseId}/${d.dataSourceId}`));
  const requests: ReceivedRequest[] = [];
  const jobs: FakeJob[] = [];
  const plans: JobPlan[] = [];
  const throttles = new Map<Operation, number>();
  const counts = new Map<Operation, number>();

  const newJob = (
    kb: string,
    ds: string,
    plan: JobPlan | undefined,
    clientToken?: string,
    description?: string,
    startedAt = new Date(),
  ): FakeJob => {
    const job: FakeJob = {
      knowledgeBaseId: kb,
      dataSourceId: ds,
      ingestionJobId: randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase(),
      clientToken,
      description,
      startedAt,
      plan: {
        statuses: plan?.statuses ?? DEFAULT_STATUSES,
        statistics: plan?.statistics ?? DEFAULT_STATISTICS,
        failureReasons: plan?.failureReasons ?? [],
        withoutId: plan?.withoutId ?? false,
      },
      step: 0,
    };
    jobs.push(job);
    return job;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
      if (
        !SIGV4.test(String(req.headers.authorization ?? '')) ||
        req.headers['x-amz-date'] === undefined
      )
        return fail(
          res,
          403,
          'UnrecognizedClientException',
          'missing or malformed SigV4 signature',
        );
      const m =
        /^\/knowledgebases\/([^/]+)\/datasources\/([^/]+)\/ingestionjobs\/([^/?]*)(?:\?.*)?$/.exec(
          path,
        );
      if (m === null) return fail(res, 404, 'UnknownOperationException', `no route for ${path}`);
      const kb = decodeURIComponent(m[1] ?? '');
      const ds = decodeURIComponent(m[2] ?? '');
      const jobId = decodeURIComponent(m[3] ?? '');
      const op: Operation | undefined =
        req.method === 'PUT' && jobId === ''
          ? 'StartIngestionJob'
          : req.method === 'GET' && jobId !== ''
            ? 'GetIngestionJob'
            : req.method === 'POST' && jobId === ''
              ? 'ListIngestionJobs'
              : undefined;
      if (op === undefined)
        return fail(res, 405, 'UnknownOperationException', `${req.method} ${path}`);
      counts.set(op, (counts.get(op) ?? 0) + 1);
      const left = throttles.get(op) ?? 0;
      if (left > 0) {
        throttles.set(op, left - 1);
        return fail(res, 429, 'ThrottlingException', 'Rate exceeded');
      }
      if (!known.has(`${kb}/${ds}`))
        return fail(
          res,
          404,
          'ResourceNotFoundException',
          `data source ${ds} of knowledge base ${kb} not found`,
        );
      const input = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
      const mine = jobs.filter((j) => j.knowledgeBaseId === kb && j.dataSourceId === ds);

      if (op === 'StartIngestionJob') {
        const token = typeof input.clientToken === 'string' ? input.clientToken : undefined;
        const again = token === undefined ? undefined : mine.find((j) => j.clientToken === token);
        if (again !== undefined) return send(res, 202, { ingestionJob: jobJson(again, true) });
        const running = mine.find((j) => RUNNING.has(statusOf(j)));
        if (running !== undefined)
          return fail(
            res,
            409,
            'ConflictException',
            `ingestion job ${running.ingestionJobId} is in progress for this data source`,
          );
        const job = newJob(
          kb,
          ds,
          plans.shift(),
          token,
          typeof input.description === 'string' ? input.description : undefined,
        );
        return send(res, 202, { ingestionJob: jobJson(job, true) });
      }
      if (op === 'GetIngestionJob') {
        const job = mine.find((j) => j.ingestionJobId === jobId);
        if (job === undefined)
          return fail(res, 404, 'ResourceNotFoundException', `ingestion job ${jobId} not found`);
        // Each read is one step of the job's life, so tests count polls, not seconds.
        const out = jobJson(job, true);
        if (RUNNING.has(statusOf(job))) job.step += 1;
        return send(res, 200, { ingestionJob: out });
      }
      const filters =
        (input.filters as { attribute: string; values: string[] }[] | undefined) ?? [];
      const statusFilter = filters.find((f) => f.attribute === 'STATUS');
      const order = (input.sortBy as { order?: string } | undefined)?.order ?? 'DESCENDING';
      const listed = mine
        .filter((j) => statusFilter === undefined || statusFilter.values.includes(statusOf(j)))
        .sort(
          (a, b) =>
            (a.startedAt.getTime() - b.startedAt.getTime()) * (order === 'ASCENDING' ? 1 : -1),
        )
        .slice(0, typeof input.maxResults === 'number' ? input.maxResults : 100);
      return send(res, 200, { ingestionJobSummaries: listed.map((j) => jobJson(j, false)) });
    })().catch((error: unknown) => {
      if (!res.headersSent) fail(res, 500, 'InternalServerException', String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    jobs,
    plans,
    throttle: (operation, n) => {
      throttles.set(operation, n);
    },
    addJob: (kb, ds, plan, startedAt) => newJob(kb, ds, plan, undefined, undefined, startedAt),
    calls: (operation) => counts.get(operation) ?? 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
