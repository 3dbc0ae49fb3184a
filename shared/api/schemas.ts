import * as z from 'zod';
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
import { TimelineEntrySchema } from '../models/stored-evaluation.js';
import { signalById } from '../signals/catalog.js';
import { SERVICES } from '../signals/types.js';

/*
 * The JSON API's response schemas. Pure: no I/O. `/openapi.json` is generated from these with
 * `z.toJSONSchema`, and the contract test validates every response against that document, so a
 * field added here is documented and checked in one place.
 */

const IsoSchema = z.iso.datetime({ offset: true });

/**
 * Why a current-state answer may not be the engine's state: `stale` — the newest evaluation is
 * older than the staleness limit, so the copilot itself (its observer or its store) is not
 * keeping up, and the cluster's state is `unknown`. Every other reason is the engine's.
 */
export const StatusReasonSchema = z.enum([...StateReasonSchema.options, 'stale']);
export type StatusReason = z.infer<typeof StatusReasonSchema>;

/**
 * How old the answer is, on every read of the current state. `stale` is true when the newest
 * evaluation is older than `stale_after_seconds` (3 observer intervals by default, at least 60 s):
 * the state is then `unknown` with reason `stale`, and `last_known_state` says what it was.
 */
export const FreshnessFieldsSchema = z.object({
  stale: z.boolean(),
  /** The newest evaluation's instant; null before the first one. */
  last_observed_at: IsoSchema.nullable(),
  /** Whole seconds since `last_observed_at`; null before the first evaluation. */
  age_seconds: z.number().int().nonnegative().nullable(),
  /** The limit `age_seconds` is judged against; null before the first evaluation. */
  stale_after_seconds: z.number().int().nonnegative().nullable(),
  /** The newest evaluation's own state, stale or not; null before the first one. */
  last_known_state: HealthStateSchema.nullable(),
});
export type FreshnessFields = z.infer<typeof FreshnessFieldsSchema>;

/** A signal value as the API shows it: a number, or null when the cycle had none (never 0). */
export const SignalNumberSchema = z.number().nullable();

/**
 * Signals grouped by their id's first segment, e.g. `state_transitions.throughput_per_sec` →
 * `{ "state_transitions": { "throughput_per_sec": 120 } }` (the seed's nested shape).
 */
export const NestedSignalsSchema = z.record(z.string(), z.record(z.string(), SignalNumberSchema));
export type NestedSignals = z.infer<typeof NestedSignalsSchema>;

/**
 * Why a signal has no number: keyed by full signal id, only for signals without one, exactly as
 * the observation stored it (`error`: the query failed; `stale`: too old; `absent`: no series).
 */
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
  /**
   * The newest evaluation's state; `unknown` when nothing was evaluated yet, and when the newest
   * evaluation is stale (`reason: "stale"`).
   */
  health_state: HealthStateSchema,
  /** When the newest evaluation was observed; null before the first one. */
  timestamp: IsoSchema.nullable(),
  reason: StatusReasonSchema.nullable(),
  ...FreshnessFieldsSchema.shape,
  scale_band: ScaleBandSchema.nullable(),
  idle: z.boolean().nullable(),
  system_busy: z.boolean().nullable(),
  /** The engine's bottleneck; `unknown` when the evaluation is stale. */
  bottleneck: BottleneckSchema.nullable(),
  primary_signals: NestedSignalsSchema,
  amplifiers: NestedSignalsSchema,
  signal_status: SignalStatusSchema,
  gates: z.array(GateSchema),
  fired_gates: z.array(z.string()),
  /** Gates that had to be evaluated but whose signal failed or went stale. */
  blind_gates: z.array(z.string()),
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

/** `GET /status/services`. When stale, every `status` is `unknown`; the rest is as last observed. */
export const ServicesResponseSchema = z.object({
  cluster: z.string(),
  timestamp: IsoSchema.nullable(),
  ...FreshnessFieldsSchema.shape,
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
      /** The service's part as the newest Bedrock explanation told it; null without one. */
      narrative: z.string().nullable(),
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
  /** The newest assessment's words; when the evaluation is stale, a sentence that says so. */
  summary: z.string(),
  /** The newest assessment's words even when stale (null before the first one). */
  last_summary: z.string().nullable(),
  health_state: HealthStateSchema,
  reason: StatusReasonSchema.nullable(),
  /** The newest evaluation's time (the state's), null before the first one. */
  timestamp: IsoSchema.nullable(),
  ...FreshnessFieldsSchema.shape,
  assessed_at: IsoSchema.nullable(),
  trigger: TriggerSchema.nullable(),
  confidence: UnitIntervalSchema.nullable(),
  explainer: ExplainerSchema.nullable(),
  /**
   * True when the words explain another state or reason than the current evaluation's (a new
   * assessment is on its way, or the copilot is stale); false when they are current.
   */
  words_lag: z.boolean(),
  /** The engine's reason the words explain (null for assessments older than that field). */
  assessed_reason: StateReasonSchema.nullable(),
  /** The Bedrock model that wrote the words (the researcher), null for the rules. */
  model_id: z.string().nullable(),
  /** Why the rules answered although Bedrock is configured (throttled, budget, …), else null. */
  fallback_reason: z.string().nullable(),
  /** What writing these words cost: Converse calls, tokens, time. */
  llm_calls: z.number().int().nonnegative(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cache_read_tokens: z.number().int().nonnegative(),
  cache_write_tokens: z.number().int().nonnegative(),
  latency_ms: z.number().int().nonnegative().nullable(),
  /** The runbook passages the words cite, best first. */
  sources: z.array(
    z.object({ source: z.string(), title: z.string(), heading: z.string(), score: z.number() }),
  ),
  /** The cluster's explanations since 00:00 UTC today: how much the copilot spends on words. */
  usage_today: z.object({
    assessments: z.number().int().nonnegative(),
    bedrock: z.number().int().nonnegative(),
    llm_calls: z.number().int().nonnegative(),
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cache_read_tokens: z.number().int().nonnegative(),
    cache_write_tokens: z.number().int().nonnegative(),
  }),
});
export type SummaryResponse = z.infer<typeof SummaryResponseSchema>;

/** How a bounded read went, on every range endpoint. */
const BoundsSchema = z.object({
  /** True when the range held more points than the limit: the **oldest** were left out. */
  truncated: z.boolean(),
  /** The bucket width in seconds when the answer is downsampled; null for one point per cycle. */
  step_seconds: z.number().int().positive().nullable(),
});

/**
 * `GET /status/timeline`: one flat row per stored cycle (or per state change, or per `step`
 * bucket: the bucket's most severe cycle, `samples` cycles in it, `changed` if the state changed
 * anywhere in it), oldest first, always the newest points of the range.
 */
export const TimelineResponseSchema = z.object({
  cluster: z.string(),
  start: IsoSchema,
  end: IsoSchema,
  ...BoundsSchema.shape,
  // The store's timeline entry, with the API's name for its time (one schema, two spellings).
  timeline: z.array(
    TimelineEntrySchema.omit({ observed_at: true }).extend({ timestamp: IsoSchema }),
  ),
});
export type TimelineResponse = z.infer<typeof TimelineResponseSchema>;

/**
 * `GET /status/signals`: flat `(timestamp, signal, value, status)` rows, oldest first per signal,
 * the newest points of the range. `status` is what the observation stored (`error` for a failed
 * query, never re-inferred). Downsampled, `value` is the bucket's mean with its `min` and `max`.
 */
export const SignalsResponseSchema = z.object({
  cluster: z.string(),
  start: IsoSchema,
  end: IsoSchema,
  ...BoundsSchema.shape,
  signals: z.array(z.string()),
  points: z.array(
    z.object({
      timestamp: IsoSchema,
      signal: z.string(),
      value: SignalNumberSchema,
      status: z.enum(['ok', 'absent', 'error', 'stale']),
      min: SignalNumberSchema,
      max: SignalNumberSchema,
      samples: z.number().int().positive(),
    }),
  ),
});
export type SignalsResponse = z.infer<typeof SignalsResponseSchema>;

/** `GET /status/log-patterns`. */
export const LogPatternsResponseSchema = z.object({
  cluster: z.string(),
  log_patterns: z.array(StatusLogPatternSchema.extend({ observed_at: IsoSchema })),
});
export type LogPatternsResponse = z.infer<typeof LogPatternsResponseSchema>;

/** `GET /status/gates`. When stale, `health_state` is `unknown`; the gates are as last observed. */
export const GatesResponseSchema = z.object({
  cluster: z.string(),
  timestamp: IsoSchema.nullable(),
  health_state: HealthStateSchema,
  reason: StatusReasonSchema.nullable(),
  ...FreshnessFieldsSchema.shape,
  gates: z.array(GateSchema),
  blind_gates: z.array(z.string()),
});
export type GatesResponse = z.infer<typeof GatesResponseSchema>;

/** `GET /clusters`: each watched cluster with its current state, judged for staleness. */
export const ClustersResponseSchema = z.object({
  clusters: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      created_at: IsoSchema,
      health_state: HealthStateSchema,
      reason: StatusReasonSchema.nullable(),
      ...FreshnessFieldsSchema.shape,
    }),
  ),
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

/** The most points per answer (and per signal); the store's caps keep a body near 3 MB. */
export const MAX_TIMELINE_LIMIT = 10_000;
export const MAX_SIGNALS_LIMIT = 5_000;

/** A bucket width: `30s`, `5m`, `1h`, `1d`, or seconds; at least 1 s. */
export const StepParamSchema = z
  .string()
  .regex(/^\d{1,7}(s|m|h|d)?$/, 'a step like 30s, 5m, 1h or 1d')
  .transform((s) => {
    const n = Number.parseInt(s, 10);
    const unit = s.at(-1);
    return n * (unit === 'm' ? 60 : unit === 'h' ? 3_600 : unit === 'd' ? 86_400 : 1) * 1000;
  })
  .pipe(
    z
      .number()
      .int()
      .min(1000, 'at least 1s')
      .max(366 * 86_400_000, 'at most a year'),
  );

export const TimelineQuerySchema = RangeQuerySchema.extend({
  changes_only: z.enum(['true', 'false']).optional(),
  limit: LimitSchema(MAX_TIMELINE_LIMIT)
    .optional()
    .describe(`points returned, newest first kept; 1..${MAX_TIMELINE_LIMIT}, default 5000`),
  step: StepParamSchema.optional().describe(
    'bucket width (one row per bucket: its most severe cycle); without it a range with more cycles than the limit is downsampled to fit',
  ),
});

/** The most signal ids one `/status/signals` call takes (the store's bound). */
export const MAX_SIGNAL_IDS = 12;

export const SignalsQuerySchema = RangeQuerySchema.extend({
  limit: LimitSchema(MAX_SIGNALS_LIMIT)
    .optional()
    .describe(
      `points per signal, newest kept; 1..${MAX_SIGNALS_LIMIT}, default 2880, and at most 20000 over all signals`,
    ),
  step: StepParamSchema.optional().describe(
    'bucket width (mean, min and max per bucket); without it a range with more cycles than the limit is downsampled to fit',
  ),
  ids: z
    .string()
    .min(1)
    .max(2_000)
    .transform((s) => s.split(',').map((id) => id.trim()))
    .pipe(
      z
        .array(
          // Catalog ids only: a typo would otherwise read as a series of nulls.
          z
            .string()
            .min(1)
            .max(200)
            .refine((id) => signalById(id) !== undefined, {
              error: (issue) => `unknown signal "${String(issue.input)}"`,
            }),
        )
        .min(1)
        .max(MAX_SIGNAL_IDS),
    ),
});

export const LogPatternsQuerySchema = ClusterQuerySchema.extend({
  since: TimeParamSchema.optional(),
  limit: LimitSchema(1_000).optional(),
});
