import { describe, expect, it } from '@jest/globals';
import { mapAsyncIterator } from 'graphql/execution/mapAsyncIterator.js';
import { mapEvents } from '../../src/server/map-events.js';

type Mapper = <T, U>(iterable: AsyncIterable<T>, callback: (value: T) => Promise<U> | U) => AsyncIterator<U>;

/** A source that records what is asked of it. */
function source(values: number[], options: { returnFails?: boolean } = {}) {
  const calls: string[] = [];
  let i = 0;
  const iterator: AsyncIterableIterator<number> = {
    async next() {
      calls.push('next');
      return i < values.length ? { value: values[i++]!, done: false } : { value: undefined, done: true };
    },
    async return() {
      calls.push('return');
      if (options.returnFails) throw new Error('return failed');
      i = values.length;
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      calls.push('throw');
      i = values.length;
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { iterator, calls };
}

async function outcome<T>(promise: Promise<T>): Promise<unknown> {
  try {
    return { resolved: await promise };
  } catch (error) {
    return { rejected: (error as Error).message };
  }
}

/** Runs the same scenario against graphql's mapAsyncIterator and mapEvents: both must agree. */
async function both(scenario: (map: Mapper) => Promise<unknown>) {
  const graphql = await scenario(mapAsyncIterator as Mapper);
  const ours = await scenario(mapEvents as Mapper);
  expect(ours).toEqual(graphql);
  return ours;
}

describe('mapEvents behaves as graphql’s mapAsyncIterator', () => {
  it('maps values from sync and async callbacks, then ends', async () => {
    const seen = await both(async (map) => {
      const { iterator, calls } = source([1, 2, 3]);
      const mapped = map(iterator, (n: number) => (n === 2 ? Promise.resolve(n * 10) : n * 10));
      const results = [await mapped.next(), await mapped.next(), await mapped.next(), await mapped.next()];
      return { results, calls };
    });
    expect(seen).toMatchObject({ results: [{ value: 10 }, { value: 20 }, { value: 30 }, { done: true }] });
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
    ],
    ['rejects', () => Promise.reject(new Error('boom'))],
  ])('a callback that %s returns the source and throws its error', async (_name, callback) => {
    const seen = await both(async (map) => {
      const { iterator, calls } = source([1, 2], { returnFails: true });
      const mapped = map(iterator, callback as unknown as (n: number) => number);
      return { first: await outcome(mapped.next()), calls };
    });
    expect(seen).toEqual({ first: { rejected: 'boom' }, calls: ['next', 'return'] });
  });

  it('return() and throw() go to the source', async () => {
    const seen = await both(async (map) => {
      const a = source([1, 2]);
      const returned = await map(a.iterator, (n: number) => n).return?.();
      const b = source([1, 2]);
      const thrown = await outcome(map(b.iterator, (n: number) => n).throw!(new Error('stop')));
      return { returned, thrown, calls: [...a.calls, ...b.calls] };
    });
    expect(seen).toEqual({
      returned: { value: undefined, done: true },
      thrown: { rejected: 'stop' },
      calls: ['return', 'throw'],
    });
  });

  it('a source without return() or throw(): return() is done, throw() throws', async () => {
    await both(async (map) => {
      const bare = { [Symbol.asyncIterator]: () => ({ next: async () => ({ value: 1, done: false }) }) };
      const mapped = map(bare as AsyncIterable<number>, (n: number) => n);
      return { returned: await mapped.return?.(), thrown: await outcome(mapped.throw!(new Error('x'))) };
    });
  });
});
