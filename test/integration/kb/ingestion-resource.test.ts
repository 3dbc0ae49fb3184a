import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CdkCustomResourceEvent, CdkCustomResourceIsCompleteEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createIngestionResource,
  IngestionDeployTimeoutError,
  type IngestionResourceHandlers,
} from '../../../lambda/common/kb-custom-resource.js';
import { IngestionJobFailedError } from '../../../shared/aws/kb-ingestion.js';
import { corpusHash, corpusObjects, readCorpus } from '../../../shared/kb/corpus.js';
import {
  type FakeBedrockAgent,
  startFakeBedrockAgent,
} from '../../support/bedrock-agent-server.js';
import { agentClient, context, expectAllSigned, stubLambdaEnv, TARGET } from './support.js';

const RUNBOOK = (body: string) =>
  [
    '---',
    'title: Test runbook',
    'summary: A runbook used to compute a corpus hash in tests.',
    'gates: [stressed.persistence_latency]',
    'services: [persistence]',
    '---',
    '# Test runbook',
    body,
    '',
  ].join('\n');

const dirs: string[] = [];
function hashOf(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'copilot-kb-corpus-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return corpusHash(corpusObjects(readCorpus(d)));
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const HASH_V1 = hashOf({ 'pool.md': RUNBOOK('Check the pool.') });
const HASH_V2 = hashOf({ 'pool.md': RUNBOOK('Check the pool, then the reservoir.') });

const properties = (hash: string) => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  KnowledgeBaseId: TARGET.knowledgeBaseId,
  DataSourceId: TARGET.dataSourceId,
  CorpusHash: hash,
});

const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Kb/1',
  LogicalResourceId: 'Ingestion',
  ResourceType: 'Custom::KnowledgeBaseIngestion',
};
const create = (hash: string, requestId = 'req-create'): CdkCustomResourceEvent =>
  ({
    ...base,
    RequestType: 'Create',
    RequestId: requestId,
    ResourceProperties: properties(hash),
  }) as CdkCustomResourceEvent;
const update = (oldHash: string, hash: string): CdkCustomResourceEvent =>
  ({
    ...base,
    RequestType: 'Update',
    RequestId: 'req-update',
    PhysicalResourceId: `${TARGET.knowledgeBaseId}/${TARGET.dataSourceId}/ingestion`,
    ResourceProperties: properties(hash),
    OldResourceProperties: properties(oldHash),
  }) as CdkCustomResourceEvent;

/** Polls isComplete the way the Provider's state machine does, at most `max` times. */
async function pollUntilDone(
  h: IngestionResourceHandlers,
  event: CdkCustomResourceEvent,
  onEventResult: Awaited<ReturnType<IngestionResourceHandlers['onEvent']>>,
  max: number,
  tick: () => void = () => {},
) {
  const e = { ...event, ...onEventResult } as CdkCustomResourceIsCompleteEvent;
  for (let i = 1; i <= max; i++) {
    const r = await h.isComplete(e);
    if (r.IsComplete) return { result: r, polls: i };
    tick();
  }
  throw new Error(`not complete after ${max} polls`);
}

describe('deploy-time ingestion custom resource (real SDK client, local Bedrock Agent)', () => {
  let server: FakeBedrockAgent;
  beforeEach(async () => {
    server = await startFakeBedrockAgent([TARGET]);
  });
  afterEach(async () => {
    await server.close();
  });
  const handlers = (over: Partial<Parameters<typeof createIngestionResource>[0]> = {}) =>
    createIngestionResource({ client: agentClient(server), maxWaitSeconds: 1800, ...over });

  it('create starts a job, waits for it and reports its statistics; every call is SigV4-signed', async () => {
    const h = handlers();
    const started = await h.onEvent(create(HASH_V1));
    expect(started.PhysicalResourceId).toBe('KBTEST0001/DSTEST0001/ingestion');
    expect(started.Data?.IngestionJobId).toMatch(/^[A-Z0-9]{10}$/);
    const { result, polls } = await pollUntilDone(h, create(HASH_V1), started, 10);
    expect(polls).toBe(3); // STARTING, IN_PROGRESS, COMPLETE
    expect(result).toEqual({
      IsComplete: true,
      Data: {
        IngestionJobId: started.Data?.IngestionJobId,
        Status: 'COMPLETE',
        DocumentsScanned: '15',
        DocumentsIndexed: '15',
        DocumentsDeleted: '0',
      },
    });
    expect(server.jobs).toHaveLength(1);
    expect(server.jobs[0]?.description).toContain(HASH_V1.slice(0, 12));
    await expectAllSigned(server);
  });

  it('a retried onEvent (same request) does not start a second job', async () => {
    const h = handlers();
    const a = await h.onEvent(create(HASH_V1, 'req-retried'));
    const b = await h.onEvent(create(HASH_V1, 'req-retried'));
    expect(b.Data?.IngestionJobId).toBe(a.Data?.IngestionJobId);
    expect(server.jobs).toHaveLength(1);
  });

  it('update with changed documents ingests again; an update that changes nothing calls nothing', async () => {
    expect(HASH_V2).not.toBe(HASH_V1);
    const h = handlers();
    const first = await h.onEvent(create(HASH_V1));
    await pollUntilDone(h, create(HASH_V1), first, 10);

    const changed = await h.onEvent(update(HASH_V1, HASH_V2));
    expect(changed.Data?.IngestionJobId).not.toBe(first.Data?.IngestionJobId);
    const done = await pollUntilDone(h, update(HASH_V1, HASH_V2), changed, 10);
    expect(done.result.IsComplete).toBe(true);
    expect(server.jobs).toHaveLength(2);

    const before = server.requests.length;
    const same = await h.onEvent(update(HASH_V2, HASH_V2));
    expect(same.Data?.Skipped).toBe('true');
    expect(
      await h.isComplete({
        ...update(HASH_V2, HASH_V2),
        ...same,
      } as CdkCustomResourceIsCompleteEvent),
    ).toEqual({ IsComplete: true });
    expect(server.requests.length).toBe(before);
  });

  it('delete calls nothing: the vectors follow the knowledge base removal policy', async () => {
    const h = handlers();
    const event = {
      ...base,
      RequestType: 'Delete',
      RequestId: 'req-delete',
      PhysicalResourceId: 'KBTEST0001/DSTEST0001/ingestion',
      ResourceProperties: properties(HASH_V1),
    } as CdkCustomResourceEvent;
    const r = await h.onEvent(event);
    expect(r.PhysicalResourceId).toBe('KBTEST0001/DSTEST0001/ingestion');
    expect(await h.isComplete({ ...event, ...r } as CdkCustomResourceIsCompleteEvent)).toEqual({
      IsComplete: true,
    });
    expect(server.requests).toEqual([]);
  });

  it('fails the deploy with the job failure reasons when the job fails', async () => {
    server.plans.push({
      statuses: ['STARTING', 'FAILED'],
      failureReasons: [
        'Encountered error: metadata for document s3://corpus/pool.md is larger than 2048 bytes',
        'AccessDeniedException on s3vectors:PutVectors',
      ],
    });
    const h = handlers();
    const started = await h.onEvent(create(HASH_V1));
    const e = { ...create(HASH_V1), ...started } as CdkCustomResourceIsCompleteEvent;
    expect(await h.isComplete(e)).toEqual({ IsComplete: false });
    const failure = await h.isComplete(e).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(IngestionJobFailedError);
    expect(String((failure as Error).message)).toBe(
      `ingestion job ${started.Data?.IngestionJobId} FAILED: Encountered error: metadata for document s3://corpus/pool.md is larger than 2048 bytes; AccessDeniedException on s3vectors:PutVectors`,
    );
  });

  it('fails the deploy when the job completes with failed documents', async () => {
    server.plans.push({
      statuses: ['COMPLETE'],
      statistics: { numberOfDocumentsScanned: 15, numberOfDocumentsFailed: 2 },
      failureReasons: ['pool.md: chunk exceeds the embedding model input'],
    });
    const h = handlers();
    const started = await h.onEvent(create(HASH_V1));
    await expect(
      h.isComplete({ ...create(HASH_V1), ...started } as CdkCustomResourceIsCompleteEvent),
    ).rejects.toThrow(/completed but 2 document\(s\) failed: pool.md: chunk exceeds/);
  });

  it('gives up when the job outlives the wait budget, naming the job (injected clock)', async () => {
    server.plans.push({ statuses: ['STARTING', 'IN_PROGRESS'] });
    let clock = Date.parse('2026-11-30T12:00:00Z');
    const h = handlers({ now: () => clock, maxWaitSeconds: 300 });
    const started = await h.onEvent(create(HASH_V1));
    const e = { ...create(HASH_V1), ...started } as CdkCustomResourceIsCompleteEvent;
    let polls = 0;
    let failure: unknown;
    for (; polls < 20 && failure === undefined; ) {
      polls++;
      try {
        expect(await h.isComplete(e)).toEqual({ IsComplete: false });
      } catch (error) {
        failure = error;
      }
      clock += 60_000; // one Provider query interval
    }
    // Polls at 0, 60, 120, 180 and 240 s wait; the one at 300 s gives up.
    expect(polls).toBe(6);
    expect(failure).toBeInstanceOf(IngestionDeployTimeoutError);
    expect((failure as Error).message).toBe(
      `ingestion job ${started.Data?.IngestionJobId} is still IN_PROGRESS after 300 s (limit 300 s); ` +
        `the deploy stops waiting, the job goes on: check it with copilot kb status --job-id ${started.Data?.IngestionJobId}`,
    );
  });

  it('rides out throttling: the SDK retries, and a still-throttled poll just polls again', async () => {
    // Two 429s are absorbed by the SDK's own retries (3 attempts) inside one onEvent.
    server.throttle('StartIngestionJob', 2);
    const h = handlers();
    const started = await h.onEvent(create(HASH_V1));
    expect(started.Data?.IngestionJobId).not.toBe('');
    expect(server.calls('StartIngestionJob')).toBe(3);
    // With one attempt per call, a throttled read is "not complete yet", not a failed deploy.
    const single = createIngestionResource({
      client: agentClient(server, 1),
      maxWaitSeconds: 1800,
    });
    server.throttle('GetIngestionJob', 2);
    const e = { ...create(HASH_V1), ...started } as CdkCustomResourceIsCompleteEvent;
    expect(await single.isComplete(e)).toEqual({ IsComplete: false });
    expect(await single.isComplete(e)).toEqual({ IsComplete: false });
    const { polls } = await pollUntilDone(single, create(HASH_V1), started, 10);
    expect(polls).toBe(3);
  });

  it('a start throttled past the retries is deferred and made by isComplete', async () => {
    server.throttle('StartIngestionJob', 1);
    const single = createIngestionResource({
      client: agentClient(server, 1),
      maxWaitSeconds: 1800,
    });
    const deferred = await single.onEvent(create(HASH_V1));
    expect(deferred.Data?.IngestionJobId).toBe('');
    expect(server.jobs).toHaveLength(0);
    const { result } = await pollUntilDone(single, create(HASH_V1), deferred, 10);
    expect(result.IsComplete).toBe(true);
    expect(server.jobs).toHaveLength(1);
  });

  it('waits for a job already running (console), then ingests the new corpus in a job of its own', async () => {
    const consoleJob = server.addJob(
      TARGET.knowledgeBaseId,
      TARGET.dataSourceId,
      { statuses: ['IN_PROGRESS', 'IN_PROGRESS', 'COMPLETE'] },
      new Date(Date.now() - 60_000),
    );
    const h = handlers();
    const deferred = await h.onEvent(create(HASH_V1));
    expect(deferred.Data?.IngestionJobId).toBe('');
    const e = { ...create(HASH_V1), ...deferred } as CdkCustomResourceIsCompleteEvent;
    // While the console job runs, nothing new starts.
    expect(await h.isComplete(e)).toEqual({ IsComplete: false });
    expect(server.jobs).toHaveLength(1);
    consoleJob.step = 2; // the console job completes
    const { result } = await pollUntilDone(h, create(HASH_V1), deferred, 10);
    expect(server.jobs).toHaveLength(2);
    const ours = server.jobs[1];
    expect(result).toMatchObject({
      IsComplete: true,
      Data: { IngestionJobId: ours?.ingestionJobId },
    });
    expect(ours?.startedAt.getTime()).toBeGreaterThanOrEqual(
      Date.parse(String(deferred.Data?.RequestedAt)),
    );
  });

  it('fails clearly on bad properties and on an unknown data source', async () => {
    const h = handlers();
    const bad = {
      ...create(HASH_V1),
      ResourceProperties: { ...properties(HASH_V1), CorpusHash: 'abc' },
    } as CdkCustomResourceEvent;
    await expect(h.onEvent(bad)).rejects.toThrow(
      'invalid properties of the ingestion custom resource: CorpusHash: must be a SHA-256 hex digest',
    );
    const missing = {
      ...create(HASH_V1),
      ResourceProperties: { ...properties(HASH_V1), DataSourceId: 'NOPE' },
    } as CdkCustomResourceEvent;
    await expect(h.onEvent(missing)).rejects.toThrow(
      'StartIngestionJob failed: ResourceNotFoundException: data source NOPE of knowledge base KBTEST0001 not found',
    );
  });
});

describe('the Lambda entries (lambda/kb-ingestion.ts) as deployed', () => {
  let server: FakeBedrockAgent;
  beforeEach(async () => {
    server = await startFakeBedrockAgent([TARGET]);
    stubLambdaEnv(server);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  it('onEvent and isComplete run the ingestion with the environment the construct sets', async () => {
    const { onEvent, isComplete } = await import('../../../lambda/kb-ingestion.js');
    const r = await onEvent(create(HASH_V1), context());
    const e = { ...create(HASH_V1), ...r } as CdkCustomResourceIsCompleteEvent;
    let done = await isComplete(e, context());
    for (let i = 0; i < 5 && !done.IsComplete; i++) done = await isComplete(e, context());
    expect(done).toMatchObject({ IsComplete: true, Data: { Status: 'COMPLETE' } });
    await expectAllSigned(server);
  });
});
