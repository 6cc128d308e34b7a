import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { GraphQLContext } from '../graphql/context.js';
import { DEFAULT_DOCUMENT_CACHE_SIZE, MAX_CACHED_QUERY_LENGTH } from '../graphql/document-cache.js';
import { withEarlyResult, type JitExecution } from '../graphql/jit-execution.js';
import type { ComplexityCheck } from '../limits/index.js';

export interface GraphQLFastPathOptions {
  schema: GraphQLSchema;
  /**
   * Distinct documents kept (those Apollo parsed and validated; least recently used go first).
   * @default DEFAULT_DOCUMENT_CACHE_SIZE
   */
  maxDocuments?: number;
  /** The executor Apollo's executor hook runs (src/graphql/jit-execution.ts). */
  execution: JitExecution;
  /** The check Apollo's complexity plugin makes. */
  checkComplexity: (request: {
    schema: GraphQLSchema;
    document: DocumentNode;
    variables?: Readonly<Record<string, unknown>> | null;
    operationName?: string | null;
  }) => ComplexityCheck;
  /** What Apollo's operation metrics plugin counts for a clean answer. */
  countOperation: (type: 'query' | 'mutation') => void;
  /**
   * Distinct `Accept` headers whose content type is remembered; requests with others go through Apollo.
   * @default 64
   */
  maxAcceptHeaders?: number;
}

/** What became of a request offered to the fast path. */
export type FastPathOutcome =
  /** Answered here: a 200 with this body, exactly as Apollo would have written it. */
  | { kind: 'answered'; contentType: string; body: string }
  /**
   * Apollo must answer. `context`, when set, is what Apollo's context function must return: the
   * operation's context already made (auth and rate limit counted once), carrying the execution's
   * result when it ran (Apollo returns it from its executor hook, never executing twice), or the refusal.
   */
  | { kind: 'apollo'; context?: () => Promise<GraphQLContext> };

interface PlainRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

const TO_APOLLO: FastPathOutcome = { kind: 'apollo' };

/**
 * `POST /graphql` without Apollo's per-request pipeline, for what Apollo would answer plainly. The
 * profile of a cached `charge(id)` read put a quarter of its CPU in that pipeline (hashing the query,
 * content negotiation, CSRF parsing, context cloning, plugin hooks), all of it for a request whose
 * document is known, valid and cheap.
 *
 * It learns from Apollo rather than doing Apollo's work again: the content type Apollo chose for an
 * `Accept` header (from Apollo's answers), and the documents Apollo parsed and validated (from its
 * `didResolveOperation` hook, {@link apolloPlugin}). A query text's first request therefore goes
 * through Apollo; the next ones are checked for complexity, given their context by the same factory, and
 * executed by the same executor Apollo's hook runs. Nothing is parsed twice, and a document Apollo
 * refuses is parsed by Apollo alone and never takes room here.
 *
 * Only a clean result (data, no errors) is written here, in Apollo's words: status 200, the content type
 * Apollo chose for the same `Accept` header, `JSON.stringify` + "\n". Everything else goes to Apollo: a
 * body Apollo would look at twice (extensions, batches, strings), a document it has not resolved, an
 * unknown operation name, subscriptions, complexity refusals — and any result with errors, which Apollo
 * receives through its executor hook without executing again, so that error formatting, HTTP status and
 * the error plugins stay Apollo's.
 */
export class GraphQLFastPath {
  private readonly contentTypes = new Map<string, string>();
  private readonly maxAcceptHeaders: number;
  /** Query text → the document Apollo parsed and validated from it. */
  private readonly documents: LRUCache<string, DocumentNode>;
  /** Requests answered here (tests, metrics). */
  answered = 0;

  constructor(private readonly options: GraphQLFastPathOptions) {
    this.maxAcceptHeaders = options.maxAcceptHeaders ?? 64;
    this.documents = new LRUCache({ max: options.maxDocuments ?? DEFAULT_DOCUMENT_CACHE_SIZE });
  }

  /** Documents it holds (tests). */
  get knownDocuments(): number {
    return this.documents.size;
  }

  /**
   * The Apollo request plugin that hands over each document Apollo has parsed and validated (whatever
   * happens to the request next: a complexity refusal depends on the variables, not on the document).
   * Put it before the plugins that may refuse in `didResolveOperation`.
   */
  apolloPlugin(): ApolloServerPlugin<GraphQLContext> {
    const documents = this.documents;
    const listener: GraphQLRequestListener<GraphQLContext> = {
      didResolveOperation({ source, document }) {
        // Longer texts are not kept: the cache stays small in bytes too.
        if (source.length <= MAX_CACHED_QUERY_LENGTH) documents.set(source, document);
        return Promise.resolve();
      },
    };
    return { requestDidStart: () => Promise.resolve(listener) };
  }

  /**
   * Remembers the content type Apollo answered a single-result POST with, for its `Accept` header: Apollo
   * decides it from that header alone (`chooseContentTypeForSingleResultResponse`).
   */
  learn(accept: string | undefined, contentType: string): void {
    const key = accept ?? '';
    if (this.contentTypes.has(key) || this.contentTypes.size >= this.maxAcceptHeaders) return;
    this.contentTypes.set(key, contentType);
  }

  async handle(
    body: unknown,
    accept: string | undefined,
    context: () => Promise<GraphQLContext>,
  ): Promise<FastPathOutcome> {
    const contentType = this.contentTypes.get(accept ?? '');
    if (contentType === undefined || !isPlainRequest(body)) return TO_APOLLO;
    const document = this.documents.get(body.query);
    if (document === undefined) return TO_APOLLO;
    const operationName = body.operationName ?? undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation || operation.operation === 'subscription') return TO_APOLLO;
    const variables = body.variables ?? undefined;
    const { schema } = this.options;
    if (this.options.checkComplexity({ schema, document, variables, operationName }).errors.length > 0) {
      return TO_APOLLO;
    }

    let contextValue: GraphQLContext;
    try {
      contextValue = await context();
    } catch (refusal) {
      return { kind: 'apollo', context: () => Promise.reject(refusal) };
    }
    let execution: Promise<ExecutionResult>;
    try {
      execution = Promise.resolve(
        this.options.execution.execute({
          document,
          operationName,
          variables,
          contextValue,
          operationType: operation.operation,
        }),
      );
    } catch (error) {
      // A throw becomes the rejection Apollo's executor hook would have seen.
      execution = Promise.reject(error);
    }
    let result: ExecutionResult;
    try {
      result = await execution;
    } catch {
      return this.toApollo(contextValue, execution);
    }
    if (result.errors !== undefined || !('data' in result)) return this.toApollo(contextValue, execution);

    this.answered += 1;
    this.options.countOperation(operation.operation);
    // Apollo's field order (errors, data, extensions) and its stringifyResult.
    return {
      kind: 'answered',
      contentType,
      body: JSON.stringify({ data: result.data, extensions: result.extensions }) + '\n',
    };
  }

  private toApollo(contextValue: GraphQLContext, execution: Promise<ExecutionResult>): FastPathOutcome {
    const early = withEarlyResult(contextValue, execution);
    return { kind: 'apollo', context: () => Promise.resolve(early) };
  }
}

const PLAIN_KEYS = new Set(['query', 'variables', 'operationName']);

/**
 * A JSON body with a query text and nothing Apollo would treat specially: no `extensions` (persisted
 * queries), variables an object or null, operationName a string or null.
 */
function isPlainRequest(body: unknown): body is PlainRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const request = body as Record<string, unknown>;
  for (const key in request) if (!PLAIN_KEYS.has(key)) return false;
  if (typeof request['query'] !== 'string') return false;
  const { variables, operationName } = request;
  if (variables !== undefined && variables !== null) {
    if (typeof variables !== 'object' || Array.isArray(variables)) return false;
  }
  return operationName === undefined || operationName === null || typeof operationName === 'string';
}
