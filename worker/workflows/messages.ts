import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { EngineConfigInput } from '../../shared/health/config.js';
import type { CycleSummary } from '../activities/types.js';

/**
 * The observer's latest cycle (null before its first): the engine's decision summary and the
 * stored evaluation's id. The whole evaluation is in the store (`GET /status`).
 */
export const currentEvaluationQuery = defineQuery<CycleSummary | null>('currentEvaluation');

/** What can change while an observer runs; omitted fields keep their value. */
export interface ObserverSettings {
  readonly intervalMs?: number;
  readonly engineConfig?: EngineConfigInput;
}

/**
 * Changes an observer's settings live. An update (not a signal) so a bad configuration is
 * rejected by the validator before it enters history, and the caller learns why.
 */
export const configureObserverUpdate = defineUpdate<ObserverSettings, [ObserverSettings]>(
  'configureObserver',
);
