import { MockActivityEnvironment } from '@temporalio/testing';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../../lambda/api.js';
import { fixedStore } from '../../../lambda/common/store.js';
import { SummaryResponseSchema } from '../../../shared/api/schemas.js';
import type { Snapshot } from '../../../shared/signals/value.js';
import { openStore, type Store } from '../../../shared/store/connection.js';
import { clusterIdFor } from '../../../shared/store/ids.js';
import { runMigrations } from '../../../shared/store/migrations.js';
import { createActivities } from '../../../worker/activities/index.js';
import type { CopilotActivities } from '../../../worker/activities/types.js';
import { BedrockConversations } from '../../../worker/explain/bedrock.js';
import { DEFAULT_BUDGET } from '../../../worker/explain/explainer.js';
import { localKnowledge } from '../../../worker/explain/knowledge.js';
import type { SignalSource } from '../../../worker/sources/types.js';
import { fixture, lambdaContext, silentLogger } from '../../api/support.js';
import { HEALTHY, snapshot, withSpec } from '../../helpers/snapshots.js';
import {
  type ConverseCall,
  type ConverseReply,
  DUMMY_CREDENTIALS,
  type FakeBedrock,
  startFakeBedrock,
} from '../../support/bedrock-server.js';
import { startTestPostgres, type TestPostgres } from '../../support/postgres.js';

/*
 * Every way an explanation can go, through the worker's real activities (observeCycle, explain,
 * recordAssessment) on a real PostgreSQL, with the real Bedrock client against the fake server:
 * each ends in one stored assessment whose state is the engine's, whose words agree with it, and
 * which names the explainer that wrote them and why the rules answered when they did — and the
 * API's /status/summary serves exactly that.
 */

/** Persistence p99 at 640 ms against 200 ms: stressed, `stressed.persistence_latency` fires. */
const STRESSED = withSpec(HEALTHY, { persistenceLatencyP99: 640 });
// Now, to the second: the budget reads the assessments of the last hour by the instant they
// explain, as the worker's are (workflow time).
const AT = Math.floor(Date.now() / 1000) * 1000;

const dispatch: ConverseReply = { tool: { depth: 'quick', why: 'one clear factor' } };
const answer = (evidence: string[], summary = 'persistence is slow; look at OCC conflicts.') => ({
  tool: {
    summary,
    issues: [
      {
        key: 'stressed.persistence_latency',
        severity: 'warning',
        title: 'Persistence is slow',
        description: 'p99 640 ms against 200 ms.',
        likely_cause: 'DSQL OCC conflicts on hot rows.',
        evidence,
        contributing_factors: [],
        suggested_actions: [],
      },
    ],
    services: [{ service: 'persistence', narrative: 'Persistence answers slowly.' }],
    confidence: 0.8,
  },
});
const invalid: ConverseReply = { tool: { summary: 'no issues field', confidence: 2 } };

let pg: TestPostgres;
let store: Store;
let fake: FakeBedrock;
let replies: ConverseReply[] = [];

class FixedSource implements SignalSource {
  readonly kind = 'fixed';
  async snapshot(at: number): Promise<Snapshot> {
    return snapshot(STRESSED, at);
  }
  async close(): Promise<void> {}
}

function activities(budget = DEFAULT_BUDGET): CopilotActivities {
  const a = createActivities({
    store,
    sourceFor: () => new FixedSource(),
    explainer: {
      knowledge: localKnowledge('docs/rag'),
      budget,
      bedrock: new BedrockConversations({
        region: 'us-east-1',
        endpoint: fake.url,
        credentials: DUMMY_CREDENTIALS,
        dispatcherModel: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
        researcherModel: 'anthropic.claude-opus-4-6-v1',
        profilePrefix: 'us',
        timeoutMs: 1_000,
      }),
    },
  });
  const run =
    <I, O>(fn: (input: I) => Promise<O>) =>
    (input: I) =>
      new MockActivityEnvironment().run<[I], O, (input: I) => Promise<O>>(fn, input);
  return { ...a, explain: run(a.explain), recordAssessment: run(a.recordAssessment) };
}

interface StoredRow {
  health_state: string;
  reason: string | null;
  explainer: string;
  summary: string;
  model_id: string | null;
  fallback_reason: string | null;
  llm_calls: number;
  input_tokens: number;
  output_tokens: number;
  sources: string[];
  issue_keys: string[];
}

/** One cycle observed and stored, then explained and recorded as the assessment child does. */
async function assess(cluster: string, a = activities()): Promise<StoredRow> {
  const observed = await a.observeCycle({
    cluster,
    observerId: `observe-${cluster}`,
    runId: 'r1',
    cycle: 0,
    carried: null,
    at: AT,
    intervalMs: 30_000,
  });
  expect(observed.stored).toBe('inserted');
  const explanation = await a.explain({
    cluster,
    trigger: 'state_change',
    evaluationId: observed.summary.evaluationId,
  });
  await a.recordAssessment({
    cluster,
    key: `state_change:${observed.summary.evaluationId}`,
    trigger: 'state_change',
    explanation,
  });
  const rows = await store.sql<StoredRow[]>`
    SELECT a.health_state, a.reason, a.explainer, a.summary, a.model_id, a.fallback_reason,
      a.llm_calls, a.input_tokens, a.output_tokens,
      array(SELECT s->>'source' FROM jsonb_array_elements(a.details::jsonb->'sources') s) AS sources,
      array(SELECT i.issue_key FROM issues i WHERE i.assessment_id = a.id ORDER BY i.issue_key)
        AS issue_keys
    FROM assessments a WHERE a.cluster_id = ${clusterIdFor(cluster)}`;
  expect(rows).toHaveLength(1);
  return rows[0] as StoredRow;
}

async function summaryOf(cluster: string) {
  const handler = createApiHandler({
    store: fixedStore(store),
    auth: { mode: 'none' },
    logger: silentLogger,
    now: () => AT + 30_000,
  });
  const event = fixture('summary');
  const result = (await handler(
    { ...event, rawQueryString: `cluster=${cluster}`, queryStringParameters: { cluster } },
    lambdaContext(),
  )) as APIGatewayProxyStructuredResultV2;
  expect(result.statusCode).toBe(200);
  return SummaryResponseSchema.parse(JSON.parse(String(result.body)));
}

beforeAll(async () => {
  pg = await startTestPostgres();
  store = await openStore({ dialect: 'postgres', url: pg.url });
  await runMigrations(store.sql, 'postgres');
  fake = await startFakeBedrock({
    converse: (_call: ConverseCall) => replies.shift() ?? { text: 'no reply scripted' },
  });
});

afterAll(async () => {
  await fake?.close();
  await store?.close();
  await pg?.stop();
});

describe('stored assessments, one per way an explanation can go', () => {
  it.each([
    {
      name: 'a valid answer',
      cluster: 'stored-valid',
      script: [dispatch, answer(['stressed.persistence_latency'])],
      explainer: 'bedrock',
      fallback: null,
      calls: 2,
    },
    {
      name: 'malformed output (text, no tool use), twice',
      cluster: 'stored-malformed',
      script: [dispatch, { text: '{"summary": "unterminated' }, { text: 'still not a tool' }],
      explainer: 'rules',
      fallback: /./,
      calls: 3,
    },
    {
      name: 'schema-invalid output, repaired once',
      cluster: 'stored-repaired',
      script: [dispatch, invalid, answer(['stressed.persistence_latency'])],
      explainer: 'bedrock',
      fallback: null,
      calls: 3,
    },
    {
      name: 'schema-invalid output, twice',
      cluster: 'stored-invalid',
      script: [dispatch, invalid, invalid],
      explainer: 'rules',
      fallback: /./,
      calls: 3,
    },
    {
      name: 'every issue citing a gate that passed',
      cluster: 'stored-passed-gate',
      script: [dispatch, answer(['critical.throughput'])],
      explainer: 'rules',
      fallback: /^ungrounded answer: .*critical\.throughput, which did not fire/,
      calls: 2,
    },
    {
      name: 'a 429 from the dispatcher',
      cluster: 'stored-throttled',
      script: [
        { error: { status: 429, type: 'ThrottlingException', message: 'Too many requests' } },
      ],
      explainer: 'rules',
      fallback: /Throttling/,
      calls: 1,
    },
    {
      name: 'a 500 from the researcher',
      cluster: 'stored-server-error',
      script: [dispatch, { error: { status: 500, type: 'InternalServerException' } }],
      explainer: 'rules',
      fallback: /InternalServer/,
      calls: 2,
    },
    {
      name: 'a researcher that does not answer in time',
      cluster: 'stored-timeout',
      script: [dispatch, { delayMs: 3_000, reply: answer(['stressed.persistence_latency']) }],
      explainer: 'rules',
      fallback: /time/i,
      calls: 2,
    },
  ] as const)('$name', async ({ cluster, script, explainer, fallback, calls }) => {
    replies = [...script];
    const row = await assess(cluster);
    // The engine's state and reason, whoever wrote the words.
    expect(row.health_state).toBe('stressed');
    expect(row.reason).toBe('stressed_gates');
    expect(row.summary.startsWith('Stressed: ')).toBe(true);
    expect(row.explainer).toBe(explainer);
    if (fallback === null) expect(row.fallback_reason).toBeNull();
    else expect(row.fallback_reason).toMatch(fallback);
    expect(row.llm_calls).toBe(calls);
    // A researcher given up on is counted at the most it could have written (1,500 for a quick
    // answer), so the daily dollar cap errs towards stopping.
    if (cluster === 'stored-timeout') expect(row.output_tokens).toBeGreaterThanOrEqual(1_500);
    expect(row.model_id).toBe(explainer === 'bedrock' ? 'us.anthropic.claude-opus-4-6-v1' : null);
    // The rules cite the runbook written for the gate; both keep the gate's issue.
    expect(row.issue_keys).toContain('stressed.persistence_latency');
    expect(row.sources.length).toBeGreaterThan(0);
    // What the dashboard reads is what was stored.
    const s = await summaryOf(cluster);
    expect(s).toMatchObject({
      health_state: 'stressed',
      explainer,
      fallback_reason: row.fallback_reason,
      summary: row.summary,
    });
    expect(replies).toEqual([]);
  });

  it('budget exhausted: no call at all, the rules, and the budget named', async () => {
    const cluster = 'stored-budget';
    // An hour's allowance already spent by this cluster's earlier explanations.
    const spent = activities({ ...DEFAULT_BUDGET, callsPerHour: 2 });
    replies = [dispatch, answer(['stressed.persistence_latency'])];
    const before = fake.converse.length;
    const row = await assess(cluster, spent);
    expect(row.explainer).toBe('bedrock');
    // The next explanation of the same cluster, within the hour: refused by the stored usage.
    const observed = await spent.observeCycle({
      cluster,
      observerId: `observe-${cluster}`,
      runId: 'r1',
      cycle: 1,
      carried: null,
      at: AT + 30_000,
      intervalMs: 30_000,
    });
    const x = await spent.explain({
      cluster,
      trigger: 'scheduled',
      evaluationId: observed.summary.evaluationId,
    });
    expect(fake.converse.length).toBe(before + 2);
    expect(x).toMatchObject({ explainer: 'rules', llmCalls: 0, modelId: null });
    expect(x.fallbackReason).toMatch(/^budget: 2 calls and \d+ tokens in the last hour/);
    expect(x.summary.startsWith('Stressed: ')).toBe(true);
  });
});
