import { describe, expect, it } from '@jest/globals';
import { BufferedResponse } from '../../src/omise/buffered-response.js';

/**
 * The pooled fetch's Response with its body in memory, read side by side with Node's own Response over
 * the same bytes: whatever a caller (ky, the Omise client, a hook) does with it must come out the same.
 */

const BYTES = new TextEncoder().encode('{"object":"charge","amount":20000,"name":"é"}');

function both(bytes: Uint8Array | null = BYTES, status = 200) {
  const init = () => ({
    status,
    statusText: 'OK',
    headers: new Headers({ 'content-type': 'application/json', 'set-cookie': 'a=1' }),
  });
  return [new BufferedResponse(bytes, init()), new Response(bytes, init())] as const;
}

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    const value = await promise;
    return { value: value instanceof ArrayBuffer ? [...new Uint8Array(value)] : value };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

function thrownName(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as Error).name;
  }
  return undefined;
}

describe('BufferedResponse', () => {
  it('has the status, headers and flags of the Response it stands for', () => {
    for (const status of [200, 201, 404, 500]) {
      const [buffered, standard] = both(BYTES, status);
      for (const key of ['status', 'statusText', 'ok', 'type', 'url', 'redirected', 'bodyUsed'] as const) {
        expect(buffered[key]).toBe(standard[key]);
      }
      expect([...buffered.headers]).toEqual([...standard.headers]);
    }
    expect(() => new BufferedResponse(null, { status: 100, statusText: '', headers: new Headers() })).toThrow(
      RangeError,
    );
  });

  it.each(['text', 'json', 'arrayBuffer', 'bytes', 'blob'] as const)(
    'reads the body once with %s(), then refuses like Response',
    async (method) => {
      const [buffered, standard] = both();
      const read = async (r: Response) => {
        const value: unknown = await (r as unknown as Record<typeof method, () => Promise<unknown>>)[
          method
        ]();
        return value instanceof Blob ? [value.type, await value.text()] : value;
      };
      expect(await outcome(read(buffered))).toEqual(await outcome(read(standard)));
      expect(buffered.bodyUsed).toBe(true);
      expect(standard.bodyUsed).toBe(true);
      expect(await outcome(read(buffered))).toEqual(await outcome(read(standard)));
      // Node's errors come from another realm than jest's: compare by name.
      expect(thrownName(() => buffered.clone())).toBe('TypeError');
      expect(thrownName(() => standard.clone())).toBe('TypeError');
    },
  );

  it('hands out copies: changing what was read does not change a clone', async () => {
    const [buffered] = both();
    const clone = buffered.clone();
    const bytes = new Uint8Array(await buffered.arrayBuffer());
    bytes[0] = 0;
    expect(await clone.text()).toBe(new TextDecoder().decode(BYTES));
  });

  it('gives a stream on request, and from then on agrees with it', async () => {
    const [buffered] = both();
    const body = buffered.body;
    expect(body).toBeInstanceOf(ReadableStream);
    expect(buffered.body).toBe(body);
    expect(await new Response(body).text()).toBe(new TextDecoder().decode(BYTES));
    expect(buffered.bodyUsed).toBe(true);
    expect(await outcome(buffered.text())).toEqual({ error: 'TypeError' });

    const [read] = both();
    await read.text();
    expect(read.body).not.toBeNull();
    expect(read.bodyUsed).toBe(true);
  });

  it('has no body for a status without one, and reads as empty', async () => {
    const [buffered, standard] = both(null, 204);
    expect(buffered.body).toBeNull();
    expect(standard.body).toBeNull();
    expect(await buffered.text()).toBe('');
    expect(await outcome(both(null, 204)[0].json())).toEqual(await outcome(both(null, 204)[1].json()));
  });

  it('parses form data through the standard Response', async () => {
    const form = new TextEncoder().encode('a=1&b=two');
    const buffered = new BufferedResponse(form, {
      status: 200,
      statusText: 'OK',
      headers: new Headers({ 'content-type': 'application/x-www-form-urlencoded' }),
    });
    expect([...(await buffered.formData()).entries()]).toEqual([
      ['a', '1'],
      ['b', 'two'],
    ]);
    expect(buffered.bodyUsed).toBe(true);
  });
});
