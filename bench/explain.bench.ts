import { resolve } from 'node:path';
import { NO_USAGE } from '../shared/api/mapping.js';
import type { Research } from '../shared/explain/llm.js';
import { costOf } from '../shared/explain/models.js';
import { explainWithRules } from '../shared/explain/rule-based.js';
import type { Evaluation } from '../shared/health/evaluation.js';
import { INITIAL_CARRIED_STATE } from '../shared/health/evaluation.js';
import {
  COLLAPSE,
  HEALTHY,
  PERSISTENCE_PRESSURE,
  RETENTION_STORM,
  repeat,
  run,
  type Spec,
  WORKER_STARVATION,
  withSpec,
} from '../test/helpers/snapshots.js';
import {
  type ConverseCall,
  type ConverseReply,
  startFakeBedrock,
} from '../test/support/bedrock-server.js';
import { openExplainer, parseExplainerEnv } from '../worker/explain/config.js';
import { explainEvaluation } from '../worker/explain/explainer.js';

/*
 * What explanations cost: the real BedrockConversations (SDK v3, SigV4) against the fake Bedrock,
 * on the engine scenarios, with the default models, profile and budget. Tokens are what the fake
 * counted from the requests it received (≈ 4 characters a token: Claude's tokenizer is not
 * available offline; real counts differ by some tens of percent) and its cache follows Bedrock's
 * rules (per model, the tools and system prompt before the cache point, nothing under the model's
 * minimum). The researcher's answers are as long as a real one: the rule-based explanation of the
 * same evaluation, restated in the researcher's schema with a narrative per service.
 */

const MID = {
  ...INITIAL_CARRIED_STATE,
  band: 'mid-scale' as const,
  lastState: 'happy' as const,
  lastKnownState: 'happy' as const,
};
const settle = (spec: Spec): Evaluation =>
  run(repeat(spec, 4), undefined, MID).at(-1) as Evaluation;

const SCENARIOS: readonly (readonly [string, Spec])[] = [
  ['collapse', COLLAPSE],
  ['persistence pressure', PERSISTENCE_PRESSURE],
  ['worker starvation', WORKER_STARVATION],
  ['retention storm', RETENTION_STORM],
  ['partial visibility', withSpec(HEALTHY, { historyBacklog: 'error' })],
];

/** A researcher answer as long as a real one: the rules' explanation in the researcher's schema. */
function researchFor(e: Evaluation): Research {
  const x = explainWithRules(e);
  return {
    summary: x.summary.replace(/^\w+: /, ''),
    issues: x.issues.slice(0, 4).map((i) => ({
      key: i.key,
      severity: i.severity,
      title: i.title,
      description: i.description,
      likely_cause: i.likely_cause,
      evidence: [...new Set([...e.firedGates, ...(i.related_signals ?? [])])].slice(0, 4),
      contributing_factors: (i.contributing_factors ?? [])
        .slice(0, 4)
        .map((f) => ({ signal: f.signal, description: f.description, weight: f.weight })),
      suggested_actions: (i.suggested_actions ?? []).slice(0, 3).map((a) => ({
        action_type: a.action_type,
        target_service: a.target_service,
        description: a.description,
        confidence: a.confidence,
        risk: a.risk,
      })),
    })),
    services: e.services
      .map((s) => ({
        service: s.service as Research['services'][number]['service'],
        narrative: `${s.service} is ${s.forwardProgress} with ${s.pressure} pressure${s.dominantSignal === null ? '' : `, ${s.dominantSignal} leading`}.`,
      }))
      .filter((s) =>
        ['history', 'matching', 'frontend', 'persistence', 'workers'].includes(s.service),
      ),
    confidence: 0.75,
  };
}

interface CallUsage {
  readonly model: string;
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

const usd = (x: number) => `$${x < 0.1 ? x.toFixed(4) : x.toFixed(2)}`;
const bare = (id: string) => id.replace(/^(global|us|eu|jp|apac)\./, '');
const costOfCall = (c: CallUsage) =>
  costOf(bare(c.model), {
    inputTokens: c.input,
    outputTokens: c.output,
    cacheReadTokens: c.cacheRead,
    cacheWriteTokens: c.cacheWrite,
  });

export async function explainBench(): Promise<string[]> {
  let current: Evaluation | undefined;
  let depth: 'quick' | 'deep' = 'quick';
  const perCall: CallUsage[] = [];
  const fake = await startFakeBedrock({
    converse: (call: ConverseCall): ConverseReply =>
      call.json.toolConfig?.tools[0]?.toolSpec?.name === 'choose_depth'
        ? {
            tool: {
              depth,
              why: 'several services are involved, so the researcher should look deeper.',
            },
          }
        : { tool: researchFor(current as Evaluation) as unknown as Record<string, unknown> },
  });
  const lines: string[] = [];
  try {
    const config = parseExplainerEnv(
      {
        COPILOT_EXPLAINER: 'bedrock',
        COPILOT_BEDROCK_REGION: 'us-east-1',
        COPILOT_BEDROCK_ENDPOINT: fake.url,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
      resolve('.'),
    );
    process.env.AWS_ACCESS_KEY_ID ??= 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    const deps = { ...openExplainer(config), usageSince: async () => NO_USAGE };
    const snapshotUsage = () => new Map([...fake.usage].map(([k, u]) => [k, { ...u }]));

    const byScenario: { name: string; explanation: number; calls: CallUsage[] }[] = [];
    for (const [name, spec] of SCENARIOS) {
      const e = settle(spec);
      current = e;
      depth = e.state === 'critical' || e.state === 'unknown' ? 'deep' : 'quick';
      // Twice: the first explanation writes the caches it can, the second reads them.
      for (let round = 0; round < 2; round++) {
        const before = snapshotUsage();
        const start = fake.converse.length;
        const x = await explainEvaluation(deps, {
          evaluation: e,
          trigger: 'state_change',
          previous: null,
        });
        if (x.explainer !== 'bedrock') throw new Error(`${name}: fell back (${x.fallbackReason})`);
        const calls = fake.converse.slice(start).map((c) => {
          const after = fake.usage.get(c.modelId);
          const prev = before.get(c.modelId);
          return {
            model: c.modelId,
            input: (after?.inputTokens ?? 0) - (prev?.inputTokens ?? 0),
            output: (after?.outputTokens ?? 0) - (prev?.outputTokens ?? 0),
            cacheRead: (after?.cacheReadInputTokens ?? 0) - (prev?.cacheReadInputTokens ?? 0),
            cacheWrite: (after?.cacheWriteInputTokens ?? 0) - (prev?.cacheWriteInputTokens ?? 0),
          };
        });
        perCall.push(...calls);
        if (round === 1)
          byScenario.push({
            name: `${name} (${e.state}, ${depth})`,
            explanation: calls.reduce((a, c) => a + costOfCall(c), 0),
            calls,
          });
        if (round === 0 && calls.length !== 2) throw new Error(`${name}: ${calls.length} calls`);
      }
    }
    for (const s of byScenario) {
      const [d, r] = s.calls;
      const fmt = (c: CallUsage | undefined) =>
        c === undefined
          ? '-'
          : `${c.input} in + ${c.cacheRead} cache read + ${c.cacheWrite} cache write, ${c.output} out`;
      lines.push(
        `${s.name}: dispatcher ${fmt(d)}; researcher ${fmt(r)}; ${usd(s.explanation)} per explanation (warm)`,
      );
    }
    const dispatcher = perCall.filter((c) => c.model.includes('sonnet'));
    const researcher = perCall.filter((c) => c.model.includes('opus'));
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const perExplanation = mean(byScenario.map((s) => s.explanation));
    const worst = Math.max(...byScenario.map((s) => s.explanation));
    // The prefix a cache point covers (tools, then the system text before it), per model.
    const prefixOf = (c: ConverseCall | undefined) => {
      if (c === undefined) return 0;
      const system = (c.json.system ?? [])
        .map((b) => (typeof b.text === 'string' ? b.text : ''))
        .join('');
      return Math.ceil((JSON.stringify(c.json.toolConfig?.tools ?? []) + system).length / 4);
    };
    const lastOf = (m: string) => [...fake.converse].reverse().find((c) => c.modelId.includes(m));
    const fmtMean = (cs: readonly CallUsage[], f: (c: CallUsage) => number) =>
      Math.round(mean(cs.map(f)));
    lines.push(
      `mean per call: dispatcher ${fmtMean(dispatcher, (c) => c.input + c.cacheRead + c.cacheWrite)} prompt tokens, ${fmtMean(dispatcher, (c) => c.cacheRead)} read from cache (cacheable prefix ~${prefixOf(lastOf('sonnet'))} tokens, under Sonnet 4.5's 1,024 minimum), ${fmtMean(dispatcher, (c) => c.output)} out; ` +
        `researcher ${fmtMean(researcher, (c) => c.input + c.cacheRead + c.cacheWrite)} prompt tokens, ${fmtMean(researcher, (c) => c.cacheRead)} from cache (prefix ~${prefixOf(lastOf('opus'))} tokens, under Opus 4.6's 4,096 minimum), ${fmtMean(researcher, (c) => c.output)} out`,
    );
    const budget = config.budget;
    const perHour = Math.floor(budget.callsPerHour / 2);
    const stressedDay = Math.min(288, perHour * 24);
    // The daily cap counts every token at the researcher's prices (an upper bound): how many
    // explanations fit under it, and what they really cost.
    const upper = mean(
      byScenario.map((s) =>
        s.calls.reduce(
          (a, c) =>
            a +
            costOf(bare(config.bedrock?.researcherModel ?? ''), {
              inputTokens: c.input,
              outputTokens: c.output,
              cacheReadTokens: c.cacheRead,
              cacheWriteTokens: c.cacheWrite,
            }),
          0,
        ),
      ),
    );
    const underCap = Math.min(stressedDay, Math.ceil(budget.usdPerDay / upper));
    lines.push(
      `per cluster per day, default models and budget (${budget.callsPerHour} calls/h = ${perHour} explanations/h, $${budget.usdPerDay}/day): ` +
        `steady happy ${usd(0)} (no model call while happy and unchanged); ` +
        `one 2-hour incident (6 state changes + a re-explanation every 5 min = 30 explanations) ${usd(30 * perExplanation)}; ` +
        `a cluster stressed all day (${stressedDay} explanations uncapped) would be ${usd(stressedDay * perExplanation)}, ` +
        `the daily cap stops the model after ~${underCap} (${usd(underCap * perExplanation)} actually spent; the rules answer the rest of the day); ` +
        `the hourly budget alone would allow ${usd(perHour * 24 * worst)} at the dearest scenario`,
    );
  } finally {
    await fake.close();
  }
  return lines;
}
