import type { MiddlewareObj } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { allowedMethods, matchRoute } from '../../shared/api/routes.js';
import { ROUTES, type Route } from '../routes.js';
import { MethodNotAllowedError, NotFoundError } from './http-errors.js';

/** The Lambda context plus the route the router resolved (its own `run` parses the query). */
export interface ApiContext extends Context {
  api?: { readonly route: Route };
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
export function resolveRoute(event: APIGatewayProxyEventV2): Route {
  const method = event.requestContext?.http?.method ?? 'GET';
  const path = routePath(event);
  const route = matchRoute(ROUTES, method, path);
  if (route === null) throw new NotFoundError(`no route ${path}`);
  if (route === 'method') {
    const allow = allowedMethods(ROUTES, path).join(', ');
    throw new MethodNotAllowedError(`${method} is not served on ${path}`, allow);
  }
  return route;
}

/**
 * Routing at the edge: the handler body only ever sees a known route, whose `run` validates the
 * query with the route's own zod schema (a bad parameter becomes a 400 naming it).
 */
export function routerMiddleware(): MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  ApiContext
> {
  return {
    before: async (request) => {
      request.context.api = { route: resolveRoute(request.event) };
    },
  };
}
