import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

/*
 * The Grafana Foundation SDK (0.0.21) ships query builders for core data sources only; the
 * Infinity plugin (`yesoreyeram-infinity-datasource`) needs its own, as the SDK's README shows
 * for third-party plugins. These types follow the plugin's query model (`InfinityJSONQuery` with
 * a URL source and the backend parser): the backend parser runs in Grafana's server, so the
 * same query also serves alerting and public dashboards, and it is the parser whose
 * `filterExpression` the status filter relies on.
 */

/** The Infinity plugin's id: the data source type of every copilot API query. */
export const INFINITY_TYPE = 'yesoreyeram-infinity-datasource';

/** How Infinity types a column (the backend parser converts each value to it). */
export type InfinityColumnType = 'string' | 'number' | 'timestamp';

/** One column of the frame: a gjson path into each row, the column's name, its type. */
export interface InfinityColumn {
  readonly selector: string;
  readonly text: string;
  readonly type: InfinityColumnType;
}

export interface InfinityKeyValue {
  readonly key: string;
  readonly value: string;
}

/** An Infinity JSON query against a URL, parsed by the backend parser. */
export interface InfinityQuery {
  refId?: string;
  hide?: boolean;
  datasource: DataSourceRef;
  type: 'json';
  source: 'url';
  parser: 'backend';
  /** A path relative to the data source's URL (the copilot API's base URL). */
  url: string;
  url_options: { method: 'GET'; params: InfinityKeyValue[] };
  /** A gjson path to the rows (an array), or '' for one row from the response object. */
  root_selector: string;
  columns: InfinityColumn[];
  /** A govaluate expression over the columns' names; rows for which it is false are dropped. */
  filterExpression?: string;
  /** Always `table`: panels that need series split them with a Grafana transformation. */
  format: 'table';
  _implementsDataqueryVariant(): void;
}

/**
 * Builds an {@link InfinityQuery}. Parameters go into `url_options.params` rather than the URL,
 * so a test can check each against the API's OpenAPI document and Infinity encodes the values.
 */
export class InfinityQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: InfinityQuery;

  constructor(datasource: DataSourceRef, path: string) {
    if (!path.startsWith('/') || path.includes('?'))
      throw new Error(`an API path starts with / and carries no query string: ${path}`);
    this.internal = {
      datasource,
      type: 'json',
      source: 'url',
      parser: 'backend',
      url: path,
      url_options: { method: 'GET', params: [] },
      root_selector: '',
      columns: [],
      format: 'table',
      _implementsDataqueryVariant() {},
    };
  }

  build(): InfinityQuery {
    return this.internal;
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  param(key: string, value: string): this {
    this.internal.url_options.params.push({ key, value });
    return this;
  }

  rows(rootSelector: string): this {
    this.internal.root_selector = rootSelector;
    return this;
  }

  column(selector: string, text: string, type: InfinityColumnType): this {
    this.internal.columns.push({ selector, text, type });
    return this;
  }

  filter(expression: string): this {
    this.internal.filterExpression = expression;
    return this;
  }
}

/** A plain Infinity query object (for a query variable, whose `query` is not a builder). */
export function infinityQueryObject(builder: InfinityQueryBuilder): Record<string, unknown> {
  const { _implementsDataqueryVariant: _, ...plain } = builder.build();
  return plain;
}
