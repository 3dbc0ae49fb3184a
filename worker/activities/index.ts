import { ApplicationFailure, log } from '@temporalio/activity';
import { messageOf } from '../../shared/errors.js';
import { verdictOf } from '../../shared/explain/verdict.js';
import {
  type EngineConfig,
  type EngineConfigInput,
  resolveEngineConfig,
} from '../../shared/health/config.js';
import { evaluate } from '../../shared/health/engine.js';
import type { Evaluation } from '../../shared/health/evaluation.js';
import { freshnessOf, type StalenessPolicy } from '../../shared/models/freshness.js';
import type { LogPatternInput } from '../../shared/models/log-pattern.js';
import { storedSignalsOf } from '../../shared/models/stored-evaluation.js';
import type { Snapshot } from '../../shared/signals/value.js';
import type { Store } from '../../shared/store/connection.js';
import { clusterIdFor, evaluationIdFor } from '../../shared/store/ids.js';

import {
  evaluationById,
  explainerUsageSince,
  latestAssessment,
  latestEvaluation,
  recentLogPatterns,
} from '../../shared/store/reads.js';
import { deleteOlderThan, RETAINED_TABLES } from '../../shared/store/retention.js';
import {
  type EvaluationWrite,
  ensureCluster,
  recordAssessment,
  recordEvaluation,
  recordLogPatterns,
} from '../../shared/store/writes.js';
import { type ExplainerTools, openExplainer, parseExplainerEnv } from '../explain/config.js';
import { explainEvaluation } from '../explain/explainer.js';
import type { WorkerMetrics } from '../metrics.js';
import type { SignalSource } from '../sources/types.js';
import type {
  CopilotActivities,
  CycleSummary,
  ExplainOutput,
  ObserveCycleOutput,
} from './types.js';

/** A log source for one cluster: pattern counts over a window, or a failure it explains. */
export interface LogPatternSource {
  patterns(
    from: number,
    to: number,
  ): Promise<
    | { readonly ok: true; readonly patterns: LogPatternInput[] }
    | { readonly ok: false; readonly error: string }
  >;
}

export interface ActivityDeps {
  readonly store: Store;
  /** The metrics source observing a cluster. */
  readonly sourceFor: (cluster: string) => SignalSource;
  /** The log source of a cluster, when one is configured. */
  readonly logsFor?: (cluster: string) => LogPatternSource | undefined;
  /** Engine configuration used when the workflow passes none. */
  readonly defaultEngineConfig?: EngineConfigInput;
  /** Days of evaluations, log patterns, assessments and issues to keep. @default 30 */
  readonly retentionDays?: number;
  /** How old the newest stored evaluation may be for a new run to resume from it. @default 3 intervals, ≥ 60 s */
  readonly staleness?: StalenessPolicy;
  /**
   * Told of each evaluation newly written (`stored: 'inserted'`): the worker's CloudWatch metric
   * (`worker/metrics.ts`). @default - nothing is reported (`copilot dev`, tests)
   */
  readonly metrics?: WorkerMetrics;
  /**
   * Bedrock, the knowledge base and the budget (worker/explain/config.ts `openExplainer`).
   * @default - the rule-based explainer over the runbooks in `docs/rag` of the working directory
   */
  readonly explainer?: ExplainerTools;
}

/** A cycle whose evaluation could not be stored: it still counts, and travels inline. */
function failedWrite(
  summary: CycleSummary,
  evaluation: Evaluation,
  error: unknown,
  extra: Partial<ObserveCycleOutput>,
): ObserveCycleOutput {
  const note = messageOf(error);
  log.warn('evaluation not stored', { observedAt: summary.observedAt, error: note });
  return { summary, stored: 'failed', storeNote: note, evaluation, ...extra };
}

/**
 * The activities, with their dependencies injected (samples-typescript
 * activities-dependency-injection). All I/O of the copilot's workflows happens here.
 */
export function createActivities(deps: ActivityDeps): CopilotActivities {
  const sql = deps.store.sql;
  // The default explainer's index is built on the first explanation, not at start-up.
  let tools = deps.explainer;
  const explainer = (): ExplainerTools => {
    tools ??= openExplainer(parseExplainerEnv({}));
    return tools;
  };
  const registered = new Map<string, Promise<string>>();
  const configs = new Map<string, EngineConfig>();

  /** Registers the cluster once per process; the id is derived from the name anyway. */
  function clusterId(name: string): Promise<string> {
    let id = registered.get(name);
    if (id === undefined) {
      id = ensureCluster(sql, name).then((c) => c.id);
      id.catch(() => registered.delete(name));
      registered.set(name, id);
    }
    return id;
  }

  async function storedEvaluation(id: string): Promise<Evaluation> {
    const stored = await evaluationById(sql, id);
    if (stored === null)
      // Not retryable by waiting: the row was never written or has been pruned.
      throw ApplicationFailure.nonRetryable(`evaluation ${id} is not in the store`, 'NotStored');
    return stored.evaluation;
  }

  function configOf(input: EngineConfigInput | undefined): EngineConfig {
    const raw = input ?? deps.defaultEngineConfig ?? {};
    const key = JSON.stringify(raw);
    let config = configs.get(key);
    if (config === undefined) {
      config = resolveEngineConfig(raw);
      configs.set(key, config);
    }
    return config;
  }

  /**
   * The verdict the newest stored assessment explained, so a resumed observer re-words a new
   * cause within the same state as the run before it would have. Nothing when there is no
   * assessment, or its evaluation is gone (pruned): the next state change words it then.
   */
  async function assessedVerdictOf(clusterId: string): Promise<{ assessedVerdict?: string }> {
    try {
      const assessment = await latestAssessment(sql, clusterId);
      if (assessment === null || assessment.evaluation_id === null) return {};
      const explained = await evaluationById(sql, assessment.evaluation_id);
      if (explained === null) return {};
      return {
        assessedVerdict: verdictOf(explained.evaluation.reason, explained.evaluation.firedGates),
      };
    } catch (error) {
      // The carried state still resumes; only the re-wording waits for the next state change.
      log.warn('cannot read the newest assessment; resuming without its verdict', {
        clusterId,
        error: messageOf(error),
      });
      return {};
    }
  }

  /**
   * The carried state a resumed run starts from: the newest stored evaluation's, when it is
   * recent enough to still describe the cluster (the reader's staleness rule). Older than that,
   * the cluster may have moved anywhere; the engine starts fresh (which can never be Happy→Critical
   * in one step, nor critical without three cycles of evidence).
   */
  async function resumeFrom(cluster: string, at: number, intervalMs: number) {
    try {
      const latest = await latestEvaluation(sql, await clusterId(cluster));
      if (latest === null) return null;
      const observedAt = Date.parse(latest.observed_at);
      if (observedAt >= at) return null; // a clock that went backwards: nothing to resume from
      const f = freshnessOf(observedAt, latest.interval_ms ?? intervalMs, at, deps.staleness);
      if (f.stale) return null;
      return {
        carried: latest.evaluation.carried,
        evaluationId: latest.id,
        observedAt,
        ...(await assessedVerdictOf(latest.cluster_id)),
      };
    } catch (error) {
      log.warn('cannot resume from the store; starting fresh', {
        cluster,
        error: messageOf(error),
      });
      return null;
    }
  }

  return {
    async observeCycle(input) {
      const config = configOf(input.engineConfig);
      let snapshot: Snapshot = { observedAt: input.at, values: {} };
      if (input.blind !== true) {
        try {
          snapshot = await deps.sourceFor(input.cluster).snapshot(input.at);
        } catch (error) {
          // Sources report failures as error values; a throw here is a source bug. Either way the
          // cycle is blind, and the engine must say so rather than retry forever.
          log.warn('source failed; observing nothing this cycle', {
            cluster: input.cluster,
            error: messageOf(error),
          });
        }
      }
      const resumed =
        input.resume === true && input.carried === null
          ? await resumeFrom(input.cluster, input.at, input.intervalMs)
          : null;
      // The source may answer for a slightly different instant; the cycle is judged at `at`.
      const judged = { ...snapshot, observedAt: input.at };
      const evaluation = evaluate(resumed?.carried ?? input.carried, judged, config);
      const signals = storedSignalsOf(judged, config.maxSampleAgeSec);
      const summary: CycleSummary = {
        evaluationId: '',
        observedAt: evaluation.observedAt,
        state: evaluation.state,
        previousState: evaluation.previousState,
        changed: evaluation.changed,
        reason: evaluation.reason,
        scaleBand: evaluation.scaleBand,
        idle: evaluation.idle,
        systemBusy: evaluation.systemBusy,
        firedGates: evaluation.firedGates,
        blindGates: evaluation.blindGates,
        bottleneck: evaluation.bottleneck,
        carried: evaluation.carried,
      };
      const resumedFrom =
        resumed === null
          ? {}
          : {
              resumedFrom: {
                evaluationId: resumed.evaluationId,
                observedAt: resumed.observedAt,
                ...(resumed.assessedVerdict === undefined
                  ? {}
                  : { assessedVerdict: resumed.assessedVerdict }),
              },
            };
      // The id derives from the cluster's name and the instant, so it is known even when the store
      // is down: an assessment of this cycle can name it either way.
      const evaluationId = evaluationIdFor(clusterIdFor(input.cluster), evaluation.observedAt);
      let write: EvaluationWrite;
      try {
        write = await recordEvaluation(sql, {
          clusterId: await clusterId(input.cluster),
          workflowId: input.observerId,
          runId: input.runId,
          cycle: input.cycle,
          intervalMs: input.intervalMs,
          evaluation,
          signals,
        });
      } catch (error) {
        return failedWrite({ ...summary, evaluationId }, evaluation, error, resumedFrom);
      }
      if (write.outcome === 'conflict') {
        const note = `instant already stored by ${write.existing.workflowId} (run ${write.existing.runId ?? 'unknown'}, cycle ${write.existing.cycle})`;
        log.warn('evaluation not stored: conflicting writer', {
          cluster: input.cluster,
          evaluationId,
          note,
        });
        return {
          summary: { ...summary, evaluationId },
          stored: 'conflict',
          storeNote: note,
          ...resumedFrom,
        };
      }
      // Only a new row counts: a duplicate is this cycle's earlier attempt, already counted when
      // it was written; a conflict or a failure wrote nothing of ours. Nor does a blind cycle
      // (no progress data at all: the source is dead, refused or empty): the alarm on this metric
      // then fires for a copilot that runs but cannot see, as for one that does not run.
      const blind = evaluation.state === 'unknown' && evaluation.reason === 'no_progress_data';
      if (write.outcome === 'inserted' && !blind) deps.metrics?.evaluationStored(input.cluster);
      return { summary: { ...summary, evaluationId }, stored: write.outcome, ...resumedFrom };
    },

    async explain(input): Promise<ExplainOutput> {
      const evaluation = input.evaluation ?? (await storedEvaluation(input.evaluationId));
      let logPatterns: LogPatternInput[] = [];
      if (input.context?.logsEnabled) {
        try {
          const id = await clusterId(input.cluster);
          const rows = await recentLogPatterns(sql, {
            clusterId: id,
            since: evaluation.observedAt - 300_000,
          });
          logPatterns = rows.map((r) => ({
            pattern_id: r.pattern_id,
            service: r.service,
            count: r.count,
            count_is_lower_bound: r.count_is_lower_bound,
            sample: r.sample,
          }));
        } catch (error) {
          log.warn('log patterns unavailable for the explanation', { error: messageOf(error) });
        }
      }
      const id = await clusterId(input.cluster);
      // The words before these: a scheduled look at an unchanged happy state needs no model.
      const previous = await latestAssessment(sql, id).catch((error: unknown) => {
        log.warn('previous assessment unavailable', { error: messageOf(error) });
        return null;
      });
      const x = await explainEvaluation(
        {
          ...explainer(),
          // The budget is the cluster's, read from its stored assessments: every worker and every
          // restart shares it.
          usageSince: (since) => explainerUsageSince(sql, id, since),
        },
        {
          evaluation,
          trigger: input.trigger,
          logPatterns,
          previous:
            previous === null ? null : { state: previous.health_state, reason: previous.reason },
        },
      );
      if (x.fallbackReason !== null)
        log.info('explained by the rules', { cluster: input.cluster, why: x.fallbackReason });
      return {
        explained: {
          evaluationId: input.evaluationId,
          state: evaluation.state,
          observedAt: evaluation.observedAt,
        },
        summary: x.summary,
        confidence: x.confidence,
        issues: x.issues,
        explainer: x.explainer,
        modelId: x.modelId,
        inputTokens: x.inputTokens,
        outputTokens: x.outputTokens,
        cacheReadTokens: x.cacheReadTokens,
        cacheWriteTokens: x.cacheWriteTokens,
        llmCalls: x.llmCalls,
        latencyMs: x.latencyMs,
        fallbackReason: x.fallbackReason === null ? null : x.fallbackReason.slice(0, 1_000),
        reason: evaluation.reason,
        details: x.details,
      };
    },

    async recordAssessment(input) {
      const id = await clusterId(input.cluster);
      const e = input.explanation;
      const out = await recordAssessment(sql, {
        key: input.key,
        assessment: {
          cluster_id: id,
          evaluation_id: e.explained.evaluationId,
          trigger: input.trigger,
          // The engine's state, copied: the explainer never decides it
          // (docs/lessons.md#the-state-is-the-engines).
          health_state: e.explained.state,
          summary: e.summary,
          confidence: e.confidence,
          explainer: e.explainer,
          model_id: e.modelId,
          input_tokens: e.inputTokens,
          output_tokens: e.outputTokens,
          // Absent from an explanation made by a worker older than these fields (an assessment
          // in flight across a deploy): stored as unknown rather than invented.
          cache_read_tokens: e.cacheReadTokens ?? 0,
          cache_write_tokens: e.cacheWriteTokens ?? 0,
          llm_calls: e.llmCalls ?? 0,
          latency_ms: e.latencyMs ?? null,
          fallback_reason: e.fallbackReason ?? null,
          reason: e.reason ?? null,
          ...(e.details === undefined ? {} : { details: e.details }),
          created_at: new Date(e.explained.observedAt).toISOString(),
        },
        issues: e.issues,
      });
      return { id: out.id, inserted: out.inserted };
    },

    async latestForSchedule(input) {
      const id = await clusterId(input.cluster);
      const [evaluation, assessment] = await Promise.all([
        latestEvaluation(sql, id),
        latestAssessment(sql, id),
      ]);
      const recentAssessment =
        assessment !== null && Date.parse(assessment.created_at) > input.at - input.recentWindowMs;
      if (evaluation === null) return { latest: null, recentAssessment };
      const observedAt = Date.parse(evaluation.observed_at);
      return {
        latest: {
          evaluationId: evaluation.id,
          state: evaluation.evaluation.state,
          observedAt,
          stale: freshnessOf(observedAt, evaluation.interval_ms, input.at, deps.staleness).stale,
        },
        recentAssessment,
      };
    },

    async pruneHistory(input) {
      const before = input.at - (deps.retentionDays ?? 30) * 86_400_000;
      // Bounded per run (20 batches of 500 per table): a large backlog is spread over several
      // runs rather than holding the activity past its timeout.
      let deleted = 0;
      for (const table of RETAINED_TABLES)
        deleted += (await deleteOlderThan(sql, table, { before, maxBatches: 20 })).deleted;
      return { deleted };
    },

    async collectLogPatterns(input) {
      const source = deps.logsFor?.(input.cluster);
      if (source === undefined) return { ok: false, patterns: 0 };
      const result = await source.patterns(input.at - input.windowMs, input.at);
      if (!result.ok) {
        log.warn('log query failed', { cluster: input.cluster, error: result.error });
        return { ok: false, patterns: 0 };
      }
      const id = await clusterId(input.cluster);
      await recordLogPatterns(sql, {
        clusterId: id,
        observedAt: input.at,
        patterns: result.patterns,
      });
      return { ok: true, patterns: result.patterns.length };
    },
  };
}
