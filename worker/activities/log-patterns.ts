import type { LokiSource } from '../sources/loki.js';
import type { LogPatternSource } from './index.js';

/**
 * Adapts a Loki narrative source to what the log watcher's activity stores: one row per pattern
 * and service over exactly the window the activity asks for, counts marked as lower bounds when
 * Loki's line limit was hit.
 */
export function lokiPatternSource(loki: LokiSource): LogPatternSource {
  return {
    async patterns(from, to) {
      const r = await loki.narrative(from, to);
      if (r.status === 'error') return { ok: false, error: r.message };
      return {
        ok: true,
        patterns: r.narrative.patterns.map((p) => ({
          pattern_id: p.patternId,
          service: p.service,
          count: p.count,
          count_is_lower_bound: p.atLeast,
          sample: p.sample,
        })),
      };
    },
  };
}
