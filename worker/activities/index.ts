import { log } from '@temporalio/activity';
import { explainWithRules } from '../../shared/explain/rule-based.js';
import {
  type EngineConfig,
  type EngineConfigInput,
  resolveEngineConfig,
} from '../../shared/health/config.js';
import { evaluate } from '../../shared/health/engine.js';
import type { LogPatternInput } from '../../shared/models/log-pattern.js';
import type { Snapshot } from '../../shared/signals/value.js';
import type { Store } from '../../shared/store/connection.js';

import { latestAssessment, latestEvaluation, recentLogPatterns } from '../../shared/store/reads.js';
import { deleteOlderThan } from '../../shared/store/retention.js';
import {
  ensureCluster,
  recordAssessment,
  recordEvaluation,
  recordLogPatterns,
  signalValuesOf,
} from '../../shared/store/writes.js';
import type { SignalSource } from '../sources/types.js';
import type { CopilotActivities, ExplainOutput } from './types.js';

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
  /** Days of evaluations and log patterns to keep. @default 30 */
  readonly retentionDays?: number;
}

/**
 * The activities, with their dependencies injected (samples-typescript
 * activities-dependency-injection). All I/O of the copilot's workflows happens here.
 */
export function createActivities(deps: ActivityDeps): CopilotActivities {
  const sql = deps.store.sql;
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

  return {
    async observe(input) {
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
            error: String(error),
          });
        }
      }
      // The source may answer for a slightly different instant; the cycle is judged at `at`.
      const evaluation = evaluate(input.carried, { ...snapshot, observedAt: input.at }, config);
      return { evaluation, signalValues: signalValuesOf(snapshot) };
    },

    async recordEvaluation(input) {
      const id = await clusterId(input.cluster);
      const { id: evaluationId } = await recordEvaluation(sql, {
        clusterId: id,
        workflowId: input.observerId,
        cycle: input.cycle,
        evaluation: input.evaluation,
        signalValues: input.signalValues,
      });
      return { id: evaluationId };
    },

    async explain(input): Promise<ExplainOutput> {
      let logPatterns: LogPatternInput[] = [];
      if (input.context?.logsEnabled) {
        try {
          const id = await clusterId(input.cluster);
          const rows = await recentLogPatterns(sql, {
            clusterId: id,
            since: input.evaluation.observedAt - 300_000,
          });
          logPatterns = rows.map((r) => ({
            pattern_id: r.pattern_id,
            service: r.service,
            count: r.count,
            count_is_lower_bound: r.count_is_lower_bound,
            sample: r.sample,
          }));
        } catch (error) {
          log.warn('log patterns unavailable for the explanation', { error: String(error) });
        }
      }
      const x = explainWithRules(input.evaluation, { logPatterns });
      return {
        summary: x.summary,
        confidence: x.confidence,
        issues: x.issues,
        explainer: 'rules',
        modelId: null,
        inputTokens: 0,
        outputTokens: 0,
      };
    },

    async recordAssessment(input) {
      const id = await clusterId(input.cluster);
      const e = input.explanation;
      const out = await recordAssessment(sql, {
        key: input.key,
        assessment: {
          cluster_id: id,
          trigger: input.trigger,
          // The engine's state, copied: the explainer never decides it (prior-art §16.10).
          health_state: input.evaluation.state,
          summary: e.summary,
          confidence: e.confidence,
          explainer: e.explainer,
          model_id: e.modelId,
          input_tokens: e.inputTokens,
          output_tokens: e.outputTokens,
          created_at: new Date(input.evaluation.observedAt).toISOString(),
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
      return {
        evaluation: evaluation?.evaluation ?? null,
        key: evaluation === null ? null : `${evaluation.workflow_id}:${evaluation.cycle}`,
        recentAssessment,
      };
    },

    async pruneHistory(input) {
      const before = input.at - (deps.retentionDays ?? 30) * 86_400_000;
      // Bounded per run (20 batches of 500): a large backlog is spread over several runs rather
      // than holding the activity past its timeout.
      const evaluations = await deleteOlderThan(sql, 'evaluations', { before, maxBatches: 20 });
      const patterns = await deleteOlderThan(sql, 'log_patterns', { before, maxBatches: 20 });
      return { deleted: evaluations.deleted + patterns.deleted };
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
