import { describe, expect, it } from 'vitest';
import {
  type LogLine,
  lineFilter,
  matchNarrative,
  serviceOf,
} from '../../../shared/signals/narrative.js';
import { NARRATIVE_PATTERNS } from '../../../shared/signals/narrative-patterns.js';

const hist = { job: 'temporal', service_name: 'history' };
const match = { job: 'temporal', service_name: 'matching' };

describe('matchNarrative', () => {
  it('counts case-insensitive substring matches per pattern and service, highest first', () => {
    // Prepare
    const lines = [
      { line: 'Persistence: SQLSTATE 40001 could not serialize', labels: hist },
      { line: 'sqlstate 40001 again', labels: hist },
      { line: 'SQLSTATE 40001 on matching', labels: match },
      { line: 'rpc error: Deadline Exceeded', labels: match },
      { line: 'all good', labels: hist },
    ];
    // Act
    const n = matchNarrative(lines, { limit: 1000 });
    // Assess
    expect(n.linesScanned).toBe(5);
    expect(n.limitHit).toBe(false);
    expect(n.patterns.map((p) => [p.patternId, p.service, p.count])).toEqual([
      ['sqlstate_40001', 'history', 2],
      ['deadline_exceeded', 'matching', 1],
      ['sqlstate_40001', 'matching', 1],
    ]);
    expect(n.patterns[0]).toMatchObject({
      sample: 'Persistence: SQLSTATE 40001 could not serialize',
      atLeast: false,
      speaksFor: 'persistence',
    });
  });

  it('applies service filters by substring and counts one line for every pattern it matches', () => {
    const lines: LogLine[] = [
      // shard_ownership is history-only: the matching line does not count.
      { line: 'shard ownership lost', labels: { service: 'temporal-history' } },
      { line: 'shard ownership lost', labels: { container: 'temporal-matching-1' } },
      // "no poller" is matching-only; this line also says "deadline exceeded".
      { line: 'no poller seen, deadline exceeded', labels: { container: 'temporal-matching-1' } },
    ];
    const n = matchNarrative(lines);
    expect(n.patterns.map((p) => [p.patternId, p.service, p.count])).toEqual([
      ['deadline_exceeded', 'temporal-matching-1', 1],
      ['no_poller', 'temporal-matching-1', 1],
      ['shard_ownership', 'temporal-history', 1],
    ]);
  });

  it('marks counts as lower bounds when the line limit was hit and truncates samples', () => {
    const long = `context canceled ${'x'.repeat(2000)}`;
    const lines = Array.from({ length: 3 }, () => ({ line: long, labels: hist }));
    const n = matchNarrative(lines, { limit: 3 });
    expect(n.limitHit).toBe(true);
    expect(n.patterns[0]).toMatchObject({ count: 3, atLeast: true });
    expect(n.patterns[0]?.sample).toHaveLength(500);
  });

  it('marks counts as lower bounds when told the lines were cut off, whatever their number', () => {
    const lines = [{ line: 'context canceled', labels: hist }];
    // Merged from several queries: the caller knows one was cut off, the line count cannot say.
    const cut = matchNarrative(lines, { limit: 1000, limitHit: true });
    expect(cut.limitHit).toBe(true);
    expect(cut.patterns.map((p) => p.atLeast)).toEqual([true]);
    // limitHit: false does not hide a limit the lines themselves reach.
    expect(matchNarrative(lines, { limit: 1, limitHit: false }).limitHit).toBe(true);
    expect(matchNarrative(lines, { limitHit: false }).patterns[0]?.atLeast).toBe(false);
  });

  it('reads the service from service_name, service, container, then job', () => {
    expect(serviceOf({ job: 'temporal', service_name: 'history' })).toBe('history');
    expect(serviceOf({ service: 'frontend', container: 'c' })).toBe('frontend');
    expect(serviceOf({ container: 'temporal-worker-1' })).toBe('temporal-worker-1');
    expect(serviceOf({ job: 'temporal' })).toBe('temporal');
    expect(serviceOf({})).toBe('unknown');
  });
});

describe('lineFilter', () => {
  it('builds one case-insensitive alternation that matches every pattern literally', () => {
    const f = lineFilter();
    expect(f.startsWith('|~ `(?i)(')).toBe(true);
    const re = new RegExp(f.slice(4, -1).replace('(?i)', ''), 'i');
    for (const p of NARRATIVE_PATTERNS)
      expect(re.test(`xx ${p.pattern.toUpperCase()} yy`)).toBe(true);
    expect(re.test('nothing interesting')).toBe(false);
    const dotted = lineFilter([
      { ...(NARRATIVE_PATTERNS[0] as (typeof NARRATIVE_PATTERNS)[0]), pattern: 'a.b' },
    ]);
    expect(dotted).toBe('|~ `(?i)(a\\.b)`');
  });
});
