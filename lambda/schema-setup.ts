import { Logger } from '@aws-lambda-powertools/logger';
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import * as z from 'zod';
import { openStore, type Store } from '../shared/store/connection.js';
import { describeError, errorCode, isUnreachableCode } from '../shared/store/errors.js';
import { LATEST_SCHEMA_VERSION, runMigrations } from '../shared/store/migrations.js';
import { dropRoles, setupRoles } from '../shared/store/roles.js';
import { describeFirstIssue } from '../shared/zod-issues.js';

/*
 * The CDK schema custom resource (Provider framework `onEvent`). On every Create and Update it
 * applies the missing migrations and converges the two database roles — `copilot_worker` and
 * `copilot_api` — with their table grants and, on DSQL, their `AWS IAM GRANT` mappings to the
 * worker's task role and the API Lambda's role. It connects as `admin` (`dsql:DbConnectAdmin`);
 * nothing else in the deployment does. Delete removes the roles and their mappings and keeps the
 * tables: the cluster itself is retained with its data.
 */

const ArnListSchema = z.array(z.string().startsWith('arn:')).default([]);

/** The custom resource's properties, as CloudFormation passes them (every scalar a string). */
export const SchemaSetupPropertiesSchema = z.object({
  /** The copilot's DSQL cluster endpoint. */
  Endpoint: z.string().min(1),
  /** @default the region in the endpoint name */
  Region: z.string().min(1).optional(),
  /** IAM roles that log in as `copilot_worker`. */
  WorkerRoleArns: ArnListSchema,
  /** IAM roles that log in as `copilot_api`. */
  ApiRoleArns: ArnListSchema,
  /**
   * A digest of the migrations and role definitions the deployed code carries. It changes when
   * they do, so CloudFormation sends an Update, and the handler runs; its value is not read.
   */
  Fingerprint: z.string().optional(),
});
export type SchemaSetupProperties = z.infer<typeof SchemaSetupPropertiesSchema>;

/** The custom resource's properties are not usable; names the property. */
export class SchemaSetupPropertiesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaSetupPropertiesError';
  }
}

/** What the handler needs; the Lambda entry opens DSQL as `admin`. */
export interface SchemaSetupDependencies {
  /** Opens the store the properties name, as its owner. */
  readonly open: (properties: SchemaSetupProperties) => Promise<Store>;
  /** @default a Powertools logger, service `copilot-schema-setup` */
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
}

/** Attributes the stack can read with `getAttString`. */
export interface SchemaSetupData {
  readonly SchemaVersion: string;
  readonly AppliedMigrations: string;
  readonly CreatedRoles: string;
  readonly MappedPrincipals: string;
  readonly UnmappedPrincipals: string;
}

export type SchemaSetupHandler = (
  event: CdkCustomResourceEvent,
) => Promise<CdkCustomResourceResponse<SchemaSetupData>>;

function parseProperties(raw: unknown): SchemaSetupProperties {
  const parsed = SchemaSetupPropertiesSchema.safeParse(raw);
  if (!parsed.success)
    throw new SchemaSetupPropertiesError(
      `invalid schema setup properties: ${describeFirstIssue(parsed.error)}`,
    );
  return parsed.data;
}

/** One resource per cluster: a new endpoint is a new resource, and the old one gets a Delete. */
const physicalIdOf = (properties: SchemaSetupProperties) =>
  `copilot-schema:${properties.Endpoint.trim().toLowerCase()}`;

/** The cluster cannot be reached at all (gone, or never there), as opposed to refusing work. */
function isUnreachable(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && isUnreachableCode(code);
}

/**
 * Builds the `onEvent` handler. Create and Update: migrate, then roles and grants (after the
 * migrations, so a table a new migration adds is granted in the same deploy). Delete: drop the
 * roles and their mappings; a cluster that can no longer be reached is logged and the delete
 * succeeds, so a stack whose cluster is already gone can still be deleted.
 */
export function createSchemaSetupHandler(deps: SchemaSetupDependencies): SchemaSetupHandler {
  const log = deps.logger ?? new Logger({ serviceName: 'copilot-schema-setup' });
  return async (event) => {
    const properties = parseProperties(event.ResourceProperties);
    const physicalId = physicalIdOf(properties);
    if (event.RequestType === 'Delete') {
      let store: Store | undefined;
      try {
        store = await deps.open(properties);
        const dropped = await dropRoles(store.sql, store.dialect);
        log.info('roles dropped; tables kept', { dropped, endpoint: properties.Endpoint });
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        log.warn('store unreachable on delete: nothing to drop', {
          endpoint: properties.Endpoint,
          error: describeError(error),
        });
      } finally {
        await store?.close();
      }
      return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
    }
    const store = await deps.open(properties);
    try {
      const migrations = await runMigrations(store.sql, store.dialect);
      // IAM mappings exist on DSQL only; elsewhere the roles authenticate by other means.
      const roles = await setupRoles(
        store.sql,
        store.dialect,
        store.dialect === 'dsql'
          ? { worker: properties.WorkerRoleArns, api: properties.ApiRoleArns }
          : {},
      );
      log.info('schema and roles up to date', {
        requestType: event.RequestType,
        endpoint: properties.Endpoint,
        applied: migrations.applied,
        ...roles,
      });
      return {
        PhysicalResourceId: physicalId,
        Data: {
          SchemaVersion: String(LATEST_SCHEMA_VERSION),
          AppliedMigrations: migrations.applied.join(','),
          CreatedRoles: roles.created.join(','),
          MappedPrincipals: roles.mapped.join(','),
          UnmappedPrincipals: roles.unmapped.join(','),
        },
      };
    } finally {
      await store.close();
    }
  };
}

/** The Lambda entry: DSQL as `admin`, one connection, the Lambda role's credentials. */
export const handler: SchemaSetupHandler = createSchemaSetupHandler({
  open: (properties) =>
    openStore({
      dialect: 'dsql',
      endpoint: properties.Endpoint,
      user: 'admin',
      max: 1,
      ...(properties.Region === undefined ? {} : { region: properties.Region }),
    }),
});
