import type { ApolloServerPlugin } from '@apollo/server';
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
