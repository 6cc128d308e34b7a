import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { createComplexityChecker, withHttpStatus, type QueryLimits } from './query-limits.js';

/**
 * Apollo checks complexity here rather than in `validationRules`: only now are the request's variables
 * known, and Apollo caches validation per document. Refuses with 400 and GRAPHQL_VALIDATION_FAILED.
 * `onComplexity` receives every computed cost (metrics, logs).
 */
export function createComplexityPlugin<TContext extends BaseContext = BaseContext>(
  limits: Partial<QueryLimits> = {},
  onComplexity?: (complexity: number, operationName: string | null) => void,
): ApolloServerPlugin<TContext> {
  const checkComplexity = createComplexityChecker(limits);
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation(requestContext) {
          const { complexity, errors } = checkComplexity({
            schema: requestContext.schema,
            document: requestContext.document,
            variables: requestContext.request.variables,
            operationName: requestContext.operationName,
          });
          onComplexity?.(complexity, requestContext.operationName);
          const [first] = errors;
          if (first !== undefined) throw withHttpStatus(first, 400);
          return Promise.resolve();
        },
      });
    },
  };
}
