import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  execute,
  getNamedType,
  GraphQLError,
  isInputObjectType,
  printSchema,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GraphQLContext } from './context.js';

/** Apollo's executor hook: a "gateway" that loads one fixed schema and executes operations itself. */
export type ExecutorGateway = ApolloServerOptionsWithGateway<GraphQLContext>['gateway'];

/** What one document and operation name became: compiled, not compilable, or not yet seen often. */
type Plan = { kind: 'seen'; count: number } | { kind: 'jit'; query: CompiledQuery } | { kind: 'graphql-js' };

export interface JitExecutionOptions {
  /**
   * Executions through graphql-js before a document is compiled: compiling costs more than one
   * execution, so a document sent once (or a stream of unique ones) is never compiled.
   * @default 1
   */
  compileAfter?: number;
}

/** One operation to execute, in graphql-js terms. */
export interface OperationToExecute {
  document: DocumentNode;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
  contextValue: GraphQLContext;
  /** query, mutation, subscription; undefined when the document names no such operation. */
  operationType: string | undefined;
}

/**
 * Executes queries with graphql-jit once a document repeats, with the results and errors graphql-js
 * would give, so that type-graphql's resolvers, the auth checker, `formatGatewayError` and the
 * error-reporting plugin see exactly what they see under graphql-js:
 * - an error a resolver threw (or rejected with) is re-made as a graphql-js `GraphQLError` the way
 *   graphql-js's `locatedError` makes it (message, path, locations, the thrown error as
 *   `originalError`, its extensions). graphql-jit's own error objects have no `extensions` when the
 *   thrown error has none, and Apollo's error formatting then fails into a bare INTERNAL_SERVER_ERROR
 *   before `formatGatewayError` ever runs: that is why upstream failures lost their codes before;
 * - errors graphql-jit makes itself (a null for a non-null field, a value a scalar cannot serialise, an
 *   argument null at run time...) differ from graphql-js's in message or in `originalError` (which
 *   decides masking): the query is executed again by graphql-js, whose answer is returned. Only
 *   queries are compiled, so this re-runs reads, never a mutation, and only on such a fault;
 * - variables graphql-jit refuses (no resolver has run): graphql-js executes, for its exact messages
 *   and nodes (Apollo's BAD_USER_INPUT and HTTP 400 depend on them);
 * - mutations, subscriptions, documents graphql-jit cannot compile, and documents with input objects
 *   whose fields have defaults (graphql-jit 0.8.9 ignores those defaults: it refused
 *   `createTrueMoneyCharge(input: { amount })` as lacking `currency`, which is why creates failed with
 *   400 before) go to graphql-js.
 * Compiled queries live as long as their document: Apollo's document store (a bounded LRU) hands the
 * same parsed document to every request of the same query, and the plans are kept in a WeakMap on it.
 */
export class JitExecution {
  private readonly plans = new WeakMap<DocumentNode, Map<string | undefined, Plan>>();
  private readonly compileAfter: number;
  /** Executions by graphql-jit, and by graphql-js (not compiled, or graphql-jit's answer set aside). */
  jitRuns = 0;
  graphqlJsRuns = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    options: JitExecutionOptions = {},
  ) {
    this.compileAfter = options.compileAfter ?? 1;
  }

  execute(operation: OperationToExecute): Promise<ExecutionResult> | ExecutionResult {
    const plan = this.planFor(operation);
    if (plan.kind !== 'jit') return this.executeWithGraphqlJs(operation);
    this.jitRuns += 1;
    const result = plan.query.query(undefined, operation.contextValue, operation.variables ?? {});
    return isPromiseLike(result)
      ? Promise.resolve(result).then((settled) => this.fromJit(settled, operation))
      : this.fromJit(result, operation);
  }

  /** Whether this document and operation name are executed by graphql-jit now (for tests). */
  isCompiled(document: DocumentNode, operationName?: string): boolean {
    return this.plans.get(document)?.get(operationName)?.kind === 'jit';
  }

  private executeWithGraphqlJs(operation: OperationToExecute) {
    this.graphqlJsRuns += 1;
    return execute({
      schema: this.schema,
      document: operation.document,
      operationName: operation.operationName,
      variableValues: operation.variables,
      contextValue: operation.contextValue,
    });
  }

  private fromJit(result: ExecutionResult, operation: OperationToExecute) {
    // Without `data` no field ran: graphql-jit refused the variables. graphql-js says it its own way.
    if (!('data' in result)) return this.executeWithGraphqlJs(operation);
    if (!result.errors?.length) return result;
    // An error no resolver threw was made by graphql-jit in its own words: a query, so ask graphql-js.
    if (result.errors.some((error) => !(error.originalError instanceof Error))) {
      return this.executeWithGraphqlJs(operation);
    }
    return { data: result.data, errors: result.errors.map(toGraphqlJsError) };
  }

  private planFor(operation: OperationToExecute): Plan {
    if (operation.operationType !== 'query') return { kind: 'graphql-js' };
    let byName = this.plans.get(operation.document);
    if (!byName) {
      byName = new Map();
      this.plans.set(operation.document, byName);
    }
    const plan = byName.get(operation.operationName);
    if (plan?.kind === 'jit' || plan?.kind === 'graphql-js') return plan;
    const count = (plan?.count ?? 0) + 1;
    if (count <= this.compileAfter) {
      const seen: Plan = { kind: 'seen', count };
      byName.set(operation.operationName, seen);
      return seen;
    }
    if (usesInputFieldDefaults(this.schema, operation.document)) {
      byName.set(operation.operationName, { kind: 'graphql-js' });
      return { kind: 'graphql-js' };
    }
    const compiled = compileQuery(this.schema, operation.document, operation.operationName);
    const next: Plan = isCompiledQuery(compiled) ? { kind: 'jit', query: compiled } : { kind: 'graphql-js' };
    byName.set(operation.operationName, next);
    return next;
  }
}

/**
 * Whether an argument or variable of the document has an input object type with a defaulted field
 * (at any depth), e.g. `CreateTrueMoneyChargeInput.currency = THB`: graphql-jit 0.8.9 does not apply
 * those defaults (it refuses `{ amount }` as lacking `currency`), so such documents stay with graphql-js.
 */
function usesInputFieldDefaults(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument() {
        const argument = typeInfo.getArgument();
        if (argument && hasFieldDefaults(argument.type)) found = true;
      },
      VariableDefinition() {
        const type = typeInfo.getInputType();
        if (type && hasFieldDefaults(type)) found = true;
      },
    }),
  );
  return found;
}

function hasFieldDefaults(type: GraphQLInputType, seen = new Set<GraphQLInputObjectType>()): boolean {
  const named = getNamedType(type);
  if (!isInputObjectType(named) || seen.has(named)) return false;
  seen.add(named);
  return Object.values(named.getFields()).some(
    (field) => field.defaultValue !== undefined || hasFieldDefaults(field.type, seen),
  );
}

/**
 * graphql-js's `locatedError` for an error a resolver threw, as graphql-jit reported it: the thrown
 * error is `originalError` (its extensions come with it), a GraphQLError already located is kept.
 */
function toGraphqlJsError(error: GraphQLError): GraphQLError {
  const original = error.originalError;
  if (original instanceof GraphQLError && original.path !== undefined) return original;
  const located = new GraphQLError(error.message, { path: error.path, originalError: original });
  // graphql-js computes locations from the field's nodes, which graphql-jit has already turned into these.
  if (error.locations !== undefined) {
    (located as { locations: GraphQLError['locations'] }).locations = error.locations;
  }
  return located;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Where an operation already executed before Apollo saw it (src/server/graphql-fast-path.ts) keeps its
 * result on the context: Apollo's executor hook returns that result instead of executing again, so a
 * mutation never runs twice and Apollo still writes the answer (errors, status, plugins) itself.
 */
const EXECUTED_EARLY = Symbol('gateway.executedEarly');

type EarlyExecuted = GraphQLContext & { [EXECUTED_EARLY]?: Promise<ExecutionResult> };

/** Marks `context` as the context of an operation whose (settled) execution is `result`. */
export function withEarlyResult(context: GraphQLContext, result: Promise<ExecutionResult>): GraphQLContext {
  (context as EarlyExecuted)[EXECUTED_EARLY] = result;
  return context;
}

/** Apollo's `gateway` option for a fixed schema whose operations `execution` runs. */
export function jitGateway(schema: GraphQLSchema, execution: JitExecution): ExecutorGateway {
  return {
    async load() {
      return {
        executor: (requestContext) =>
          (requestContext.context as EarlyExecuted)[EXECUTED_EARLY] ??
          Promise.resolve(
            execution.execute({
              document: requestContext.document,
              operationName: requestContext.request.operationName ?? undefined,
              variables: requestContext.request.variables,
              contextValue: requestContext.context as GraphQLContext,
              operationType: requestContext.operation?.operation,
            }),
          ),
      };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => {};
    },
    async stop() {},
  };
}
