import type { Evaluation, GateResult, HealthState } from '../health/evaluation.js';
import type { HealthyGateId, ProblemGateId } from '../health/gates.js';
import type { IssueInput, Severity, SuggestedAction } from '../models/issue.js';
import type { LogPatternInput } from '../models/log-pattern.js';
import { signalById } from '../signals/catalog.js';
import { SIG } from '../signals/ids.js';
import { NARRATIVE_PATTERNS } from '../signals/narrative-patterns.js';
import { evidenceConfidence } from './confidence.js';
import type { GroundingPassage } from './grounding.js';

/**
 * The rule-based explainer: the default without Bedrock and the fallback when Bedrock fails. Pure
 * and deterministic. It explains what the engine decided and never decides anything itself: the
 * state, gates and bottleneck are read from the evaluation as they are.
 */
export interface Explanation {
  readonly summary: string;
  /** How sure the explanation is of its causes, 0..1 (not how healthy the cluster is). */
  readonly confidence: number;
  readonly issues: IssueInput[];
  /** The runbook passages the explanation cites, best first. */
  readonly sources: readonly GroundingPassage[];
}

export interface ExplainContext {
  /** Narrative log patterns of the recent window, if a log source is configured. */
  readonly logPatterns?: readonly LogPatternInput[];
  /** Runbook passages retrieved for this evaluation (knowledge base or the local index). */
  readonly passages?: readonly GroundingPassage[];
  /** The engine's critical debounce, for how sustained critical evidence is. @default 3 */
  readonly criticalCycles?: number;
}

type GateText = {
  readonly title: string;
  readonly cause: string;
  readonly service: string;
  readonly actions: readonly Omit<SuggestedAction, 'parameters'>[];
};

/**
 * What each critical and stressed gate means to an operator, the likely cause, and what to try
 * first. Keyed by the engine's gate ids as a type, so a gate added to the engine without its text
 * does not compile (two gates once went unexplained that way).
 */
const GATE_TEXT: Readonly<Record<ProblemGateId, GateText>> = {
  'critical.throughput': {
    title: 'Forward progress has nearly stopped',
    cause:
      'State transitions fell below the band floor while work is waiting: look for what blocks history (persistence, shard ownership) or the workers that should pick tasks up.',
    service: 'history',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'history',
        description:
          'Check history persistence errors and shard ownership changes around the drop.',
        confidence: 0.6,
        risk: 'low',
      },
    ],
  },
  'critical.completion_rate': {
    title: 'Most workflows that end are failing',
    cause:
      'Fewer than the required share of terminal workflows succeed: usually an application or dependency failure, or timeouts under load.',
    service: 'workers',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'workers',
        description: 'Inspect recent failed workflows for a common failure reason.',
        confidence: 0.6,
        risk: 'low',
      },
    ],
  },
  'critical.history_backlog': {
    title: 'History task queues are far behind',
    cause:
      'History tasks wait longer than the critical limit: history cannot keep up, most often because persistence is slow or failing.',
    service: 'history',
    actions: [
      {
        action_type: 'scale',
        target_service: 'history',
        description: 'Add history capacity once persistence is confirmed healthy.',
        confidence: 0.5,
        risk: 'medium',
      },
    ],
  },
  'critical.processing': {
    title: 'History task processing has nearly stopped',
    cause:
      'History processes fewer tasks than the band floor: transfer and timer work is not advancing.',
    service: 'history',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'history',
        description: 'Check history host health and task errors.',
        confidence: 0.5,
        risk: 'low',
      },
    ],
  },
  'critical.persistence_errors': {
    title: 'Persistence is failing',
    cause:
      'History persistence operations fail at a high rate: DSQL connectivity, authentication, limits or OCC exhaustion.',
    service: 'persistence',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'persistence',
        description:
          'Check DSQL connection errors, token refresh, connection limits and exhausted OCC retries.',
        confidence: 0.7,
        risk: 'low',
      },
    ],
  },
  'stressed.history_latency': {
    title: 'History requests are slow',
    cause:
      'History RPC latency is above the band limit; it usually follows persistence latency or lock contention on hot workflows.',
    service: 'history',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'history',
        description: 'Compare with persistence latency and look for hot workflows.',
        confidence: 0.5,
        risk: 'low',
      },
    ],
  },
  'stressed.history_backlog': {
    title: 'History task queues are lagging',
    cause:
      'History tasks wait longer than the band allows; history is short of capacity or slowed by persistence.',
    service: 'history',
    actions: [
      {
        action_type: 'scale',
        target_service: 'history',
        description: 'Add history capacity if persistence latency is normal.',
        confidence: 0.5,
        risk: 'medium',
      },
    ],
  },
  'stressed.shard_churn': {
    title: 'Shards are moving between hosts',
    cause:
      'Shard ownership churns: hosts join or leave (deploys, crashes, autoscaling), and each move stalls the shard briefly.',
    service: 'history',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'history',
        description: 'Check for restarts, deploys or autoscaling of history hosts.',
        confidence: 0.6,
        risk: 'low',
      },
    ],
  },
  'stressed.frontend_latency': {
    title: 'Client requests are slow',
    cause:
      'Frontend latency (long polls excluded) is above the band limit; the frontend mostly reflects latency from history and persistence.',
    service: 'frontend',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'history',
        description:
          'Follow the latency down to history and persistence before scaling the frontend.',
        confidence: 0.5,
        risk: 'low',
      },
    ],
  },
  'stressed.matching_backlog': {
    title: 'Tasks are waiting for workers',
    cause:
      'Tasks sit in task-queue backlogs: workers are too few, saturated, or not polling these queues.',
    service: 'workers',
    actions: [
      {
        action_type: 'scale',
        target_service: 'workers',
        description: 'Add worker capacity (slots or replicas) for the waiting task queues.',
        confidence: 0.6,
        risk: 'low',
      },
    ],
  },
  'stressed.poll_timeouts': {
    title: 'Many worker polls come back empty under load',
    cause:
      'A high share of polls time out while the cluster is busy: tasks and pollers are mismatched (too many pollers, or work on other queues).',
    service: 'matching',
    actions: [
      {
        action_type: 'configure',
        target_service: 'workers',
        description:
          'Align pollers with slots (about 10–20 % of slots) and check task-queue routing.',
        confidence: 0.4,
        risk: 'low',
      },
    ],
  },
  'stressed.no_pollers': {
    title: 'Tasks arrive on queues no worker polls',
    cause:
      'Tasks are added to task queues that have no poller: workers are down, not deployed, or poll a different queue name or namespace.',
    service: 'workers',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'workers',
        description:
          'Check that workers for these task queues run and poll the exact queue name and namespace.',
        confidence: 0.6,
        risk: 'low',
      },
    ],
  },
  'stressed.schedule_to_start': {
    title: 'Tasks wait too long for a worker',
    cause:
      'Workflow or activity tasks wait longer than the band limit before a worker starts them: worker slots or pollers are saturated.',
    service: 'workers',
    actions: [
      {
        action_type: 'scale',
        target_service: 'workers',
        description: 'Add worker capacity (slots or replicas); check slot utilisation first.',
        confidence: 0.6,
        risk: 'low',
      },
    ],
  },
  'stressed.persistence_latency': {
    title: 'Persistence is slow',
    cause:
      'History persistence latency is above the band limit: the full path (pool checkout, DSQL query, OCC retries) is under pressure.',
    service: 'persistence',
    actions: [
      {
        action_type: 'investigate',
        target_service: 'persistence',
        description: 'Check DSQL OCC conflicts, pool utilisation and wait time.',
        confidence: 0.6,
        risk: 'low',
      },
    ],
  },
};

const HEALTHY_TEXT: Readonly<Record<HealthyGateId, string>> = {
  'healthy.throughput': 'throughput is below the healthy floor of its scale band',
  'healthy.history_backlog': 'the history backlog is above the healthy limit',
  'healthy.completion_rate': 'the workflow completion rate is below the healthy level',
};

/** The operator's title of a gate (also the glossary the language models read). */
export function gateTitle(id: string): string {
  const text = GATE_TEXT[id as ProblemGateId];
  if (text !== undefined) return text.title;
  const healthy = HEALTHY_TEXT[id as HealthyGateId];
  if (healthy !== undefined) return `happy needs it: ${healthy}`;
  return id.startsWith('recovery.')
    ? 'leaving critical needs this clearly back inside its critical limit'
    : id;
}

export const STATE_WORD: Readonly<Record<HealthState, string>> = {
  happy: 'Happy',
  stressed: 'Stressed',
  critical: 'Critical',
  unknown: 'Unknown',
};

function round(x: number): string {
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 1) return x.toFixed(1);
  return x.toFixed(3);
}

function gateFact(g: GateResult): string {
  const unit = signalById(g.signal)?.unit ?? '';
  const u = unit === 'ms' ? ' ms' : unit === 'sec' ? ' s' : unit === 'per_sec' ? '/s' : '';
  const op = g.comparison === 'above' ? 'above' : 'below';
  return `${round(g.observed ?? 0)}${u}, ${op} the limit of ${round(g.threshold)}${u}`;
}

/** The most severe issue level allowed for a state, so issues and summary never disagree. */
export function capSeverity(state: HealthState, wanted: Severity): Severity {
  if (state === 'critical') return wanted;
  if (state === 'stressed' || state === 'unknown')
    return wanted === 'critical' ? 'warning' : wanted;
  return 'info';
}

function patternsFor(service: string, patterns: readonly LogPatternInput[]): LogPatternInput[] {
  const ids = new Set(NARRATIVE_PATTERNS.filter((p) => p.speaksFor === service).map((p) => p.id));
  return patterns.filter((p) => ids.has(p.pattern_id) && p.count > 0);
}

/** The passage to cite for an issue: one written for its gate, else the best one retrieved. */
function passageFor(
  key: string,
  passages: readonly GroundingPassage[],
  byGate: ReadonlyMap<string, GroundingPassage>,
): GroundingPassage | undefined {
  return byGate.get(key) ?? passages[0];
}

const cite = (p: GroundingPassage | undefined) =>
  p === undefined ? '' : ` Runbook: "${p.title}" — ${p.heading} (${p.source}).`;

export function explainWithRules(e: Evaluation, context: ExplainContext = {}): Explanation {
  const patterns = context.logPatterns ?? [];
  const sources = context.passages ?? [];
  const confidence = evidenceConfidence(e, context.criticalCycles);
  const issues: IssueInput[] = [];
  const causes: string[] = [];
  // Per issue, the best-ranked passage from a runbook written for its gate (the runbook's front
  // matter, carried as the passage's gates); retrieval order decides among several.
  const byGate = new Map<string, GroundingPassage>();
  for (const p of [...sources].reverse())
    for (const id of e.firedGates) if ((p.gates ?? []).includes(id)) byGate.set(id, p);

  if (e.state === 'unknown') {
    const blind = e.gates.filter((g) => e.blindGates.includes(g.id));
    const why =
      e.reason === 'cannot_tell_idle_from_stuck'
        ? 'throughput is near zero and no backlog signal is visible, so an idle cluster cannot be told from a stuck one'
        : e.reason === 'partial_visibility'
          ? `the signals behind ${blind
              .filter((g) => g.level === 'critical')
              .map((g) => `${g.id} (${g.observedStatus})`)
              .join(
                ', ',
              )} could not be read, so the copilot cannot confirm the cluster is healthy; nothing it could see was wrong`
          : 'the forward-progress signals (state transitions) could not be read';
    issues.push({
      key: `visibility.${e.reason}`,
      severity: 'warning',
      title: 'The copilot cannot see forward progress',
      description: `Health is unknown because ${why}.`,
      likely_cause:
        'The metrics source is unreachable, the cluster stopped reporting, or the queries match no series (wrong dialect or labels).',
      contributing_factors: [],
      suggested_actions: [
        {
          action_type: 'investigate',
          target_service: 'copilot',
          description:
            'Check the metrics source (URL, credentials, dialect) and that the cluster exports metrics.',
          confidence: 0.7,
          risk: 'low',
        },
      ],
      related_signals:
        blind.length > 0 ? [...new Set(blind.map((g) => g.signal))] : [SIG.throughput],
    });
    return {
      summary: `Unknown: ${why}. The last known state was ${e.carried.lastKnownState ?? 'never seen'}.${cite(sources[0])}`,
      confidence,
      issues,
      sources,
    };
  }

  if (e.idle) {
    return {
      summary:
        'Happy: the cluster is idle — no work waiting, nothing failing. Low throughput, long polls and poll timeouts are expected now.',
      confidence,
      issues,
      sources,
    };
  }

  for (const g of e.gates) {
    if (!g.fired || (g.level !== 'critical' && g.level !== 'stressed')) continue;
    // Evaluations are stored; one written by a newer engine may carry a gate this build has no
    // text for. It is still a cause, never silently dropped.
    const text: GateText = GATE_TEXT[g.id as ProblemGateId] ?? {
      title: `Gate ${g.id} fired`,
      cause: `${signalById(g.signal)?.meaning ?? g.signal}`,
      service: 'copilot',
      actions: [],
    };
    const svc = e.services.find((s) => s.service === text.service);
    const related = patternsFor(text.service, patterns);
    const factors = [
      {
        signal: g.signal,
        description: `${signalById(g.signal)?.meaning ?? g.signal} Now ${gateFact(g)}.`,
        weight: 0.8,
      },
      ...(svc?.elevatedSignals ?? [])
        .filter((s) => s !== g.signal)
        .map((s) => ({
          signal: s,
          description: `${signalById(s)?.meaning ?? s} Also past its limit.`,
          weight: 0.4,
        })),
      ...related.map((p) => ({
        signal: `log:${p.pattern_id}`,
        description: `${p.count_is_lower_bound ? 'At least ' : ''}${p.count} "${p.pattern_id}" log lines from ${p.service}.`,
        weight: 0.3,
      })),
    ];
    issues.push({
      key: g.id,
      severity: capSeverity(e.state, g.level === 'critical' ? 'critical' : 'warning'),
      title: text.title,
      description: `${text.title}: ${gateFact(g)} (${e.scaleBand} band).`,
      likely_cause: `${text.cause}${cite(passageFor(g.id, sources, byGate))}`,
      contributing_factors: factors.slice(0, 10),
      suggested_actions: text.actions.map((a) => ({ ...a, parameters: {} })),
      related_signals: [g.signal],
    });
    causes.push(`${text.title.toLowerCase()} (${g.id})`);
  }

  if (e.workers.evaluated) {
    for (const f of e.workers.findings) {
      issues.push({
        key: `worker.${f.rule}.${f.signal}`,
        severity: capSeverity(e.state, f.severity),
        title: f.message.split(':')[0] ?? f.rule,
        description: f.message,
        likely_cause:
          'Worker capacity or configuration, seen from the SDK metrics or the task-queue backlogs.',
        contributing_factors: [
          {
            signal: f.signal,
            description: `${signalById(f.signal)?.meaning ?? f.signal}`,
            weight: 0.7,
          },
        ],
        suggested_actions:
          f.rule === 'NEVER_SCALE_DOWN_AT_ZERO' ||
          f.rule === 'TASKS_WAITING_FOR_WORKERS' ||
          f.rule === 'SCHEDULE_TO_START_HIGH'
            ? [
                {
                  action_type: 'scale',
                  target_service: 'workers',
                  description:
                    'Add worker capacity; never scale workers down while slots are exhausted.',
                  confidence: 0.6,
                  risk: 'low',
                  parameters: {},
                },
              ]
            : [
                {
                  action_type: 'configure',
                  target_service: 'workers',
                  description: f.message,
                  confidence: 0.4,
                  risk: 'low',
                  parameters: {},
                },
              ],
        related_signals: [f.signal],
      });
    }
  }

  if (e.systemBusy) {
    issues.push({
      key: 'system.busy',
      severity: 'info',
      title: 'Retention cleanup is running',
      description:
        'The system is deleting closed workflows; low throughput and slower persistence are expected while it runs.',
      likely_cause: 'Retention or namespace deletion work.',
      contributing_factors: [],
      suggested_actions: [],
      related_signals: [SIG.deletion, SIG.cleanup],
    });
    causes.push('retention cleanup is running (expected, not a failure)');
  }

  if (e.reason === 'below_healthy') {
    const misses = e.gates
      .filter((g) => g.fired && g.level === 'healthy')
      .map((g) => HEALTHY_TEXT[g.id as HealthyGateId] ?? g.id);
    causes.push(...misses);
  }
  if (e.reason === 'recovery_hysteresis') {
    causes.push('recovering from critical, but still near the critical limits');
  }

  const bottleneck =
    e.bottleneck === 'healthy' || e.bottleneck === 'unknown'
      ? ''
      : ` Bottleneck: ${e.bottleneck.replace('_', '-')}.`;
  const why = causes.length > 0 ? `: ${causes.join('; ')}.` : ': every gate passes.';
  const streak =
    e.reason === 'critical_debouncing' || e.reason === 'critical_guard_from_happy'
      ? ` Critical evidence for ${e.carried.criticalStreak} cycle(s); critical needs it sustained.`
      : '';
  const lead = issues.find((i) => i.severity !== 'info');
  const runbook =
    e.state === 'happy'
      ? ''
      : cite(lead === undefined ? sources[0] : passageFor(lead.key, sources, byGate));
  return {
    summary: `${STATE_WORD[e.state]}${why}${bottleneck}${streak}${runbook}`,
    confidence,
    issues,
    sources,
  };
}
