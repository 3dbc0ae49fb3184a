import * as z from 'zod';
import type { Evaluation, HealthState } from '../health/evaluation.js';
import { GATE_DEFS } from '../health/gates.js';
import type { IssueInput } from '../models/issue.js';
import {
  ActionTypeSchema,
  RiskSchema,
  SeveritySchema,
  UnitIntervalSchema,
} from '../models/issue.js';
import type { LogPatternInput } from '../models/log-pattern.js';
import { isKnownSignalId } from '../signals/catalog.js';
import { SERVICES } from '../signals/types.js';
import type { GroundingPassage } from './grounding.js';
import { capSeverity, gateTitle, STATE_WORD } from './rule-based.js';

/*
 * What the language models are asked, in what shape they must answer, and how an answer is held
 * to the engine's facts before anything is stored. Pure: the Bedrock calls live in worker/explain.
 * Rules decide, AI explains: the state, reason, band and bottleneck are the engine's and are never
 * read from a model's output (docs/lessons.md#the-state-is-the-engines); every issue must cite
 * gates that fired or signals that exist (docs/lessons.md#signal-keys-come-from-the-catalog).
 */

/** The dispatcher's answer: how much explaining this evaluation deserves. */
export const DispatchSchema = z.strictObject({
  /** `none`: the rule-based words suffice; `quick`: one clear factor; `deep`: several or unclear. */
  depth: z.enum(['none', 'quick', 'deep']),
  /** One sentence: why this depth. */
  why: z.string().min(1).max(500),
});
export type Dispatch = z.infer<typeof DispatchSchema>;

const IdSchema = z.string().min(1).max(200);

/** One issue as the researcher reports it, with the evidence it rests on. */
export const ResearchIssueSchema = z.strictObject({
  /** The condition's key: the gate id it is about, or `worker.<rule>` / `log.<pattern>`. */
  key: IdSchema,
  severity: SeveritySchema,
  title: z.string().min(1).max(200),
  description: z.string().min(1).max(2_000),
  likely_cause: z.string().min(1).max(2_000),
  /** Fired gate ids or catalog signal ids that support the issue: at least one. */
  evidence: z.array(IdSchema).min(1).max(10),
  contributing_factors: z
    .array(
      z.strictObject({
        signal: IdSchema,
        description: z.string().max(1_000),
        weight: UnitIntervalSchema,
      }),
    )
    .max(8),
  suggested_actions: z
    .array(
      z.strictObject({
        action_type: ActionTypeSchema,
        target_service: z.string().min(1).max(100),
        description: z.string().min(1).max(1_000),
        confidence: UnitIntervalSchema,
        risk: RiskSchema,
      }),
    )
    .max(5),
});

/** The researcher's answer: ranked issues, a summary, and each service's part in the story. */
export const ResearchSchema = z.strictObject({
  /** Two or three sentences for an on-call engineer; the state word is added by the copilot. */
  summary: z.string().min(1).max(1_500),
  /** Most important first. */
  issues: z.array(ResearchIssueSchema).max(8),
  /** Each service as an actor: what it is doing now, in one or two sentences. */
  services: z
    .array(z.strictObject({ service: z.enum(SERVICES), narrative: z.string().min(1).max(600) }))
    .max(SERVICES.length),
  /** How sure the researcher is of its causes. */
  confidence: UnitIntervalSchema,
});
export type Research = z.infer<typeof ResearchSchema>;

/** The JSON Schema of a tool's input, as Converse's `toolSpec.inputSchema.json` takes it. */
export function toolSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  return rest;
}

/**
 * The facts of one evaluation a model reads: the engine's output, compact. Everything a model may
 * cite is here (fired gates with their numbers, blind gates, elevated signals) and nothing else.
 */
export function factsOf(
  e: Evaluation,
  logPatterns: readonly LogPatternInput[] = [],
): Record<string, unknown> {
  return {
    state: e.state,
    reason: e.reason,
    scale_band: e.scaleBand,
    idle: e.idle,
    system_busy: e.systemBusy,
    bottleneck: e.bottleneck,
    critical_streak: e.carried.criticalStreak,
    last_known_state: e.carried.lastKnownState,
    fired_gates: e.gates
      .filter((g) => g.fired)
      .map((g) => ({
        id: g.id,
        level: g.level,
        signal: g.signal,
        observed: g.observed,
        threshold: g.threshold,
        comparison: g.comparison,
      })),
    blind_gates: e.gates
      .filter((g) => e.blindGates.includes(g.id))
      .map((g) => ({ id: g.id, signal: g.signal, status: g.observedStatus })),
    services: e.services.map((s) => ({
      service: s.service,
      forward_progress: s.forwardProgress,
      pressure: s.pressure,
      dominant_signal: s.dominantSignal,
      elevated_signals: s.elevatedSignals,
    })),
    worker_findings: e.workers.findings.map((f) => ({
      rule: f.rule,
      signal: f.signal,
      observed: f.observed,
      message: f.message,
    })),
    log_patterns: logPatterns.map((p) => ({
      pattern: p.pattern_id,
      service: p.service,
      count: p.count,
    })),
  };
}

/**
 * The static part of every prompt: who the model is, the rules it must keep, and the gates it may
 * cite. The same text for every call, so Converse's cache point after it turns the repeated
 * prefix into cache reads.
 */
export const SYSTEM_PROMPT = [
  'You explain the health of a Temporal cluster whose persistence is Amazon Aurora DSQL to the',
  'platform engineer on call. A deterministic engine has already decided the state (happy,',
  'stressed, critical or unknown), the reason, the scale band and the bottleneck from',
  'forward-progress signals. You never decide or change any of them: you explain why, from the',
  'facts given, and what to do first.',
  '',
  'Rules:',
  '- Answer only through the tool you are given, with input that matches its schema.',
  '- Every issue cites its evidence: ids of gates listed under fired_gates or blind_gates, or',
  '  signal ids listed in the facts (gate signals, elevated_signals, worker findings). Never cite',
  '  a gate that did not fire, and never invent a signal id: such issues are discarded.',
  '- Treat the services as actors (history, matching, frontend, persistence, workers): say what',
  '  each is doing and which one holds the others back. Blame a service only on its evidence.',
  '- Ground causes and actions in the runbook passages when they apply, and say when they do not.',
  '- Rank issues by how much they explain the state. Keep severities within the state: nothing',
  '  is critical unless the state is critical.',
  '- Prefer the least risky action that tests the leading hypothesis. Never propose destructive',
  '  actions (deleting data, resetting shards) as a first step.',
  '',
  'The gates, by id:',
  ...GATE_DEFS.map((g) => `- ${g.id} (${g.level}, reads ${g.signal}): ${gateTitle(g.id)}`),
].join('\n');

/** The dispatcher's question about one evaluation. */
export function dispatchPrompt(facts: Record<string, unknown>): string {
  return [
    'Decide how much explaining this evaluation deserves: none (the state and reason speak for',
    'themselves, e.g. an idle or plainly healthy cluster), quick (one clear factor explains it) or',
    'deep (several factors, conflicting evidence, blind gates or a critical state).',
    '',
    'Facts:',
    JSON.stringify(facts),
  ].join('\n');
}

/** The researcher's question: the facts, the runbook passages, and how deep to go. */
export function researchPrompt(
  facts: Record<string, unknown>,
  passages: readonly GroundingPassage[],
  depth: 'quick' | 'deep',
): string {
  return [
    depth === 'quick'
      ? 'Explain this evaluation briefly: the one factor that explains it, and what to do first.'
      : 'Explain this evaluation in depth: rank every contributing factor, give each service its part, and order the actions.',
    '',
    'Facts:',
    JSON.stringify(facts),
    '',
    'Runbook passages (cite them by their source when you use them):',
    ...passages.map((p) => `--- ${p.source}#${p.heading} (${p.title})\n${p.text}`),
  ].join('\n');
}

/** What holding a research answer to the facts kept and dropped. */
export interface GroundedResearch {
  readonly summary: string;
  readonly issues: IssueInput[];
  readonly narratives: Readonly<Partial<Record<(typeof SERVICES)[number], string>>>;
  readonly confidence: number;
  /** Issues dropped, each with why (a passed gate, an unknown signal). */
  readonly dropped: readonly { readonly key: string; readonly why: string }[];
}

/** The answer cannot be used (every issue cited nothing real while the engine saw problems). */
export class UngroundedAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UngroundedAnswerError';
  }
}

const STATE_PREFIX = /^\s*(happy|stressed|critical|unknown)\s*[:.,-]\s*/i;

/**
 * Holds a research answer to the evaluation it explains:
 * - an issue whose evidence names a gate that did not fire, or an id that is neither a gate of the
 *   engine nor a catalog signal, is dropped (the model invented or misread it);
 * - contributing factors naming an unknown id are dropped from their issue;
 * - severities are capped by the state;
 * - the summary is the engine's state word, then the model's words, with any state word the model
 *   put first removed, so the summary can only say the state the engine decided.
 *
 * @throws UngroundedAnswerError when the engine fired problem gates and no issue survived.
 */
export function groundResearch(e: Evaluation, research: Research): GroundedResearch {
  const fired = new Set(e.firedGates);
  const blind = new Set(e.blindGates);
  const gates = new Set(GATE_DEFS.map((g) => g.id as string));
  const known = (id: string) =>
    fired.has(id) ||
    blind.has(id) ||
    isKnownSignalId(id) ||
    id.startsWith('log:') ||
    id.startsWith('worker.');
  const dropped: { key: string; why: string }[] = [];
  const issues: IssueInput[] = [];
  for (const issue of research.issues) {
    const passed = issue.evidence.find((id) => gates.has(id) && !fired.has(id) && !blind.has(id));
    const unknown = issue.evidence.find((id) => !gates.has(id) && !known(id));
    if (passed !== undefined) {
      dropped.push({ key: issue.key, why: `cites gate ${passed}, which did not fire` });
      continue;
    }
    if (unknown !== undefined) {
      dropped.push({
        key: issue.key,
        why: `cites ${unknown}, which is neither a gate nor a signal`,
      });
      continue;
    }
    issues.push({
      key: issue.key,
      severity: capSeverity(e.state, issue.severity),
      title: issue.title,
      description: issue.description,
      likely_cause: issue.likely_cause,
      contributing_factors: issue.contributing_factors.filter(
        (f) => known(f.signal) || gates.has(f.signal),
      ),
      suggested_actions: issue.suggested_actions.map((a) => ({ ...a, parameters: {} })),
      related_signals: issue.evidence,
    });
  }
  const problems = e.gates.some(
    (g) => g.fired && (g.level === 'critical' || g.level === 'stressed'),
  );
  if (problems && issues.length === 0)
    throw new UngroundedAnswerError(
      `no issue rests on the evaluation's evidence (${dropped.map((d) => d.why).join('; ') || 'none reported'})`,
    );
  const narratives: Partial<Record<(typeof SERVICES)[number], string>> = {};
  for (const s of research.services) narratives[s.service] = s.narrative;
  return {
    summary: `${STATE_WORD[e.state as HealthState]}: ${research.summary.replace(STATE_PREFIX, '')}`,
    issues,
    narratives,
    confidence: research.confidence,
    dropped,
  };
}
