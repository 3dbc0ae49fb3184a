import type { Evaluation, GateResult, ServiceHealth } from '../health/evaluation.js';
import type { Assessment } from '../models/assessment.js';
import type { Cluster } from '../models/cluster.js';
import type { Issue } from '../models/issue.js';
import type { LogPatternRow } from '../models/log-pattern.js';
import type { SeriesPoint, StoredEvaluation, TimelineEntry } from '../models/stored-evaluation.js';
import { SIGNAL_CATALOG, signalById } from '../signals/catalog.js';
import { SERVICES, type SignalCategory } from '../signals/types.js';
import type {
  ClustersResponse,
  Gate,
  GatesResponse,
  IssuesResponse,
  LogPatternsResponse,
  NestedSignals,
  RecommendedAction,
  ServicesResponse,
  SignalsResponse,
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

/**
 * Why each primary or amplifier signal without a stored number has none. The store keeps only
 * `ok` values; the gates keep the observed status of the signals they read, so `error` and `stale`
 * survive there. A signal neither stored nor read by a gate was absent.
 */
function signalStatus(stored: StoredEvaluation): Record<string, 'absent' | 'error' | 'stale'> {
  const byGate = new Map<string, GateResult['observedStatus']>();
  for (const gate of stored.evaluation.gates) byGate.set(gate.signal, gate.observedStatus);
  const out: Record<string, 'absent' | 'error' | 'stale'> = {};
  for (const id of REPORTED_IDS) {
    if (Object.hasOwn(stored.signal_values, id)) continue;
    const status = byGate.get(id);
    out[id] = status === 'error' || status === 'stale' ? status : 'absent';
  }
  return out;
}

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
  readonly evaluation: StoredEvaluation | null;
  readonly assessment: Assessment | null;
  /** The newest assessment's issues, most severe first. */
  readonly issues: readonly Issue[];
  /** The newest log-pattern window. */
  readonly logPatterns: readonly LogPatternRow[];
}

/**
 * `GET /status`. Before the first evaluation the state is `unknown` and every signal is null:
 * no data is never reported as happy (the seed did, prior-art §10).
 */
export function toStatusResponse(input: StatusInput): StatusResponse {
  const stored = input.evaluation;
  const e: Evaluation | undefined = stored?.evaluation;
  const values = stored?.signal_values ?? {};
  const a = input.assessment;
  return {
    cluster: input.cluster,
    health_state: e?.state ?? 'unknown',
    timestamp: stored?.observed_at ?? null,
    reason: e?.reason ?? null,
    scale_band: e?.scaleBand ?? null,
    idle: e?.idle ?? null,
    system_busy: e?.systemBusy ?? null,
    bottleneck: e?.bottleneck ?? null,
    primary_signals: nest(PRIMARY_IDS, values),
    amplifiers: nest(AMPLIFIER_IDS, values),
    signal_status:
      stored === null
        ? Object.fromEntries(REPORTED_IDS.map((id) => [id, 'absent']))
        : signalStatus(stored),
    gates: e?.gates.map(toGate) ?? [],
    fired_gates: e?.firedGates ?? [],
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
): ServicesResponse {
  const values = stored?.signal_values ?? {};
  return {
    cluster,
    timestamp: stored?.observed_at ?? null,
    services: (stored?.evaluation.services ?? []).map((s) => ({
      name: s.service,
      status: SERVICE_STATUS[s.forwardProgress],
      forward_progress: s.forwardProgress,
      pressure: s.pressure,
      dominant_signal: s.dominantSignal,
      elevated_signals: s.elevatedSignals,
      key_signals: Object.fromEntries(
        (SERVICE_SIGNALS.get(s.service) ?? []).map((id) => [
          id,
          Object.hasOwn(values, id) ? (values[id] ?? null) : null,
        ]),
      ),
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
): SummaryResponse {
  return {
    cluster,
    summary: assessment?.summary ?? NO_ASSESSMENT_SUMMARY,
    health_state: stored?.evaluation.state ?? 'unknown',
    timestamp: stored?.observed_at ?? null,
    assessed_at: assessment?.created_at ?? null,
    trigger: assessment?.trigger ?? null,
    confidence: assessment?.confidence ?? null,
    explainer: assessment?.explainer ?? null,
  };
}

/** `GET /status/timeline`. */
export function toTimelineResponse(
  cluster: string,
  range: { readonly start: string; readonly end: string },
  rows: readonly TimelineEntry[],
): TimelineResponse {
  return {
    cluster,
    start: range.start,
    end: range.end,
    timeline: rows.map((r) => ({
      id: r.id,
      timestamp: r.observed_at,
      health_state: r.health_state,
      previous_state: r.previous_state,
      changed: r.changed,
      reason: r.reason,
      scale_band: r.scale_band,
      bottleneck: r.bottleneck,
    })),
  };
}

/** `GET /status/signals`: the store's per-signal series flattened into rows Infinity can table. */
export function toSignalsResponse(
  cluster: string,
  range: { readonly start: string; readonly end: string },
  ids: readonly string[],
  series: Readonly<Record<string, readonly SeriesPoint[]>>,
): SignalsResponse {
  const points: SignalsResponse['points'] = [];
  for (const id of ids)
    for (const p of series[id] ?? []) points.push({ timestamp: p.t, signal: id, value: p.value });
  return { cluster, start: range.start, end: range.end, signals: [...ids], points };
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
export function toGatesResponse(cluster: string, stored: StoredEvaluation | null): GatesResponse {
  return {
    cluster,
    timestamp: stored?.observed_at ?? null,
    health_state: stored?.evaluation.state ?? 'unknown',
    gates: stored?.evaluation.gates.map(toGate) ?? [],
  };
}

/** `GET /clusters`. */
export function toClustersResponse(clusters: readonly Cluster[]): ClustersResponse {
  return { clusters: clusters.map((c) => ({ id: c.id, name: c.name, created_at: c.created_at })) };
}

/** Whether a signal id is one the copilot knows (sparkline requests name catalog ids only). */
export function isKnownSignal(id: string): boolean {
  return signalById(id) !== undefined;
}
