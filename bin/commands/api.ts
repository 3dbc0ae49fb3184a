import type { Command } from 'commander';
import { localApiKey, localStaleness } from '../../lambda/common/env.js';
import { startLocalApi } from '../../lambda/local-server.js';
import { ConfigurationError } from '../../shared/errors.js';
import { openAnyStoreTarget } from '../../shared/store/embedded.js';
import { describeError } from '../../shared/store/errors.js';
import { describeStoreTarget, type StoreHandle } from '../../shared/store/target.js';
import { CliError } from '../cli-support.js';
import { resolveDbTarget, type StoreFlags, storeFlagOptions } from './db.js';

interface ApiOptions extends StoreFlags {
  port: string;
  host: string;
}

/**
 * `copilot api`: the JSON API on a local HTTP server, through the same handler the Lambda runs,
 * reading the store the flags (or, as for `copilot db`, the environment) name; it never creates
 * one. With COPILOT_API_KEY set (16 characters or more), callers must send it in `x-api-key`;
 * beyond loopback it must be set. Ctrl-C stops it.
 */
export function registerApiCommands(program: Command): void {
  storeFlagOptions(
    program
      .command('api')
      .description(
        'serve the JSON API for Grafana locally (same handler as the Lambda; Ctrl-C stops)',
      )
      .option('--port <port>', 'TCP port (0 picks a free one)', '8080')
      .option('--host <host>', 'address to bind', '127.0.0.1'),
  ).action(async (opts: ApiOptions) => {
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new CliError(`--port must be a TCP port, got ${opts.port}`, 2);
    // Before the store is opened: a short key, or no key beyond loopback, is refused (exit 2).
    const apiKey = localApiKey(process.env, opts.host);
    const staleness = localStaleness(process.env);
    const target = resolveDbTarget(opts);
    let handle: StoreHandle;
    try {
      // A reader: a missing embedded store is an error naming how to create one, never a new
      // empty database whose every request would fail.
      handle = await openAnyStoreTarget(target, { create: false });
    } catch (error) {
      if (error instanceof ConfigurationError) throw error;
      throw new CliError(
        `cannot open the store ${describeStoreTarget(target)}: ${describeError(error)}`,
      );
    }
    if (handle.note !== undefined) process.stderr.write(`copilot: ${handle.note}\n`);
    const { store } = handle;
    let api: Awaited<ReturnType<typeof startLocalApi>>;
    try {
      api = await startLocalApi({
        store,
        port,
        host: opts.host,
        staleness,
        ...(apiKey === undefined ? {} : { apiKey }),
      });
    } catch (error) {
      await handle.close().catch(() => {});
      throw new CliError(`cannot serve on ${opts.host}:${port}: ${describeError(error)}`);
    }
    process.stdout.write(
      `copilot api: serving ${api.url} (store ${handle.describe}, ${apiKey === undefined ? 'no API key' : 'x-api-key required'})\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await api.close().catch(() => {});
    await handle.close().catch(() => {});
  });
}
