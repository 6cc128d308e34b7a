import { describe, expect, it } from '@jest/globals';
import type { ExecutionResult } from 'graphql';
import { LISTEN, type StreamListener } from '../../src/realtime/ports.js';
import { directStream, type DirectSink } from '../../src/server/direct-stream.js';

/** A source fed by hand (what a topic does), recording what was pulled and whether it was returned. */
function source<T>(listenable = false) {
  let listener: StreamListener<T> | undefined;
  const queued: IteratorResult<T>[] = [];
  const waiting: Array<(r: IteratorResult<T>) => void> = [];
  let returned = 0;
  let pulls = 0;
  const iterator: AsyncIterableIterator<T> = {
    next() {
      pulls++;
      const item = queued.shift();
      if (item) return Promise.resolve(item);
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
      returned++;
      listener = undefined;
      for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  if (listenable) {
    (iterator as unknown as Record<symbol, unknown>)[LISTEN] = (l: StreamListener<T>) => {
      listener = l;
      for (const item of queued.splice(0)) offer(item);
    };
  }
  const offer = (item: IteratorResult<T>) => {
    if (listener) {
      if (item.done) listener.end();
      else listener.item(item.value);
      return;
    }
    const resolve = waiting.shift();
    if (resolve) resolve(item);
    else queued.push(item);
  };
  return {
    iterator,
    push: (value: T) => offer({ value, done: false }),
    end: () => offer({ value: undefined, done: true }),
    get returned() {
      return returned;
    },
    get pulls() {
      return pulls;
    },
  };
}

/** A sink that writes results whose data says `shared`, and refuses the others (errors). */
function sink() {
  const written: string[] = [];
  const s: DirectSink & { written: string[] } = {
    written,
    next(result) {
      const value = (result.data as { v: string } | undefined)?.v ?? '';
      if (value.startsWith('err')) return false;
      written.push(value);
      return true;
    },
    complete() {
      written.push('complete');
    },
  };
  return s;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const result = (v: string): ExecutionResult => ({ data: { v } });

describe.each([
  ['pulled', false],
  ['listened to', true],
])('directStream, its source %s', (_mode, listenable) => {
  it('writes what the sink takes, yields what it refuses, in the order of the events', async () => {
    const src = source<string>(listenable);
    const out = sink();
    // Some results are late (an execution still running): order must not follow completion.
    const stream = directStream(
      src.iterator,
      (v) =>
        v.endsWith('slow')
          ? new Promise<ExecutionResult>((r) => setTimeout(() => r(result(v)), 20))
          : result(v),
      out,
    );
    const yielded: string[] = [];
    const loop = (async () => {
      for await (const r of stream) {
        yielded.push((r.data as { v: string }).v);
        // graphql-ws sends it before asking again: nothing may be written meanwhile.
        const before = out.written.length;
        await tick();
        expect(out.written.length).toBe(before);
        out.written.push(`sent ${(r.data as { v: string }).v}`);
      }
    })();
    for (const v of ['a', 'b-slow', 'c', 'err1', 'd-slow', 'err2', 'e']) src.push(v);
    src.end();
    await loop;
    expect(out.written).toEqual(['a', 'b-slow', 'c', 'sent err1', 'd-slow', 'sent err2', 'e', 'complete']);
    expect(yielded).toEqual(['err1', 'err2']);
  });

  it('takes nothing before graphql-ws asks for the first result', async () => {
    const src = source<string>(listenable);
    const out = sink();
    directStream(src.iterator, result, out);
    src.push('a');
    await tick();
    expect(src.pulls).toBe(0);
    expect(out.written).toEqual([]);
  });

  it('return() stops it at once: a result still being executed is not written, and complete is not written', async () => {
    const src = source<string>(listenable);
    const out = sink();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stream = directStream(src.iterator, async (v) => (await gate, result(v)), out);
    const next = stream.next();
    src.push('a');
    await tick();
    await stream.return!();
    release();
    expect(await next).toEqual({ value: undefined, done: true });
    await tick();
    expect(out.written).toEqual([]);
    expect(src.returned).toBe(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('a mapping that throws closes the source and the iteration throws its error', async () => {
    const src = source<string>(listenable);
    const stream = directStream(
      src.iterator,
      () => {
        throw new Error('boom');
      },
      sink(),
    );
    const next = stream.next();
    src.push('a');
    await expect(next).rejects.toThrow('boom');
    expect(src.returned).toBe(1);
  });

  it('a source that fails fails the iteration, without complete', async () => {
    const out = sink();
    const failing: AsyncIterableIterator<string> = {
      next: () => Promise.reject(new Error('topic failed')),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const stream = directStream(failing, result, out);
    await expect(stream.next()).rejects.toThrow('topic failed');
    expect(out.written).toEqual([]);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
