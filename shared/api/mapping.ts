import { explainStale } from '../explain/stale.js';
import type {
  Evaluation,
  GateResult,
  HealthState,
  ServiceHealth,
  StateReason,
} from '../health/evaluation.js';
import type { Assessment, AssessmentDetails, ExplainerUsage } from '../models/assessment.js';
import type { ClusterLatest } from '../models/cluster.js';
import { freshnessOf, type StalenessPolicy } from '../models/freshness.js';
import type { Issue } from '../models/issue.js';
import type { LogPatternRow } from '../models/log-pattern.js';
import type { SeriesPoint, StoredEvaluation, TimelineEntry } from '../models/stored-evaluation.js';
import { SIGNAL_CATALOG } from '../signals/catalog.js';
import { SERVICES, type SignalCategory } from '../signals/types.js';
import type {
  ClustersResponse,
  FreshnessFields,
  Gate,
  GatesResponse,
  IssuesResponse,
  LogPatternsResponse,
  NestedSignals,
  RecommendedAction,
  ServicesResponse,
  SignalsResponse,
  StatusReason,
  StatusResponse,
  SummaryResponse,
  TimelineResponse,
} from './schemas.js';

/*
 * Pure mapping from what the store returns to what the API sends. Nothing here decides health:
 * every state, gate, service verdict and bottleneck is the engine's stored output, copied.
 */

/** How many suggested actions `/status` lists (the seed's first five). */
export const MAX_RECOMMENDED_ACTIONS = 5;

/** The summary shown before any explainer has written one. */
export const NO_ASSESSMENT_SUMMARY = 'No assessment available yet.';

const idsOf = (category: SignalCategory) =>
  SIGNAL_CATALOG.filter((s) => s.category === category).map((s) => s.id);
const PRIMARY_IDS = idsOf('primary');
const AMPLIFIER_IDS = idsOf('amplifier');
/** The signals `/status` reports (and gives a status for when they have no number). */
const REPORTED_IDS: readonly string[] = [...PRIMARY_IDS, ...AMPLIFIER_IDS];

/** A stored log-pattern count in the API's words (`/status` and `/status/log-patterns`). */
function toApiLogPattern(p: LogPatternRow) {
  return {
    count: p.count,
    pattern: p.pattern_id,
    service: p.service,
    sample_message: p.sample,
    count_is_lower_bound: p.count_is_lower_bound,
  };
}

function nest(ids: readonly string[], values: Readonly<Record<string, number>>): NestedSignals {
  const out: NestedSignals = {};
  for (const id of ids) {
    const dot = id.indexOf('.');
    const group = dot < 0 ? id : id.slice(0, dot);
    const field = dot < 0 ? 'value' : id.slice(dot + 1);
    const bucket = out[group] ?? {};
    bucket[field] = Object.hasOwn(values, id) ? (values[id] ?? null) : null;
    out[group] = bucket;
  }
  return out;
}

/** The stored status of each reported signal that has no number, as the observation kept it. */
function signalStatus(stored: StoredEvaluation): StatusResponse['signal_status'] {
  const out: StatusResponse['signal_status'] = {};
  for (const id of REPORTED_IDS) {
    if (Object.hasOwn(stored.signal_values, id)) continue;
    out[id] = Object.hasOwn(stored.signal_status, id)
      ? (stored.signal_status[id] ?? 'absent')
      : 'absent';
  }
  return out;
}

/** The current state as a reader must give it: the engine's, or `unknown`/`stale` when too old. */
export interface CurrentState {
  readonly state: HealthState;
  readonly reason: StatusReason | null;
  readonly fields: FreshnessFields;
}

const NEVER_OBSERVED: FreshnessFields = {
  stale: false,
  last_observed_at: null,
  age_seconds: null,
  stale_after_seconds: null,
  last_known_state: null,
};

/**
 * Judges the newest evaluation's age (`freshnessOf`): within the limit the state is the engine's;
 * past it `unknown` with reason `stale` and the last known state beside it. Before the first
 * evaluation: `unknown`, no reason. `now` is the request's clock, passed in (this module is pure).
 */
export function currentState(
  stored:
    | (Pick<StoredEvaluation, 'observed_at' | 'interval_ms'> & {
        readonly state: HealthState;
        readonly reason: StateReason;
      })
    | null,
  now: number,
  policy: StalenessPolicy,
): CurrentState {
  if (stored === null) return { state: 'unknown', reason: null, fields: NEVER_OBSERVED };
  const f = freshnessOf(Date.parse(stored.observed_at), stored.interval_ms, now, policy);
  const fields: FreshnessFields = {
    stale: f.stale,
    last_observed_at: stored.observed_at,
    age_seconds: f.ageSeconds,
    stale_after_seconds: f.staleAfterSeconds,
    last_known_state: stored.state,
  };
  return f.stale
    ? { state: 'unknown', reason: 'stale', fields }
    : { state: stored.state, reason: stored.reason, fields };
}

const judge = (stored: StoredEvaluation | null, now: number, policy: StalenessPolicy) =>
  currentState(
    stored === null
      ? null
      : {
          observed_at: stored.observed_at,
          interval_ms: stored.interval_ms,
          state: stored.evaluation.state,
          reason: stored.evaluation.reason,
        },
    now,
    policy,
  );

/** A gate in the API's snake case. */
export function toGate(gate: GateResult): Gate {
  return {
    id: gate.id,
    family: gate.family,
    level: gate.level,
    signal: gate.signal,
    fired: gate.fired,
    evaluated: gate.evaluated,
    observed: gate.observed,
    observed_status: gate.observedStatus,
    threshold: gate.threshold,
    comparison: gate.comparison,
    demand_gated: gate.demandGated,
    skip_reason: gate.skipReason,
  };
}

/** The newest assessment's suggested actions, issue by issue (most severe first), at most five. */
export function recommendedActions(issues: readonly Issue[]): RecommendedAction[] {
  const out: RecommendedAction[] = [];
  for (const issue of issues) {
    for (const a of issue.suggested_actions) {
      if (out.length >= MAX_RECOMMENDED_ACTIONS) return out;
      out.push({
        action: `${a.action_type} ${a.target_service}`,
        action_type: a.action_type,
        target_service: a.target_service,
        confidence: a.confidence,
        risk_level: a.risk,
        description: a.description,
      });
    }
  }
  return out;
}

/** What `/status` reads from the store, in one object. */
export interface StatusInput {
  readonly cluster: string;
  /** The request's clock (epoch ms) and the staleness rule it judges the evaluation's age by. */
  readonly now: number;
  readonly staleness: StalenessPolicy;
  readonly evaluation: StoredEvaluation | null;
  readonly assessment: Assessment | null;
  /** The newest assessment's issues, most severe first. */
  readonly issues: readonly Issue[];
  /** The newest log-pattern window. */
  readonly logPatterns: readonly LogPatternRow[];
}

/**
 * `GET /status`. Before the first evaluation the state is `unknown` and every signal is null:
 * no data is never reported as happy (the prior art did: docs/lessons.md#empty-store-is-not-happy).
 */
export function toStatusResponse(input: StatusInput): StatusResponse {
  const stored = input.evaluation;
  const e: Evaluation | undefined = stored?.evaluation;
  const values = stored?.signal_values ?? {};
  const a = input.assessment;
  const now = judge(stored, input.now, input.staleness);
  return {
    cluster: input.cluster,
    health_state: now.state,
    timestamp: stored?.observed_at ?? null,
    reason: now.reason,
    ...now.fields,
    scale_band: e?.scaleBand ?? null,
    idle: e?.idle ?? null,
    system_busy: e?.systemBusy ?? null,
    // A stale bottleneck would name a limit that may no longer hold.
    bottleneck: e === undefined ? null : now.fields.stale ? 'unknown' : e.bottleneck,
    primary_signals: nest(PRIMARY_IDS, values),
    amplifiers: nest(AMPLIFIER_IDS, values),
    signal_status:
      stored === null
        ? Object.fromEntries(REPORTED_IDS.map((id) => [id, 'absent']))
        : signalStatus(stored),
    gates: e?.gates.map(toGate) ?? [],
    fired_gates: e?.firedGates ?? [],
    blind_gates: e?.blindGates ?? [],
    log_patterns: input.logPatterns.map(toApiLogPattern),
    recommended_actions: recommendedActions(input.issues),
    issue_count: a?.issue_count ?? 0,
    summary: a?.summary ?? null,
    confidence: a?.confidence ?? null,
    explainer: a?.explainer ?? null,
    assessed_at: a?.created_at ?? null,
  };
}

const SERVICE_STATUS = {
  ok: 'happy',
  degraded: 'stressed',
  blocked: 'critical',
  unknown: 'unknown',
} as const satisfies Record<ServiceHealth['forwardProgress'], string>;

const SERVICE_SIGNALS: ReadonlyMap<string, readonly string[]> = new Map(
  SERVICES.map((service) => [
    service,
    SIGNAL_CATALOG.filter(
      (s) =>
        (s.category === 'primary' || s.category === 'amplifier') &&
        (s.services as readonly string[]).includes(service),
    ).map((s) => s.id),
  ]),
);

/** `GET /status/services`: the engine's per-service verdicts, with the seed's status words. */
export function toServicesResponse(
  cluster: string,
  stored: StoredEvaluation | null,
  now: number,
  staleness: StalenessPolicy,
  narratives: AssessmentDetails['narratives'] = {},
): ServicesResponse {
  const values = stored?.signal_values ?? {};
  const current = judge(stored, now, staleness);
  return {
    cluster,
    timestamp: stored?.observed_at ?? null,
    ...current.fields,
    // Stale: the verdicts are about a cluster nobody is watching any more, so none of them is
    // served as current (a "low" pressure beside an unknown status still painted green).
    services: (stored?.evaluation.services ?? []).map((s) => ({
      name: s.service,
      status: current.fields.stale ? 'unknown' : SERVICE_STATUS[s.forwardProgress],
      forward_progress: current.fields.stale ? 'unknown' : s.forwardProgress,
      pressure: current.fields.stale ? 'unknown' : s.pressure,
      dominant_signal: s.dominantSignal,
      elevated_signals: s.elevatedSignals,
      key_signals: Object.fromEntries(
        (SERVICE_SIGNALS.get(s.service) ?? []).map((id) => [
          id,
          Object.hasOwn(values, id) ? (values[id] ?? null) : null,
        ]),
      ),
      narrative: narratives[s.service] ?? null,
    })),
  };
}

/** `GET /status/issues`. */
export function toIssuesResponse(
  cluster: string,
  assessment: Assessment | null,
  issues: readonly Issue[],
): IssuesResponse {
  return {
    cluster,
    assessment_id: assessment?.id ?? null,
    issues: issues.map((i) => ({
      id: i.id,
      key: i.key,
      severity: i.severity,
      title: i.title,
      description: i.description,
      likely_cause: i.likely_cause,
      contributing_factors: i.contributing_factors,
      suggested_actions: i.suggested_actions,
      related_signals: i.related_signals,
      created_at: i.created_at,
      resolved_at: i.resolved_at,
    })),
  };
}

/** `GET /status/summary`. The state is the newest evaluation's, the words the newest assessment's. */
export function toSummaryResponse(
  cluster: string,
  stored: StoredEvaluation | null,
  assessment: Assessment | null,
  now: number,
  staleness: StalenessPolicy,
  usageToday: ExplainerUsage,
): SummaryResponse {
  const current = judge(stored, now, staleness);
  const e = stored?.evaluation;
  return {
    cluster,
    summary: current.fields.stale
      ? explainStale({
          cluster,
          lastObservedAt: current.fields.last_observed_at ?? '',
          ageSeconds: current.fields.age_seconds ?? 0,
          staleAfterSeconds: current.fields.stale_after_seconds ?? 0,
          lastKnownState: current.fields.last_known_state ?? 'unknown',
        })
      : (assessment?.summary ?? NO_ASSESSMENT_SUMMARY),
    last_summary: assessment?.summary ?? null,
    health_state: current.state,
    reason: current.reason,
    timestamp: stored?.observed_at ?? null,
    ...current.fields,
    assessed_at: assessment?.created_at ?? null,
    trigger: assessment?.trigger ?? null,
    confidence: assessment?.confidence ?? null,
    explainer: assessment?.explainer ?? null,
    words_lag:
      assessment !== null &&
      (current.fields.stale ||
        assessment.health_state !== e?.state ||
        (assessment.reason !== null && assessment.reason !== e?.reason)),
    assessed_reason: assessment?.reason ?? null,
    model_id: assessment?.model_id ?? null,
    fallback_reason: assessment?.fallback_reason ?? null,
    llm_calls: assessment?.llm_calls ?? 0,
    input_tokens: assessment?.input_tokens ?? 0,
    output_tokens: assessment?.output_tokens ?? 0,
    cache_read_tokens: assessment?.cache_read_tokens ?? 0,
    cache_write_tokens: assessment?.cache_write_tokens ?? 0,
    latency_ms: assessment?.latency_ms ?? null,
    sources: assessment?.details.sources ?? [],
    usage_today: {
      assessments: usageToday.assessments,
      bedrock: usageToday.bedrock,
      llm_calls: usageToday.llmCalls,
      input_tokens: usageToday.inputTokens,
      output_tokens: usageToday.outputTokens,
      cache_read_tokens: usageToday.cacheReadTokens,
      cache_write_tokens: usageToday.cacheWriteTokens,
    },
  };
}

/** No explanations yet (a cluster before its first assessment, or none registered). */
export const NO_USAGE: ExplainerUsage = Object.freeze({
  assessments: 0,
  bedrock: 0,
  llmCalls: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
});

/** The range an answer covers and how it was bounded, as every range endpoint reports it. */
export interface RangeAnswer {
  readonly start: string;
  readonly end: string;
  readonly truncated: boolean;
  readonly stepMs: number | null;
}

const bounds = (r: RangeAnswer) => ({
  start: r.start,
  end: r.end,
  truncated: r.truncated,
  step_seconds: r.stepMs === null ? null : Math.round(r.stepMs / 1000),
});

/** `GET /status/timeline`. */
export function toTimelineResponse(
  cluster: string,
  range: RangeAnswer,
  rows: readonly TimelineEntry[],
): TimelineResponse {
  return {
    cluster,
    ...bounds(range),
    timeline: rows.map((r) => ({
      id: r.id,
      timestamp: r.observed_at,
      health_state: r.health_state,
      previous_state: r.previous_state,
      changed: r.changed,
      reason: r.reason,
      scale_band: r.scale_band,
      bottleneck: r.bottleneck,
      samples: r.samples,
    })),
  };
}

/** `GET /status/signals`: the store's per-signal series flattened into rows Infinity can table. */
export function toSignalsResponse(
  cluster: string,
  range: RangeAnswer,
  ids: readonly string[],
  series: Readonly<Record<string, readonly SeriesPoint[]>>,
): SignalsResponse {
  const points: SignalsResponse['points'] = [];
  for (const id of ids)
    for (const p of series[id] ?? [])
      points.push({
        timestamp: p.t,
        signal: id,
        value: p.value,
        status: p.status,
        min: p.min,
        max: p.max,
        samples: p.samples,
      });
  return { cluster, ...bounds(range), signals: [...ids], points };
}

/** `GET /status/log-patterns`. */
export function toLogPatternsResponse(
  cluster: string,
  rows: readonly LogPatternRow[],
): LogPatternsResponse {
  return {
    cluster,
    log_patterns: rows.map((p) => ({ observed_at: p.observed_at, ...toApiLogPattern(p) })),
  };
}

/** `GET /status/gates`. */
export function toGatesResponse(
  cluster: string,
  stored: StoredEvaluation | null,
  now: number,
  staleness: StalenessPolicy,
): GatesResponse {
  const current = judge(stored, now, staleness);
  return {
    cluster,
    timestamp: stored?.observed_at ?? null,
    health_state: current.state,
    reason: current.reason,
    ...current.fields,
    gates: stored?.evaluation.gates.map(toGate) ?? [],
    blind_gates: stored?.evaluation.blindGates ?? [],
  };
}

/** `GET /clusters`: every cluster with its current state, judged for staleness like `/status`. */
export function toClustersResponse(
  clusters: readonly ClusterLatest[],
  now: number,
  staleness: StalenessPolicy,
): ClustersResponse {
  return {
    clusters: clusters.map((c) => {
      const current = currentState(c.latest, now, staleness);
      return {
        id: c.id,
        name: c.name,
        created_at: c.created_at,
        health_state: current.state,
        reason: current.reason,
        ...current.fields,
      };
    }),
  };
}
