import { openStore, type Store } from '../../shared/store/connection.js';
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
      const open =
        env.COPILOT_DSQL_ENDPOINT !== undefined
          ? openStore({
              dialect: 'dsql',
              endpoint: env.COPILOT_DSQL_ENDPOINT,
              ...(env.AWS_REGION === undefined ? {} : { region: env.AWS_REGION }),
              ...(env.COPILOT_DSQL_USER === undefined ? {} : { user: env.COPILOT_DSQL_USER }),
              // One request at a time per Lambda container; /status reads up to 4 things at once.
              max: 4,
            })
          : openStore({ dialect: 'postgres', url: env.COPILOT_DATABASE_URL ?? '', max: 4 });
      pending = open.catch((error: unknown) => {
        pending = null;
        throw error;
      });
    }
    return pending;
  };
}

/** A provider for a store the caller already opened (local server, tests). */
export function fixedStore(store: Store): StoreProvider {
  return async () => store;
}
