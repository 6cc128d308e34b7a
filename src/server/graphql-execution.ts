import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { NoSchemaIntrospectionCustomRule, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { Logger } from 'pino';
import type { GraphQLContext } from '../graphql/context.js';
import { DEFAULT_DOCUMENT_CACHE_SIZE, DocumentCache } from '../graphql/document-cache.js';
import { JitExecution } from '../graphql/jit-execution.js';
import {
  createComplexityChecker,
  createComplexityPlugin,
  createValidationRules,
  type QueryLimits,
} from '../limits/index.js';
import { createApollo } from './apollo.js';
import { GraphQLFastPath } from './graphql-fast-path.js';
import type { GatewayMetrics } from './metrics.js';

export interface GraphQLExecutionOptions {
  schema: GraphQLSchema;
  limits: QueryLimits;
  logger: Logger;
  metrics: GatewayMetrics;
  /** Introspection, and the landing page with it (useless without introspection). */
  introspection: boolean;
  /** More Apollo plugins, after the gateway's own. */
  apolloPlugins?: ApolloServerPlugin<GraphQLContext>[] | undefined;
  /** More validation rules, after the query limits; must depend on the document only (cached). */
  validationRules?: ValidationRule[] | undefined;
  /**
   * Documents kept by WebSocket (parsed and validated there) and by the HTTP fast path (those Apollo
   * parsed and validated), each its own cache.
   * @default DEFAULT_DOCUMENT_CACHE_SIZE
   */
  documentCacheSize?: number | undefined;
  /** @default 'jit' (src/graphql/jit-execution.ts) */
  executor?: 'jit' | 'graphql-js' | undefined;
  /**
   * Plain POSTs answered without Apollo's per-request pipeline (src/server/graphql-fast-path.ts). Needs
   * the jit executor's hook; off when more Apollo plugins are given (they would not see those requests).
   * @default true
   */
  fastPath?: boolean | undefined;
}

/** How operations are parsed, validated and run: Apollo over HTTP, the DocumentCache over WebSocket. */
export interface GraphQLExecution {
  /** Started; stop it after HTTP has drained. */
  apollo: ApolloServer<GraphQLContext>;
  documentCache: DocumentCache;
  /** graphql-jit behind Apollo (undefined with the graphql-js executor). */
  jit: JitExecution | undefined;
  /** Plain POSTs without Apollo's pipeline (undefined when off). */
  fastPath: GraphQLFastPath | undefined;
}

/**
 * The same limits over HTTP and WebSocket: depth, aliases, root fields and operations as validation
 * rules (static: cached per document by Apollo and by the DocumentCache), tokens at parse time, and
 * complexity, which depends on the variables, per operation (Apollo plugin here; the WebSocket guard
 * there).
 */
export async function startGraphQLExecution(options: GraphQLExecutionOptions): Promise<GraphQLExecution> {
  const { schema, limits } = options;
  const validationRules = [...createValidationRules(schema, limits), ...(options.validationRules ?? [])];
  const parseOptions = { maxTokens: limits.maxTokens };
  // Apollo's rules, and its refusal of introspection, for WebSocket's documents (they do not pass
  // through Apollo).
  const documentCache = new DocumentCache(schema, {
    maxEntries: options.documentCacheSize ?? DEFAULT_DOCUMENT_CACHE_SIZE,
    validationRules: options.introspection
      ? validationRules
      : [...validationRules, NoSchemaIntrospectionCustomRule],
    parseOptions,
  });
  const jit = options.executor === 'graphql-js' ? undefined : new JitExecution(schema);
  const apolloPlugins = options.apolloPlugins ?? [];
  const fastPath =
    jit && options.fastPath !== false && apolloPlugins.length === 0
      ? new GraphQLFastPath({
          schema,
          // Its own: HTTP's documents neither evict WebSocket's nor blur their counts.
          maxDocuments: options.documentCacheSize ?? DEFAULT_DOCUMENT_CACHE_SIZE,
          execution: jit,
          checkComplexity: createComplexityChecker(limits),
          countOperation: (type) =>
            options.metrics.graphqlOperations.inc({ operation_type: type, outcome: 'ok' }),
        })
      : undefined;
  const apollo = createApollo({
    schema,
    logger: options.logger.child({ component: 'apollo' }),
    metrics: options.metrics,
    introspection: options.introspection,
    landingPage: options.introspection,
    // The fast path's first: it learns each document Apollo resolved, even one refused for complexity.
    requestPlugins: [
      ...(fastPath ? [fastPath.apolloPlugin()] : []),
      createComplexityPlugin<GraphQLContext>(limits),
    ],
    plugins: apolloPlugins,
    validationRules,
    parseOptions,
    jit,
  });
  await apollo.start();
  return { apollo, documentCache, jit, fastPath };
}
