import { describe, expect, it } from '@jest/globals';
import { GraphQLError, type ValidationRule } from 'graphql';
import { DocumentCache, MAX_CACHED_QUERY_LENGTH } from '../../src/graphql/document-cache.js';
import { buildGatewaySchema } from '../../src/graphql/schema.js';

const schema = await buildGatewaySchema();
const q = (field: string) => `subscription { chargeStatus(chargeId: "c") { ${field} } }`;

describe('DocumentCache', () => {
  it('parses and validates a query text once; the same text again is a hit with the same document', () => {
    const cache = new DocumentCache(schema);
    const first = cache.get(q('status'));
    const second = cache.get(q('status'));
    expect(first.ok).toBe(true);
    expect(second).toBe(first);
    expect(cache.parses).toBe(1);
    expect(cache.hits).toBe(1);
  });

  it('caches refusals too: syntax and validation errors', () => {
    const cache = new DocumentCache(schema);
    const syntax = cache.get('subscription {');
    const invalid = cache.get(q('nope'));
    expect(syntax.ok).toBe(false);
    expect(invalid.ok || invalid.errors[0]!.message).toMatch(/nope/);
    expect(cache.get(q('nope'))).toBe(invalid);
    expect(cache.parses).toBe(2);
  });

  it('is bounded: the least recently used text goes first', () => {
    const cache = new DocumentCache(schema, { maxEntries: 2 });
    cache.get(q('status'));
    cache.get(q('terminal'));
    cache.get(q('status')); // now most recent
    cache.get(q('chargeId')); // evicts terminal
    expect(cache.size).toBe(2);
    const parses = cache.parses;
    cache.get(q('status'));
    expect(cache.parses).toBe(parses);
    cache.get(q('terminal'));
    expect(cache.parses).toBe(parses + 1);
  });

  it('does not keep very long texts', () => {
    const cache = new DocumentCache(schema);
    const long = `${q('status')}${' '.repeat(MAX_CACHED_QUERY_LENGTH)}`;
    cache.get(long);
    cache.get(long);
    expect(cache.parses).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('applies extra validation rules', () => {
    const noSubscriptions: ValidationRule = (context) => ({
      OperationDefinition(node) {
        if (node.operation === 'subscription') context.reportError(new GraphQLError('no subscriptions'));
      },
    });
    const cache = new DocumentCache(schema, { validationRules: [noSubscriptions] });
    const prepared = cache.get(q('status'));
    expect(prepared.ok).toBe(false);
    expect(prepared.ok || prepared.errors.map((e) => e.message)).toEqual(['no subscriptions']);
  });
});
