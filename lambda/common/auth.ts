import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { matchRoute } from '../../shared/api/routes.js';
import { ROUTES } from '../routes.js';
import { UnauthorizedError } from './http-errors.js';
import { routePath } from './router.js';

/** Where the expected API key comes from: a constant locally, Secrets Manager in Lambda. */
export type ApiKeyProvider = () => Promise<string>;

/**
 * How requests are authenticated. `api-key`: the `x-api-key` header must equal the secret.
 * `iam`: API Gateway checked a SigV4 signature (service `execute-api`); the handler only insists
 * that the gateway passed an IAM identity. `none`: the local server without a key, bound to
 * 127.0.0.1.
 */
export type AuthMode =
  | { readonly mode: 'api-key'; readonly key: ApiKeyProvider }
  | { readonly mode: 'iam' }
  | { readonly mode: 'none' };

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Compares a presented key with the expected one in constant time. Both are hashed first so the
 * buffers have equal length (`timingSafeEqual` requires it) and the key's length does not leak.
 */
export function keysMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Checks the caller before any route runs; `/openapi.json` (no data) is public. */
export function authMiddleware(
  auth: AuthMode,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    before: async (request) => {
      const event = request.event;
      const route = matchRoute(
        ROUTES,
        event.requestContext?.http?.method ?? 'GET',
        routePath(event),
      );
      if (route !== null && route !== 'method' && !route.authenticated) return;
      if (auth.mode === 'none') return;
      if (auth.mode === 'iam') {
        const ctx = event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } };
        if (typeof ctx.authorizer?.iam?.userArn !== 'string')
          throw new UnauthorizedError('this API expects API Gateway IAM (SigV4) authorization');
        return;
      }
      const presented = event.headers?.['x-api-key'];
      if (presented === undefined || presented === '')
        throw new UnauthorizedError('missing x-api-key header');
      if (!keysMatch(presented, await auth.key())) throw new UnauthorizedError('wrong API key');
    },
  };
}
