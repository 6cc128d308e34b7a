import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLContext } from './context.js';
import { classifyError } from './errors.js';

/** Counters the metrics plugin feeds (kept abstract so graphql/ does not depend on server/). */
export interface OperationMetricsSink {
  operation(type: string, outcome: 'ok' | 'error'): void;
  error(code: string): void;
}

/**
 * Logs what went wrong with the request id (internal errors with their stack, upstream failures as
 * warnings) and puts the request id into every error's extensions, so a client can quote it.
 */
export function errorReportingPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            const kind = classifyError(error);
            if (kind === 'internal') {
              contextValue.logger.error(
                { err: unwrapResolverError(error), path: error.path, operationName },
                'internal error in GraphQL operation',
              );
            } else if (kind === 'upstream') {
              contextValue.logger.warn(
                { err: unwrapResolverError(error), path: error.path, operationName },
                'Omise failure surfaced as a GraphQL error',
              );
            }
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (!result.errors) return;
          result.errors = result.errors.map((error) => ({
            ...error,
            extensions: { ...error.extensions, requestId: contextValue.requestId },
          }));
        },
      };
    },
  };
}

/** Counts operations by type and outcome, and errors by `extensions.code`. */
export function operationMetricsPlugin(sink: OperationMetricsSink): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          sink.operation(operation?.operation ?? 'unknown', errors?.length ? 'error' : 'ok');
          for (const error of errors ?? []) {
            const code = error.extensions?.code;
            sink.error(typeof code === 'string' ? code : 'UNKNOWN');
          }
        },
      };
    },
  };
}

/** The hooks {@link mergeRequestPlugins} can merge: called in turn, none returns anything. */
const MERGEABLE_HOOKS = [
  'didResolveSource',
  'didResolveOperation',
  'didEncounterErrors',
  'willSendResponse',
] as const;
type MergeableHook = (typeof MERGEABLE_HOOKS)[number];
type MergeableListener<TContext extends BaseContext> = Pick<GraphQLRequestListener<TContext>, MergeableHook>;

/**
 * Several request plugins as one: Apollo awaits every plugin's `requestDidStart` and then, at each stage
 * of every request, a `Promise.all` over all listeners, so each plugin costs promises per request. The
 * listeners must not depend on the request (they are made once) and may only have the hooks above;
 * each hook runs the listeners' hooks in order, as Apollo would (a throw stops the later ones, as it
 * stops the request).
 */
export function mergeRequestPlugins<TContext extends BaseContext>(
  plugins: readonly ApolloServerPlugin<TContext>[],
): ApolloServerPlugin<TContext> {
  let merged: Promise<MergeableListener<TContext>> | undefined;
  const build = async (
    context: Parameters<NonNullable<ApolloServerPlugin<TContext>['requestDidStart']>>[0],
  ): Promise<MergeableListener<TContext>> => {
    const listeners: MergeableListener<TContext>[] = [];
    for (const plugin of plugins) {
      if (Object.keys(plugin).some((key) => key !== 'requestDidStart')) {
        throw new Error('mergeRequestPlugins: only plugins with requestDidStart alone can be merged');
      }
      const listener = await plugin.requestDidStart?.(context);
      if (!listener) continue;
      const unsupported = Object.keys(listener).filter(
        (key) => !(MERGEABLE_HOOKS as readonly string[]).includes(key),
      );
      if (unsupported.length > 0)
        throw new Error(`mergeRequestPlugins: cannot merge ${unsupported.join(', ')}`);
      listeners.push(listener);
    }
    const result: MergeableListener<TContext> = {};
    for (const hook of MERGEABLE_HOOKS) {
      const hooks = listeners.flatMap((listener) => {
        const fn = listener[hook] as ((ctx: never) => Promise<void>) | undefined;
        return fn ? [fn.bind(listener)] : [];
      });
      if (hooks.length === 0) continue;
      (result as Record<MergeableHook, (ctx: never) => Promise<void>>)[hook] =
        hooks.length === 1
          ? hooks[0]!
          : async (ctx) => {
              for (const fn of hooks) await fn(ctx);
            };
    }
    return result;
  };
  return {
    requestDidStart(context) {
      // Made on the first request (Apollo gives no request context earlier), then the same every time.
      merged ??= build(context);
      return merged;
    },
  };
}
