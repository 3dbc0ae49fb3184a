import type { SignalDef } from '../../shared/signals/types.js';
import type { Snapshot } from '../../shared/signals/value.js';

/**
 * Where signal values come from: a Prometheus-compatible API (Prometheus, Mimir, AMP) or a direct
 * scrape of Temporal `/metrics` endpoints. Every implementation returns tri-state values and never
 * throws for a failed query: a failure is an `error` value, a missing series is `absent`.
 */
export interface SignalSource {
  /** Short name for logs and the CLI (`prometheus`, `amp`, `scrape`). */
  readonly kind: string;
  /**
   * One observation at `at` (epoch ms) of the given signals (default: the whole catalog). One call
   * is one observation cycle: one batch of bounded-concurrency requests with per-query timeouts.
   */
  snapshot(at: number, signals?: readonly SignalDef[]): Promise<Snapshot>;
  /** Releases connections and timers. Safe to call twice. */
  close(): Promise<void>;
}

/** A source that can answer a whole time range in a handful of requests (for replay). */
export interface RangeSignalSource extends SignalSource {
  /** Snapshots at `from`, `from + stepMs`, … `to` (epoch ms), in order. */
  range(
    from: number,
    to: number,
    stepMs: number,
    signals?: readonly SignalDef[],
  ): Promise<Snapshot[]>;
}
