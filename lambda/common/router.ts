import type { MiddlewareObj } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { allowedMethods, matchRoute, type RouteDef } from '../../shared/api/routes.js';
import { describeFirstIssue } from '../../shared/zod-issues.js';
import { BadRequestError, MethodNotAllowedError, NotFoundError } from './http-errors.js';

/** The Lambda context plus what the router resolved: the route and its parsed query. */
export interface ApiContext extends Context {
  api?: { readonly route: RouteDef; readonly query: Record<string, unknown> };
}

/**
 * The path the route table sees. With a named stage, API Gateway v2 puts `/<stage>` in front of
 * `rawPath`; the `$default` stage does not.
 */
export function routePath(event: APIGatewayProxyEventV2): string {
  const raw = event.rawPath ?? '/';
  const stage = event.requestContext?.stage;
  if (stage !== undefined && stage !== '$default') {
    const prefix = `/${stage}`;
    if (raw === prefix) return '/';
    if (raw.startsWith(`${prefix}/`)) return raw.slice(prefix.length);
  }
  return raw;
}

/** The route of an event, or the 404/405 it deserves. */
export function resolveRoute(event: APIGatewayProxyEventV2): RouteDef {
  const method = event.requestContext?.http?.method ?? 'GET';
  const path = routePath(event);
  const route = matchRoute(method, path);
  if (route === null) throw new NotFoundError(`no route ${path}`);
  if (route === 'method') {
    const allow = allowedMethods(path).join(', ');
    throw new MethodNotAllowedError(`${method} is not served on ${path}`, allow);
  }
  return route;
}

/**
 * Routing and zod validation of the query string at the edge: the handler body only ever sees a
 * known route and a parsed query. Bad parameters become a 400 naming the parameter.
 */
export function routerMiddleware(): MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  ApiContext
> {
  return {
    before: async (request) => {
      const route = resolveRoute(request.event);
      let query: Record<string, unknown> = {};
      if (route.query !== null) {
        const parsed = route.query.safeParse(request.event.queryStringParameters ?? {});
        // Query schemas are plain objects of parameters, so the first issue names its parameter.
        if (!parsed.success)
          throw new BadRequestError(`invalid query parameter ${describeFirstIssue(parsed.error)}`);
        query = parsed.data as Record<string, unknown>;
      }
      request.context.api = { route, query };
    },
  };
}
