import type { LokiSource } from '../sources/loki.js';
import type { LogPatternSource } from './index.js';

/**
 * Adapts a Loki narrative source to what the log watcher's activity stores: one row per pattern
 * and service, counts marked as lower bounds when Loki's line limit was hit.
 */
export function lokiPatternSource(loki: LokiSource): LogPatternSource {
  return {
    async patterns(_from, to) {
      const r = await loki.narrative(to);
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
