import type { DecisionSummary } from '../shared/health/decide.js';
import type { Evaluation } from '../shared/health/evaluation.js';

/**
 * The one-line record `copilot assess`, `copilot evaluate` and `copilot replay` print per step.
 * Part of the product's interface (../shared/ARCHITECTURE.md): change it only by adding fields.
 */
export interface EvaluationLine {
  readonly timestamp: string;
  readonly health_state: Evaluation['state'];
  readonly reason: Evaluation['reason'];
  readonly scale_band: Evaluation['scaleBand'];
  readonly bottleneck: Evaluation['bottleneck'];
  readonly idle: boolean;
  readonly system_busy: boolean;
  readonly fired_gates: readonly string[];
  readonly critical_streak: number;
  /** Gates that had to be evaluated but whose signal failed or went stale (added field). */
  readonly blind_gates: readonly string[];
}

export function toLine(e: DecisionSummary): EvaluationLine {
  return {
    timestamp: new Date(e.observedAt).toISOString(),
    health_state: e.state,
    reason: e.reason,
    scale_band: e.scaleBand,
    bottleneck: e.bottleneck,
    idle: e.idle,
    system_busy: e.systemBusy,
    fired_gates: e.firedGates,
    critical_streak: e.carried.criticalStreak,
    blind_gates: e.blindGates,
  };
}

/** A human summary of one evaluation for `--format table`. */
export function describeEvaluation(e: Evaluation): string {
  const lines = [
    `${new Date(e.observedAt).toISOString()}  ${e.state.toUpperCase()} (${e.reason})`,
    `band ${e.scaleBand}  idle ${e.idle}  system-busy ${e.systemBusy}  bottleneck ${e.bottleneck}`,
  ];
  const fired = e.gates.filter((g) => g.fired);
  if (fired.length > 0) {
    lines.push('fired gates:');
    for (const g of fired) {
      const op = g.comparison === 'above' ? '>' : '<';
      lines.push(`  ${g.id.padEnd(30)} ${g.signal} = ${g.observed} ${op} ${g.threshold}`);
    }
  }
  lines.push('services:');
  for (const s of e.services) {
    const dominant = s.dominantSignal === null ? '' : `  (${s.dominantSignal})`;
    lines.push(
      `  ${s.service.padEnd(12)} progress ${s.forwardProgress.padEnd(9)} pressure ${s.pressure}${dominant}`,
    );
  }
  if (e.workers.evaluated) {
    for (const f of e.workers.findings)
      lines.push(`worker: ${f.rule} (${f.severity}) ${f.message}`);
  } else {
    lines.push(`worker advice skipped: ${e.workers.skipReason}`);
  }
  return lines.join('\n');
}

/** Prints one evaluation as `assess` and `evaluate` do: full JSON, one line, or a human table. */
export function printEvaluation(e: Evaluation, format: string): void {
  if (format === 'table') process.stdout.write(`${describeEvaluation(e)}\n`);
  else if (format === 'line') process.stdout.write(`${JSON.stringify(toLine(e))}\n`);
  else process.stdout.write(`${JSON.stringify(e, null, 2)}\n`);
}
