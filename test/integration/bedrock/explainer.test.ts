import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_USAGE } from '../../../shared/api/mapping.js';
import { explainWithRules } from '../../../shared/explain/rule-based.js';
import { evaluate } from '../../../shared/health/engine.js';
import type { Evaluation } from '../../../shared/health/evaluation.js';
import type { ExplainerUsage } from '../../../shared/store/reads.js';
import { BedrockConversations } from '../../../worker/explain/bedrock.js';
import { type ExplainerDeps, explainEvaluation } from '../../../worker/explain/explainer.js';
import { type Knowledge, knowledgeBase } from '../../../worker/explain/knowledge.js';
import { HEALTHY, IDLE, snapshot, WORKER_STARVATION, withSpec } from '../../helpers/snapshots.js';
import {
  type ConverseCall,
  type ConverseReply,
  DUMMY_CREDENTIALS,
  type FakeBedrock,
  startFakeBedrock,
} from '../../support/bedrock-server.js';
import { expectSigV4Valid } from '../../support/sigv4.js';

const CREDENTIALS = DUMMY_CREDENTIALS;
const REGION = 'us-east-1';

/** A stressed cluster: persistence latency 640 ms against the mid-scale limit of 200 ms. */
const STRESSED: Evaluation = evaluate(
  null,
  snapshot(withSpec(HEALTHY, { persistenceLatencyP99: 640 })),
);
const HAPPY: Evaluation = evaluate(null, snapshot(HEALTHY));

const NONE_SPENT: ExplainerUsage = NO_USAGE;

/** A local index standing in for the corpus: one passage about persistence latency. */
const knowledge: Knowledge = {
  kind: 'local',
  async passagesFor() {
    return {
      passages: [
        {
          source: 'docs/rag/persistence-latency.md',
          title: 'Persistence latency',
          heading: 'What to do',
          text: 'When stressed.persistence_latency fires, check DSQL OCC conflicts first.',
          score: 3,
        },
      ],
    };
  },
};

const dispatch = (depth: 'none' | 'quick' | 'deep'): ConverseReply => ({
  tool: { depth, why: 'one clear factor' },
});

const research = (evidence: readonly string[], extra: Record<string, unknown> = {}) => ({
  tool: {
    summary: 'persistence is slow; OCC retries are the likely cause.',
    issues: [
      {
        key: 'stressed.persistence_latency',
        severity: 'critical',
        title: 'Persistence is slow',
        description: 'p99 persistence latency is 640 ms against 200 ms.',
        likely_cause: 'DSQL OCC conflicts on hot rows (runbook: persistence latency).',
        evidence,
        contributing_factors: [
          { signal: 'persistence.latency_p99_ms', description: '640 ms', weight: 0.9 },
          { signal: 'made.up_signal', description: 'invented', weight: 0.2 },
        ],
        suggested_actions: [
          {
            action_type: 'investigate',
            target_service: 'persistence',
            description: 'Check OCC conflicts.',
            confidence: 0.7,
            risk: 'low',
          },
        ],
      },
    ],
    services: [{ service: 'persistence', narrative: 'Persistence answers slowly.' }],
    confidence: 0.8,
    ...extra,
  },
});

let fake: FakeBedrock;
let script: (call: ConverseCall) => ConverseReply = () => ({ text: 'unset' });

beforeAll(async () => {
  fake = await startFakeBedrock({
    converse: (call) => script(call),
    retrieve: () => [
      {
        text: 'OCC conflicts (SQLSTATE 40001, OC000) rise when many writers touch the same rows.',
        uri: 's3://copilot-runbooks/dsql-occ-conflicts.md',
        score: 0.71,
        metadata: {
          title: 'DSQL optimistic concurrency conflicts',
          gates: ['stressed.persistence_latency', 'critical.persistence_errors'],
        },
      },
    ],
  });
});
afterAll(async () => {
  await fake?.close();
});

function deps(extra: Partial<ExplainerDeps> = {}, timeoutMs = 5_000): ExplainerDeps {
  return {
    bedrock: new BedrockConversations({
      region: REGION,
      endpoint: fake.url,
      credentials: CREDENTIALS,
      dispatcherModel: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
      researcherModel: 'anthropic.claude-opus-4-6-v1',
      profilePrefix: 'us',
      timeoutMs,
    }),
    knowledge,
    usageSince: async () => NONE_SPENT,
    ...extra,
  };
}

/** Replies in order for the calls of one explanation (dispatcher first). */
function replies(...rs: ConverseReply[]): void {
  const start = fake.converse.length;
  script = (call) => rs[call.index - start] ?? { text: 'no more replies' };
}

describe('the Bedrock explainer over the real SDK and the Converse wire format', () => {
  it('explains through the dispatcher and the researcher, grounded and signed', async () => {
    const before = fake.converse.length;
    replies(
      dispatch('quick'),
      research(['stressed.persistence_latency', 'persistence.latency_p99_ms']),
    );
    const x = await explainEvaluation(deps(), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.explainer).toBe('bedrock');
    expect(x.fallbackReason).toBeNull();
    expect(x.modelId).toBe('us.anthropic.claude-opus-4-6-v1');
    expect(x.summary).toBe('Stressed: persistence is slow; OCC retries are the likely cause.');
    // The engine's state caps the severity; an invented factor is dropped, the real one kept.
    expect(x.issues).toHaveLength(1);
    expect(x.issues[0]).toMatchObject({ key: 'stressed.persistence_latency', severity: 'warning' });
    expect(x.issues[0]?.contributing_factors?.map((f) => f.signal)).toEqual([
      'persistence.latency_p99_ms',
    ]);
    expect(x.details).toMatchObject({
      depth: 'quick',
      narratives: { persistence: 'Persistence answers slowly.' },
    });
    expect(x.details.sources[0]?.source).toBe('docs/rag/persistence-latency.md');
    expect(x.llmCalls).toBe(2);
    const calls = fake.converse.slice(before);
    expect(calls.map((c) => c.modelId)).toEqual([
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us.anthropic.claude-opus-4-6-v1',
    ]);
    // Forced tool use, the static system prompt followed by a cache point, the passage in the prompt.
    for (const c of calls) {
      expect(c.json.toolConfig?.toolChoice).toMatchObject({ tool: { name: expect.any(String) } });
      expect(c.json.system?.at(-1)).toEqual({ cachePoint: { type: 'default' } });
      await expectSigV4Valid(c, { service: 'bedrock', region: REGION, credentials: CREDENTIALS });
    }
    expect(JSON.stringify(calls[1]?.json.messages)).toContain('docs/rag/persistence-latency.md');
    // Tokens are what the server reported: the second call read the system prompt from the cache.
    expect(x.inputTokens + x.cacheReadTokens + x.cacheWriteTokens).toBeGreaterThan(0);
    expect(x.outputTokens).toBeGreaterThan(0);
  });

  it("keeps the engine's state when the model's summary names another one", async () => {
    const answer = research(['stressed.persistence_latency']);
    replies(dispatch('quick'), {
      tool: { ...answer.tool, summary: 'Happy: nothing is wrong, persistence is fine.' },
    });
    const x = await explainEvaluation(deps(), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.explainer).toBe('bedrock');
    expect(x.summary).toBe('Stressed: nothing is wrong, persistence is fine.');
    expect(x.issues.every((i) => i.severity !== 'critical')).toBe(true);
  });

  it('drops an issue that cites a gate that passed, and keeps the grounded one', async () => {
    const good = research(['stressed.persistence_latency']).tool;
    const invented = {
      ...good.issues[0],
      key: 'critical.throughput',
      title: 'Throughput collapsed',
      evidence: ['critical.throughput'],
    };
    replies(dispatch('deep'), { tool: { ...good, issues: [invented, ...good.issues] } });
    const x = await explainEvaluation(deps(), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.explainer).toBe('bedrock');
    expect(x.issues.map((i) => i.key)).toEqual(['stressed.persistence_latency']);
    expect(x.details.dropped).toEqual([
      { key: 'critical.throughput', why: 'cites gate critical.throughput, which did not fire' },
    ]);
  });

  it('keeps an issue citing a value the engine derives (the matching backlog age), not only catalog ids', async () => {
    const starved = evaluate(null, snapshot(WORKER_STARVATION));
    expect(starved.firedGates).toContain('stressed.matching_backlog');
    const answer = research(['stressed.matching_backlog', 'matching.backlog_age_max_sec']).tool;
    const issue = {
      ...answer.issues[0],
      key: 'stressed.matching_backlog',
      contributing_factors: [
        { signal: 'matching.backlog_age_max_sec', description: 'tasks wait', weight: 0.9 },
      ],
    };
    replies(dispatch('quick'), { tool: { ...answer, issues: [issue] } });
    const x = await explainEvaluation(deps(), {
      evaluation: starved,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.fallbackReason).toBeNull();
    expect(x.explainer).toBe('bedrock');
    expect(x.issues.map((i) => i.key)).toEqual(['stressed.matching_backlog']);
    expect(x.issues[0]?.contributing_factors?.map((f) => f.signal)).toEqual([
      'matching.backlog_age_max_sec',
    ]);
  });

  it('falls back to the rules when every issue cites something that is not there', async () => {
    replies(dispatch('quick'), research(['no.such_signal']));
    const x = await explainEvaluation(deps(), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.explainer).toBe('rules');
    expect(x.fallbackReason).toMatch(/^ungrounded answer: .*no.such_signal/);
    expect(x.summary).toMatch(/^Stressed: persistence is slow/);
    expect(x.llmCalls).toBe(2);
  });

  it('repairs a schema-invalid answer once, with the refusal sent back as the tool result', async () => {
    const bad = research(['stressed.persistence_latency'], { confidence: 7 });
    replies(dispatch('quick'), bad, research(['stressed.persistence_latency']));
    const before = fake.converse.length;
    const x = await explainEvaluation(deps(), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.explainer).toBe('bedrock');
    expect(x.llmCalls).toBe(3);
    const repair = fake.converse[before + 2];
    expect(JSON.stringify(repair?.json.messages.at(-1))).toMatch(
      /toolResult.*Refused: report_explanation input at confidence/,
    );
  });

  it.each([
    [
      'schema-invalid twice',
      [research(['x'], { confidence: 7 }), research(['x'], { confidence: 7 })],
      /InvalidModelOutputError: invalid answer after one repair: report_explanation input at confidence/,
    ],
    [
      'malformed: text instead of the tool, twice',
      [{ text: '{"summary": "oops"' }, { text: 'still not a tool call' }],
      /InvalidModelOutputError: .*no report_explanation call/,
    ],
    [
      'throttled (429)',
      [{ error: { status: 429, type: 'ThrottlingException', message: 'Too many requests' } }],
      /ThrottlingException \(HTTP 429\)/,
    ],
    [
      'a 5xx',
      [{ error: { status: 503, type: 'ServiceUnavailableException', message: 'busy' } }],
      /ServiceUnavailableException \(HTTP 503\)/,
    ],
  ] as const)('falls back to the rules, and says why, on %s', async (_, researchReplies, why) => {
    replies(dispatch('quick'), ...(researchReplies as readonly ConverseReply[]));
    const x = await explainEvaluation(deps(), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.explainer).toBe('rules');
    expect(x.modelId).toBeNull();
    expect(x.fallbackReason).toMatch(why);
    expect(x.summary).toMatch(/^Stressed: persistence is slow/);
    expect(x.issues.map((i) => i.key)).toEqual(['stressed.persistence_latency']);
  });

  it('falls back to the rules on a timeout', async () => {
    replies({ delayMs: 2_000, reply: dispatch('quick') });
    const x = await explainEvaluation(deps({}, 300), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.explainer).toBe('rules');
    expect(x.fallbackReason).toMatch(/timeout|timed out/i);
  });

  it('keeps the rules’ words when the dispatcher says none, and counts the call', async () => {
    replies(dispatch('none'));
    const x = await explainEvaluation(deps(), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(x).toMatchObject({ explainer: 'rules', fallbackReason: null, llmCalls: 1 });
    expect(x.details.depth).toBe('none');
  });

  it('makes no call when the store cannot say what was spent: the rules answer, and say why', async () => {
    const before = fake.converse.length;
    const x = await explainEvaluation(
      deps({
        usageSince: async () => {
          throw new Error('connection refused');
        },
      }),
      { evaluation: STRESSED, trigger: 'state_change', previous: null },
    );
    expect(fake.converse.length).toBe(before);
    expect(x).toMatchObject({ explainer: 'rules', llmCalls: 0 });
    expect(x.fallbackReason).toBe('budget unknown: connection refused');
    expect(x.summary).toMatch(/^Stressed: /);
  });

  it('makes no call once the hourly budget is spent', async () => {
    const before = fake.converse.length;
    const spent = { ...NONE_SPENT, llmCalls: 23 };
    const x = await explainEvaluation(deps({ usageSince: async () => spent }), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(fake.converse.length).toBe(before);
    expect(x.explainer).toBe('rules');
    expect(x.fallbackReason).toMatch(/^budget: 23 calls and 0 tokens in the last hour/);
    const tokens = { ...NONE_SPENT, inputTokens: 200_000 };
    const y = await explainEvaluation(deps({ usageSince: async () => tokens }), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(y.fallbackReason).toMatch(/^budget: 0 calls and 200000 tokens/);
  });

  it("makes no call once the day's dollars are spent, counted at the researcher's prices", async () => {
    const before = fake.converse.length;
    // Nothing in the last hour; 900k input tokens in the last day: $4.50 at Opus 4.6's $5/M.
    const usage = (since: number) =>
      Promise.resolve(
        since < Date.now() - 3_600_001 ? { ...NONE_SPENT, inputTokens: 900_000 } : NONE_SPENT,
      );
    replies(dispatch('quick'), research(['stressed.persistence_latency']));
    const under = await explainEvaluation(deps({ usageSince: usage }), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    expect(under.explainer).toBe('bedrock');
    const over = await explainEvaluation(
      deps({
        usageSince: usage,
        budget: { callsPerHour: 24, tokensPerHour: 120_000, usdPerDay: 4.5 },
      }),
      { evaluation: STRESSED, trigger: 'state_change', previous: null },
    );
    expect(over.explainer).toBe('rules');
    expect(over.fallbackReason).toBe(
      'budget: $4.50 spent in the last 24 hours (at most; limit $4.50 a day)',
    );
    expect(fake.converse.length).toBe(before + 2);
  });

  it('makes no call for a scheduled look at an unchanged happy state', async () => {
    const before = fake.converse.length;
    const x = await explainEvaluation(deps(), {
      evaluation: HAPPY,
      trigger: 'scheduled',
      previous: { state: 'happy', reason: HAPPY.reason },
    });
    expect(fake.converse.length).toBe(before);
    expect(x.explainer).toBe('rules');
    expect(x.summary).toBe('Happy: every gate passes.');
  });

  it('refuses an unknown model id, or a profile the model is not offered in, at start', () => {
    const base = {
      region: REGION,
      researcherModel: 'anthropic.claude-opus-4-6-v1',
      profilePrefix: 'us' as const,
    };
    expect(
      () => new BedrockConversations({ ...base, dispatcherModel: 'anthropic.claude-v9' }),
    ).toThrow(/unknown Bedrock model "anthropic.claude-v9"/);
    expect(
      () =>
        new BedrockConversations({
          ...base,
          dispatcherModel: 'anthropic.claude-opus-4-5-20251101-v1:0',
          profilePrefix: 'jp',
        }),
    ).toThrow(/no "jp" inference profile/);
  });

  it('advertises to the model exactly the answer schema it validates', async () => {
    // The tool's JSON Schema is generated from the zod schema: confidence bounded in both, so a
    // model told "at most 1" and a validator refusing 7 (the repair test above) agree.
    replies(dispatch('quick'), research(['stressed.persistence_latency']));
    const before = fake.converse.length;
    await explainEvaluation(deps(), {
      evaluation: STRESSED,
      trigger: 'state_change',
      previous: null,
    });
    const researcher = fake.converse.slice(before).find((c) => c.modelId.includes('opus'));
    const tool = JSON.stringify(researcher?.json.toolConfig);
    expect(tool).toContain('"confidence"');
    expect(tool).toContain('"maximum":1');
  });
});

describe('grounding from a Bedrock Knowledge Base', () => {
  it('retrieves passages with the fired gates as the query, signed, and falls back to the local index', async () => {
    const kb = knowledgeBase({
      knowledgeBaseId: 'KB12345678',
      region: REGION,
      endpoint: fake.url,
      credentials: CREDENTIALS,
    });
    const { passages } = await kb.passagesFor(STRESSED);
    expect(passages).toEqual([
      expect.objectContaining({
        source: 's3://copilot-runbooks/dsql-occ-conflicts.md',
        title: 'DSQL optimistic concurrency conflicts',
        score: 0.71,
        gates: ['stressed.persistence_latency', 'critical.persistence_errors'],
      }),
    ]);
    // The rules cite the passage written for the firing gate.
    expect(explainWithRules(STRESSED, { passages }).issues[0]?.likely_cause).toContain(
      'DSQL optimistic concurrency conflicts',
    );
    const call = fake.retrieve.at(-1);
    expect(call?.knowledgeBaseId).toBe('KB12345678');
    expect(call?.json.retrievalQuery.text).toContain('stressed.persistence_latency');
    if (call !== undefined)
      await expectSigV4Valid(call, {
        service: 'bedrock',
        region: REGION,
        credentials: CREDENTIALS,
      });
    const dead = knowledgeBase({
      knowledgeBaseId: 'KB12345678',
      region: REGION,
      endpoint: 'http://127.0.0.1:1',
      credentials: CREDENTIALS,
      fallback: knowledge,
    });
    const fallback = await dead.passagesFor(STRESSED);
    expect(fallback.passages[0]?.source).toBe('docs/rag/persistence-latency.md');
    expect(fallback.note).toMatch(
      /knowledge base retrieval failed: .*; the local runbook index answered/,
    );
  });

  it('an idle cluster: the dispatcher answers none, and no researcher is called', async () => {
    const idle = evaluate(null, snapshot(IDLE));
    replies(dispatch('none'));
    const x = await explainEvaluation(deps(), {
      evaluation: idle,
      trigger: 'state_change',
      previous: null,
    });
    expect(x.summary).toMatch(/^Happy: the cluster is idle/);
    // The dispatcher was asked and said none: one call, no researcher, the rules' words kept.
    expect(x.llmCalls).toBe(1);
    expect(x.explainer).toBe('rules');
    expect(x.fallbackReason).toBeNull();
  });
});
