/**
 * graphql's `mapAsyncIterator` (graphql/execution/mapAsyncIterator, what its subscribe() maps events
 * with), with the same next/return/throw behaviour but fewer promises per event: a mapped value that is
 * not a promise goes out in the source's own `then`, without the two async functions and three awaits
 * of graphql's version. It runs once per subscriber and event, 10,000 times for a burst.
 *
 * As there: a callback that throws (or rejects) returns the source, ignoring any error of that, and the
 * iteration throws the callback's error.
 */
export function mapEvents<T, U>(
  iterable: AsyncIterable<T>,
  callback: (value: T) => Promise<U> | U,
): AsyncIterableIterator<U> {
  const iterator = iterable[Symbol.asyncIterator]();

  const returnIgnoringErrors = async (): Promise<void> => {
    if (typeof iterator.return === 'function') {
      try {
        await iterator.return();
      } catch {
        // Keep the original error when closing the source also fails.
      }
    }
  };
  const failed = async (error: unknown): Promise<never> => {
    await returnIgnoringErrors();
    throw error;
  };
  const mapResult = (result: IteratorResult<T>): Promise<IteratorResult<U>> | IteratorResult<U> => {
    if (result.done) return result as IteratorResult<U>;
    let mapped: Promise<U> | U;
    try {
      mapped = callback(result.value);
    } catch (error) {
      return failed(error);
    }
    return isPromiseLike(mapped)
      ? Promise.resolve(mapped).then((value) => ({ value, done: false }), failed)
      : { value: mapped, done: false };
  };

  return {
    next() {
      return Promise.resolve(iterator.next()).then(mapResult);
    },
    async return() {
      // Without return(), the source's result type is undefined (as in graphql's version).
      return typeof iterator.return === 'function'
        ? mapResult(await iterator.return())
        : { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      if (typeof iterator.throw === 'function') return mapResult(await iterator.throw(error));
      await returnIgnoringErrors();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function isPromiseLike<U>(value: Promise<U> | U): value is Promise<U> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
