import { describe, expect, it } from '@jest/globals';
import { buildGatewaySchema, printGatewaySchema } from '../../src/graphql/schema.js';

describe('subscription schema (the public contract in schema.graphql)', () => {
  it('has type Subscription { chargeStatus(chargeId: ID!): ChargeStatusEvent! } and the event fields', async () => {
    const sdl = printGatewaySchema(await buildGatewaySchema());
    const strip = (text: string) => text.replace(/"""[\s\S]*?"""/g, '').replace(/\s+/g, ' ');
    const block = (name: string) => strip(sdl.match(new RegExp(`type ${name} \\{[\\s\\S]*?\\n\\}`))![0]);
    expect(block('Subscription')).toBe(
      'type Subscription { chargeStatus(chargeId: ID!): ChargeStatusEvent! }',
    );
    expect(block('ChargeStatusEvent')).toBe(
      'type ChargeStatusEvent { charge: Charge! chargeId: ID! occurredAt: DateTime! status: ChargeStatus! terminal: Boolean! }',
    );
  });
});
