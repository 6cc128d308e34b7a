import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { OmiseClient } from '../../src/omise/client.js';
import { OmiseError } from '../../src/omise/errors.js';
import {
  parseCharge,
  parseEvent,
  parseSource,
  ResponseShapeError,
} from '../../src/omise/response-schemas.js';
import { startTestServer, TEST_SECRET_KEY, type TestServer } from './support/test-server.js';

/**
 * Real Omise answers recorded by the official SDKs (test/fixtures/omise), served over HTTP and read
 * through the client: what the client accepts from Omise must include everything Omise has sent.
 */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/omise/${name}`, import.meta.url), 'utf8');

interface Served {
  status: number;
  contentType: string;
  body: string;
}

let served: Served = { status: 200, contentType: 'application/json', body: '{}' };
let server: TestServer;
let client: OmiseClient;

beforeAll(async () => {
  server = await startTestServer((_req, res) => {
    res.writeHead(served.status, { 'content-type': served.contentType });
    res.end(served.body);
  });
  client = new OmiseClient({ baseUrl: server.url, secretKey: TEST_SECRET_KEY, maxAttempts: 1 });
});
afterAll(() => server.close());

function serve(name: string, status = 200): void {
  served = { status, contentType: 'application/json; charset=utf-8', body: fixture(name) };
}

describe('recorded 2019-05-29 answers (go, php, swift SDKs)', () => {
  it('reads pending QR charges with their scannable code', async () => {
    for (const name of ['go/charge-paynow-qr-pending.json', 'swift/charge-promptpay-qr-pending.json']) {
      serve(name);
      const charge = await client.retrieveCharge('chrg_test_x');
      expect(charge.status).toBe('pending');
      expect(charge.source?.scannable_code?.image.download_uri).toMatch(/^https:\/\//);
    }
  });

  it('reads a TrueMoney wallet charge, a voided charge and an expired charge', async () => {
    serve('swift/charge-truemoney-wallet-pending.json');
    expect((await client.retrieveCharge('c')).source?.type).toBe('truemoney');
    serve('swift/charge-voided.json');
    const voided = await client.retrieveCharge('c');
    expect([voided.voided, voided.refunded_amount, voided.refunds.data[0]?.voided]).toEqual([
      true,
      100000,
      true,
    ]);
    serve('php/charge-expire.json');
    expect((await client.expireCharge('c')).object).toBe('charge');
  });

  it('reads event lists with `+00:00` list timestamps', async () => {
    for (const name of ['go/events-list.json', 'swift/events-list.json']) {
      serve(name);
      const events = await client.listEvents();
      expect(events.data.length).toBeGreaterThan(0);
      expect(events.data.every((e) => e.object === 'event')).toBe(true);
    }
  });

  it('refuses charges without a status (the 2015 list predates the field; 2019-05-29 always sends it)', async () => {
    serve('go/charges-list.json');
    const error = await client.listCharges().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OmiseError);
    expect((error as OmiseError).code).toBe('unexpected_response');
    expect((error as OmiseError).message).toContain('data.0.status');
  });

  it('reads refunds, events and sources', async () => {
    for (const name of ['go/refund-create.json', 'php/refund-create.json']) {
      serve(name);
      expect((await client.createRefund('chrg_test_x', { amount: 10000 })).amount).toBe(10000);
    }
    serve('swift/refund-voided.json');
    expect((await client.retrieveRefund('chrg_test_x', 'rfnd_test_x')).voided).toBe(true);
    serve('php/event-with-webhook-deliveries.json');
    const event = await client.retrieveEvent('evnt_test_x');
    expect(event.webhook_deliveries?.[0]?.status).toBe(404);
    serve('go/source-create.json');
    expect((await client.createSource({ type: 'fpx', amount: 2000, currency: 'MYR' })).id).toBe(
      'src_test_5mygxph6d55vvy8nn9i',
    );
  });

  it('reads the recorded not-found error', async () => {
    serve('go/charge-not-found.json', 404);
    const error = await client.retrieveCharge('missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OmiseError);
    expect([(error as OmiseError).status, (error as OmiseError).code]).toEqual([404, 'not_found']);
  });
});

interface Exchange {
  request: { method: string; url: string; body: string };
  response: { status_code: number; headers: Record<string, string>; body: string };
}

describe('recorded HTTP exchanges (elixir SDK, 2017)', () => {
  const load = (name: string) => (JSON.parse(fixture(`elixir-2017/${name}`)) as Exchange[])[0] as Exchange;

  async function replay(name: string, call: (body: Record<string, unknown>) => Promise<unknown>) {
    const exchange = load(name);
    served = {
      status: exchange.response.status_code,
      contentType: exchange.response.headers['Content-Type'] ?? '',
      body: exchange.response.body,
    };
    const before = server.requests.length;
    const result = await call(JSON.parse(exchange.request.body) as Record<string, unknown>).catch(
      (e: unknown) => e,
    );
    const sent = server.requests[before];
    // The client sent the recorded call: same method and path.
    expect(sent?.method).toBe(exchange.request.method.toUpperCase());
    expect(sent?.url.split('?')[0]).toBe(new URL(exchange.request.url).pathname);
    return { result, exchange };
  }

  it.each([
    ['create_source_with_invalid_amount.json', 'bad_request', 'amount is not a number'],
    ['create_source_with_invalid_currency.json', 'bad_request', 'currency is currently not supported'],
    ['create_source_with_invalid_type.json', 'bad_request', 'type is currently not supported'],
  ])('%s becomes OmiseError %s', async (name, code, message) => {
    const { result } = await replay(name, (body) => client.createSource(body as never));
    expect(result).toBeInstanceOf(OmiseError);
    const error = result as OmiseError;
    expect([error.status, error.code, error.omiseMessage]).toEqual([400, code, message]);
    expect(error.location).toBe('https://www.omise.co/api-errors#bad-request');
    expect(error.isClientError).toBe(true);
  });

  it('an invalid charge amount becomes OmiseError invalid_charge', async () => {
    const { result } = await replay('create_charge_with_invalid_amount.json', (body) =>
      client.createCharge(body as never),
    );
    const error = result as OmiseError;
    expect(error).toBeInstanceOf(OmiseError);
    expect([error.status, error.code]).toEqual([400, 'invalid_charge']);
    expect(error.omiseMessage).toBe('amount must be greater than or equal to 2000 (thb subunits)');
  });

  it('2017 successes (created, refunded, lowercase currency, +07:00) still parse', async () => {
    const charge = await replay('create_charge_with_source.json', (body) =>
      client.createCharge(body as never),
    );
    expect((charge.result as { id: string }).id).toBe('chrg_test_59vbnbnjorfk2x5nand');
    const refund = await replay('refund_charge.json', () =>
      client.createRefund('chrg_test_59use551gec8gaockk7', { amount: 10000 }),
    );
    expect((refund.result as { id: string }).id).toBe('rfnd_test_59uss4fpv3otofm2ri1');
    const event = await replay('retrieve_event.json', () =>
      client.retrieveEvent('evnt_test_59uuaz7nvrjsq35qh5c'),
    );
    expect((event.result as { key: string }).key).toBe('dispute.create');
  });
});

describe('response schemas', () => {
  const charge = JSON.parse(fixture('swift/charge-truemoney-wallet-pending.json')) as Record<string, unknown>;

  it('keep unknown keys', () => {
    expect(parseCharge({ ...charge, brand_new_field: 1 }).brand_new_field).toBe(1);
  });

  it('refuse what the gateway cannot work with', () => {
    const broken: Record<string, unknown>[] = [
      { ...charge, id: '' },
      { ...charge, amount: '1000000' },
      { ...charge, amount: 10.5 },
      { ...charge, object: 'refund' },
      { ...charge, created_at: 'yesterday' },
      { ...charge, refunded_amount: 1.5 },
    ];
    for (const body of broken) expect(() => parseCharge(body)).toThrow(ResponseShapeError);
    expect(() => parseSource({ object: 'source', id: 'src_x', amount: 1, currency: 'THB' })).toThrow(
      ResponseShapeError,
    );
    expect(() => parseEvent(null)).toThrow(ResponseShapeError);
  });

  it('describe a failure by path, never by value', () => {
    try {
      parseCharge({ ...charge, amount: 'skey_test_leak' });
      throw new Error('should have failed');
    } catch (error) {
      expect((error as Error).message).toContain('amount');
      expect((error as Error).message).not.toContain('skey_test_leak');
    }
  });
});
