import { describe, expect, it } from '@jest/globals';
import { ApolloServer } from '@apollo/server';
import { getIntrospectionQuery, parse, specifiedRules, validate, type GraphQLError } from 'graphql';
import { createComplexityPlugin } from '../../src/limits/apollo-plugins.js';
import {
  DEFAULT_QUERY_LIMITS,
  checkComplexity,
  createComplexityChecker,
  createValidationRules,
  type ValidationRuleOptions,
} from '../../src/limits/query-limits.js';
import { FULL_CHARGE, sampleSchema } from './sample-schema.js';

const messages = (errors: readonly GraphQLError[]) => errors.map((e) => e.message);
const check = (query: string, options: ValidationRuleOptions = {}) =>
  messages(
    validate(sampleSchema, parse(query), [
      ...specifiedRules,
      ...createValidationRules(sampleSchema, options),
    ]),
  );

describe('createValidationRules with graphql validate()', () => {
  it('lets ordinary queries of the contract through', () => {
    expect(check(`query { charge(id: "chrg_1") { ${FULL_CHARGE} } }`)).toEqual([]);
    expect(
      check(
        `query { charges(first: 20) { edges { cursor node { id status refunds { id } } } pageInfo { hasNextPage endCursor } totalCount } }`,
      ),
    ).toEqual([]);
    expect(
      check(
        `subscription { chargeStatus(chargeId: "chrg_1") { status terminal charge { ${FULL_CHARGE} } } }`,
      ),
    ).toEqual([]);
    expect(
      check(
        `mutation { createTrueMoneyCharge(input: { amount: 10000 }) { clientToken charge { id } userErrors { code } } }`,
      ),
    ).toEqual([]);
  });

  it('lets the introspection query through the depth limit', () => {
    expect(check(getIntrospectionQuery())).toEqual([]);
  });

  it('rejects a query deeper than maxDepth, saying so', () => {
    const deep = `{ charges { edges { node { qrCode { imageUrl } } } } }`; // depth 5
    expect(check(deep, { maxDepth: 5 })).toEqual([]);
    expect(check(deep, { maxDepth: 4 })).toEqual(['Query depth limit of 4 exceeded, found 5.']);
    // Fragments count where they are spread.
    const viaFragments = `{ charges { ...E } } fragment E on ChargeConnection { edges { node { ...C } } } fragment C on Charge { qrCode { imageUrl } }`;
    expect(check(viaFragments, { maxDepth: 4 })).toEqual(['Query depth limit of 4 exceeded, found 5.']);
  });

  it('rejects an aliases bomb', () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: charge(id: "chrg_${i}") { id }`).join(' ');
    expect(check(`{ ${aliases} }`, { maxRootFields: 100 })).toEqual([
      'Aliases limit of 15 exceeded, found 16.',
    ]);
    // Aliases inside a fragment count too.
    const inner = Array.from({ length: 16 }, (_, i) => `s${i}: status`).join(' ');
    expect(check(`{ charge(id: "x") { ...F } } fragment F on Charge { ${inner} }`)).toEqual([
      'Aliases limit of 15 exceeded, found 16.',
    ]);
  });

  it('rejects too many root fields, fragments at the root included', () => {
    const fields = Array.from({ length: 11 }, (_, i) => `c${i}: charge(id: "chrg_${i}") { id }`).join(' ');
    expect(check(`{ ${fields} }`, { maxAliases: 100 })).toEqual([
      'Root fields limit of 10 exceeded, found 11.',
    ]);
    const six = (prefix: string) =>
      Array.from({ length: 6 }, (_, i) => `${prefix}${i}: charge(id: "chrg_${i}") { id }`).join(' ');
    expect(
      check(`{ ...R ... on Query { ${six('d')} } } fragment R on Query { ${six('c')} }`, { maxAliases: 100 }),
    ).toEqual(['Root fields limit of 10 exceeded, found 12.']);
  });

  it('rejects documents with too many operations', () => {
    const ops = Array.from({ length: 4 }, (_, i) => `query Q${i} { charge(id: "x") { id } }`).join('\n');
    expect(check(ops)).toEqual(['Operations limit of 3 per document exceeded, found 4.']);
    expect(check(ops, { maxOperations: 4 })).toEqual([]);
  });

  it('rejects a too-complex query when the variables are known (graphql-ws path)', () => {
    const query = `query ($n: Int!) { charges(first: $n) { edges { node { ${FULL_CHARGE} } } } }`;
    expect(check(query, { variables: { n: 10 } })).toEqual([]);
    const [message] = check(query, { variables: { n: 100 }, maxComplexity: 2000 });
    expect(message).toMatch(/^Query complexity limit of 2000 exceeded, found \d+\.$/);
  });

  it('refuses fieldCosts that name no field of the schema', () => {
    expect(() => createValidationRules(sampleSchema, { fieldCosts: { 'QrCode.imageDataUrl': 5 } })).toThrow(
      /QrCode.imageDataUrl/,
    );
  });
});

describe('checkComplexity', () => {
  const document = parse(
    `query ($n: Int) { charges(first: $n) { edges { node { id qrCode { imageDataUri } } } } }`,
  );

  it('multiplies by the page size asked for, and prices the QR image fetch', () => {
    const cost = (n?: number) =>
      checkComplexity({ schema: sampleSchema, document, variables: n === undefined ? {} : { n } }).complexity;
    // charges: 1 + n × (edges 1 + node (1 + id 1 + qrCode (1 + imageDataUri 5))) = 1 + 9n
    expect(cost(1)).toBe(10);
    expect(cost(100)).toBe(901);
    // Absent variable → the defaultListSize.
    expect(cost()).toBe(1 + 9 * DEFAULT_QUERY_LIMITS.defaultListSize);
  });

  it('gives errors beyond the limit, and refuses variables that do not fit as execution would', () => {
    expect(
      checkComplexity(
        { schema: sampleSchema, document, variables: { n: 100 } },
        { maxComplexity: 900 },
      ).errors.map((e) => e.message),
    ).toEqual(['Query complexity limit of 900 exceeded, found 901.']);
    const missing = checkComplexity({
      schema: sampleSchema,
      document: parse(`query ($id: ID!) { charge(id: $id) { id } }`),
      variables: {},
    });
    expect(missing.errors).toHaveLength(1);
    // The client's mistake, with the code execution would give it (not an uncomputable complexity).
    expect(missing.errors[0]?.extensions['code']).toBe('BAD_USER_INPUT');
    expect(missing.errors[0]?.message).toMatch(/\$id/);
  });

  it('prices a full page of full charges within the default limit, and a few of them beyond it', () => {
    const page = (first: number) =>
      parse(
        `{ charges(first: ${first}) { edges { cursor node { ${FULL_CHARGE} } } pageInfo { hasNextPage } totalCount } }`,
      );
    const one = checkComplexity({ schema: sampleSchema, document: page(100) });
    expect(one.errors).toEqual([]);
    // 1 + 100 × (edges 1 + cursor 1 + node 1 + 21 scalars + qrCode 1+1+5+1 + refunds 1+7 + pageInfo 2 + totalCount 1)
    expect(one.complexity).toBe(4301);
    const aliased = parse(
      `{ ${[1, 2, 3].map((i) => `p${i}: charges(first: 100) { edges { node { ${FULL_CHARGE} } } }`).join(' ')} }`,
    );
    expect(checkComplexity({ schema: sampleSchema, document: aliased }).errors).toHaveLength(1);
  });
});

describe('in Apollo Server (validationRules + complexity plugin)', () => {
  it('refuses limits violations with GRAPHQL_VALIDATION_FAILED and runs good queries', async () => {
    const server = new ApolloServer({
      schema: sampleSchema,
      validationRules: createValidationRules(sampleSchema, { maxDepth: 4 }),
      plugins: [createComplexityPlugin({ maxComplexity: 500 })],
      rootValue: { charge: ({ id }: { id: string }) => ({ id }) },
    });
    await server.start();
    try {
      const ok = await server.executeOperation({
        query: `query ($id: ID!) { charge(id: $id) { id } }`,
        variables: { id: 'chrg_1' },
      });
      expect(ok.body).toMatchObject({ kind: 'single', singleResult: { data: { charge: { id: 'chrg_1' } } } });

      const deep = await server.executeOperation({
        query: `{ charges { edges { node { qrCode { imageUrl } } } } }`,
      });
      expect(deep.http.status).toBe(400);
      const deepBody = deep.body.kind === 'single' ? deep.body.singleResult : undefined;
      expect(deepBody?.errors?.map((e) => e.message)).toEqual(['Query depth limit of 4 exceeded, found 5.']);

      const tooComplex = await server.executeOperation({
        query: `query ($n: Int) { charges(first: $n) { edges { node { id status amount currency paid } } } }`,
        variables: { n: 100 },
      });
      expect(tooComplex.http.status).toBe(400);
      const body = tooComplex.body.kind === 'single' ? tooComplex.body.singleResult : undefined;
      expect(body?.errors?.[0]?.message).toMatch(/^Query complexity limit of 500 exceeded/);
      expect(body?.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');

      const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: charge(id: "x") { id }`).join(' ');
      const bomb = await server.executeOperation({ query: `{ ${aliases} }` });
      expect(bomb.http.status).toBe(400);
      const bombBody = bomb.body.kind === 'single' ? bomb.body.singleResult : undefined;
      expect(bombBody?.errors?.map((e) => e.message)).toContain('Aliases limit of 15 exceeded, found 16.');
    } finally {
      await server.stop();
    }
  });
});

describe('createComplexityChecker', () => {
  it('gives what checkComplexity gives; remembers a document whose cost cannot depend on its variables', () => {
    const checker = createComplexityChecker({ maxComplexity: 900 });
    const paged = parse(`query ($n: Int) { charges(first: $n) { edges { node { id } } } }`);
    const sized = (n: number) => checker({ schema: sampleSchema, document: paged, variables: { n } });
    // Page size from a variable: computed per request, never mixed up between requests.
    expect(sized(1).complexity).toBe(
      checkComplexity({ schema: sampleSchema, document: paged, variables: { n: 1 } }).complexity,
    );
    expect(sized(300).errors).toHaveLength(1);
    expect(sized(1).errors).toEqual([]);
    const conditional = parse(
      `query ($big: Boolean!) { charges(first: 500) @include(if: $big) { edges { node { id } } } }`,
    );
    expect(
      checker({ schema: sampleSchema, document: conditional, variables: { big: false } }).complexity,
    ).toBe(0);
    expect(
      checker({ schema: sampleSchema, document: conditional, variables: { big: true } }).errors,
    ).toHaveLength(1);

    const fixed = parse(`query ($id: ID!) { charge(id: $id) { id amount } }`);
    const first = checker({ schema: sampleSchema, document: fixed, variables: { id: 'chrg_test_1' } });
    expect(first).toEqual(
      checkComplexity({ schema: sampleSchema, document: fixed, variables: { id: 'chrg_test_1' } }),
    );
    // The same document object again (as Apollo's document store hands it out): the remembered estimate.
    expect(checker({ schema: sampleSchema, document: fixed, variables: { id: 'chrg_test_2' } })).toEqual(
      first,
    );
  });
});
