import {
  createSourceEventStream,
  execute,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { directStream, type DirectSink } from './direct-stream.js';
import { mapEvents } from './map-events.js';

/**
 * The sharing group of one subscriber at one event: subscribers of the same operation text, variables
 * and group receive one execution of the event. Undefined → this subscriber executes the event alone
 * (e.g. its credential no longer allows the field: the execution then gives it its own error).
 */
export type SubscriberGroupOf = (
  contextValue: unknown,
  /** `<Subscription type>.<root field>`, as the authChecker names it. */
  operation: string,
  args: Readonly<Record<string, unknown>>,
) => string | undefined;

export interface SharedSubscriptionEvents {
  /** For graphql-ws's `subscribe` option: graphql's subscribe, with each event executed once per group. */
  subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;
  /** A result executed for a group and handed to its members as the same object (never mutate it). */
  isShared(result: unknown): boolean;
}

export interface SharedSubscriptionEventsOptions {
  groupOf: SubscriberGroupOf;
  /** Called once per execution of an event: `group` for one shared by a group, `alone` otherwise. */
  onExecute?: (sharing: 'group' | 'alone') => void;
  /**
   * Where a subscriber's shared results are written directly (./direct-stream.ts); undefined → every
   * result goes through graphql-ws.
   */
  directSinkOf?: (args: ExecutionArgs) => DirectSink | undefined;
}

/**
 * One execution per (event, operation text, operation name, variables, group) instead of one per
 * subscriber. A chargeStatus event reaches every local subscriber of its charge as the same object
 * (status-feed/shared-topics), so 10,000 phones watching 200 charges cost 200 executions, not 10,000.
 *
 * What each subscriber is subject to stays its own: `groupOf` decides per subscriber and per event
 * (expiry included), a result with errors is never shared (every member then executes alone and gets its
 * errors as before, request id and metrics included), and only subscribers whose rules are identical
 * share a group.
 */
export function createSharedSubscriptionEvents(
  options: SharedSubscriptionEventsOptions,
): SharedSubscriptionEvents {
  /**
   * Per event object: its executions by group key (the promise, so that concurrent members share one
   * run; and the result once known, so that the other members take it without another promise).
   */
  const executions = new WeakMap<object, Map<string, Execution>>();
  const shared = new WeakSet<object>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;

  const executeAlone = (args: ExecutionArgs, event: unknown) => {
    options.onExecute?.('alone');
    return execute({ ...args, rootValue: event });
  };

  return {
    isShared: (result) => typeof result === 'object' && result !== null && shared.has(result),

    async subscribe(args) {
      const stream = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in stream)) return stream;
      const root = rootFieldOf(args);
      if (root === undefined) {
        return mapEvents(stream, (event) => executeAlone(args, event));
      }
      let documentId = documentIds.get(args.document);
      if (documentId === undefined) documentIds.set(args.document, (documentId = nextDocumentId++));
      const operationKey = `${documentId}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? null)}`;

      // Errors carry what is particular to a subscriber (its request id, its metrics): its own run.
      const forMember = (result: ExecutionResult, event: unknown) =>
        result.errors ? executeAlone(args, event) : result;

      const resultOf = (event: unknown): PromiseOrValue<ExecutionResult> => {
        const group =
          typeof event === 'object' && event !== null
            ? options.groupOf(args.contextValue, root.operation, root.args)
            : undefined;
        if (group === undefined) return executeAlone(args, event);
        const key = `${operationKey}\u0000${group}`;
        let byGroup = executions.get(event as object);
        if (byGroup === undefined) executions.set(event as object, (byGroup = new Map()));
        const running = byGroup.get(key);
        if (running !== undefined) {
          return running.result !== undefined
            ? forMember(running.result, event)
            : running.promise.then((result) => forMember(result, event));
        }
        options.onExecute?.('group');
        const sharing = (result: ExecutionResult) => {
          if (!result.errors) shared.add(result);
          execution.result = result;
          return result;
        };
        const executed = execute({ ...args, rootValue: event });
        const execution: Execution = {
          promise: isPromise(executed) ? executed.then(sharing) : Promise.resolve(executed),
          result: undefined,
        };
        byGroup.set(key, execution);
        return isPromise(executed) ? execution.promise : sharing(executed);
      };
      const sink = options.directSinkOf?.(args);
      return sink ? directStream(stream, resultOf, sink) : mapEvents(stream, resultOf);
    },
  };
}

interface Execution {
  promise: Promise<ExecutionResult>;
  /** Set once the execution has settled with a result. */
  result: ExecutionResult | undefined;
}

type PromiseOrValue<T> = Promise<T> | T;

function isPromise<T>(value: PromiseOrValue<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The root field and its argument values, when the operation selects exactly one field plainly. */
function rootFieldOf(
  args: ExecutionArgs,
): { operation: string; args: Readonly<Record<string, unknown>> } | undefined {
  const operation = getOperationAST(args.document, args.operationName);
  const type = args.schema.getSubscriptionType();
  const [selection, ...others] = operation?.selectionSet.selections ?? [];
  if (!operation || !type || others.length > 0 || selection?.kind !== Kind.FIELD) return undefined;
  if (selection.directives?.length) return undefined;
  const field = type.getFields()[selection.name.value];
  if (!field) return undefined;
  const variables = getVariableValues(
    args.schema,
    operation.variableDefinitions ?? [],
    (args.variableValues ?? {}) as Record<string, unknown>,
  );
  if (variables.errors) return undefined;
  try {
    return {
      operation: `${type.name}.${field.name}`,
      args: getArgumentValues(field, selection, variables.coerced),
    };
  } catch {
    return undefined;
  }
}
