import type { ExecutionResult } from 'graphql';

/** Where a subscriber's results can be written without graphql-ws (src/server/graphql-ws.ts). */
export interface DirectSink {
  /**
   * Writes `result` to the subscriber's socket itself (a shared result: its frame is made once per
   * group) and returns true; false → graphql-ws sends it (errors, with their formatting and metrics).
   */
  next(result: ExecutionResult, stream: object): boolean;
  /**
   * The stream ended normally: writes `complete` and releases the id in graphql-ws's bookkeeping, so
   * that graphql-ws sends no `complete` of its own and the client may reuse the id.
   */
  complete(stream: object): void;
}

/**
 * The iterator graphql-ws runs a subscription with (`for await` → `next` → `socket.send` per result),
 * doing the common case itself: each event is mapped (`map`, graphql's `mapAsyncIterator` contract) and a
 * result the sink accepts is written at once, without graphql-ws's copy, `onNext`, serialisation and
 * awaited send; the iteration yields only what the sink refuses, then ends.
 *
 * Order is kept: one event at a time is pulled from the source, and only while graphql-ws waits in
 * `next()` (a result handed to graphql-ws is sent before it asks again, and nothing is pulled
 * meanwhile). `return()` (the client's `complete`, a closed socket) stops it synchronously: nothing
 * more is written for this subscription.
 */
export function directStream<T>(
  iterable: AsyncIterable<T>,
  map: (event: T) => Promise<ExecutionResult> | ExecutionResult,
  sink: DirectSink,
): AsyncIterableIterator<ExecutionResult> {
  const source = iterable[Symbol.asyncIterator]();
  let finished = false;
  /** graphql-ws's pending next(): set while it waits, i.e. while events may be pulled. */
  let waiter:
    { resolve: (r: IteratorResult<ExecutionResult>) => void; reject: (e: unknown) => void } | undefined;

  const settle = (outcome: IteratorResult<ExecutionResult> | { error: unknown }) => {
    const pending = waiter;
    waiter = undefined;
    if (pending === undefined) return;
    if ('error' in outcome) pending.reject(outcome.error);
    else pending.resolve(outcome);
  };
  const returnSource = async () => {
    try {
      await source.return?.();
    } catch {
      // Keep the original error when closing the source also fails (as graphql's mapAsyncIterator).
    }
  };
  const fail = (error: unknown) => {
    if (finished) return;
    finished = true;
    void returnSource().then(() => settle({ error }));
  };
  const onResult = (result: ExecutionResult) => {
    if (finished) return;
    if (sink.next(result, stream)) pull();
    else settle({ value: result, done: false });
  };
  const onEvent = (item: IteratorResult<T>) => {
    if (finished) return;
    if (item.done) {
      finished = true;
      sink.complete(stream);
      settle({ value: undefined, done: true });
      return;
    }
    let mapped: Promise<ExecutionResult> | ExecutionResult;
    try {
      mapped = map(item.value);
    } catch (error) {
      fail(error);
      return;
    }
    if (isPromiseLike(mapped)) mapped.then(onResult, fail);
    else onResult(mapped);
  };
  const onSourceError = (error: unknown) => {
    if (finished) return;
    finished = true;
    settle({ error });
  };
  const pull = () => {
    let next: Promise<IteratorResult<T>>;
    try {
      next = source.next();
    } catch (error) {
      onSourceError(error);
      return;
    }
    void Promise.resolve(next).then(onEvent, onSourceError);
  };
  const end = (): IteratorResult<ExecutionResult> => {
    finished = true;
    const done = { value: undefined, done: true } as const;
    settle(done);
    return done;
  };

  const stream: AsyncIterableIterator<ExecutionResult> = {
    next() {
      if (finished) return Promise.resolve({ value: undefined, done: true });
      if (waiter !== undefined) return Promise.reject(new Error('directStream: next() while one is pending'));
      const promise = new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
        waiter = { resolve, reject };
      });
      pull();
      return promise;
    },
    async return() {
      const done = end();
      await source.return?.();
      return done;
    },
    async throw(error?: unknown) {
      end();
      await returnSource();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return stream;
}

function isPromiseLike<U>(value: Promise<U> | U): value is Promise<U> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
