import { describe, expect, it } from '@jest/globals';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApiKeyStore } from '../../src/auth/api-key-store.js';
import { createAuthenticator } from '../../src/auth/authenticate.js';
import { ClientTokens } from '../../src/auth/client-token.js';
import type { Principal } from '../../src/auth/principal.js';
import { createRateLimiter } from '../../src/limits/rate-limiter.js';
import { createHttpGuard } from '../../src/limits/request-guards.js';
import { sampleSchema } from './sample-schema.js';

const KEY = 'http-guard-key-Ty7Ui9Op1As3';
const clientTokens = new ClientTokens({ secret: 'http-guard-test-secret-of-32-characters' });
const apiKeys = new ApiKeyStore([{ name: 'reader', key: KEY, scopes: ['charges:read'] }]);

/** Apollo with the guard in its context function, asked through its HTTP entry point. */
async function withApollo(
  authEnabled: boolean,
  pointsPerMinute: number,
  run: (
    ask: (authorization?: string) => Promise<{
      status: number;
      retryAfter: string | undefined;
      body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
    }>,
  ) => Promise<void>,
) {
  const guard = createHttpGuard({
    authenticator: createAuthenticator({ apiKeys, clientTokens, authEnabled }),
    rateLimiter: createRateLimiter({ pointsPerMinute }),
  });
  const server = new ApolloServer<{ principal: Principal }>({
    schema: sampleSchema,
    rootValue: { charge: (_args: unknown, ctx: { principal: Principal }) => ({ id: ctx.principal.kind }) },
  });
  await server.start();
  try {
    await run(async (authorization) => {
      const headers = new HeaderMap([['content-type', 'application/json']]);
      if (authorization !== undefined) headers.set('authorization', authorization);
      const response = await server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: 'POST',
          headers,
          search: '',
          body: { query: '{ charge(id: "c") { id } }' },
        },
        context: async () => ({
          principal: await guard({ authorization: headers.get('authorization'), clientIp: '198.51.100.7' }),
        }),
      });
      const text = response.body.kind === 'complete' ? response.body.string : '';
      return {
        // Apollo leaves the status unset for 200 (the HTTP integration's default).
        status: response.status ?? 200,
        retryAfter: response.headers.get('retry-after'),
        body: JSON.parse(text) as {
          data?: unknown;
          errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
        },
      };
    });
  } finally {
    await server.stop();
  }
}

describe('createHttpGuard in an Apollo context function', () => {
  it('passes the principal on, and refuses bad or missing credentials with 401 UNAUTHENTICATED', async () => {
    await withApollo(true, 0, async (ask) => {
      const ok = await ask(`Bearer ${KEY}`);
      expect(ok.status).toBe(200);
      expect(ok.body.data).toEqual({ charge: { id: 'service' } });

      for (const authorization of ['Bearer not-a-key-at-all', undefined, 'Bearer ctok_x.y.z']) {
        const refused = await ask(authorization);
        expect(refused.status).toBe(401);
        expect(refused.body.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
      }
    });
  });

  it('answers 429 RATE_LIMITED with Retry-After beyond the budget, counting refused attempts by IP', async () => {
    await withApollo(true, 2, async (ask) => {
      expect((await ask('Bearer wrong-guess-1')).status).toBe(401);
      expect((await ask('Bearer wrong-guess-2')).status).toBe(401);
      const limited = await ask('Bearer wrong-guess-3');
      expect(limited.status).toBe(429);
      expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(limited.body.errors?.[0]?.extensions).toEqual({
        code: 'RATE_LIMITED',
        retryAfterSeconds: Number(limited.retryAfter),
      });
      // The service key has its own budget.
      expect((await ask(`Bearer ${KEY}`)).status).toBe(200);
    });
  });

  it('lets everything through as anonymous-test-mode when auth is off', async () => {
    await withApollo(false, 0, async (ask) => {
      expect((await ask()).body.data).toEqual({ charge: { id: 'anonymous-test-mode' } });
      expect((await ask('Bearer whatever')).body.data).toEqual({ charge: { id: 'anonymous-test-mode' } });
    });
  });
});
