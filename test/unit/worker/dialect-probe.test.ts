import { describe, expect, it } from 'vitest';
import { detectDialect } from '../../../shared/signals/dialect.js';
import {
  PROBE_SELECTOR,
  probeGrid,
  resolveDialect,
  standInNames,
} from '../../../worker/sources/dialect-probe.js';
import {
  type FixtureSdkDialect,
  type FixtureServerDialect,
  generateOpenMetrics,
  SCENARIOS,
} from '../../fixtures/openmetrics/scenarios.js';

/** The names an exposition document holds. */
function namesOf(doc: string): Set<string> {
  const out = new Set<string>();
  for (const line of doc.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m?.[1] !== undefined) out.add(m[1]);
  }
  return out;
}

/** What the probe's `__name__=~` matcher selects (PromQL regexes are anchored). */
const selected = (() => {
  const inner = /^\{__name__=~"(.*)"\}$/.exec(PROBE_SELECTOR)?.[1];
  if (inner === undefined) throw new Error(`unexpected selector ${PROBE_SELECTOR}`);
  const re = new RegExp(`^(?:${inner})$`);
  return (names: Iterable<string>) => new Set([...names].filter((n) => re.test(n)));
})();

describe('the dialect probe asks for enough to decide', () => {
  it.each([
    ['tally', 'core'],
    ['otel', 'go'],
    ['otel', 'core'],
    ['tally', 'go'],
  ] as const)('%s server, %s SDK: the probed names decide as every name would', (server, sdk) => {
    const scenario = SCENARIOS.find((s) => s.id === 'healthy');
    if (scenario === undefined) throw new Error('no healthy scenario');
    const all = namesOf(
      generateOpenMetrics(scenario, {
        server: server as FixtureServerDialect,
        sdk: sdk as FixtureSdkDialect,
        startSec: 0,
      }),
    );
    const probed = selected(all);
    // No bucket series is asked for: one series per label set, not one per bucket.
    expect([...probed].filter((n) => n.endsWith('_bucket'))).toEqual([]);
    expect(detectDialect(standInNames(probed))).toEqual(detectDialect(all));
    expect(detectDialect(all).server).toBe(server);
  });

  it('a Go SDK exporting seconds is told apart by its _seconds_count series', () => {
    const names = new Set(['temporal_activity_schedule_to_start_latency_seconds_count']);
    expect(selected(names)).toEqual(names);
    expect(detectDialect(standInNames(names)).sdk).toBe('go');
  });
});

describe('probeGrid', () => {
  const H = 3_600_000;
  it.each([
    [0, H, 1, 3600],
    [0, 30 * 60_000, 1, 1800],
    [0, 24 * H, 24, 3600],
    [0, 31 * 24 * H, 30, (31 * 24 * 3600) / 30],
    [5, 5, 1, 1], // an empty window still makes one valid query
  ])('[%i, %i] → %i evaluations of %i s that cover the window', (from, to, steps, stepSec) => {
    const g = probeGrid(from, to);
    expect([g.steps, g.stepSec, g.end]).toEqual([steps, stepSec, to]);
    // The first evaluation's range reaches back to `from` (or before), never past the window's end.
    expect(g.start - g.stepSec * 1000).toBeLessThanOrEqual(from);
    expect(g.start + (g.steps - 1) * g.stepSec * 1000).toBe(to);
  });
});

describe('resolveDialect', () => {
  it('an override wins, then detection, then the default', () => {
    expect(resolveDialect({ server: 'otel' }, { server: 'tally', sdk: 'go' })).toEqual({
      dialect: { server: 'otel', sdk: 'go', sdkPrefix: 'temporal_' },
      origin: { server: 'override', sdk: 'detected' },
    });
    expect(resolveDialect({ server: 'auto', sdkPrefix: 'x_' }, {})).toEqual({
      dialect: { server: 'tally', sdk: 'core', sdkPrefix: 'x_' },
      origin: { server: 'default', sdk: 'default' },
    });
  });
});
