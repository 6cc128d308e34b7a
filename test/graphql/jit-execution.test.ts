import { describe, expect, it } from '@jest/globals';
import { buildSchema, execute, GraphQLError, parse, type ExecutionResult } from 'graphql';
import type { GraphQLContext } from '../../src/graphql/context.js';
import { JitExecution, type OperationToExecute } from '../../src/graphql/jit-execution.js';
import { buildGatewaySchema } from '../../src/graphql/schema.js';

/** What graphql-js and JitExecution give for the same operations (test/integration/jit-parity does it over HTTP). */

class UpstreamDown extends Error {}

const schema = buildSchema(`
  type Item { id: ID!, name: String!, tags: [String!]! }
  input Filter { name: String, limit: Int = 3 }
  type Query {
    item(id: ID!): Item
    items(ids: [ID!]!): [Item]
    failing: String
    failingWithCode: String
    nonNull: Item!
    byFilter(filter: Filter): String
    badInt: Int
    notAList: [String]
    badEnum: Color
  }
  enum Color { RED }
`);
const query = schema.getQueryType()!.getFields();
query['item']!.resolve = (_root, { id }: { id: string }) =>
  id === 'none' ? null : Promise.resolve({ id, name: id === 'nameless' ? null : `item ${id}`, tags: ['a'] });
query['items']!.resolve = (_root, { ids }: { ids: string[] }) =>
  ids.map((id) => (id === 'boom' ? new UpstreamDown('down') : { id, name: `item ${id}`, tags: [] }));
query['failing']!.resolve = () => Promise.reject(new UpstreamDown('Omise is down'));
query['failingWithCode']!.resolve = () => {
  throw new GraphQLError('refused', { extensions: { code: 'FORBIDDEN' } });
};
query['nonNull']!.resolve = () => null;
query['badInt']!.resolve = () => 'abc';
query['notAList']!.resolve = () => 'abc';
query['badEnum']!.resolve = () => 'BLUE';
query['byFilter']!.resolve = (_root, { filter }: { filter: unknown }) => JSON.stringify(filter);

const context = {} as GraphQLContext;

function operation(
  source: string,
  variables?: Record<string, unknown>,
  operationName?: string,
): OperationToExecute {
  const document = parse(source);
  return { document, variables, operationName, contextValue: context, operationType: 'query' };
}

async function viaGraphqlJs(op: OperationToExecute): Promise<ExecutionResult> {
  return execute({
    schema,
    document: op.document,
    variableValues: op.variables,
    operationName: op.operationName,
    contextValue: op.contextValue,
  });
}

/** Errors as Apollo and formatGatewayError see them: their JSON, class, original error and extensions. */
function described(result: ExecutionResult) {
  return {
    json: JSON.parse(JSON.stringify(result)) as unknown,
    errors: result.errors?.map((error) => ({
      isGraphqlJs: error instanceof GraphQLError,
      original: error.originalError,
      extensions: error.extensions,
      path: error.path,
    })),
  };
}

describe('JitExecution', () => {
  it.each([
    ['a value', 'query($id: ID!) { item(id: $id) { id name tags } }', { id: '1' }],
    ['null', '{ item(id: "none") { id } }', undefined],
    ['a rejected promise, kept as originalError', '{ failing a: item(id: "1") { id } }', undefined],
    ['a GraphQLError with a code', '{ failingWithCode }', undefined],
    ['an error inside a list', '{ items(ids: ["1", "boom", "2"]) { id } }', undefined],
    ['a non-null violation', '{ nonNull { id } }', undefined],
    ['a non-null violation below a nullable field', '{ item(id: "nameless") { id name } }', undefined],
    ['a value its scalar cannot serialise', '{ badInt }', undefined],
    ['a value its enum does not have', '{ badEnum }', undefined],
    ['a list field resolving to a string', '{ notAList }', undefined],
    ['variables that do not coerce', 'query($id: ID!) { item(id: $id) { id } }', { id: { no: 1 } }],
    ['a missing variable', 'query($id: ID!) { item(id: $id) { id } }', {}],
  ])('%s: the same result, errors and error objects as graphql-js', async (_name, source, variables) => {
    const jit = new JitExecution(schema, { compileAfter: 0 });
    const op = operation(source, variables);
    const expected = described(await viaGraphqlJs(op));
    expect(described(await jit.execute(op))).toEqual(expected);
    expect(jit.isCompiled(op.document)).toBe(true);
  });

  it('compiles a document once it repeats; a document seen once is never compiled', async () => {
    const jit = new JitExecution(schema);
    const op = operation('{ item(id: "1") { id } }');
    await jit.execute(op);
    expect(jit.isCompiled(op.document)).toBe(false);
    await jit.execute(op);
    expect(jit.isCompiled(op.document)).toBe(true);
    expect({ jit: jit.jitRuns, graphqlJs: jit.graphqlJsRuns }).toEqual({ jit: 1, graphqlJs: 1 });
  });

  it('keeps documents whose input objects have defaulted fields with graphql-js (graphql-jit skips those defaults)', async () => {
    const jit = new JitExecution(schema, { compileAfter: 0 });
    for (const op of [
      operation('query($f: Filter) { byFilter(filter: $f) }', { f: { name: 'x' } }),
      operation('{ byFilter(filter: { name: "x" }) }'),
    ]) {
      const result = await jit.execute(op);
      expect(result).toEqual(await viaGraphqlJs(op));
      expect(result.data).toEqual({ byFilter: '{"name":"x","limit":3}' });
      expect(jit.isCompiled(op.document)).toBe(false);
    }
  });

  it('compiles queries only: a mutation (createTrueMoneyCharge) stays with graphql-js', async () => {
    const gatewaySchema = await buildGatewaySchema();
    const jit = new JitExecution(gatewaySchema, { compileAfter: 0 });
    const create = parse(
      'mutation($input: CreateTrueMoneyChargeInput!) { createTrueMoneyCharge(input: $input) { clientToken } }',
    );
    const read = parse('query($id: ID!) { charge(id: $id) { id } }');
    // Refused by the auth checker before any service is used: no context needed beyond the principal.
    const contextValue = { principal: { kind: 'anonymous' } } as unknown as GraphQLContext;
    await jit.execute({
      document: create,
      variables: { input: { amount: 1 } },
      operationName: undefined,
      contextValue,
      operationType: 'mutation',
    });
    await jit.execute({
      document: read,
      variables: { id: 'chrg_test_1' },
      operationName: undefined,
      contextValue,
      operationType: 'query',
    });
    expect(jit.isCompiled(create)).toBe(false);
    expect(jit.isCompiled(read)).toBe(true);
  });
});
