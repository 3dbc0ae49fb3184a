/*
 * Type tests, checked by `npm run typecheck` (tsc), never executed: each `@ts-expect-error` marks
 * a line that must NOT compile. If a change to `defineRoute` lets such a line compile, the
 * directive itself becomes an error ("unused @ts-expect-error") and the typecheck fails.
 */
import * as z from 'zod';
import { defineRoute } from '../../lambda/routes.js';
import {
  ClusterQuerySchema,
  IssuesQuerySchema,
  type SignalsQuerySchema,
} from '../../shared/api/schemas.js';

const Body = z.object({ ok: z.boolean() });

// The handler receives the query as its schema's output: limit is a number, not a string.
defineRoute({
  id: 'typed',
  method: 'GET',
  path: '/typed',
  summary: 'type test',
  query: IssuesQuerySchema,
  response: Body,
  async handle({ query }) {
    const limit: number | undefined = query.limit;
    // @ts-expect-error a parsed limit is a number; reading it as a string must not compile
    const wrong: string | undefined = query.limit;
    return { ok: limit === undefined && wrong === undefined };
  },
});

// A handler declared for another route's query type does not fit this route.
defineRoute({
  id: 'mismatch',
  method: 'GET',
  path: '/mismatch',
  summary: 'type test',
  query: ClusterQuerySchema,
  response: Body,
  // @ts-expect-error this handler wants the signals query (ids required), the route parses the cluster query
  async handle(context: { query: z.output<typeof SignalsQuerySchema> }) {
    return { ok: context.query.ids.length > 0 };
  },
});

// The body must match the response schema.
defineRoute({
  id: 'body',
  method: 'GET',
  path: '/body',
  summary: 'type test',
  query: ClusterQuerySchema,
  response: Body,
  // @ts-expect-error `ok` must be a boolean
  async handle() {
    return { ok: 'yes' };
  },
});
