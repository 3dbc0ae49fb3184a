import { z } from 'zod';
import { ScaleBandSchema } from '../health/config.js';
import {
  BottleneckSchema,
  GateResultSchema,
  HealthStateSchema,
  ServiceHealthSchema,
  StateReasonSchema,
} from '../health/evaluation.js';
import { ExplainerSchema, TriggerSchema } from '../models/assessment.js';
import { ClusterNameSchema } from '../models/cluster.js';
import {
  ActionTypeSchema,
  ContributingFactorSchema,
  RiskSchema,
  SeveritySchema,
  SuggestedActionSchema,
  UnitIntervalSchema,
} from '../models/issue.js';
import { SERVICES } from '../signals/types.js';

/*
 * The JSON API's response schemas. Pure: no I/O. `/openapi.json` is generated from these with
 * `z.toJSONSchema`, and the contract test validates every response against that document, so a
 * field added here is documented and checked in one place.
 */

const IsoSchema = z.iso.datetime({ offset: true });

/** A signal value as the API shows it: a number, or null when the cycle had none (never 0). */
export const SignalNumberSchema = z.number().nullable();

/**
 * Signals grouped by their id's first segment, e.g. `state_transitions.throughput_per_sec` →
 * `{ "state_transitions": { "throughput_per_sec": 120 } }` (the seed's nested shape).
 */
export const NestedSignalsSchema = z.record(z.string(), z.record(z.string(), SignalNumberSchema));
export type NestedSignals = z.infer<typeof NestedSignalsSchema>;

/** Why a signal has no number: keyed by full signal id, only for signals without one. */
export const SignalStatusSchema = z.record(z.string(), z.enum(['absent', 'error', 'stale']));

const G = GateResultSchema.shape;

/** One gate of the newest evaluation: the engine's gate result, in snake case. */
export const GateSchema = z.object({
  id: G.id,
  family: G.family,
  level: G.level,
  signal: G.signal,
  fired: G.fired,
  evaluated: G.evaluated,
  observed: G.observed,
  observed_status: G.observedStatus,
  threshold: G.threshold,
  comparison: G.comparison,
  demand_gated: G.demandGated,
  skip_reason: G.skipReason,
});
export type Gate = z.infer<typeof GateSchema>;

/** A log-pattern count as `/status` shows it (the seed's fields plus the lower-bound flag). */
export const StatusLogPatternSchema = z.object({
  count: z.number().int().nonnegative(),
  pattern: z.string(),
  service: z.string(),
  sample_message: z.string().nullable(),
  count_is_lower_bound: z.boolean(),
});

/** A suggested remediation, flattened from the newest assessment's issues. Never performed. */
export const RecommendedActionSchema = z.object({
  action: z.string(),
  action_type: ActionTypeSchema,
  target_service: z.string(),
  confidence: UnitIntervalSchema,
  risk_level: RiskSchema,
  description: z.string(),
});
export type RecommendedAction = z.infer<typeof RecommendedActionSchema>;

/** `GET /status`. */
export const StatusResponseSchema = z.object({
  cluster: z.string(),
  /** The newest evaluation's state; `unknown` when nothing was evaluated yet. */
  health_state: HealthStateSchema,
  /** When the newest evaluation was observed; null before the first one. */
  timestamp: IsoSchema.nullable(),
  reason: StateReasonSchema.nullable(),
  scale_band: ScaleBandSchema.nullable(),
  idle: z.boolean().nullable(),
  system_busy: z.boolean().nullable(),
  bottleneck: BottleneckSchema.nullable(),
  primary_signals: NestedSignalsSchema,
  amplifiers: NestedSignalsSchema,
  signal_status: SignalStatusSchema,
  gates: z.array(GateSchema),
  fired_gates: z.array(z.string()),
  log_patterns: z.array(StatusLogPatternSchema),
  recommended_actions: z.array(RecommendedActionSchema),
  issue_count: z.number().int().nonnegative(),
  /** The newest assessment's words, or null before the first one. */
  summary: z.string().nullable(),
  confidence: UnitIntervalSchema.nullable(),
  explainer: ExplainerSchema.nullable(),
  assessed_at: IsoSchema.nullable(),
});
export type StatusResponse = z.infer<typeof StatusResponseSchema>;

/** The seed's service status words (the health states), mapped from forward progress. */
export const ServiceStatusSchema = HealthStateSchema;
const S = ServiceHealthSchema.shape;

/** `GET /status/services`. */
export const ServicesResponseSchema = z.object({
  cluster: z.string(),
  timestamp: IsoSchema.nullable(),
  services: z.array(
    z.object({
      name: z.enum(SERVICES),
      status: ServiceStatusSchema,
      forward_progress: S.forwardProgress,
      pressure: S.pressure,
      dominant_signal: S.dominantSignal,
      elevated_signals: S.elevatedSignals,
      /** The service's primary and amplifier signals by full id; null where the cycle had none. */
      key_signals: z.record(z.string(), SignalNumberSchema),
    }),
  ),
});
export type ServicesResponse = z.infer<typeof ServicesResponseSchema>;

/** One stored issue as the API returns it. */
export const ApiIssueSchema = z.object({
  id: z.uuid(),
  key: z.string(),
  severity: SeveritySchema,
  title: z.string(),
  description: z.string(),
  likely_cause: z.string(),
  contributing_factors: z.array(ContributingFactorSchema),
  suggested_actions: z.array(SuggestedActionSchema),
  related_signals: z.array(z.string()),
  created_at: IsoSchema,
  resolved_at: IsoSchema.nullable(),
});

/** `GET /status/issues`. */
export const IssuesResponseSchema = z.object({
  cluster: z.string(),
  assessment_id: z.uuid().nullable(),
  issues: z.array(ApiIssueSchema),
});
export type IssuesResponse = z.infer<typeof IssuesResponseSchema>;

/** `GET /status/summary`. */
export const SummaryResponseSchema = z.object({
  cluster: z.string(),
  summary: z.string(),
  health_state: HealthStateSchema,
  /** The newest evaluation's time (the state's), null before the first one. */
  timestamp: IsoSchema.nullable(),
  assessed_at: IsoSchema.nullable(),
  trigger: TriggerSchema.nullable(),
  confidence: UnitIntervalSchema.nullable(),
  explainer: ExplainerSchema.nullable(),
});
export type SummaryResponse = z.infer<typeof SummaryResponseSchema>;

/** `GET /status/timeline`: one flat row per stored cycle (or per state change). */
export const TimelineResponseSchema = z.object({
  cluster: z.string(),
  start: IsoSchema,
  end: IsoSchema,
  timeline: z.array(
    z.object({
      id: z.uuid(),
      timestamp: IsoSchema,
      health_state: HealthStateSchema,
      previous_state: HealthStateSchema.nullable(),
      changed: z.boolean(),
      reason: StateReasonSchema,
      scale_band: ScaleBandSchema,
      bottleneck: BottleneckSchema,
    }),
  ),
});
export type TimelineResponse = z.infer<typeof TimelineResponseSchema>;

/** `GET /status/signals`: flat `(timestamp, signal, value)` rows, oldest first per signal. */
export const SignalsResponseSchema = z.object({
  cluster: z.string(),
  start: IsoSchema,
  end: IsoSchema,
  signals: z.array(z.string()),
  points: z.array(
    z.object({ timestamp: IsoSchema, signal: z.string(), value: SignalNumberSchema }),
  ),
});
export type SignalsResponse = z.infer<typeof SignalsResponseSchema>;

/** `GET /status/log-patterns`. */
export const LogPatternsResponseSchema = z.object({
  cluster: z.string(),
  log_patterns: z.array(StatusLogPatternSchema.extend({ observed_at: IsoSchema })),
});
export type LogPatternsResponse = z.infer<typeof LogPatternsResponseSchema>;

/** `GET /status/gates`. */
export const GatesResponseSchema = z.object({
  cluster: z.string(),
  timestamp: IsoSchema.nullable(),
  health_state: HealthStateSchema,
  gates: z.array(GateSchema),
});
export type GatesResponse = z.infer<typeof GatesResponseSchema>;

/** `GET /clusters`. */
export const ClustersResponseSchema = z.object({
  clusters: z.array(z.object({ id: z.uuid(), name: z.string(), created_at: IsoSchema })),
});
export type ClustersResponse = z.infer<typeof ClustersResponseSchema>;

/** `POST /actions`: remediation is not automated (the seed's 501 body). */
export const NotImplementedResponseSchema = z.object({ error: z.string(), message: z.string() });

/**
 * Every error body (RFC 9457 problem details). `degraded` is true only when the store could not be
 * reached, so Grafana can tell "copilot blind" from "cluster unhealthy".
 */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  degraded: z.boolean().optional(),
  health_state: z.literal('unknown').optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

// ---------------------------------------------------------------------------------------------
// Query strings. Values arrive as strings (API Gateway v2 joins repeated keys with commas).

/** `?cluster=` on every endpoint. */
export const ClusterQuerySchema = z.object({ cluster: ClusterNameSchema.optional() });

/**
 * A time: ISO 8601 with an offset, or epoch milliseconds (what Grafana's `${__from}` and
 * `${__to}` expand to).
 */
/** 1970-01-01 … 9999-12-31: outside it PostgreSQL cannot store a day before the instant. */
const MAX_TIME_MS = 253_402_300_799_999;

export const TimeParamSchema = z
  .union([
    z
      .string()
      .regex(/^\d{1,15}$/, 'epoch milliseconds')
      .transform((s) => Number(s)),
    IsoSchema.transform((s) => Date.parse(s)),
  ])
  // A fuzz case found year 1: the default start, a day before, is year 0, which the store rejects.
  .pipe(z.number().min(0, 'a time from 1970 on').max(MAX_TIME_MS, 'a time before year 10000'));

const LimitSchema = (max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'an integer')
    .transform((s) => Number(s))
    .pipe(z.number().int().min(1).max(max));

export const IssuesQuerySchema = ClusterQuerySchema.extend({
  severity: SeveritySchema.optional(),
  limit: LimitSchema(100).optional(),
});

export const RangeQuerySchema = ClusterQuerySchema.extend({
  start: TimeParamSchema.optional(),
  end: TimeParamSchema.optional(),
});

export const TimelineQuerySchema = RangeQuerySchema.extend({
  changes_only: z.enum(['true', 'false']).optional(),
  limit: LimitSchema(50_000).optional(),
});

/** The most signal ids one `/status/signals` call takes (the store's bound). */
export const MAX_SIGNAL_IDS = 12;

export const SignalsQuerySchema = RangeQuerySchema.extend({
  ids: z
    .string()
    .min(1)
    .max(2_000)
    .transform((s) => s.split(',').map((id) => id.trim()))
    .pipe(z.array(z.string().min(1).max(200)).min(1).max(MAX_SIGNAL_IDS)),
});

export const LogPatternsQuerySchema = ClusterQuerySchema.extend({
  since: TimeParamSchema.optional(),
  limit: LimitSchema(1_000).optional(),
});
