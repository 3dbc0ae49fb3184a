import { DsqlSigner, type DsqlSignerConfig } from '@aws-sdk/dsql-signer';
import postgres, { type Sql } from 'postgres';
import { messageOf } from '../errors.js';
import { DsqlCredentialsError, StoreConfigError } from './errors.js';
import type { Dialect } from './migrations.js';

/** Where the store lives: a PostgreSQL-wire URL (PostgreSQL or embedded PGlite) or a DSQL cluster. */
export type StoreTarget =
  | {
      readonly dialect: 'postgres' | 'pglite';
      /** `postgres://user:password@host:port/database`. */
      readonly url: string;
      /**
       * Pool size. For PGlite keep it at or below the socket server's `maxConnections`.
       * @default 10 for postgres, 1 for pglite (one backend: concurrent connections were seen to mix up answers under load)
       */
      readonly max?: number;
    }
  | {
      readonly dialect: 'dsql';
      /** Cluster endpoint, e.g. `abcdefghijklmnopqrstuvwxyz.dsql.eu-west-1.on.aws`. */
      readonly endpoint: string;
      /** @default the region in the endpoint name */
      readonly region?: string;
      /**
       * Database role. `admin` signs with `dsql:DbConnectAdmin`, any other role with `dsql:DbConnect`.
       * @default 'admin'
       */
      readonly user?: string;
      /** @default 10 */
      readonly max?: number;
      /** @default the AWS SDK default credential chain */
      readonly credentials?: DsqlSignerConfig['credentials'];
      /**
       * Token lifetime. A token is only checked at connect, so it need not outlive the connection.
       * @default 900
       */
      readonly tokenExpiresInSeconds?: number;
    };

/** An open store: the driver pool, the dialect it speaks and a printable target (no secrets). */
export interface Store {
  readonly sql: Sql;
  readonly dialect: Dialect;
  readonly target: string;
  close(): Promise<void>;
}

const DSQL_HOST_RE = /^[a-z0-9]+\.dsql(?:-[a-z0-9]+)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.on\.aws$/;

/** The region encoded in a DSQL endpoint name, or undefined when the name has none. */
export function regionFromDsqlEndpoint(endpoint: string): string | undefined {
  return DSQL_HOST_RE.exec(endpoint.toLowerCase())?.[1];
}

/**
 * DSQL closes any connection after 60 minutes. Recycle well before, with per-pool jitter so a
 * fleet of workers does not reconnect (and hit the 100 connections/s rate) in the same second.
 */
export function dsqlMaxLifetimeSeconds(random: () => number = Math.random): number {
  return Math.round(60 * (45 + random() * 10));
}

/**
 * A function returning a fresh IAM auth token for each new connection: `DbConnectAdmin` for the
 * `admin` role, `DbConnect` for custom roles. Signing is local (no network); it needs credentials,
 * and a missing credential becomes one {@link DsqlCredentialsError} naming the fix.
 */
export function createDsqlTokenProvider(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly user?: string;
  readonly credentials?: DsqlSignerConfig['credentials'];
  readonly tokenExpiresInSeconds?: number;
}): () => Promise<string> {
  const signer = new DsqlSigner({
    hostname: options.endpoint,
    region: options.region,
    expiresIn: options.tokenExpiresInSeconds ?? 900,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  const admin = (options.user ?? 'admin') === 'admin';
  return async () => {
    try {
      return admin
        ? await signer.getDbConnectAdminAuthToken()
        : await signer.getDbConnectAuthToken();
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      const message = messageOf(error);
      if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
        throw new DsqlCredentialsError(
          `no AWS credentials to sign a DSQL auth token for ${options.endpoint}: set AWS_PROFILE ` +
            'or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an IAM role attached',
          { cause: error },
        );
      }
      throw error;
    }
  };
}

function checkMax(max: number | undefined, fallback: number): number {
  const value = max ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > 100)
    throw new StoreConfigError(`pool size must be an integer between 1 and 100, got ${value}`);
  return value;
}

/** The URL with its password masked, for logs and CLI output. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}

const quiet = () => {};

/**
 * Opens a connection pool with the `postgres` driver. For DSQL: TLS required, a fresh IAM token
 * per new connection, connections recycled before DSQL's 60-minute limit, and the credentials
 * checked once up front so a missing credential fails here with one clear error rather than on
 * every connection attempt later.
 *
 * @throws StoreConfigError for an unusable target; DsqlCredentialsError without AWS credentials.
 */
export async function openStore(target: StoreTarget): Promise<Store> {
  if (target.dialect === 'dsql') {
    const endpoint = target.endpoint.trim().toLowerCase();
    if (!/^[a-z0-9.-]+$/.test(endpoint) || !endpoint.includes('.'))
      throw new StoreConfigError(`DSQL endpoint must be a host name, got "${target.endpoint}"`);
    const region = target.region ?? regionFromDsqlEndpoint(endpoint);
    if (region === undefined || region === '')
      throw new StoreConfigError(
        `no region for DSQL endpoint ${endpoint}: pass --region or set AWS_REGION`,
      );
    const user = target.user ?? 'admin';
    const password = createDsqlTokenProvider({
      endpoint,
      region,
      user,
      ...(target.credentials === undefined ? {} : { credentials: target.credentials }),
      ...(target.tokenExpiresInSeconds === undefined
        ? {}
        : { tokenExpiresInSeconds: target.tokenExpiresInSeconds }),
    });
    await password();
    const sql = postgres({
      host: endpoint,
      port: 5432,
      database: 'postgres',
      username: user,
      password,
      ssl: 'require',
      max: checkMax(target.max, 10),
      max_lifetime: dsqlMaxLifetimeSeconds(),
      idle_timeout: 120,
      connect_timeout: 15,
      // Unnamed statements only: the seed ran DSQL with its statement cache off
      // (statement_cache_size=0) and we keep to what is known to work there
      // (docs/lessons.md#dsql-unnamed-statements).
      prepare: false,
      onnotice: quiet,
      connection: { application_name: 'temporal-sre-copilot' },
    });
    return {
      sql,
      dialect: 'dsql',
      target: `dsql://${user}@${endpoint}/postgres (${region})`,
      close: () => sql.end({ timeout: 5 }),
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(target.url);
  } catch {
    throw new StoreConfigError(`database URL is not a URL: "${redactUrl(target.url)}"`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new StoreConfigError(
      `database URL must start with postgres:// or postgresql://, got ${parsed.protocol}//`,
    );
  const sql = postgres(target.url, {
    max: checkMax(target.max, target.dialect === 'pglite' ? 1 : 10),
    onnotice: quiet,
    connect_timeout: 15,
    // PGlite is one backend behind a socket: prepared statements gain nothing there.
    prepare: target.dialect !== 'pglite',
    connection: { application_name: 'temporal-sre-copilot' },
  });
  return {
    sql,
    dialect: target.dialect,
    target: redactUrl(target.url),
    close: () => sql.end({ timeout: 5 }),
  };
}
