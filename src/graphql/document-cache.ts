import { ApolloServerErrorCode } from '@apollo/server/errors';
import {
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';

export const DEFAULT_DOCUMENT_CACHE_SIZE = 500;
/** Longer query texts are parsed every time rather than kept (the cache stays small in bytes too). */
export const MAX_CACHED_QUERY_LENGTH = 16 * 1024;

/** A parsed and validated document, or the errors that refused it. */
export type PreparedDocument =
  { ok: true; document: DocumentNode } | { ok: false; errors: readonly GraphQLError[] };

export interface DocumentCacheOptions {
  /**
   * Most distinct documents kept; least recently used go first.
   * @default 500
   */
  maxEntries?: number;
  /**
   * Rules beyond graphql's specified ones (depth, aliases...). They must not depend on anything but the
   * document (no variables, no caller): their verdict is cached per query text. Complexity, which
   * depends on the variables, is checked per operation outside the cache.
   */
  validationRules?: readonly ValidationRule[];
  /** graphql `parse` options, e.g. `{ maxTokens }` (query limits). */
  parseOptions?: ParseOptions;
}

/**
 * Parse + validate once per distinct query text (graphql-ws would do both on every subscribe). A
 * bounded LRU keyed by the query text; refusals are cached too, so a client retrying a bad document
 * costs nothing either. The rules are fixed per cache and depend on the document alone (not on
 * variables, operation name or caller), so the text is the whole key.
 */
export class DocumentCache {
  private readonly entries = new Map<string, PreparedDocument>();
  private readonly maxEntries: number;
  private readonly rules: readonly ValidationRule[];
  private readonly parseOptions: ParseOptions | undefined;
  /** Documents parsed (i.e. cache misses), for tests and metrics. */
  parses = 0;
  hits = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    options: DocumentCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? DEFAULT_DOCUMENT_CACHE_SIZE;
    if (!(this.maxEntries >= 1)) throw new RangeError('maxEntries must be at least 1');
    this.rules = [...specifiedRules, ...(options.validationRules ?? [])];
    this.parseOptions = options.parseOptions;
  }

  get size(): number {
    return this.entries.size;
  }

  get(query: string): PreparedDocument {
    const cached = this.entries.get(query);
    if (cached) {
      this.hits += 1;
      // Map order is insertion order: re-inserting makes this the most recently used.
      this.entries.delete(query);
      this.entries.set(query, cached);
      return cached;
    }
    const prepared = this.prepare(query);
    if (query.length <= MAX_CACHED_QUERY_LENGTH) {
      this.entries.set(query, prepared);
      if (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
    }
    return prepared;
  }

  private prepare(query: string): PreparedDocument {
    this.parses += 1;
    let document: DocumentNode;
    try {
      document = parse(query, this.parseOptions);
    } catch (error) {
      if (error instanceof GraphQLError) {
        return { ok: false, errors: [withCode(error, ApolloServerErrorCode.GRAPHQL_PARSE_FAILED)] };
      }
      throw error;
    }
    const errors = validate(this.schema, document, this.rules);
    return errors.length > 0
      ? {
          ok: false,
          errors: errors.map((e) => withCode(e, ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED)),
        }
      : { ok: true, document };
  }
}

/**
 * The `extensions.code` Apollo gives the same error over HTTP, so that a client handles both
 * transports alike; a code a rule set itself is kept.
 */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (typeof error.extensions['code'] === 'string') return error;
  return new GraphQLError(error.message, {
    ...(error.nodes && { nodes: error.nodes }),
    ...(error.source && { source: error.source }),
    ...(error.positions && { positions: error.positions }),
    ...(error.originalError && { originalError: error.originalError }),
    extensions: { ...error.extensions, code },
  });
}
