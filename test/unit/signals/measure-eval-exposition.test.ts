import { describe, expect, it } from 'vitest';
import { ExpositionParseError, parseExposition } from '../../../shared/signals/exposition.js';

describe('parseExposition', () => {
  it('parses names, labels, special values, timestamps and skips comments', () => {
    const text = [
      '# HELP service_latency latency',
      '# TYPE service_latency histogram',
      'service_latency_bucket{operation="Poll",le="+Inf"} 12',
      'up 1 1764288000000',
      'weird{a="x",} NaN',
      'neg -Inf',
      'sci 1.5e3',
      '',
      '  # indented comment',
      'win{path="C:\\\\DIR\\\\F.TXT",msg="say \\"hi\\"\\nbye"} 2',
    ].join('\r\n');
    const s = parseExposition(text);
    expect(s.map((x) => x.name)).toEqual([
      'service_latency_bucket',
      'up',
      'weird',
      'neg',
      'sci',
      'win',
    ]);
    expect(s[0]).toMatchObject({
      name: 'service_latency_bucket',
      labels: { operation: 'Poll', le: '+Inf' },
      value: 12,
    });
    expect(s[1]?.timestampMs).toBe(1_764_288_000_000);
    expect(s[2]?.value).toBeNaN();
    expect(s[2]?.labels).toEqual({ a: 'x' });
    expect(s[3]?.value).toBe(Number.NEGATIVE_INFINITY);
    expect(s[4]?.value).toBe(1500);
    expect(s[5]?.labels).toEqual({ path: 'C:\\DIR\\F.TXT', msg: 'say "hi"\nbye' });
  });

  it('fails on malformed lines with the line number', () => {
    expect(() => parseExposition('ok 1\nbad{a="1" 2')).toThrow(ExpositionParseError);
    expect(() => parseExposition('ok 1\nbad{a="1"} two')).toThrow(/line 2: invalid value/);
    expect(() => parseExposition('x{a="1",a="2"} 1')).toThrow(/duplicate label/);
    expect(() => parseExposition('9x 1')).toThrow(/invalid metric name/);
    expect(() => parseExposition('x 1 12.5')).toThrow(/invalid timestamp/);
  });
});
