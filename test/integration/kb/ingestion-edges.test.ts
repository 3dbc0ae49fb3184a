import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  getIngestionJob,
  IngestionBusyError,
  IngestionCallError,
  IngestionJobFailedError,
  IngestionThrottledError,
  IngestionWaitExhaustedError,
  type JobReport,
  listIngestionJobs,
  startIngestionJob,
  waitForJob,
} from '../../../shared/aws/kb-ingestion.js';
import {
  type FakeBedrockAgent,
  startFakeBedrockAgent,
} from '../../support/bedrock-agent-server.js';
import { agentClient, TARGET } from './support.js';

const report = (over: Partial<JobReport>): JobReport => ({
  jobId: 'JOB1',
  status: 'FAILED',
  startedAt: null,
  updatedAt: null,
  statistics: {},
  failureReasons: [],
  ...over,
});

describe('shared/aws/kb-ingestion edge cases (real SDK client, local Bedrock Agent)', () => {
  let server: FakeBedrockAgent;
  beforeEach(async () => {
    server = await startFakeBedrockAgent([TARGET]);
  });
  afterEach(async () => {
    await server.close();
  });

  it.each([
    [
      'an empty knowledge base id',
      { ...TARGET, knowledgeBaseId: ' ' },
      'JOB',
      'the knowledge base id is empty',
    ],
    [
      'an empty data source id',
      { ...TARGET, dataSourceId: '' },
      'JOB',
      'the data source id is empty',
    ],
    ['an empty job id', TARGET, '', 'the job id is empty'],
  ])('refuses %s before any request', async (_, target, jobId, message) => {
    await expect(getIngestionJob(agentClient(server), target, jobId)).rejects.toThrow(message);
    await expect(getIngestionJob(agentClient(server), target, jobId)).rejects.toBeInstanceOf(
      IngestionCallError,
    );
    expect(server.requests).toEqual([]);
  });

  it('names no job when the running one cannot be listed', async () => {
    server.addJob(TARGET.knowledgeBaseId, TARGET.dataSourceId, { statuses: ['IN_PROGRESS'] });
    server.throttle('ListIngestionJobs', 1);
    const error = await startIngestionJob(agentClient(server, 1), TARGET).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestionBusyError);
    expect((error as IngestionBusyError).runningJob).toBeUndefined();
    expect((error as Error).message).toBe(
      `another ingestion job is running for data source ${TARGET.dataSourceId}`,
    );
  });

  it('turns throttled listing into IngestionThrottledError', async () => {
    server.throttle('ListIngestionJobs', 1);
    await expect(listIngestionJobs(agentClient(server, 1), TARGET)).rejects.toBeInstanceOf(
      IngestionThrottledError,
    );
  });

  it('waitForJob: a throttled read is one poll; all polls throttled ends as exhausted with no status', async () => {
    const job = server.addJob(TARGET.knowledgeBaseId, TARGET.dataSourceId, {
      statuses: ['IN_PROGRESS'],
    });
    server.throttle('GetIngestionJob', 3);
    const error = await waitForJob(agentClient(server, 1), TARGET, job.ingestionJobId, {
      maxPolls: 3,
      intervalMs: 0,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IngestionWaitExhaustedError);
    expect((error as IngestionWaitExhaustedError).report.status).toBe('UNKNOWN');
    expect(server.calls('GetIngestionJob')).toBe(3);
  });

  it('waitForJob: any other failure ends the wait at once', async () => {
    await expect(
      waitForJob(agentClient(server), TARGET, 'NOSUCHJOB', {
        maxPolls: 5,
        intervalMs: 0,
        sleep: async () => {},
      }),
    ).rejects.toThrow(
      'GetIngestionJob failed: ResourceNotFoundException: ingestion job NOSUCHJOB not found',
    );
    expect(server.calls('GetIngestionJob')).toBe(1);
  });

  it('describes failures without reasons, and cuts very long reasons', () => {
    expect(new IngestionJobFailedError(report({})).message).toBe(
      'ingestion job JOB1 FAILED (Bedrock gave no reason)',
    );
    const long = new IngestionJobFailedError(report({ failureReasons: ['x'.repeat(2000)] }))
      .message;
    expect(long).toBe(`ingestion job JOB1 FAILED: ${'x'.repeat(1500)}…`);
  });
});
