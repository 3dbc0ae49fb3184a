import { type Command, Option } from 'commander';
import { startLocalApi } from '../../lambda/local-server.js';
import { openStore, type Store } from '../../shared/store/connection.js';
import { type EmbeddedStore, startEmbeddedStore } from '../../shared/store/embedded.js';
import { describeError } from '../../shared/store/errors.js';
import { CliError } from '../cli-support.js';
import { resolveDbTarget } from './db.js';

interface ApiOptions {
  port: string;
  host: string;
  databaseUrl?: string;
  dialect: 'postgres' | 'pglite';
  dataDir?: string;
  dsqlEndpoint?: string;
  region?: string;
  user: string;
}

/**
 * `copilot api`: the JSON API on a local HTTP server, through the same handler the Lambda runs,
 * reading the store the flags (or COPILOT_DATABASE_URL / COPILOT_DSQL_ENDPOINT) name. With
 * COPILOT_API_KEY set, callers must send it in `x-api-key`. Ctrl-C stops it.
 */
export function registerApiCommands(program: Command): void {
  program
    .command('api')
    .description(
      'serve the JSON API for Grafana locally (same handler as the Lambda; Ctrl-C stops)',
    )
    .option('--port <port>', 'TCP port (0 picks a free one)', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--database-url <url>', 'PostgreSQL-wire URL (env COPILOT_DATABASE_URL)')
    .addOption(
      new Option('--dialect <dialect>', 'what serves --database-url')
        .choices(['postgres', 'pglite'])
        .default('postgres'),
    )
    .option('--data-dir <dir>', 'embedded PGlite store in this directory')
    .option('--dsql-endpoint <host>', 'Aurora DSQL cluster endpoint (env COPILOT_DSQL_ENDPOINT)')
    .option('--region <region>', 'AWS region of the DSQL cluster (env AWS_REGION)')
    .option('--user <role>', 'DSQL database role', 'admin')
    .action(async (opts: ApiOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new CliError(`--port must be a TCP port, got ${opts.port}`, 2);
      const apiKey = process.env.COPILOT_API_KEY?.trim() || undefined;
      if (apiKey === undefined && opts.host !== '127.0.0.1' && opts.host !== 'localhost')
        throw new CliError(`set COPILOT_API_KEY to serve the API on ${opts.host}`, 2);
      const target = resolveDbTarget(opts);
      let embedded: EmbeddedStore | undefined;
      let store: Store;
      try {
        if (target.dialect === 'embedded') {
          embedded = await startEmbeddedStore({ dataDir: target.dataDir });
          store = await openStore({ dialect: 'pglite', url: embedded.url, max: 1 });
        } else store = await openStore(target);
      } catch (error) {
        await embedded?.close().catch(() => {});
        throw new CliError(`cannot open the store: ${describeError(error)}`);
      }
      let api: Awaited<ReturnType<typeof startLocalApi>>;
      try {
        api = await startLocalApi({
          store,
          port,
          host: opts.host,
          ...(apiKey === undefined ? {} : { apiKey }),
        });
      } catch (error) {
        await store.close().catch(() => {});
        await embedded?.close().catch(() => {});
        throw new CliError(`cannot serve on ${opts.host}:${port}: ${describeError(error)}`);
      }
      process.stdout.write(
        `copilot api: serving ${api.url} (store ${store.target}, ${apiKey === undefined ? 'no API key' : 'x-api-key required'})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await api.close().catch(() => {});
      await store.close().catch(() => {});
      await embedded?.close().catch(() => {});
    });
}
