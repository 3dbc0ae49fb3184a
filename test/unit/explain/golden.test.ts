import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evidenceConfidence } from '../../../shared/explain/confidence.js';
import {
  type Explanation,
  explainWithRules,
  STATE_WORD,
} from '../../../shared/explain/rule-based.js';
import { explainStale } from '../../../shared/explain/stale.js';
import type { CarriedState, Evaluation } from '../../../shared/health/evaluation.js';
import { INITIAL_CARRIED_STATE } from '../../../shared/health/evaluation.js';
import { localKnowledge } from '../../../worker/explain/knowledge.js';
import {
  COLLAPSE,
  HEALTHY,
  IDLE,
  PERSISTENCE_PRESSURE,
  RETENTION_STORM,
  repeat,
  run,
  type Spec,
  WORKER_STARVATION,
  withSpec,
} from '../../helpers/snapshots.js';

/*
 * Golden scenarios: the rule-based explainer over the real runbook corpus (docs/rag, through the
 * same local index `npm start` uses). For each, the words must agree with the engine (the summary
 * opens with its state, names the gate that fired, never claims more than the state), and cite a
 * runbook written for that gate. These are the explanations an operator reads when Bedrock is off
 * or failed, so they are held to what the model's answers are held to (shared/explain/llm.ts).
 */

const knowledge = localKnowledge('docs/rag');

const MID: CarriedState = {
  ...INITIAL_CARRIED_STATE,
  band: 'mid-scale',
  lastState: 'happy',
  lastKnownState: 'happy',
};

async function explain(e: Evaluation): Promise<Explanation> {
  const { passages } = await knowledge.passagesFor(e);
  return explainWithRules(e, { passages });
}

const settle = (spec: Spec, cycles = 4): Evaluation =>
  run(repeat(spec, cycles), undefined, MID).at(-1) as Evaluation;

/** The runbooks whose front matter lists `gate`. */
function runbooksFor(gate: string): string[] {
  return readdirSync('docs/rag')
    .filter((f) => f.endsWith('.md'))
    .filter((f) => {
      const front = readFileSync(`docs/rag/${f}`, 'utf8').split('\n---')[0] ?? '';
      return new RegExp(`\\b${gate.replace('.', '\\.')}\\b`).test(front);
    })
    .map((f) => `docs/rag/${f}`);
}

const SCENARIOS: readonly {
  readonly name: string;
  readonly spec: Spec;
  readonly state: Evaluation['state'];
  readonly gate: string;
}[] = [
  {
    name: 'a collapse (throughput gone, work piling up in history)',
    spec: COLLAPSE,
    state: 'critical',
    gate: 'critical.history_backlog',
  },
  {
    name: 'persistence pressure (DSQL p99 at 450 ms)',
    spec: PERSISTENCE_PRESSURE,
    state: 'stressed',
    gate: 'stressed.persistence_latency',
  },
  {
    name: 'worker starvation (activity tasks wait 200 s, no slots left)',
    spec: WORKER_STARVATION,
    state: 'stressed',
    gate: 'stressed.matching_backlog',
  },
  {
    name: 'a retention storm with slow persistence',
    spec: RETENTION_STORM,
    state: 'stressed',
    gate: 'stressed.persistence_latency',
  },
];

describe('golden explanations over the runbook corpus', () => {
  it('the corpus is there to ground in', async () => {
    const { passages, note } = await knowledge.passagesFor(settle(HEALTHY));
    expect(note).toBeUndefined();
    expect(passages.length).toBeGreaterThan(0);
  });

  it.each(SCENARIOS)('$name', async ({ spec, state, gate }) => {
    const e = settle(spec);
    expect(e.state).toBe(state);
    expect(e.firedGates).toContain(gate);

    const x = await explain(e);
    // The summary agrees with the engine and names the gate that fired.
    expect(x.summary.startsWith(`${STATE_WORD[state]}:`)).toBe(true);
    expect(x.summary).toContain(`(${gate})`);
    for (const other of ['Happy', 'Stressed', 'Critical', 'Unknown'].filter(
      (w) => w !== STATE_WORD[state],
    ))
      expect(x.summary.startsWith(other)).toBe(false);
    // An issue for the gate, no more severe than the state allows.
    const issue = x.issues.find((i) => i.key === gate);
    expect(issue).toBeDefined();
    if (state !== 'critical') expect(x.issues.every((i) => i.severity !== 'critical')).toBe(true);
    // It cites a runbook written for that gate, in the issue and in the summary.
    const written = runbooksFor(gate);
    expect(written.length).toBeGreaterThan(0);
    expect(written.some((f) => issue?.likely_cause.includes(`(${f})`))).toBe(true);
    expect(x.summary).toMatch(/Runbook: "[^"]+" — .+ \(docs\/rag\/[a-z-]+\.md\)\.$/);
    expect(x.sources.some((p) => written.includes(p.source))).toBe(true);
  });

  it('a retention storm is named as expected work, and its runbook is among the sources', async () => {
    const e = settle(RETENTION_STORM);
    expect(e.systemBusy).toBe(true);
    const x = await explain(e);
    expect(x.summary).toContain('retention cleanup is running (expected, not a failure)');
    expect(x.issues.find((i) => i.key === 'system.busy')?.severity).toBe('info');
    expect(x.sources.map((p) => p.source)).toContain('docs/rag/retention-storms.md');
  });

  it('worker starvation carries the worker finding and a scale-up, never a scale-down', async () => {
    const e = settle(WORKER_STARVATION);
    const x = await explain(e);
    const actions = x.issues.flatMap((i) => i.suggested_actions).filter((a) => a !== undefined);
    expect(actions.some((a) => a.target_service === 'workers' || a.action_type === 'scale')).toBe(
      true,
    );
    // "Never scale down" is advice; no action may be to remove capacity.
    for (const a of actions)
      expect(a.description.replace(/never scale workers down/i, '')).not.toMatch(
        /scale (the )?workers? down|remove workers|reduce (worker|replica)/i,
      );
    expect(
      x.sources.some((p) =>
        ['docs/rag/worker-scaling.md', 'docs/rag/matching-backlog-and-sync-match.md'].includes(
          p.source,
        ),
      ),
    ).toBe(true);
  });

  it('an idle cluster is happy and says why low numbers are fine, grounded in the idle runbook', async () => {
    const e = run(repeat(IDLE, 3)).at(-1) as Evaluation;
    expect(e.idle).toBe(true);
    const x = await explain(e);
    expect(x.summary).toMatch(/^Happy: the cluster is idle/);
    expect(x.issues).toEqual([]);
    expect(x.sources.map((p) => p.source)).toContain('docs/rag/long-polls-and-idle-clusters.md');
  });

  it('partial visibility is unknown, names the blind gate and cites the stale-or-blind runbook', async () => {
    const e = settle(withSpec(HEALTHY, { historyBacklog: 'error' }));
    expect(e.state).toBe('unknown');
    expect(e.reason).toBe('partial_visibility');
    const x = await explain(e);
    expect(x.summary).toMatch(/^Unknown: /);
    expect(x.summary).toContain('critical.history_backlog (error)');
    expect(x.summary).not.toMatch(/healthy\./);
    expect(x.summary).toContain('docs/rag/copilot-stale-or-blind.md');
    expect(x.issues.every((i) => i.severity !== 'critical')).toBe(true);
  });

  it('the stale sentence names a runbook that exists, by its title', () => {
    const text = explainStale({
      cluster: 'prod',
      lastObservedAt: '2026-11-30T10:00:00.000Z',
      ageSeconds: 600,
      staleAfterSeconds: 90,
      lastKnownState: 'happy',
    });
    const title = /"([^"]+)"\)/.exec(text)?.[1];
    expect(title).toBe('The copilot itself is stale or blind');
    expect(readFileSync('docs/rag/copilot-stale-or-blind.md', 'utf8')).toContain(`title: ${title}`);
    expect(text).toMatch(/^Unknown: /);
    expect(text).toContain('10 min ago');
  });

  it('confidence rises with the margin past the limit', () => {
    const at = (p99: number) =>
      evidenceConfidence(settle(withSpec(HEALTHY, { persistenceLatencyP99: p99 })));
    const near = at(220);
    const far = at(2_000);
    expect(far).toBeGreaterThan(near);
    expect(near).toBeGreaterThan(0);
    expect(far).toBeLessThanOrEqual(1);
  });

  it('confidence falls when a critical signal cannot be read', () => {
    const seen = evidenceConfidence(settle(withSpec(HEALTHY, { persistenceLatencyP99: 450 })));
    const blind = evidenceConfidence(
      settle(withSpec(HEALTHY, { persistenceLatencyP99: 450, persistenceErrors: 'error' })),
    );
    expect(blind).toBeLessThan(seen);
  });
});
