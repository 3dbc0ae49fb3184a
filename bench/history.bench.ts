import { readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';

// CommonJS: its namespaces come through the default export under ESM.
const { temporal } = proto;
type History = proto.temporal.api.history.v1.IHistory;

/** Temporal suggests continue-as-new past either (server defaults: 4 Ki events, 4 MiB). */
const SUGGEST_EVENTS = 4 * 1024;
const SUGGEST_BYTES = 4 * 1024 * 1024;

/** What one observation cycle costs the observer's history, from a recorded history. */
export interface HistoryFootprint {
  readonly cycles: number;
  readonly eventsPerCycle: number;
  readonly bytesPerCycle: number;
  /** Cycles a run holds before Temporal suggests continuing as new. */
  readonly cyclesBeforeSuggested: number;
}

/**
 * Splits a history into cycles at each scheduling of the observation activity (`observeCycle`;
 * `observe` in histories recorded before the lean observer) and measures the protobuf bytes of
 * the events between consecutive ones — the encoding Temporal's size limits count.
 */
export function historyFootprint(history: History): HistoryFootprint {
  const events = history.events ?? [];
  const starts: number[] = [];
  events.forEach((e, i) => {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name === 'observeCycle' || name === 'observe') starts.push(i);
  });
  const sizes = events.map((e) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length);
  const full = starts.slice(0, -1).map((s, k) => {
    const end = starts[k + 1] as number;
    return { events: end - s, bytes: sizes.slice(s, end).reduce((a, b) => a + b, 0) };
  });
  const cycles = full.length;
  const eventsPerCycle = full.reduce((a, c) => a + c.events, 0) / Math.max(1, cycles);
  const bytesPerCycle = full.reduce((a, c) => a + c.bytes, 0) / Math.max(1, cycles);
  return {
    cycles,
    eventsPerCycle,
    bytesPerCycle,
    cyclesBeforeSuggested: Math.floor(
      Math.min(SUGGEST_EVENTS / eventsPerCycle, SUGGEST_BYTES / bytesPerCycle),
    ),
  };
}

export function describeFootprint(what: string, f: HistoryFootprint): string {
  return (
    `${what}: ${Math.round(f.bytesPerCycle).toLocaleString('en-US')} B and ` +
    `${f.eventsPerCycle.toFixed(1)} events per cycle (mean of ${f.cycles} cycles, protobuf bytes ` +
    `as Temporal counts them, assessment starts included); Temporal would suggest continue-as-new ` +
    `after ~${f.cyclesBeforeSuggested.toLocaleString('en-US')} cycles (4 Ki events / 4 MiB)`
  );
}

/** The committed history the replay test uses, or any other given as an argument. */
export async function historyBench(): Promise<string[]> {
  const file = process.env.HISTORY_FILE ?? 'test/fixtures/histories/observe-cluster.json';
  const history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
  return [describeFootprint(`recorded observer history ${file}`, historyFootprint(history))];
}
