/** A request's abort signal: its own deadline, or its source closing, whichever comes first. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Clears the timer and the listener on the parent; call once the request (body too) is done. */
  release(): void;
}

/**
 * Aborts after `ms` with a `TimeoutError` (what `AbortSignal.timeout` would), or with the parent's
 * reason when `parent` aborts first.
 *
 * Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node (20.20 here) holds the timeout
 * signal inside such a composite only weakly, so a garbage collection before the deadline
 * collects it and the composite never aborts (nodejs/node#57736) — a query then waits as long as
 * the server does. Under a loaded worker (or the whole test suite) that turned "timed out after
 * 200 ms" into a value read 3 s later. Each composite also leaves a listener on the long-lived
 * parent until the parent aborts. Here the timer holds the controller strongly, and `release`
 * removes both.
 */
export function deadline(ms: number, parent: AbortSignal): Deadline {
  const controller = new AbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, release: () => {} };
  }
  const onParentAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'));
  }, ms);
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}
