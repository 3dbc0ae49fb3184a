import { openStore, type Store } from '../../shared/store/connection.js';
import { StoreConfigError } from '../../shared/store/errors.js';
import { storeTargetFromEnv } from '../../shared/store/target.js';
import type { ApiEnv } from './env.js';

/** How the handler gets its store: once per cold start, then reused. */
export type StoreProvider = () => Promise<Store>;

/**
 * A memoised store opened from the environment. Opening is lazy (first request) so a cold start
 * never fails before it can answer; a failed open is forgotten so the next request retries
 * instead of serving a cached failure for the container's lifetime.
 */
export function storeFromEnv(env: ApiEnv): StoreProvider {
  let pending: Promise<Store> | null = null;
  return () => {
    if (pending === null) {
      pending = open(env).catch((error: unknown) => {
        pending = null;
        throw error;
      });
    }
    return pending;
  };
}

async function open(env: ApiEnv): Promise<Store> {
  const target = storeTargetFromEnv(env);
  // ApiEnv has no COPILOT_DATA_DIR: a Lambda has no embedded store to fall back on.
  if (target === undefined || target.dialect === 'embedded')
    throw new StoreConfigError('set exactly one of COPILOT_DATABASE_URL and COPILOT_DSQL_ENDPOINT');
  // One request at a time per Lambda container; /status reads up to 4 things at once. The API
  // never migrates (its database role may only read), so it opens the connection itself rather
  // than through `openStoreTarget`, which keeps the migrations out of its bundle.
  return openStore({ ...target, max: 4 });
}

/** A provider for a store the caller already opened (local server, tests). */
export function fixedStore(store: Store): StoreProvider {
  return async () => store;
}
