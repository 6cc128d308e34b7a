import { describe, expect, it } from '@jest/globals';
import { OmiseError, OmiseNetworkError, OmiseTimeoutError } from '../../src/omise/errors.js';
import { fail, ok, UpstreamUnavailableError, type Result } from '../../src/payments/errors.js';
import {
  canonicalJson,
  decodeValue,
  encode,
  fingerprintOf,
  IdempotencyService,
  idempotencyTimingsFor,
  type AttemptContext,
  type IdempotentRequest,
} from '../../src/payments/idempotency.js';
import { MemoryIdempotencyStore } from '../../src/persistence/memory-idempotency-store.js';

interface Value {
  id: string;
  at: Date;
}

function setup(options: { maxWaitMs?: number } = {}) {
  const store = new MemoryIdempotencyStore();
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  const service = new IdempotencyService({
    store,
    ttlMs: 24 * 3600_000,
    now: () => new Date(nowMs),
    settleMs: 60_000,
    staleAfterMs: 120_000,
    ...options,
  });
  return { store, service, advance: (ms: number) => (nowMs += ms) };
}

/** A fake Omise write: counts calls; its behaviour per call is scripted. */
function operation(script: ((ctx: AttemptContext, n: number) => Promise<Result<Value>>)[] = []) {
  let calls = 0;
  const reconciled: string[] = [];
  let found: Result<Value> | undefined;
  const request = (input: unknown, key = 'key-1', scope?: string): IdempotentRequest<Value> => ({
    operation: 'create',
    key,
    scope: scope ?? null,
    input,
    execute: (ctx) => {
      calls++;
      const step =
        script[calls - 1] ??
        ((c: AttemptContext) => c.write(async () => ok({ id: `obj_${calls}`, at: new Date(calls * 1000) })));
      return step(ctx, calls);
    },
    reconcile: async (handle) => {
      reconciled.push(handle);
      return found;
    },
  });
  return {
    request,
    calls: () => calls,
    reconciled,
    setFound: (r: Result<Value>) => (found = r),
  };
}

describe('IdempotencyService', () => {
  it('replays the first result (Dates revived) without a second call', async () => {
    const { service } = setup();
    const op = operation();
    const first = await service.run(op.request({ amount: 1 }));
    const second = await service.run(op.request({ amount: 1 }));
    expect(op.calls()).toBe(1);
    expect(second).toEqual(first);
    expect(second.ok && second.value.at).toBeInstanceOf(Date);
  });

  it('refuses the same key with another input, but not in another scope or operation', async () => {
    const { service } = setup();
    const op = operation();
    await service.run(op.request({ amount: 1 }));
    const reused = await service.run(op.request({ amount: 2 }));
    expect(reused).toEqual({
      ok: false,
      errors: [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' })],
    });
    expect((await service.run(op.request({ amount: 2 }, 'key-1', 'other-client'))).ok).toBe(true);
    expect(op.calls()).toBe(2);
    expect(service.handleFor('create', 'k')).not.toBe(service.handleFor('refund', 'k'));
    expect(service.handleFor('create', 'k', 'a')).not.toBe(service.handleFor('create', 'k', 'b'));
  });

  it('20 concurrent identical calls make exactly one underlying call and all get its result', async () => {
    const { service } = setup();
    const op = operation([
      (ctx) =>
        ctx.write(
          () => new Promise((resolve) => setImmediate(() => resolve(ok({ id: 'only', at: new Date(0) })))),
        ),
    ]);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => service.run(op.request({ amount: 1 }))),
    );
    expect(op.calls()).toBe(1);
    for (const r of results) expect(r).toEqual(ok({ id: 'only', at: new Date(0) }));
  });

  it('a duplicate gives up with IDEMPOTENCY_REQUEST_IN_PROGRESS when the first runs too long', async () => {
    const { service } = setup({ maxWaitMs: 50 });
    let release!: () => void;
    const op = operation([
      (ctx) =>
        ctx.write(
          () => new Promise((resolve) => (release = () => resolve(ok({ id: 'slow', at: new Date(0) })))),
        ),
    ]);
    const first = service.run(op.request({ amount: 1 }));
    const second = await service.run(op.request({ amount: 1 }));
    expect(second).toEqual({
      ok: false,
      errors: [expect.objectContaining({ code: 'IDEMPOTENCY_REQUEST_IN_PROGRESS' })],
    });
    release();
    expect((await first).ok).toBe(true);
    expect(await service.run(op.request({ amount: 1 }))).toEqual(await first);
  });

  it('records business failures: a replay gets the same userErrors', async () => {
    const { service } = setup();
    const op = operation([async () => fail({ code: 'CHARGE_NOT_REFUNDABLE', message: 'no' })]);
    const first = await service.run(op.request({ amount: 1 }));
    expect(await service.run(op.request({ amount: 1 }))).toEqual(first);
    expect(op.calls()).toBe(1);
  });

  it('releases the key when nothing reached Omise (failure before the write, or connection refused)', async () => {
    const { service } = setup();
    const op = operation([
      async () => {
        throw new OmiseTimeoutError('GET', '/charges/x', 10); // a read before the write
      },
      (ctx) =>
        ctx.write(async () => {
          throw new OmiseNetworkError({
            method: 'POST',
            path: '/charges',
            causeCode: 'ECONNREFUSED',
            mayHaveReachedServer: false,
          });
        }),
      (ctx) =>
        ctx.write(async () => {
          throw new OmiseError({
            status: 429,
            code: 'too_many_requests',
            omiseMessage: 'slow down',
            method: 'POST',
            path: '/charges',
          });
        }),
    ]);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseTimeoutError);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseNetworkError);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseError);
    expect((await service.run(op.request({ amount: 1 }))).ok).toBe(true);
    expect(op.calls()).toBe(4);
    expect(op.reconciled).toEqual([]);
  });

  it('after a timeout of the write, a retry reconciles and returns what Omise has, without executing again', async () => {
    const { service } = setup();
    const op = operation([
      (ctx) =>
        ctx.write(async () => {
          throw new OmiseTimeoutError('POST', '/charges', 10);
        }),
    ]);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseTimeoutError);
    op.setFound(ok({ id: 'made_anyway', at: new Date(5) }));
    expect(await service.run(op.request({ amount: 1 }))).toEqual(ok({ id: 'made_anyway', at: new Date(5) }));
    expect(op.calls()).toBe(1);
    expect(op.reconciled).toEqual([service.handleFor('create', 'key-1')]);
    // ... and it is now recorded.
    expect(await service.run(op.request({ amount: 1 }))).toEqual(ok({ id: 'made_anyway', at: new Date(5) }));
    expect(op.reconciled).toHaveLength(1);
  });

  it('after a timeout with nothing found, waits for the request to settle before executing again', async () => {
    const { service, advance } = setup();
    const op = operation([
      (ctx) =>
        ctx.write(async () => {
          throw new OmiseTimeoutError('POST', '/charges', 10);
        }),
    ]);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseTimeoutError);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(op.calls()).toBe(1);
    advance(61_000);
    expect(await service.run(op.request({ amount: 1 }))).toEqual(ok({ id: 'obj_2', at: new Date(2000) }));
    expect(op.reconciled).toHaveLength(2);
    // Another input with the key is still refused while uncertain/done.
    expect((await service.run(op.request({ amount: 9 }))).ok).toBe(false);
  });

  it('after a 5xx (Omise answered) with nothing found, executes again at once', async () => {
    const { service } = setup();
    const op = operation([
      (ctx) =>
        ctx.write(async () => {
          throw new OmiseError({
            status: 503,
            code: 'service_unavailable',
            omiseMessage: 'down',
            method: 'POST',
            path: '/charges',
          });
        }),
    ]);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseError);
    expect((await service.run(op.request({ amount: 1 }))).ok).toBe(true);
    expect(op.calls()).toBe(2);
    expect(op.reconciled).toHaveLength(1);
  });

  it('when the write succeeded but a later step failed, the retry finds the object', async () => {
    const { service } = setup();
    const op = operation([
      async (ctx) => {
        await ctx.write(async () => 'created');
        throw new OmiseNetworkError({
          method: 'GET',
          path: '/charges/x',
          causeCode: 'ECONNREFUSED',
          mayHaveReachedServer: false,
        }); // the re-read
      },
    ]);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseNetworkError);
    op.setFound(ok({ id: 'the_refund', at: new Date(1) }));
    expect(await service.run(op.request({ amount: 1 }))).toEqual(ok({ id: 'the_refund', at: new Date(1) }));
    expect(op.calls()).toBe(1);
  });

  it('the write succeeded but recording the result failed: the caller still gets the result', async () => {
    const { store, service } = setup({ maxWaitMs: 0 });
    const begin = store.begin.bind(store);
    let storeDown = true;
    store.begin = async (key, attempt) => {
      const lease = await begin(key, attempt);
      if (lease === undefined) return undefined;
      return {
        ...lease,
        record: lease.record,
        markWriteStarted: (at) => lease.markWriteStarted(at),
        release: () => lease.release(),
        abandon: () => lease.abandon(),
        finish: async (end) => {
          if (storeDown && end.state === 'done') throw new Error('store unavailable');
          return lease.finish(end);
        },
      };
    };
    const op = operation();
    const first = await service.run(op.request({ amount: 1 }));
    expect(first.ok && first.value.id).toBe('obj_1');
    storeDown = false;
    // The record stayed pending with its owner gone: a retry takes over at once and reconciles instead
    // of executing again.
    op.setFound(first);
    expect((await service.run(op.request({ amount: 1 }))).ok).toBe(true);
    expect(op.calls()).toBe(1);
    expect(op.reconciled).toHaveLength(1);
  });

  it('the store failing as the write starts: nothing is sent, a retryable error, the key stays usable', async () => {
    const { store, service } = setup();
    const begin = store.begin.bind(store);
    let failMark = true;
    store.begin = async (key, attempt) => {
      const lease = await begin(key, attempt);
      if (lease === undefined) return undefined;
      return {
        record: lease.record,
        finish: (end) => lease.finish(end),
        release: () => lease.release(),
        abandon: () => lease.abandon(),
        markWriteStarted: async (at) => {
          if (failMark) throw new Error('connection terminated');
          return lease.markWriteStarted(at);
        },
      };
    };
    let sent = 0;
    const op = operation([(ctx) => ctx.write(async () => (sent++, ok({ id: 'never', at: new Date(0) })))]);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(sent).toBe(0);
    failMark = false;
    expect((await service.run(op.request({ amount: 1 }))).ok).toBe(true);
    expect(op.reconciled).toEqual([]);
  });

  it('issue 8 repro: 500, then 429, then a 500 after Omise acted → the next retry settles on that object (no key stuck in progress)', async () => {
    const { service } = setup({ maxWaitMs: 1_000 });
    const status = (code: number) => async (ctx: AttemptContext) =>
      ctx.write(async (): Promise<Result<Value>> => {
        throw new OmiseError({
          status: code,
          code: 'error',
          omiseMessage: 'failed',
          method: 'POST',
          path: '/charges',
        });
      });
    const op = operation([status(500), status(429), status(500)]);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseError); // 500
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseError); // 429
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseError); // 500, acted
    op.setFound(ok({ id: 'charged_by_the_third', at: new Date(3) }));
    expect(await service.run(op.request({ amount: 1 }))).toEqual(
      ok({ id: 'charged_by_the_third', at: new Date(3) }),
    );
    expect(op.calls()).toBe(3);
  });

  it('an attempt taken over as presumed dead can no longer write (fenced)', async () => {
    const { service, advance } = setup({ maxWaitMs: 0 });
    let resume!: () => void;
    const slowReadThenWrite = async (ctx: AttemptContext) => {
      await new Promise<void>((r) => (resume = r)); // a read that hangs past the stale time
      return ctx.write(async () => ok({ id: 'second_charge', at: new Date(0) }));
    };
    const op = operation([slowReadThenWrite]);
    const zombie = service.run(op.request({ amount: 1 }));
    await new Promise((r) => setImmediate(r));
    advance(121_000);
    // The take-over finds nothing and executes (call 2 makes obj_2).
    expect((await service.run(op.request({ amount: 1 }))).ok).toBe(true);
    resume();
    await expect(zombie).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(op.calls()).toBe(2);
  });

  it('refuses a retention shorter than the attempt stale time', () => {
    expect(
      () =>
        new IdempotencyService({ store: new MemoryIdempotencyStore(), ttlMs: 60_000, staleAfterMs: 120_000 }),
    ).toThrow(RangeError);
  });

  it('reconciles from a wide window before the first attempt (the two clocks need not agree)', async () => {
    const { service } = setup();
    const since: Date[] = [];
    const op = operation([
      (ctx) =>
        ctx.write(async () => {
          throw new OmiseTimeoutError('POST', '/charges', 10);
        }),
    ]);
    await expect(service.run(op.request({ amount: 1 }))).rejects.toBeInstanceOf(OmiseTimeoutError);
    const request = op.request({ amount: 1 });
    await service.run({ ...request, reconcile: async (h, s) => (since.push(s), ok({ id: h, at: s })) });
    expect(since[0]?.toISOString()).toBe('2025-12-31T23:00:00.000Z');
  });

  it('takes over an attempt whose process died (stale pending) by reconciling', async () => {
    const { service, advance } = setup({ maxWaitMs: 0 });
    const op = operation([() => new Promise(() => {})]); // never settles: a crashed owner
    void service.run(op.request({ amount: 1 }));
    await new Promise((r) => setImmediate(r));
    advance(121_000);
    op.setFound(ok({ id: 'from_dead_attempt', at: new Date(1) }));
    expect(await service.run(op.request({ amount: 1 }))).toEqual(
      ok({ id: 'from_dead_attempt', at: new Date(1) }),
    );
    expect(op.calls()).toBe(1);
  });
});

describe('fingerprints and stored values', () => {
  it('canonicalise key order, null/undefined members and Dates', () => {
    expect(fingerprintOf({ a: 1, b: { c: 2 }, n: null })).toBe(
      fingerprintOf({ b: { c: 2 }, a: 1, e: undefined }),
    );
    expect(fingerprintOf({ a: 1 })).not.toBe(fingerprintOf({ a: 2 }));
    expect(fingerprintOf({ a: [1, 2] })).not.toBe(fingerprintOf({ a: [2, 1] }));
    expect(canonicalJson({ d: new Date('2026-01-01T00:00:00Z') })).toBe('{"d":"2026-01-01T00:00:00.000Z"}');
  });

  it('tell {a: null} from {} in metadata (issue 8)', () => {
    expect(fingerprintOf({ amount: 1, metadata: { a: null } })).not.toBe(
      fingerprintOf({ amount: 1, metadata: {} }),
    );
    expect(fingerprintOf({ amount: 1, description: null })).toBe(fingerprintOf({ amount: 1 }));
  });

  it('round-trip Dates, nested and in arrays', () => {
    const value = { at: new Date(1), list: [{ at: new Date(2) }], meta: { s: '2026-01-01T00:00:00Z' } };
    expect(decodeValue(encode(value))).toEqual(value);
  });
});

describe('idempotencyTimingsFor', () => {
  it('derives the timings from the Omise client settings, never below the built-in ones', () => {
    expect(idempotencyTimingsFor({ timeoutMs: 10_000, maxAttempts: 3, maxRetryDelayMs: 10_000 })).toEqual({
      staleAfterMs: 200_000,
      settleMs: 60_000,
    });
    expect(idempotencyTimingsFor({ timeoutMs: 5_000, maxAttempts: 1, maxRetryDelayMs: 10_000 })).toEqual({
      staleAfterMs: 120_000,
      settleMs: 60_000,
    });
  });

  it('never presumes an attempt dead before its slowest possible run with raised settings', () => {
    const omise = { timeoutMs: 60_000, maxAttempts: 10, maxRetryDelayMs: 10_000 };
    const slowestCallMs = 10 * 60_000 + 9 * 10_000;
    const timings = idempotencyTimingsFor(omise);
    expect(timings.staleAfterMs).toBeGreaterThanOrEqual(4 * slowestCallMs);
    expect(timings.settleMs).toBeGreaterThanOrEqual(slowestCallMs);
  });
});
