import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { call, createCharge, OMISE_ID, startTestSimulator, TIMESTAMP } from './helpers.js';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(() => sim.close());

const sourceParams = { amount: 400000, currency: 'THB', type: 'truemoney_qr' };

describe('sources', () => {
  it('creates a source with the public key from a form body and reads it back', async () => {
    const created = await call(sim, 'POST', '/sources', { key: sim.publicKey, form: sourceParams });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      object: 'source',
      livemode: false,
      amount: 400000,
      currency: 'THB',
      type: 'truemoney_qr',
      flow: 'offline',
      charge_status: 'unknown',
      scannable_code: null,
      provider_references: null,
      ip: '127.0.0.1',
    });
    expect(created.body.id).toMatch(OMISE_ID('src'));
    expect(created.body.location).toBe(`/sources/${created.body.id}`);
    expect(created.body.created_at).toMatch(TIMESTAMP);

    for (const key of [sim.publicKey, sim.secretKey]) {
      const read = await call(sim, 'GET', `/sources/${created.body.id}`, { key });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
    }
  });

  it('accepts JSON bodies, numeric-string amounts and lowercase currency', async () => {
    const created = await call(sim, 'POST', '/sources', {
      key: sim.publicKey,
      json: { amount: '10000', currency: 'thb', type: 'truemoney_qr' },
    });
    expect(created.status).toBe(200);
    expect(created.body.amount).toBe(10000);
    expect(created.body.currency).toBe('THB');
  });

  it.each([
    [{ ...sourceParams, amount: 'abc' }, 'bad_request', 'amount is not a number'],
    [{ ...sourceParams, amount: 9999 }, 'invalid_amount', 'amount must be greater than or equal to 10000'],
    [{ ...sourceParams, amount: 5000001 }, 'invalid_amount', 'amount must be less than or equal to 5000000'],
    [{ ...sourceParams, currency: 'USD' }, 'bad_request', 'currency is currently not supported'],
    [{ ...sourceParams, type: 'alipay' }, 'bad_request', 'type is currently not supported'],
    [{ currency: 'THB', type: 'truemoney_qr' }, 'bad_request', 'amount is required'],
  ])('refuses %j with %s', async (params, code, message) => {
    const answer = await call(sim, 'POST', '/sources', { key: sim.publicKey, form: params });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      object: 'error',
      location: `https://www.omise.co/api-errors#${code.replace(/_/g, '-')}`,
      code,
      message,
    });
  });

  it('answers 404 not_found for an unknown source', async () => {
    const answer = await call(sim, 'GET', '/sources/src_test_nope', { key: sim.publicKey });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ code: 'not_found', message: 'source src_test_nope was not found' });
  });
});

describe('authentication', () => {
  it('refuses missing, malformed, live and unknown-prefix keys with 401 authentication_failure', async () => {
    for (const key of [null, 'nope', 'skey_5abc', 'pkey_5abc', 'skey_test_']) {
      const answer = await call(sim, 'GET', '/charges', { key });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        object: 'error',
        location: 'https://www.omise.co/api-errors#authentication-failure',
        code: 'authentication_failure',
        message: 'authentication failed',
      });
    }
    const bearer = await call(sim, 'GET', '/charges', { key: null, headers: { authorization: 'Bearer x' } });
    expect(bearer.status).toBe(401);
  });

  it('lets the public key only create and read sources', async () => {
    const charge = await createCharge(sim);
    const id = charge.body.id as string;
    const attempts: Array<[string, string]> = [
      ['POST', '/charges'],
      ['GET', '/charges'],
      ['GET', `/charges/${id}`],
      ['PATCH', `/charges/${id}`],
      ['POST', `/charges/${id}/mark_as_paid`],
      ['POST', `/charges/${id}/refunds`],
      ['GET', '/events'],
      ['GET', '/refunds'],
    ];
    for (const [method, path] of attempts) {
      const answer = await call(sim, method, path, { key: sim.publicKey, json: {} });
      expect([method, path, answer.status, answer.body.code]).toEqual([
        method,
        path,
        401,
        'authentication_failure',
      ]);
    }
  });

  it('accepts any skey_test_ when no key was configured, with or without a password', async () => {
    const answer = await call(sim, 'GET', '/charges', {
      key: null,
      headers: { authorization: `Basic ${Buffer.from('skey_test_whatever123:pw').toString('base64')}` },
    });
    expect(answer.status).toBe(200);
  });

  it('accepts only the configured keys when they are set', async () => {
    const strict = await startTestSimulator({ publicKey: 'pkey_test_fixed1', secretKey: 'skey_test_fixed1' });
    try {
      expect(strict.publicKey).toBe('pkey_test_fixed1');
      expect(strict.secretKey).toBe('skey_test_fixed1');
      expect((await call(strict, 'GET', '/charges', { key: 'skey_test_other' })).status).toBe(401);
      expect((await call(strict, 'GET', '/charges', { key: 'skey_test_fixed1' })).status).toBe(200);
      const other = await call(strict, 'POST', '/sources', { key: 'pkey_test_other', json: sourceParams });
      expect(other.status).toBe(401);
      const own = await call(strict, 'POST', '/sources', { key: 'pkey_test_fixed1', json: sourceParams });
      expect(own.status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('charges', () => {
  it('charges a source made with the public key (form body, like the guide)', async () => {
    const source = await call(sim, 'POST', '/sources', { key: sim.publicKey, form: sourceParams });
    const charge = await call(sim, 'POST', '/charges', {
      form: {
        amount: '400000',
        currency: 'THB',
        return_uri: 'http://example.com/orders/345678/complete',
        source: source.body.id,
        metadata: { order: '1' },
        description: 'order 1',
      },
    });
    expect(charge.status).toBe(200);
    const c = charge.body;
    expect(c.id).toMatch(OMISE_ID('chrg'));
    expect(c).toMatchObject({
      object: 'charge',
      status: 'pending',
      amount: 400000,
      currency: 'THB',
      metadata: { order: '1' },
      description: 'order 1',
      return_uri: 'http://example.com/orders/345678/complete',
      paid: false,
      authorized: false,
      expired: false,
      refundable: false,
      can_perform_void: false,
      transaction: null,
      refunded_amount: 0,
    });
    expect(c.source.id).toBe(source.body.id);
    expect(c.source.charge_status).toBe('pending');
    expect(c.source.provider_references.reference_number_1).toMatch(OMISE_ID('pay2'));
    expect(c.authorize_uri).toBe(
      `${sim.url}/payments/${c.source.provider_references.reference_number_1}/authorize?acs=false`,
    );
    const image = c.source.scannable_code.image;
    expect(image.id).toMatch(OMISE_ID('docu'));
    expect(image.location).toBe(`/charges/${c.id}/documents/${image.id}`);
    expect(image.download_uri).toMatch(
      new RegExp(`^${sim.url}/charges/${c.id}/documents/${image.id}/downloads/[0-9A-F]{16}$`),
    );
    expect(Date.parse(c.expires_at) - Date.parse(c.created_at)).toBe(24 * 60 * 60 * 1000);
    expect(c.refunds).toMatchObject({
      object: 'list',
      data: [],
      total: 0,
      location: `/charges/${c.id}/refunds`,
    });

    // The source now mirrors the charge.
    const reread = await call(sim, 'GET', `/sources/${source.body.id}`, { key: sim.publicKey });
    expect(reread.body.charge_status).toBe('pending');

    // A source can be charged once.
    const again = await call(sim, 'POST', '/charges', {
      form: { amount: '400000', currency: 'THB', source: source.body.id },
    });
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('used_source');
  });

  it('creates the source inline from source[type] (form) and source: {type} (JSON)', async () => {
    const form = await call(sim, 'POST', '/charges', {
      rawBody:
        'amount=400000&currency=THB&source%5Btype%5D=truemoney_qr&webhook_endpoints%5B%5D=http%3A%2F%2Fexample.com%2Fh',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(200);
    expect(form.body.source.type).toBe('truemoney_qr');
    const json = await createCharge(sim, { expires_at: '2024-09-23T05:00:00Z' });
    expect(json.status).toBe(200);
    expect(json.body.expires_at).toBe('2024-09-23T05:00:00Z');
  });

  it.each([
    [{ amount: 'abc' }, 'bad_request', 'amount is not a number'],
    [{ amount: 9999 }, 'invalid_charge', 'amount must be greater than or equal to 10000'],
    [{ amount: 5000001 }, 'invalid_charge', 'amount must be less than or equal to 5000000'],
    [{ currency: 'JPY' }, 'bad_request', 'currency is currently not supported'],
    [{ source: { type: 'promptpay' } }, 'bad_request', 'type is currently not supported'],
    [{ source: undefined }, 'invalid_charge', 'source is required'],
    [{ return_uri: 'not a uri' }, 'invalid_charge', 'return_uri is not a valid URI'],
    [{ metadata: 'x' }, 'bad_request', 'metadata must be an object'],
    [{ expires_at: '2020-01-01T00:00:00Z' }, 'invalid_charge', 'expires_at must be in the future'],
  ])('refuses %j with %s', async (params, code, message) => {
    const answer = await createCharge(sim, params);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ object: 'error', code, message });
  });

  it('requires amount and currency to equal the source', async () => {
    const source = await call(sim, 'POST', '/sources', { key: sim.publicKey, json: sourceParams });
    const answer = await call(sim, 'POST', '/charges', {
      json: { amount: 500000, currency: 'THB', source: source.body.id },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('invalid_charge');
    expect(answer.body.message).toContain('400000');
    const unknown = await call(sim, 'POST', '/charges', {
      json: { amount: 400000, currency: 'THB', source: 'src_test_missing' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('source src_test_missing was not found');
  });

  it('answers 404 not_found for unknown charges and routes', async () => {
    for (const [method, path] of [
      ['GET', '/charges/chrg_x'],
      ['PATCH', '/charges/chrg_x'],
      ['POST', '/charges/chrg_x/expire'],
      ['POST', '/charges/chrg_x/mark_as_paid'],
      ['POST', '/charges/chrg_x/refunds'],
      ['GET', '/charges/chrg_x/refunds'],
      ['GET', '/charges/chrg_x/events'],
    ] as const) {
      const answer = await call(sim, method, path, { json: { amount: 1 } });
      expect([path, answer.status, answer.body]).toEqual([
        path,
        404,
        {
          object: 'error',
          location: 'https://www.omise.co/api-errors#not-found',
          code: 'not_found',
          message: 'charge chrg_x was not found',
        },
      ]);
    }
    const route = await call(sim, 'GET', '/customers');
    expect(route.status).toBe(404);
    expect(route.body.code).toBe('not_found');
    const event = await call(sim, 'GET', '/events/evnt_x');
    expect(event.body.message).toBe('event evnt_x was not found');
  });

  it('never crashes on malformed input', async () => {
    const cases = [
      { rawBody: '{bad json', contentType: 'application/json' },
      { rawBody: '[1,2]', contentType: 'application/json' },
      { rawBody: '"text"', contentType: 'application/json' },
      { rawBody: 'amount[=1&&&source[[[type]=x', contentType: 'application/x-www-form-urlencoded' },
      { json: { amount: { nested: true }, currency: ['THB'], source: [1] } },
      { rawBody: '{"amount": 1e400, "currency": "THB"}', contentType: 'application/json' },
    ];
    for (const options of cases) {
      const answer = await call(sim, 'POST', '/charges', options);
      expect(answer.status).toBe(400);
      expect(answer.body.object).toBe('error');
    }
    const ok = await call(sim, 'GET', '/charges');
    expect(ok.status).toBe(200);
  });

  it('echoes Omise-Version (default 2019-05-29)', async () => {
    const plain = await call(sim, 'GET', '/charges');
    expect(plain.headers.get('omise-version')).toBe('2019-05-29');
    const asked = await call(sim, 'GET', '/charges', { headers: { 'omise-version': '2017-11-02' } });
    expect(asked.headers.get('omise-version')).toBe('2017-11-02');
  });

  it('updates description and metadata with PATCH (JSON and form)', async () => {
    const created = await createCharge(sim);
    const id = created.body.id as string;
    const json = await call(sim, 'PATCH', `/charges/${id}`, {
      json: { description: 'new', metadata: { a: 1 } },
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({ description: 'new', metadata: { a: 1 } });
    const form = await call(sim, 'PATCH', `/charges/${id}`, { form: { metadata: { b: '2' } } });
    expect(form.body).toMatchObject({ description: 'new', metadata: { b: '2' } });
    const read = await call(sim, 'GET', `/charges/${id}`);
    expect(read.body.metadata).toEqual({ b: '2' });
  });

  it('refuses capture and reverse with failed_capture / failed_reverse', async () => {
    const created = await createCharge(sim);
    const capture = await call(sim, 'POST', `/charges/${created.body.id}/capture`);
    expect(capture.status).toBe(400);
    expect(capture.body.code).toBe('failed_capture');
    const reverse = await call(sim, 'POST', `/charges/${created.body.id}/reverse`);
    expect(reverse.status).toBe(400);
    expect(reverse.body.code).toBe('failed_reverse');
  });
});

describe('lists', () => {
  it('lists charges with limit, offset, order and from/to, params in the query or a JSON body on GET', async () => {
    const fresh = await startTestSimulator();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        ids.push((await createCharge(fresh)).body.id);
        await fresh.clock.advance(60_000);
      }
      const all = await call(fresh, 'GET', '/charges');
      expect(all.body).toMatchObject({
        object: 'list',
        limit: 20,
        offset: 0,
        total: 5,
        location: '/charges',
        order: 'chronological',
        from: '1970-01-01T00:00:00Z',
      });
      expect(all.body.to).toMatch(TIMESTAMP);
      expect(all.body.data.map((c: { id: string }) => c.id)).toEqual(ids);

      const page = await call(fresh, 'GET', '/charges', {
        query: { limit: 2, offset: 1, order: 'reverse_chronological' },
      });
      expect(page.body.data.map((c: { id: string }) => c.id)).toEqual([ids[3], ids[2]]);
      expect(page.body).toMatchObject({ limit: 2, offset: 1, total: 5, order: 'reverse_chronological' });

      // Some SDKs send list params as a JSON body on GET.
      const viaBody = await call(fresh, 'GET', '/charges', { json: { limit: 1, offset: 4 } });
      expect(viaBody.body.limit).toBe(1);
      expect(viaBody.body.data.map((c: { id: string }) => c.id)).toEqual([ids[4]]);

      const created1 = all.body.data[1].created_at as string;
      const created3 = all.body.data[3].created_at as string;
      const window = await call(fresh, 'GET', '/charges', { query: { from: created1, to: created3 } });
      expect(window.body.data.map((c: { id: string }) => c.id)).toEqual(ids.slice(1, 4));
      expect(window.body).toMatchObject({ from: created1, to: created3, total: 3 });

      const capped = await call(fresh, 'GET', '/charges', { query: { limit: 1000 } });
      expect(capped.body.limit).toBe(100);
      const badOrder = await call(fresh, 'GET', '/charges', { query: { order: 'sideways' } });
      expect(badOrder.status).toBe(400);
      const badLimit = await call(fresh, 'GET', '/charges', { query: { limit: 'many' } });
      expect(badLimit.status).toBe(400);
      const badFrom = await call(fresh, 'GET', '/charges', { query: { from: 'yesterday' } });
      expect(badFrom.status).toBe(400);
    } finally {
      await fresh.close();
    }
  });
});
