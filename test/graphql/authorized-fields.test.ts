import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { isObjectType } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { OPERATION_RULES } from '../../src/auth/authorization.js';
import { buildGatewaySchema } from '../../src/graphql/schema.js';

/**
 * A root field added without `@Authorized(...)` would be open to every caller: every root field of the
 * schema must be in OPERATION_RULES and carry `@Authorized` with the scope the table gives it.
 */
describe('root fields and their access rules', () => {
  it('every root field has a rule and @Authorized with its scope; every rule has a field', async () => {
    const schema = await buildGatewaySchema();
    const rootFields: string[] = [];
    for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      if (!isObjectType(type)) continue;
      for (const name of Object.keys(type.getFields())) rootFields.push(`${type.name}.${name}`);
    }
    expect(rootFields.sort()).toEqual(Object.keys(OPERATION_RULES).sort());

    const authorized = new Map(
      getMetadataStorage().authorizedFields.map((field) => [field.fieldName, field.roles as string[]]),
    );
    for (const operation of rootFields) {
      const [, fieldName] = operation.split('.');
      const rule = OPERATION_RULES[operation as keyof typeof OPERATION_RULES];
      expect({ operation, roles: authorized.get(fieldName!) }).toEqual({ operation, roles: [rule.scope] });
    }
  });
});
