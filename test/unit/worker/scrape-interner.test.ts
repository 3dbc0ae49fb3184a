import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../shared/signals/exposition.js';
import { createSeriesInterner } from '../../../worker/sources/scrape.js';

const exposition = (value: number, extra = '') =>
  [
    '# TYPE service_requests counter',
    `service_requests{operation="StartWorkflowExecution",service_name="frontend"} ${value}`,
    `service_requests{operation="PollWorkflowTaskQueue",service_name="frontend"} ${value * 2}`,
    extra,
  ].join('\n');

const parse = (text: string) => parseExposition(text, { keyPrefix: 'http://h/metrics\u0002' });

describe('createSeriesInterner', () => {
  it('gives every scrape of a series the same label object and key, with its own value', () => {
    const interner = createSeriesInterner();
    const first = interner.intern(parse(exposition(1)), 1_000);
    const second = interner.intern(parse(exposition(5)), 2_000);
    expect(second.map((s) => s.value)).toEqual([5, 10]);
    expect(second.map((s) => s.labels)).toEqual(first.map((s) => s.labels));
    // The same objects, not equal copies: a scrape adds values, not identities.
    second.forEach((s, i) => {
      expect(s.labels).toBe(first[i]?.labels);
    });
    expect(second.map((s) => s.key)).toEqual(parse(exposition(5)).map((s) => s.key));
    expect(interner.size).toBe(2);
  });

  it('keeps identities copied away from the parsed text, equal to what was parsed', () => {
    const interner = createSeriesInterner();
    const parsed = parse(exposition(3));
    const kept = interner.intern(parsed, 1_000);
    // A copy, not the parser's object (whose strings are slices of the whole body).
    expect(kept[0]?.labels).not.toBe(parsed[0]?.labels);
    expect(kept).toEqual(parsed);
  });

  it('keeps an explicit sample timestamp', () => {
    const interner = createSeriesInterner();
    const [s] = interner.intern(parse('up{job="t"} 1 1700000000000'), 1_000);
    expect(s).toMatchObject({ value: 1, timestampMs: 1_700_000_000_000 });
  });

  it('forgets a series no retained scrape holds, and only those', () => {
    const interner = createSeriesInterner();
    interner.intern(parse(exposition(1, 'task_queue_backlog{task_queue="gone"} 7')), 1_000);
    const gone = interner.intern(parse('task_queue_backlog{task_queue="gone"} 7'), 1_000)[0];
    interner.intern(parse(exposition(2)), 2_000);
    expect(interner.size).toBe(3);
    interner.forgetBefore(2_000);
    expect(interner.size).toBe(2);
    // Seen again later, it is a new identity.
    const back = interner.intern(parse('task_queue_backlog{task_queue="gone"} 8'), 3_000)[0];
    expect(back?.labels).not.toBe(gone?.labels);
    interner.forgetBefore(Number.POSITIVE_INFINITY);
    expect(interner.size).toBe(0);
  });
});
