import { describe, expect, it } from 'vitest';
import { metricsOf, SIGNAL_CATALOG, signalById } from '../../../shared/signals/catalog.js';
import { DERIVED, SIG } from '../../../shared/signals/ids.js';
import { NARRATIVE_PATTERNS } from '../../../shared/signals/narrative-patterns.js';
import type { Measure } from '../../../shared/signals/types.js';
import { SERVICES, SIGNAL_CATEGORIES, SIGNAL_UNITS } from '../../../shared/signals/types.js';

const families = (category: string) =>
  new Set(SIGNAL_CATALOG.filter((s) => s.category === category).map((s) => s.family));

describe('signal catalog', () => {
  it('has unique ids of the form group.field', () => {
    const ids = SIGNAL_CATALOG.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z_]+\.[a-z0-9_]+$/);
  });

  it('covers the 12 primary families, the amplifier families and W1–W6', () => {
    expect([...families('primary')].sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 12 }, (_, i) => String(i + 1)),
    );
    // Amplifier 6 (worker slots/pollers) lives in W3–W6 and 13 (logs) in the narrative patterns.
    const amp = families('amplifier');
    for (const f of ['1', '2', '3', '4', '5', '7', '8', '9', '10', '11', '12', '14']) {
      expect(amp.has(f), `amplifier family ${f}`).toBe(true);
    }
    const worker = families('worker');
    for (const f of ['W1', 'W2', 'W3', 'W4', 'W5', 'W6']) expect(worker.has(f), f).toBe(true);
    expect(families('system')).toEqual(new Set(['S']));
  });

  it('describes every signal completely', () => {
    for (const s of SIGNAL_CATALOG) {
      expect(SIGNAL_CATEGORIES).toContain(s.category);
      expect(SIGNAL_UNITS).toContain(s.unit);
      expect(s.meaning.length, s.id).toBeGreaterThan(10);
      expect(s.services.length, s.id).toBeGreaterThan(0);
      for (const svc of s.services) expect(SERVICES).toContain(svc);
    }
  });

  it('defines every signal the engine reads', () => {
    for (const id of Object.values(SIG)) expect(signalById(id), id).toBeDefined();
    for (const id of Object.values(DERIVED)) expect(signalById(id), id).toBeUndefined();
  });

  it('aggregates each metric type only in ways that mean something', () => {
    // The prior art read cumulative counters as depths and loads
    // (docs/lessons.md#counters-are-not-depths): a counter may
    // only be rated, a gauge only aggregated as a gauge, a quantile only taken of a distribution.
    const check = (m: Measure, id: string): void => {
      switch (m.kind) {
        case 'rate':
          for (const s of m.series)
            expect(['counter', 'histogram', 'timer'], id).toContain(s.metric.type);
          expect(m.windowSec, id).toBeGreaterThanOrEqual(60);
          break;
        case 'gauge':
          for (const s of m.series) expect(s.metric.type, id).toBe('gauge');
          break;
        case 'quantile':
          expect(['histogram', 'timer'], id).toContain(m.series.metric.type);
          expect(m.q).toBeGreaterThan(0);
          expect(m.q).toBeLessThan(1);
          break;
        case 'ratio':
          check(m.numerator, id);
          check(m.denominator, id);
          break;
      }
    };
    for (const s of SIGNAL_CATALOG) check(s.measure, s.id);
  });

  it('reads SDK metrics only for worker signals, and DSQL plugin metrics only for persistence', () => {
    for (const s of SIGNAL_CATALOG) {
      const emitters = new Set(metricsOf(s.measure).map((m) => m.emitter));
      if (emitters.has('sdk')) expect(s.category, s.id).toBe('worker');
      if (emitters.has('dsql')) expect(s.services, s.id).toContain('persistence');
    }
  });

  it('excludes long polls from frontend latency and reads them separately', () => {
    const matchers = (id: string) => {
      const m = signalById(id)?.measure;
      return m?.kind === 'quantile' ? m.series.matchers : [];
    };
    expect(matchers('frontend.latency_p99_ms')).toContainEqual(
      expect.objectContaining({ label: 'operation', op: '!~' }),
    );
    expect(matchers('frontend.long_poll_latency_p99_ms')).toContainEqual(
      expect.objectContaining({ label: 'operation', op: '=~' }),
    );
  });

  it('has one signal that proves the target is seen and one that proves progress', () => {
    expect(SIGNAL_CATALOG.filter((s) => s.roles?.includes('liveness')).map((s) => s.id)).toEqual([
      'runtime.goroutines',
    ]);
    expect(signalById(SIG.throughput)?.roles).toContain('progress');
  });
});

describe('narrative patterns', () => {
  it('keep the prior art 14 and add DSQL and Temporal patterns', () => {
    expect(NARRATIVE_PATTERNS.filter((p) => p.origin === 'prior-art')).toHaveLength(14);
    expect(NARRATIVE_PATTERNS.some((p) => p.origin === 'dsql')).toBe(true);
    expect(NARRATIVE_PATTERNS.some((p) => p.origin === 'temporal')).toBe(true);
    const ids = NARRATIVE_PATTERNS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
