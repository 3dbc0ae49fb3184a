import { regionFromAmpHost } from '../../shared/aws/sigv4.js';
import { ConfigurationError } from '../../shared/errors.js';
import {
  SDK_DIALECTS,
  type SdkDialect,
  SERVER_DIALECTS,
  type ServerDialect,
} from '../../shared/signals/dialect.js';
import type { DialectChoice } from './dialect-probe.js';
import { createPrometheusSource, type PrometheusSource } from './prometheus.js';
import type { PrometheusAuth } from './prometheus-http.js';
import { redactUrl } from './redact.js';
import { createScrapeSource, type ScrapeSource } from './scrape.js';

/**
 * The one place that decides which metrics source the copilot reads, for every process: the
 * worker (from the environment) and `copilot assess` / `replay` (flags, then the environment).
 * Conflicts are refused here, with the same message whoever asks, and flags win over the
 * environment: a flag that names a source replaces every source variable.
 *
 * The model is `shared/store/target.ts`: a plain description first (printable, testable, no I/O),
 * opened separately.
 */

/**
 * The environment variables that choose the metrics source; every process reads these names.
 * `PROMETHEUS_URL`: a Prometheus-compatible base URL (Prometheus, Mimir). `AMP_WORKSPACE_URL`: an
 * Amazon Managed Prometheus workspace URL (requests are SigV4-signed). `COPILOT_SCRAPE_URLS`:
 * Temporal `/metrics` endpoints scraped directly, comma-separated. `COPILOT_METRICS_DIALECT`:
 * `auto` (detect from the metric names, the default), `tally` or `otel`. `AWS_REGION` /
 * `AWS_DEFAULT_REGION`: the SigV4 region when neither `--region` nor an `aps-workspaces.<region>`
 * host gives one.
 */
export type MetricsEnv = Readonly<
  Partial<
    Record<
      | 'PROMETHEUS_URL'
      | 'AMP_WORKSPACE_URL'
      | 'COPILOT_SCRAPE_URLS'
      | 'COPILOT_METRICS_DIALECT'
      | 'AWS_REGION'
      | 'AWS_DEFAULT_REGION',
      string | undefined
    >
  >
>;

/**
 * The CLI flags that choose or shape the metrics source, by commander's camelCase names:
 * `--prometheus-url`, `--scrape-url` (comma-separated `/metrics` URLs), `--sigv4`,
 * `--bearer-token`, `--basic-auth user:password`, `--region`, `--dialect auto|tally|otel` (server),
 * `--sdk-dialect core|go`, `--sdk-prefix`.
 */
export type MetricsFlags = Readonly<
  Partial<
    Record<
      | 'prometheusUrl'
      | 'scrapeUrl'
      | 'bearerToken'
      | 'basicAuth'
      | 'region'
      | 'dialect'
      | 'sdkDialect'
      | 'sdkPrefix',
      string | undefined
    >
  > & { sigv4?: boolean | undefined }
>;

/** A Prometheus-compatible API; `auth` unset means basic auth from the URL's userinfo, or none. */
export interface PrometheusTarget {
  readonly kind: 'prometheus';
  readonly url: string;
  readonly auth?: PrometheusAuth;
  readonly dialect: DialectChoice;
}

export interface ScrapeTarget {
  readonly kind: 'scrape';
  readonly urls: readonly string[];
  readonly dialect: DialectChoice;
}

/** Nothing configured; `copilot dev` scrapes its own dev server then, with this dialect. */
export interface NoMetricsTarget {
  readonly kind: 'none';
  readonly dialect: DialectChoice;
}

export type MetricsTarget = PrometheusTarget | ScrapeTarget | NoMetricsTarget;

export class MetricsSourceConfigError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsSourceConfigError';
  }
}

/** Said by the worker and the CLI alike when the environment names two sources. */
export const ENV_CONFLICT =
  'set only one of PROMETHEUS_URL, AMP_WORKSPACE_URL and COPILOT_SCRAPE_URLS';
export const NO_SOURCE =
  'no metrics source: set PROMETHEUS_URL, AMP_WORKSPACE_URL or COPILOT_SCRAPE_URLS ' +
  '(or pass --prometheus-url / --scrape-url)';

const value = (raw: string | undefined): string | undefined => {
  const trimmed = raw?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

function oneOf<T extends string>(
  raw: string | undefined,
  allowed: readonly T[],
  what: string,
): T | undefined {
  const v = value(raw);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new MetricsSourceConfigError(`${what} must be one of ${allowed.join(', ')}, got "${v}"`);
  }
  return v as T;
}

/**
 * `a, b,,c` → `['a', 'b', 'c']`, each an http(s) URL; none at all is a configuration error
 * naming `what`.
 */
function urlList(raw: string, what: string): string[] {
  const urls = raw
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0) throw new MetricsSourceConfigError(`${what} needs at least one URL`);
  for (const u of urls) {
    if (!/^https?:\/\//i.test(u) || !URL.canParse(u)) {
      throw new MetricsSourceConfigError(`invalid scrape URL in ${what}: ${redactUrl(u)}`);
    }
  }
  return urls;
}

/** The dialect: each flag wins over its variable; `auto` where nothing is said. */
function dialectFrom(env: MetricsEnv, flags: MetricsFlags): DialectChoice {
  const server =
    oneOf<'auto' | ServerDialect>(flags.dialect, ['auto', ...SERVER_DIALECTS], '--dialect') ??
    oneOf<'auto' | ServerDialect>(
      env.COPILOT_METRICS_DIALECT,
      ['auto', ...SERVER_DIALECTS],
      'COPILOT_METRICS_DIALECT',
    ) ??
    'auto';
  const sdk = oneOf<SdkDialect>(flags.sdkDialect, SDK_DIALECTS, '--sdk-dialect') ?? 'auto';
  const sdkPrefix = flags.sdkPrefix;
  return { server, sdk, ...(sdkPrefix === undefined ? {} : { sdkPrefix }) };
}

/**
 * The metrics source the flags and the environment name.
 *
 * - A source flag (`--prometheus-url`, `--scrape-url`) wins over every source variable; two
 *   source flags, or two source variables without a flag, are refused.
 * - `AMP_WORKSPACE_URL` implies SigV4; `--sigv4` signs whichever Prometheus URL is chosen. At most
 *   one of `--bearer-token`, `--basic-auth` and SigV4; none of them applies to a scrape.
 * - SigV4's region: `--region`, else the `aps-workspaces.<region>` host, else `AWS_REGION`, else
 *   `AWS_DEFAULT_REGION`.
 * - Blank values count as unset.
 *
 * @throws MetricsSourceConfigError (a ConfigurationError) for every conflict or bad value.
 */
export function selectMetricsSource(env: MetricsEnv, flags: MetricsFlags = {}): MetricsTarget {
  const dialect = dialectFrom(env, flags);
  const flagUrl = value(flags.prometheusUrl);
  const flagScrape = value(flags.scrapeUrl);
  if (flagUrl !== undefined && flagScrape !== undefined) {
    throw new MetricsSourceConfigError('choose one of --prometheus-url and --scrape-url');
  }
  let prometheusUrl: string | undefined;
  let amp = false;
  let scrape: string[] | undefined;
  if (flagUrl !== undefined) prometheusUrl = flagUrl;
  else if (flagScrape !== undefined) scrape = urlList(flagScrape, '--scrape-url');
  else {
    const promEnv = value(env.PROMETHEUS_URL);
    const ampEnv = value(env.AMP_WORKSPACE_URL);
    const scrapeEnv = value(env.COPILOT_SCRAPE_URLS);
    if ([promEnv, ampEnv, scrapeEnv].filter((x) => x !== undefined).length > 1) {
      throw new MetricsSourceConfigError(ENV_CONFLICT);
    }
    prometheusUrl = promEnv ?? ampEnv;
    amp = ampEnv !== undefined;
    if (scrapeEnv !== undefined) scrape = urlList(scrapeEnv, 'COPILOT_SCRAPE_URLS');
  }

  const bearer = flags.bearerToken;
  const basic = flags.basicAuth;
  const sigv4 = flags.sigv4 === true || amp;
  const authFlags = [bearer !== undefined, basic !== undefined, sigv4].filter(Boolean).length;
  if (scrape !== undefined) {
    if (authFlags > 0 || flags.region !== undefined) {
      throw new MetricsSourceConfigError(
        '--bearer-token, --basic-auth, --sigv4 and --region apply to a Prometheus source, not to a scrape (put user:password@ in the scrape URL)',
      );
    }
    return { kind: 'scrape', urls: scrape, dialect };
  }
  if (prometheusUrl === undefined) {
    if (authFlags > 0) throw new MetricsSourceConfigError(NO_SOURCE);
    return { kind: 'none', dialect };
  }
  if (authFlags > 1) {
    throw new MetricsSourceConfigError(
      `choose one of --bearer-token, --basic-auth and --sigv4${amp ? ' (AMP_WORKSPACE_URL implies --sigv4)' : ''}`,
    );
  }
  if (flags.region !== undefined && !sigv4) {
    throw new MetricsSourceConfigError(
      '--region applies only to a SigV4-signed source (--sigv4 or AMP_WORKSPACE_URL)',
    );
  }
  let auth: PrometheusAuth | undefined;
  if (bearer !== undefined) auth = { kind: 'bearer', token: bearer };
  else if (basic !== undefined) {
    const i = basic.indexOf(':');
    if (i < 1) throw new MetricsSourceConfigError('--basic-auth must be user:password');
    auth = { kind: 'basic', username: basic.slice(0, i), password: basic.slice(i + 1) };
  } else if (sigv4) {
    let host: string | undefined;
    try {
      host = new URL(prometheusUrl).hostname;
    } catch {
      // an invalid URL is reported when the source is opened, with the URL redacted
    }
    const region =
      value(flags.region) ??
      (host === undefined ? undefined : regionFromAmpHost(host)) ??
      value(env.AWS_REGION) ??
      value(env.AWS_DEFAULT_REGION);
    auth = { kind: 'sigv4', ...(region === undefined ? {} : { region }) };
  }
  return {
    kind: 'prometheus',
    url: prometheusUrl,
    ...(auth === undefined ? {} : { auth }),
    dialect,
  };
}

export interface OpenMetricsOptions {
  /** What `copilot dev` scrapes when nothing is configured (its own dev server). */
  readonly fallbackScrapeUrls?: readonly string[];
  /** Per query (Prometheus) or per scrape. @default each source's own */
  readonly timeoutMs?: number;
  /** Prometheus queries in flight at once. @default 8 */
  readonly concurrency?: number;
  /** SigV4's environment (tests pass their own). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** A scrape takes an override only: `auto` means "say nothing". */
function scrapeDialect(d: DialectChoice) {
  return {
    ...(d.server === undefined || d.server === 'auto' ? {} : { server: d.server }),
    ...(d.sdk === undefined || d.sdk === 'auto' ? {} : { sdk: d.sdk }),
    ...(d.sdkPrefix === undefined ? {} : { sdkPrefix: d.sdkPrefix }),
  };
}

/**
 * Opens the source a target describes. Configuration mistakes found on opening (an invalid URL,
 * SigV4 without a region) throw ConfigurationErrors, with any URL in them redacted.
 *
 * @throws MetricsSourceConfigError for `none` without fallback URLs.
 */
export function openMetricsSource(
  target: PrometheusTarget,
  options?: OpenMetricsOptions,
): PrometheusSource;
export function openMetricsSource(
  target: ScrapeTarget | NoMetricsTarget,
  options?: OpenMetricsOptions,
): ScrapeSource;
export function openMetricsSource(
  target: MetricsTarget,
  options?: OpenMetricsOptions,
): PrometheusSource | ScrapeSource;
export function openMetricsSource(
  target: MetricsTarget,
  options: OpenMetricsOptions = {},
): PrometheusSource | ScrapeSource {
  if (target.kind === 'prometheus') {
    return createPrometheusSource({
      url: target.url,
      ...(target.auth === undefined ? {} : { auth: target.auth }),
      dialect: target.dialect,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
  }
  const urls = target.kind === 'scrape' ? target.urls : (options.fallbackScrapeUrls ?? []);
  if (urls.length === 0) throw new MetricsSourceConfigError(NO_SOURCE);
  return createScrapeSource({
    urls: [...urls],
    dialect: scrapeDialect(target.dialect),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}
