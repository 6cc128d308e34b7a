/** The GraphQL documents the benchmarks send (plain strings: the wire format is what is measured). */

/** The fields a checkout page reads while it polls a charge (no imageDataUri: that downloads the PNG). */
const CHARGE_FIELDS =
  'id status amount currency sourceType paid createdAt expiresAt qrCode { imageUrl expiresAt }';

export const CHARGE_QUERY = `query Charge($id: ID!) { charge(id: $id) { ${CHARGE_FIELDS} } }`;

export const TYPENAME_QUERY = 'query { __typename }';

/** The same charge under five aliases: the per-request DataLoader should make one Omise call. */
export const CHARGE_ALIASED_5_QUERY = `query Charge5($id: ID!) { ${['a', 'b', 'c', 'd', 'e']
  .map((alias) => `${alias}: charge(id: $id) { ${CHARGE_FIELDS} }`)
  .join(' ')} }`;

/** Five different charges: five Omise calls whatever the loader does (what de-duplication saves). */
export const CHARGE_DISTINCT_5_QUERY = `query ChargeDistinct5($a: ID!, $b: ID!, $c: ID!, $d: ID!, $e: ID!) { ${[
  'a',
  'b',
  'c',
  'd',
  'e',
]
  .map((alias) => `${alias}: charge(id: $${alias}) { ${CHARGE_FIELDS} }`)
  .join(' ')} }`;

export const CREATE_CHARGE_MUTATION =
  'mutation Create($input: CreateTrueMoneyChargeInput!) { createTrueMoneyCharge(input: $input) { charge { id status amount } userErrors { code message } } }';

export const SIMULATE_OUTCOME_MUTATION =
  'mutation Simulate($input: SimulateChargeOutcomeInput!) { simulateChargeOutcome(input: $input) { charge { id status } userErrors { code message } } }';

export const CHARGE_STATUS_SUBSCRIPTION =
  'subscription ChargeStatus($chargeId: ID!) { chargeStatus(chargeId: $chargeId) { status terminal } }';

/** A JSON body for POST /graphql. */
export function graphqlBody(query: string, variables?: Record<string, unknown>): string {
  return JSON.stringify(variables ? { query, variables } : { query });
}

/** POSTs one operation and returns the raw response text, refusing non-200 answers and GraphQL errors. */
export async function postGraphQL(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ text: string; data: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: graphqlBody(query, variables),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  const parsed = JSON.parse(text) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (parsed.errors?.length || !parsed.data) throw new Error(`GraphQL errors: ${text.slice(0, 300)}`);
  return { text, data: parsed.data };
}

/** Creates a pending TrueMoney charge through the gateway and returns its id. */
export async function createCharge(gatewayUrl: string, amount = 10_000): Promise<string> {
  const { data } = await postGraphQL(gatewayUrl, CREATE_CHARGE_MUTATION, { input: { amount } });
  const payload = data.createTrueMoneyCharge as { charge: { id: string } | null; userErrors: unknown[] };
  if (!payload.charge) throw new Error(`createTrueMoneyCharge failed: ${JSON.stringify(payload.userErrors)}`);
  return payload.charge.id;
}
