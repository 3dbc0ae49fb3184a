import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConsoleEventError,
  type ConsoleResult,
  parseConsoleEvent,
  runConsole,
} from '../../../lambda/kb-console.js';
import { IngestionCallError, IngestionJobFailedError } from '../../../shared/aws/kb-ingestion.js';
import {
  type FakeBedrockAgent,
  startFakeBedrockAgent,
} from '../../support/bedrock-agent-server.js';
import { agentClient, context, expectAllSigned, stubLambdaEnv, TARGET } from './support.js';

describe('console ingestion Lambda (real SDK client, local Bedrock Agent)', () => {
  let server: FakeBedrockAgent;
  let pauses: number[];
  beforeEach(async () => {
    server = await startFakeBedrockAgent([TARGET]);
    pauses = [];
  });
  afterEach(async () => {
    await server.close();
  });
  const deps = () => ({
    client: agentClient(server),
    target: TARGET,
    pollIntervalMs: 10_000,
    reserveMs: 5_000,
    sleep: async (ms: number) => {
      pauses.push(ms);
    },
  });

  it('{} starts a job and returns its id at once', async () => {
    const r = await runConsole(parseConsoleEvent({}), context(), deps());
    expect(r).toMatchObject({ status: 'STARTING', started: true, finished: false });
    expect(r.jobId).toBe(server.jobs[0]?.ingestionJobId);
    expect(r.message).toMatch(/^started: job [A-Z0-9]+ STARTING/);
    expect(server.calls('GetIngestionJob')).toBe(0);
    await expectAllSigned(server);
  });

  it('{"jobId"} reports status and statistics', async () => {
    const job = server.addJob(TARGET.knowledgeBaseId, TARGET.dataSourceId, {
      statuses: ['COMPLETE'],
    });
    const r = await runConsole(parseConsoleEvent({ jobId: job.ingestionJobId }), context(), deps());
    expect(r).toMatchObject({
      jobId: job.ingestionJobId,
      status: 'COMPLETE',
      started: false,
      finished: true,
      statistics: { numberOfDocumentsScanned: 15, numberOfNewDocumentsIndexed: 15 },
    });
    expect(r.message).toBe(
      `read: job ${job.ingestionJobId} COMPLETE: 15 scanned, 15 new, 0 modified, 0 deleted, 0 failed`,
    );
  });

  it('{"jobId"} of an unknown job is one clear error', async () => {
    await expect(
      runConsole(parseConsoleEvent({ jobId: 'NOSUCHJOB' }), context(), deps()),
    ).rejects.toThrow(
      new IngestionCallError(
        'GetIngestionJob',
        'ResourceNotFoundException',
        'ingestion job NOSUCHJOB not found',
      ),
    );
  });

  it('{"wait": true} starts a job and waits for it, polling with the injected sleep', async () => {
    const r: ConsoleResult = await runConsole(parseConsoleEvent({ wait: true }), context(), deps());
    expect(r).toMatchObject({ status: 'COMPLETE', started: true, finished: true });
    expect(server.calls('GetIngestionJob')).toBe(3);
    expect(pauses).toEqual([10_000, 10_000]);
  });

  it('{"wait": true} fails the invocation with the reasons when the job fails', async () => {
    server.plans.push({
      statuses: ['IN_PROGRESS', 'FAILED'],
      failureReasons: ['index dimension 512 does not match 1024'],
    });
    await expect(runConsole(parseConsoleEvent({ wait: true }), context(), deps())).rejects.toThrow(
      IngestionJobFailedError,
    );
    server.plans.push({
      statuses: ['FAILED'],
      failureReasons: ['index dimension 512 does not match 1024'],
    });
    await expect(runConsole(parseConsoleEvent({ wait: true }), context(), deps())).rejects.toThrow(
      /FAILED: index dimension 512 does not match 1024$/,
    );
  });

  it('{"wait": true} returns while the job still runs when the invocation runs out of time', async () => {
    server.plans.push({ statuses: ['IN_PROGRESS'] });
    // 35 s left, 5 s kept back, 10 s per poll: three polls.
    const r = await runConsole(parseConsoleEvent({ wait: true }), context(35_000), deps());
    expect(server.calls('GetIngestionJob')).toBe(3);
    expect(r).toMatchObject({ status: 'IN_PROGRESS', started: true, finished: false });
    expect(r.message).toBe(
      `still IN_PROGRESS when this invocation had to return; invoke again with {"jobId": "${r.jobId}", "wait": true}`,
    );
  });

  it('{"wait": true} with every poll throttled is not finished: it reports the job as started', async () => {
    server.throttle('GetIngestionJob', 100);
    const r = await runConsole(parseConsoleEvent({ wait: true }), context(35_000), {
      ...deps(),
      client: agentClient(server, 1),
    });
    expect(server.calls('GetIngestionJob')).toBe(3);
    expect(r).toMatchObject({ status: 'STARTING', started: true, finished: false });
    expect(r.message).toMatch(/^still STARTING when this invocation had to return/);
  });

  it('{"wait": true} fails on an end status it does not know, never reading it as success', async () => {
    server.plans.push({ statuses: ['IN_PROGRESS', 'PARTIALLY_INDEXED'] });
    await expect(runConsole(parseConsoleEvent({ wait: true }), context(), deps())).rejects.toThrow(
      IngestionJobFailedError,
    );
  });

  it('refuses an answer without a job id instead of following an empty one', async () => {
    server.plans.push({ withoutId: true });
    await expect(runConsole(parseConsoleEvent({}), context(), deps())).rejects.toThrow(
      /StartIngestionJob.*no ingestionJobId/,
    );
  });

  it('{} while a job runs reports that job instead of failing', async () => {
    const running = server.addJob(TARGET.knowledgeBaseId, TARGET.dataSourceId, {
      statuses: ['IN_PROGRESS'],
    });
    const r = await runConsole(parseConsoleEvent({}), context(), deps());
    expect(r).toMatchObject({
      jobId: running.ingestionJobId,
      started: false,
      status: 'IN_PROGRESS',
    });
    expect(r.message).toMatch(/^already running: /);
    expect(server.jobs).toHaveLength(1);
  });

  it('rides out throttling while waiting', async () => {
    // Five polls fit the invocation (55 s / 10 s); two of them are throttled.
    server.throttle('GetIngestionJob', 2);
    const r = await runConsole(parseConsoleEvent({ wait: true }), context(), {
      ...deps(),
      client: agentClient(server, 1),
    });
    expect(r.status).toBe('COMPLETE');
    expect(server.calls('GetIngestionJob')).toBe(5);
  });

  it.each([
    ['a misspelt key', { jobid: 'ABC' }, 'invalid event: Unrecognized key: "jobid"'],
    [
      'wait as a string',
      { wait: 'yes' },
      'invalid event: wait: Invalid input: expected boolean, received string',
    ],
    ['an empty job id', { jobId: '  ' }, 'invalid event: jobId: jobId must be a non-empty string'],
    ['a string', 'start', 'invalid event: Invalid input: expected object, received string'],
    ['an array', [], 'invalid event: Invalid input: expected object, received array'],
  ])('refuses %s with what it accepts', (_, event, message) => {
    expect(() => parseConsoleEvent(event)).toThrow(ConsoleEventError);
    expect(() => parseConsoleEvent(event)).toThrow(
      `${message}; expected {} (start a job), {"jobId": "<id>"} (its status), {"wait": true} (start and wait) or {"jobId": "<id>", "wait": true}`,
    );
  });
});

describe('the console Lambda entry (lambda/kb-console.ts) as deployed', () => {
  let server: FakeBedrockAgent;
  beforeEach(async () => {
    server = await startFakeBedrockAgent([TARGET]);
    stubLambdaEnv(server, {
      COPILOT_KB_ID: TARGET.knowledgeBaseId,
      COPILOT_KB_DATA_SOURCE_ID: TARGET.dataSourceId,
    });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  it('starts a job for {} and refuses a bad event before calling Bedrock', async () => {
    const { handler } = await import('../../../lambda/kb-console.js');
    const r = await handler({}, context());
    expect(r).toMatchObject({ started: true, jobId: server.jobs[0]?.ingestionJobId });
    const before = server.requests.length;
    await expect(handler({ wait: 1 }, context())).rejects.toThrow(/^invalid event: wait:/);
    expect(server.requests.length).toBe(before);
    await expectAllSigned(server);
  });

  it('fails clearly when the construct did not set the ids', async () => {
    vi.stubEnv('COPILOT_KB_DATA_SOURCE_ID', undefined);
    const { handler } = await import('../../../lambda/kb-console.js');
    await expect(handler({}, context())).rejects.toThrow(
      'invalid console function environment: COPILOT_KB_DATA_SOURCE_ID: Invalid input: expected string, received undefined',
    );
  });
});
