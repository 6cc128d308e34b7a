import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  visit,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  isInterfaceType,
  isObjectType,
  type ASTVisitor,
  type DocumentNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import {
  createComplexityRule,
  fieldExtensionsEstimator,
  getComplexity,
  simpleEstimator,
  type ComplexityEstimator,
} from 'graphql-query-complexity';

/** Limits on what one GraphQL document may ask for. All counts are per operation unless said. */
export interface QueryLimits {
  /** Nesting of selection sets (fragments counted where they are spread); introspection's `__schema` is not counted. */
  maxDepth: number;
  /** Estimated cost (see {@link complexityEstimators}). */
  maxComplexity: number;
  /** Aliased fields (`a: charge(...)`), the usual multiplier of an expensive field. */
  maxAliases: number;
  /** Fields selected at the root (aliases included). */
  maxRootFields: number;
  /** Operations in one document (only one runs per request; the others still cost validation). */
  maxOperations: number;
  /** Parser tokens in one document: pass as `parseOptions: { maxTokens }` to Apollo and to `parse` for graphql-ws. */
  maxTokens: number;
  /** Size assumed for a paginated field whose size argument (`first`) is absent from the query. */
  defaultListSize: number;
  /** Extra cost of fields that do I/O of their own, by `Type.field`. */
  fieldCosts: Readonly<Record<string, number>>;
}

export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = Object.freeze({
  maxDepth: 8,
  maxComplexity: 5000,
  maxAliases: 15,
  maxRootFields: 10,
  maxOperations: 3,
  maxTokens: 2000,
  defaultListSize: 20,
  // Fetches and inlines the QR PNG from Omise (cached): costs like several fields.
  fieldCosts: Object.freeze({ 'QrCode.imageDataUri': 5 }),
});

/** The arguments that give the size of a returned page. */
const SIZE_ARGUMENTS = ['first', 'last', 'limit'] as const;

/**
 * The cost model, first answer wins: a field's own `extensions.complexity` (type-graphql
 * `@Field({ complexity })`), then `fieldCosts`, then "1 + size × children" for paginated fields (a
 * `first`/`last`/`limit` argument, or `defaultListSize` without it), then 1 + children.
 */
export function complexityEstimators(
  limits: Pick<QueryLimits, 'defaultListSize' | 'fieldCosts'>,
): ComplexityEstimator[] {
  const fieldCosts: ComplexityEstimator = ({ type, field, childComplexity }) => {
    const cost = limits.fieldCosts[`${type.name}.${field.name}`];
    return cost === undefined ? undefined : cost + childComplexity;
  };
  const pagination: ComplexityEstimator = ({ field, args, childComplexity }) => {
    const sizeArg = SIZE_ARGUMENTS.find((name) => field.args.some((a) => a.name === name));
    if (sizeArg === undefined) return undefined;
    const requested = args[sizeArg] as unknown;
    const size = typeof requested === 'number' && requested >= 0 ? requested : limits.defaultListSize;
    return 1 + size * childComplexity;
  };
  // Lists without a size argument (a connection's `edges`, a charge's few `refunds`) are not multiplied:
  // the page size was already counted on the field that has `first`.
  return [fieldExtensionsEstimator(), fieldCosts, pagination, simpleEstimator({ defaultComplexity: 1 })];
}

/**
 * Armor's rules throw by default (fine in envelop, not in `validate`): report instead, and without the
 * "Syntax Error: " Armor puts in front of its messages (the document's syntax is fine).
 */
const reportToContext = [
  (context: ValidationContext | null, error: GraphQLError) =>
    context?.reportError(
      new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
        nodes: error.nodes,
        extensions: error.extensions,
      }),
    ),
];

/** Rejects an operation with more than `max` root fields (fragments at the root included). */
export function maxRootFieldsRule(max: number): ValidationRule {
  return (context) => {
    const count = (selectionSet: SelectionSetNode, seen: Set<string>): number => {
      let n = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) n += 1;
        else if (selection.kind === Kind.INLINE_FRAGMENT) n += count(selection.selectionSet, seen);
        else if (!seen.has(selection.name.value)) {
          seen.add(selection.name.value);
          const fragment = context.getFragment(selection.name.value);
          if (fragment !== undefined && fragment !== null) n += count(fragment.selectionSet, seen);
        }
      }
      return n;
    };
    return {
      OperationDefinition(operation) {
        const n = count(operation.selectionSet, new Set());
        if (n > max) {
          context.reportError(
            new GraphQLError(`Root fields limit of ${max} exceeded, found ${n}.`, { nodes: [operation] }),
          );
        }
      },
    } satisfies ASTVisitor;
  };
}

/** Rejects a document holding more than `max` operations. */
export function maxOperationsRule(max: number): ValidationRule {
  return (context) => ({
    Document(document) {
      const n = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
      if (n > max)
        context.reportError(
          new GraphQLError(`Operations limit of ${max} per document exceeded, found ${n}.`),
        );
    },
  });
}

export interface ValidationRuleOptions extends Partial<QueryLimits> {
  /**
   * The request's variables. Given → the complexity rule is included (graphql-ws `onSubscribe`, one
   * validation per operation). Omitted → it is not: Apollo's `validationRules` are static and cached
   * per document, so Apollo checks complexity in {@link createComplexityPlugin}'s `didResolveOperation`.
   */
  variables?: Readonly<Record<string, unknown>>;
  operationName?: string | null;
}

export const resolveLimits = (options: Partial<QueryLimits> = {}): QueryLimits => ({
  ...DEFAULT_QUERY_LIMITS,
  ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
});

/**
 * The validation rules of the query limits, to add to graphql's `specifiedRules`: Apollo
 * `validationRules`, graphql-ws `validate`. Depth and aliases come from GraphQL Armor, complexity from
 * graphql-query-complexity. `schema` is the one documents are validated against: every `fieldCosts`
 * entry must name one of its fields (a typo would silently price an expensive field at 1).
 */
export function createValidationRules(
  schema: GraphQLSchema,
  options: ValidationRuleOptions = {},
): ValidationRule[] {
  const limits = resolveLimits(options);
  assertFieldCostsExist(schema, limits.fieldCosts);
  const rules: ValidationRule[] = [
    maxOperationsRule(limits.maxOperations),
    maxRootFieldsRule(limits.maxRootFields),
    // flattenFragments: a spread is not a level of its own, so `...F` and inlining F count the same.
    maxDepthRule({
      n: limits.maxDepth,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: reportToContext,
    }),
    maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject: reportToContext }),
  ];
  if (options.variables !== undefined) {
    rules.push(
      createComplexityRule({
        maximumComplexity: limits.maxComplexity,
        variables: { ...options.variables },
        operationName: options.operationName ?? undefined,
        estimators: complexityEstimators(limits),
        createError: (max, actual) => complexityError(max, actual),
      }),
    );
  }
  return rules;
}

/** Throws when a `fieldCosts` key is not a `Type.field` of the schema. */
export function assertFieldCostsExist(
  schema: GraphQLSchema,
  fieldCosts: Readonly<Record<string, number>>,
): void {
  for (const key of Object.keys(fieldCosts)) {
    const [typeName, fieldName, ...rest] = key.split('.');
    const type = typeName === undefined ? undefined : schema.getType(typeName);
    const exists =
      rest.length === 0 &&
      fieldName !== undefined &&
      (isObjectType(type) || isInterfaceType(type)) &&
      Object.hasOwn(type.getFields(), fieldName);
    if (!exists) throw new Error(`query limits: fieldCosts names ${key}, which is not a field of the schema`);
  }
}

function complexityError(max: number, actual: number): GraphQLError {
  return new GraphQLError(`Query complexity limit of ${max} exceeded, found ${actual}.`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
  });
}

/** Apollo's `http` extension: 400 like its own validation errors (a plugin error is 500 otherwise). */
export function withHttpStatus(error: GraphQLError, status: number): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    extensions: { ...error.extensions, http: { status } },
  });
}

export interface ComplexityCheck {
  complexity: number;
  /** Empty when within the limit. */
  errors: GraphQLError[];
}

/**
 * The complexity of one operation of a (valid) document with its variables. For Apollo's
 * `didResolveOperation` and graphql-ws `onSubscribe` (return `errors` when not empty).
 */
export function checkComplexity(
  request: {
    schema: GraphQLSchema;
    document: DocumentNode;
    variables?: Readonly<Record<string, unknown>> | null;
    operationName?: string | null;
  },
  options: Partial<QueryLimits> = {},
): ComplexityCheck {
  const limits = resolveLimits(options);
  const invalid = variableErrors(request);
  if (invalid.length > 0) return { complexity: 0, errors: invalid };
  let complexity: number;
  try {
    complexity = getComplexity({
      schema: request.schema,
      query: request.document,
      variables: { ...request.variables },
      operationName: request.operationName ?? undefined,
      estimators: complexityEstimators(limits),
    });
  } catch (error) {
    // Anything else that defeats the estimate (too many nodes...): refuse without guessing.
    const message = error instanceof Error ? error.message : 'invalid request';
    return {
      complexity: Infinity,
      errors: [
        new GraphQLError(`Query complexity could not be computed: ${message}`, {
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        }),
      ],
    };
  }
  return {
    complexity,
    errors: complexity > limits.maxComplexity ? [complexityError(limits.maxComplexity, complexity)] : [],
  };
}

/**
 * Variables that do not fit their types are the client's mistake, reported as execution would
 * (BAD_USER_INPUT), not as an uncomputable complexity. Empty when they fit (or there is no operation).
 */
export function variableErrors(request: {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables?: Readonly<Record<string, unknown>> | null;
  operationName?: string | null;
}): GraphQLError[] {
  const operation = getOperationAST(request.document, request.operationName ?? undefined);
  if (!operation) return [];
  const coerced = getVariableValues(
    request.schema,
    operation.variableDefinitions ?? [],
    { ...request.variables },
    { maxErrors: 10 },
  );
  return (coerced.errors ?? []).map(
    (error) =>
      new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } }),
  );
}

/**
 * {@link checkComplexity} with the work done once per document where it can be: the estimate reads a
 * request's variables only through page-size arguments (`first`, `last`, `limit`) and `@skip`/`@include`
 * conditions. For a document without such variables the complexity is remembered per document (Apollo
 * and the DocumentCache hand out the same parsed document for the same query) and operation name; a bad
 * variable of such a document is then left to execution, which reports it the same way (BAD_USER_INPUT,
 * HTTP 400). Documents with such variables are checked on every request.
 */
export function createComplexityChecker(
  options: Partial<QueryLimits> = {},
): (request: Parameters<typeof checkComplexity>[0]) => ComplexityCheck {
  const limits = resolveLimits(options);
  /** Per document: undefined when its cost depends on variables, else complexity by operation name. */
  const documents = new WeakMap<DocumentNode, Map<string, number> | null>();
  return (request) => {
    let known = documents.get(request.document);
    if (known === undefined) {
      known = hasCostVariables(request.document) ? null : new Map();
      documents.set(request.document, known);
    }
    if (known === null) return checkComplexity(request, limits);
    const operation = request.operationName ?? '';
    const complexity = known.get(operation);
    if (complexity !== undefined) {
      return {
        complexity,
        errors: complexity > limits.maxComplexity ? [complexityError(limits.maxComplexity, complexity)] : [],
      };
    }
    const check = checkComplexity(request, limits);
    // Only a real estimate is remembered (not a refusal for bad variables or an uncomputable document).
    const estimated = check.errors.length === 0 || check.complexity > limits.maxComplexity;
    if (estimated && Number.isFinite(check.complexity)) known.set(operation, check.complexity);
    return check;
  };
}

/** Whether a variable is used as a page size or a `@skip`/`@include` condition anywhere in the document. */
function hasCostVariables(document: DocumentNode): boolean {
  let found = false;
  const usesVariable = (value: ValueNode): boolean =>
    value.kind === Kind.VARIABLE ||
    (value.kind === Kind.LIST && value.values.some(usesVariable)) ||
    (value.kind === Kind.OBJECT && value.fields.some((field) => usesVariable(field.value)));
  visit(document, {
    Field(node) {
      for (const argument of node.arguments ?? []) {
        if (
          (SIZE_ARGUMENTS as readonly string[]).includes(argument.name.value) &&
          usesVariable(argument.value)
        ) {
          found = true;
        }
      }
    },
    Directive(node) {
      if (
        (node.name.value === 'skip' || node.name.value === 'include') &&
        node.arguments?.some((a) => usesVariable(a.value))
      ) {
        found = true;
      }
    },
  });
  return found;
}
