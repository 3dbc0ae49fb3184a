import { messageOf } from '../../shared/errors.js';
import {
  ENGINE_IDS,
  ENGINE_WIDTH,
  type ObservationColumns,
  observationColumns,
  writeValue,
} from '../../shared/health/observation.js';
import { SIGNAL_CATALOG, signalById } from '../../shared/signals/catalog.js';
import type { Dialect } from '../../shared/signals/dialect.js';
import { renderSignal } from '../../shared/signals/promql.js';
import type { SignalDef } from '../../shared/signals/types.js';
import { ABSENT, failed, type SignalValue, type Snapshot } from '../../shared/signals/value.js';
import { createDialectProber, type DialectChoice, type ProbeResult } from './dialect-probe.js';
import { short } from './fetch-error.js';
import {
  createPrometheusClient,
  epochSec,
  type PrometheusAuth,
  QueryError,
} from './prometheus-http.js';
import type { RangeSignalSource } from './types.js';

/**
 * A signal source over the Prometheus HTTP API (Prometheus, Mimir, Amazon Managed Prometheus).
 * One observation cycle is one batch of form-encoded POST queries, run with bounded concurrency and
 * a timeout each. Every failure becomes a tri-state value, never a throw and never a 0.
 *
 * It composes an HTTP client (`prometheus-http.ts`: URL, auth, limits, errors as one line) and a
 * dialect prober (`dialect-probe.ts`); what is left here is turning the catalog into queries and
 * their answers into values.
 */

export type { DialectChoice, ProbeResult } from './dialect-probe.js';
export {
  normalizePrometheusUrl,
  type PrometheusAuth,
  PrometheusConfigError,
} from './prometheus-http.js';

export interface PrometheusSourceOptions {
  /** Base URL; a trailing `/api/v1`, `/api/v1/query` or `/api/v1/query_range` is accepted. */
  readonly url: string;
  readonly auth?: PrometheusAuth;
  readonly dialect?: DialectChoice;
  /** Queries in flight at once (default 8): enough for a cycle, gentle on the server. */
  readonly concurrency?: number;
  /** Per instant query (default 10 s). */
  readonly timeoutMs?: number;
  /** Per range-query chunk (default 120 s): a day of one signal is one heavier query. */
  readonly rangeTimeoutMs?: number;
  /** Points per range request; Prometheus refuses more than 11,000 (default 10,000). */
  readonly maxPointsPerRequest?: number;
  /** Environment for SigV4 region/credentials defaults (tests pass their own). */
  readonly env?: NodeJS.ProcessEnv;
  /** Largest instant-query response read; past it the value is an error (default 8 MiB). */
  readonly maxResponseBytes?: number;
  /** Largest range-query response read (replay chunks, the probe; default 32 MiB). */
  readonly maxRangeResponseBytes?: number;
}

export interface PrometheusSource extends RangeSignalSource {
  /** The normalised base URL (no `/api/v1` suffix). */
  readonly baseUrl: string;
  /** HTTP requests sent since creation (bench and tests). */
  readonly requestCount: number;
  /**
   * Finds which Temporal series have samples in `[from, to]` (one range query), detects the
   * dialect from their names (unless overridden) and checks that the Temporal server's metrics
   * are there at all.
   */
  probe(from: number, to: number): Promise<ProbeResult>;
  /** The most recent probe, if any. */
  readonly lastProbe: ProbeResult | undefined;
  /**
   * The engine's signals at `from`, `from + stepMs`, … `to` as observation columns, for the
   * decision kernel (`copilot replay`): one range query per engine signal, no snapshot objects.
   */
  rangeColumns(from: number, to: number, stepMs: number): Promise<ObservationColumns>;
}

/** Prometheus writes sample values as strings: `"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`. */
export function sampleValue(raw: string, sampledAt?: number): SignalValue {
  // NaN is what PromQL yields for "no data in the window" (0/0, a quantile of no observations).
  if (raw === 'NaN') return ABSENT;
  if (raw === '+Inf' || raw === '-Inf' || raw === 'Inf') {
    return failed(`non-finite value ${raw} (division by zero or an unbounded bucket)`);
  }
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v))
    return failed(`malformed sample value ${short(raw, 40)}`);
  return sampledAt === undefined
    ? { status: 'ok', value: v }
    : { status: 'ok', value: v, sampledAt };
}

const errorValue = (error: unknown): SignalValue =>
  failed(error instanceof QueryError ? error.message : `query failed: ${messageOf(error)}`);

/** The catalog entries of the signals the engine reads, with their position in a row. */
const ENGINE_SIGNALS: ReadonlyArray<readonly [number, SignalDef]> = ENGINE_IDS.map((id, i) => {
  const s = signalById(id);
  if (s === undefined) throw new Error(`engine signal ${id} is not in the catalog`);
  return [i, s] as const;
});

export function createPrometheusSource(options: PrometheusSourceOptions): PrometheusSource {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const rangeTimeoutMs = options.rangeTimeoutMs ?? 120_000;
  const maxPoints = Math.min(options.maxPointsPerRequest ?? 10_000, 11_000);
  const client = createPrometheusClient({
    url: options.url,
    ...(options.auth === undefined ? {} : { auth: options.auth }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.maxResponseBytes === undefined
      ? {}
      : { maxResponseBytes: options.maxResponseBytes }),
    ...(options.maxRangeResponseBytes === undefined
      ? {}
      : { maxRangeResponseBytes: options.maxRangeResponseBytes }),
  });
  const prober = createDialectProber({
    client,
    ...(options.dialect === undefined ? {} : { choice: options.dialect }),
    timeoutMs,
    rangeTimeoutMs,
  });

  async function instant(expr: string, at: number): Promise<SignalValue> {
    try {
      const r = await client.query('query', { query: expr, time: epochSec(at) }, timeoutMs);
      if (r.resultType === 'scalar') return sampleValue(r.result[1]);
      if (r.resultType === 'matrix') return failed('unexpected range result for an instant query');
      if (r.result.length === 0) return ABSENT;
      if (r.result.length > 1) return failed(`expected one series, got ${r.result.length}`);
      return sampleValue((r.result[0] as { value: [number, string] }).value[1]);
    } catch (error) {
      return errorValue(error);
    }
  }

  function render(s: SignalDef, dialect: Dialect): string | SignalValue {
    try {
      return renderSignal(s, dialect);
    } catch (error) {
      return failed(`cannot render query: ${messageOf(error)}`);
    }
  }

  async function snapshot(
    at: number,
    signals: readonly SignalDef[] = SIGNAL_CATALOG,
  ): Promise<Snapshot> {
    const values: Record<string, SignalValue> = {};
    try {
      const dialect = await prober.dialectFor(at - 3_600_000, at, true);
      await Promise.all(
        signals.map(async (s) => {
          const q = render(s, dialect);
          values[s.id] = typeof q === 'string' ? await instant(q, at) : q;
        }),
      );
    } catch (error) {
      // Defensive: nothing above should throw, but a source must never throw out of a cycle.
      const message = `snapshot failed: ${messageOf(error)}`;
      for (const s of signals) values[s.id] ??= failed(message);
    }
    return { observedAt: at, values };
  }

  /** One signal over the grid, in chunks below the points limit → value per step index. */
  async function rangeOf(
    expr: string,
    grid: readonly number[],
    stepMs: number,
  ): Promise<SignalValue[]> {
    const out: SignalValue[] = new Array<SignalValue>(grid.length).fill(ABSENT);
    const chunks: Array<[number, number]> = [];
    for (let i = 0; i < grid.length; i += maxPoints)
      chunks.push([i, Math.min(i + maxPoints, grid.length) - 1]);
    await Promise.all(
      chunks.map(async ([a, b]) => {
        const start = grid[a] as number;
        const end = grid[b] as number;
        try {
          const r = await client.query(
            'query_range',
            { query: expr, start: epochSec(start), end: epochSec(end), step: epochSec(stepMs) },
            rangeTimeoutMs,
          );
          if (r.resultType !== 'matrix')
            throw new QueryError(`unexpected ${r.resultType} result for a range query`);
          if (r.result.length > 1)
            throw new QueryError(`expected one series, got ${r.result.length}`);
          const series = r.result[0];
          if (series === undefined) return; // absent at every step of the chunk
          for (const [ts, raw] of series.values) {
            const ms = Math.round(ts * 1000);
            const k = (ms - start) / stepMs;
            // Only points on our grid count; a step without a point stays absent.
            if (Number.isInteger(k) && k >= 0 && a + k <= b) out[a + k] = sampleValue(raw);
          }
        } catch (error) {
          const v = errorValue(error);
          for (let i = a; i <= b; i++) out[i] = v;
        }
      }),
    );
    return out;
  }

  function gridOf(from: number, to: number, stepMs: number): number[] {
    if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) {
      throw new RangeError(`invalid range ${from}..${to}`);
    }
    if (!Number.isInteger(stepMs) || stepMs <= 0) throw new RangeError(`invalid step ${stepMs} ms`);
    const grid: number[] = [];
    for (let t = from; t <= to; t += stepMs) grid.push(t);
    return grid;
  }

  async function range(
    from: number,
    to: number,
    stepMs: number,
    signals: readonly SignalDef[] = SIGNAL_CATALOG,
  ): Promise<Snapshot[]> {
    const grid = gridOf(from, to, stepMs);
    const snaps: Snapshot[] = grid.map((t) => ({ observedAt: t, values: {} }));
    const dialect = await prober.dialectFor(from - 600_000, to);
    await Promise.all(
      signals.map(async (s) => {
        const q = render(s, dialect);
        const column = typeof q === 'string' ? await rangeOf(q, grid, stepMs) : grid.map(() => q);
        column.forEach((v, i) => {
          (snaps[i] as Snapshot).values[s.id] = v;
        });
      }),
    );
    return snaps;
  }

  /**
   * The engine's signals over the grid, written straight into observation columns: one query per
   * engine signal, no snapshot objects, so a replay of months costs a few flat buffers (about
   * 350 bytes per step) instead of an object per value. Range points carry no sample time;
   * Prometheus's own lookback decides staleness.
   */
  async function rangeColumns(
    from: number,
    to: number,
    stepMs: number,
  ): Promise<ObservationColumns> {
    const grid = gridOf(from, to, stepMs);
    const cols = observationColumns(grid.length);
    cols.observedAt.set(grid);
    const dialect = await prober.dialectFor(from - 600_000, to);
    await Promise.all(
      ENGINE_SIGNALS.map(async ([i, s]) => {
        const q = render(s, dialect);
        const column = typeof q === 'string' ? await rangeOf(q, grid, stepMs) : undefined;
        for (let row = 0; row < grid.length; row++) {
          const v = column === undefined ? (q as SignalValue) : column[row];
          writeValue(cols.n, cols.s, row * ENGINE_WIDTH + i, v, Number.NEGATIVE_INFINITY);
        }
      }),
    );
    return cols;
  }

  return {
    kind: client.authKind === 'sigv4' ? 'amp' : 'prometheus',
    baseUrl: client.base.href.replace(/\/$/, ''),
    get requestCount() {
      return client.requestCount;
    },
    get lastProbe() {
      return prober.lastProbe;
    },
    probe: (from, to) => prober.probe(from, to),
    snapshot,
    range,
    rangeColumns,
    async close() {
      client.close();
    },
  };
}
