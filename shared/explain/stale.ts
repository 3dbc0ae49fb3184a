/**
 * The words for "the copilot itself is not keeping up": the newest evaluation is older than the
 * staleness limit, so nothing is known of the cluster now. This is not the engine's state (the
 * engine never saw this cycle); every reader of the current state gives it (`/status/summary`
 * replaces the assessment's words with it), and the dashboard shows it as such. Pure.
 */
export interface StaleFacts {
  readonly cluster: string;
  /** The newest evaluation's instant (ISO). */
  readonly lastObservedAt: string;
  readonly ageSeconds: number;
  readonly staleAfterSeconds: number;
  /** What the newest evaluation said. */
  readonly lastKnownState: string;
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

export function explainStale(f: StaleFacts): string {
  return (
    `Unknown: the copilot has not evaluated cluster "${f.cluster}" since ${f.lastObservedAt} ` +
    `(${duration(f.ageSeconds)} ago; it counts as stale after ${duration(f.staleAfterSeconds)}). ` +
    `The last known state was ${f.lastKnownState}, which may no longer hold. The copilot's ` +
    'observer may be stopped, its worker down, or its store refusing writes: check the copilot ' +
    'worker and its logs (runbook: docs/rag, "The copilot itself is stale or blind") before ' +
    'trusting any state shown here.'
  );
}
