import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { GraphQLSchema, ParseOptions, ValidationRule } from 'graphql';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { GraphQLContext } from '../graphql/context.js';
import { formatGatewayError } from '../graphql/errors.js';
import { jitGateway, type JitExecution } from '../graphql/jit-execution.js';
import { errorReportingPlugin, mergeRequestPlugins, operationMetricsPlugin } from '../graphql/plugins.js';
import type { CorsPolicy } from './cors.js';
import type { GraphQLFastPath } from './graphql-fast-path.js';
import { sendJson, type Route, type RouteHandler } from './http-server.js';
import type { GatewayMetrics } from './metrics.js';
import { readBody } from './read-body.js';
import type { ContextExtension, RequestContextFactory } from './request-context.js';

export interface ApolloOptions {
  schema: GraphQLSchema;
  logger: Logger;
  metrics: GatewayMetrics;
  introspection: boolean;
  /** The Apollo Sandbox landing page on GET /graphql from a browser; off in production. */
  landingPage: boolean;
  /**
   * More request plugins of the gateway's own (query limits...), merged with the error-reporting and
   * metrics plugins into one (src/graphql/plugins.ts mergeRequestPlugins: requestDidStart only).
   */
  requestPlugins?: ApolloServerPlugin<GraphQLContext>[];
  /** More plugins, after the gateway's own, as they are. */
  plugins?: ApolloServerPlugin<GraphQLContext>[];
  /** More validation rules (depth, aliases, complexity...). */
  validationRules?: ValidationRule[];
  /** graphql `parse` options, e.g. `{ maxTokens }` of the query limits. */
  parseOptions?: ParseOptions;
  /**
   * Executes queries and mutations through Apollo's executor hook (graphql-jit once a document repeats,
   * with graphql-js's results and errors); without it Apollo runs graphql-js.
   */
  jit?: JitExecution | undefined;
}

/**
 * Apollo Server with only what the gateway uses: no usage or schema reporting, no inline traces, no
 * cache-control calculation (each costs time on every request), CSRF prevention on, stack traces never.
 */
export function createApollo(options: ApolloOptions): ApolloServer<GraphQLContext> {
  const { metrics } = options;
  const execution = options.jit
    ? { gateway: jitGateway(options.schema, options.jit) }
    : { schema: options.schema };
  return new ApolloServer<GraphQLContext>({
    ...execution,
    introspection: options.introspection,
    csrfPrevention: true,
    // One operation per request: an array of operations would multiply every per-request limit.
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    formatError: formatGatewayError,
    logger: options.logger,
    // The process owns SIGINT/SIGTERM (src/main.ts): it drains HTTP first, then stops Apollo.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      options.landingPage
        ? ApolloServerPluginLandingPageLocalDefault({ footer: false })
        : ApolloServerPluginLandingPageDisabled(),
      mergeRequestPlugins([
        errorReportingPlugin(),
        operationMetricsPlugin({
          operation: (type, outcome) => metrics.graphqlOperations.inc({ operation_type: type, outcome }),
          error: (code) => metrics.graphqlErrors.inc({ code }),
        }),
        ...(options.requestPlugins ?? []),
      ]),
      ...(options.plugins ?? []),
    ],
    ...(options.validationRules && { validationRules: options.validationRules }),
    ...(options.parseOptions && { parseOptions: options.parseOptions }),
  });
}

/**
 * Who is calling (src/limits createHttpGuard): authenticates the `Authorization` header and counts the
 * request against its rate-limit budget; throws UNAUTHENTICATED (401) or RATE_LIMITED (429) errors.
 */
export type HttpGuard = (request: {
  authorization: string | undefined;
  clientIp: string | undefined;
}) => Promise<Principal>;

export interface GraphQLRouteOptions {
  apollo: ApolloServer<GraphQLContext>;
  /** Builds each operation's context (the same factory serves WebSocket). */
  contextFor: RequestContextFactory;
  /**
   * Largest request body (413 above).
   * @default 1 MiB
   */
  maxBodyBytes?: number | undefined;
  guard: HttpGuard;
  /** Adds to each operation's context from its HTTP request, after authentication. */
  extendContext?: ContextExtension<IncomingMessage> | undefined;
  /** Answers plain POSTs without Apollo's per-request pipeline when it can (the rest goes to Apollo). */
  fastPath?: GraphQLFastPath | undefined;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** `POST`, `GET` and `OPTIONS /graphql`, under the CORS policy. */
export function graphqlRoutes(options: GraphQLRouteOptions & { cors: CorsPolicy }): Route[] {
  const graphql = options.cors.wrap(graphqlRoute(options));
  return [
    { method: 'POST', path: '/graphql', handler: graphql },
    { method: 'GET', path: '/graphql', handler: graphql },
    { method: 'OPTIONS', path: '/graphql', handler: options.cors.preflight() },
  ];
}

/**
 * GraphQL over HTTP (GET and POST) on plain node:http through `executeHTTPGraphQLRequest`: measured
 * about three times faster than the express integration. The apollo server must have been started.
 */
export function graphqlRoute(options: GraphQLRouteOptions): RouteHandler {
  const { apollo, contextFor, guard, extendContext, fastPath } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async (req, res, info) => {
    const { requestId, clientIp } = info;
    const method = (req.method ?? 'GET').toUpperCase();
    const incoming = req.headers;

    let body: unknown = undefined;
    if (method === 'POST') {
      const raw = await readBody(req, maxBodyBytes);
      const contentType = incoming['content-type'] ?? '';
      if (/^application\/(graphql-response\+)?json\b/i.test(contentType) || /\+json\b/i.test(contentType)) {
        try {
          body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
        } catch {
          sendJson(res, 400, {
            errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }],
          });
          return;
        }
      } else {
        // Apollo refuses other content types itself (and CSRF prevention depends on seeing them).
        body = raw.toString('utf8');
      }
    }

    // Runs before any field resolves: an unauthenticated or rate-limited request is refused whole.
    let context = () =>
      contextFor({
        transport: req,
        requestId,
        // Read only if something logs (the request logger is made lazily).
        get logger() {
          return info.logger;
        },
        principal: () => guard({ authorization: req.headers.authorization, clientIp }),
        extend: extendContext,
      });
    const offered = fastPath !== undefined && method === 'POST' && typeof body === 'object';
    if (offered) {
      const outcome = await fastPath.handle(body, incoming.accept, context);
      if (outcome.kind === 'answered') {
        res.writeHead(200, {
          'content-type': outcome.contentType,
          'content-length': Buffer.byteLength(outcome.body),
        });
        res.end(outcome.body);
        return;
      }
      if (outcome.context) context = outcome.context;
    }

    const headers = new HeaderMap();
    for (const name in incoming) {
      const value = incoming[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    // A target with no query (most POSTs) needs no URL parsed for its (empty) search.
    const search = req.url?.includes('?') ? info.url.search : '';
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search, body },
      context,
    });
    const answeredAs = response.headers.get('content-type');
    if (offered && (response.status ?? 200) === 200 && response.body.kind === 'complete' && answeredAs) {
      fastPath.learn(incoming.accept, answeredAs);
    }
    res.statusCode = response.status ?? 200;
    for (const [name, value] of response.headers) {
      // `vary` may already name `origin` (CORS); Apollo adds its own.
      if (name === 'vary') res.appendHeader(name, value);
      else res.setHeader(name, value);
    }
    if (response.body.kind === 'complete') {
      // A known length: headers and body leave in one write, not as chunks.
      if (!res.hasHeader('content-length')) {
        res.setHeader('content-length', Buffer.byteLength(response.body.string));
      }
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
