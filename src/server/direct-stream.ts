import type { ExecutionResult } from 'graphql';
import { LISTEN, type ListenableStream, type StreamListener } from '../realtime/ports.js';

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

const END = Symbol('end');
type Item<T> = { value: T } | { error: unknown } | typeof END;

/**
 * The iterator graphql-ws runs a subscription with (`for await` → `next` → `socket.send` per result),
 * doing the common case itself: each event is mapped (`map`, graphql's `mapAsyncIterator` contract) and a
 * result the sink accepts is written at once, without graphql-ws's copy, `onNext`, serialisation and
 * awaited send; the iteration yields only what the sink refuses, then ends.
 *
 * A source that can hand its items over synchronously (`LISTEN`, realtime/ports.ts) is listened to:
 * an event then goes from the topic to the socket without a promise, unless its execution is still
 * running. Any other source is pulled, one `next()` at a time.
 *
 * Order is kept: one event is handled at a time; what arrives while an execution runs, or while a
 * result handed to graphql-ws is not yet sent (graphql-ws asks again once it is), waits in arrival
 * order. `return()` (the client's `complete`, a closed socket) stops it synchronously: nothing more is
 * written for this subscription.
 */
export function directStream<T>(
  iterable: AsyncIterable<T>,
  map: (event: T) => Promise<ExecutionResult> | ExecutionResult,
  sink: DirectSink,
): AsyncIterableIterator<ExecutionResult> {
  const source = iterable[Symbol.asyncIterator]();
  const listenable = typeof (source as Partial<ListenableStream<T>>)[LISTEN] === 'function';
  let started = false;
  let finished = false;
  /** An execution is running, or a result was handed to graphql-ws and it has not asked again. */
  let busy = false;
  let pulling = false;
  const backlog: Item<T>[] = [];
  /** graphql-ws's pending next(). */
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
  const failMapping = (error: unknown) => {
    if (finished) return;
    finished = true;
    backlog.length = 0;
    void returnSource().then(() => settle({ error }));
  };
  const deliver = (result: ExecutionResult) => {
    if (finished) return;
    if (sink.next(result, stream)) return;
    busy = true;
    settle({ value: result, done: false });
  };
  const handle = (item: Item<T>) => {
    if (item === END) {
      finished = true;
      sink.complete(stream);
      settle({ value: undefined, done: true });
      return;
    }
    if ('error' in item) {
      finished = true;
      settle(item);
      return;
    }
    let mapped: Promise<ExecutionResult> | ExecutionResult;
    try {
      mapped = map(item.value);
    } catch (error) {
      failMapping(error);
      return;
    }
    if (!isPromiseLike(mapped)) {
      deliver(mapped);
      return;
    }
    busy = true;
    mapped.then((result) => {
      busy = false;
      deliver(result);
      proceed();
    }, failMapping);
  };
  /** Handles what waits, then asks a pulled source for more. */
  const proceed = () => {
    while (!busy && !finished && backlog.length > 0) handle(backlog.shift()!);
    if (!busy && !finished && !listenable && !pulling) pull();
  };
  const take = (item: Item<T>) => {
    if (finished) return;
    if (busy || backlog.length > 0) backlog.push(item);
    else handle(item);
  };
  const pull = () => {
    pulling = true;
    let next: Promise<IteratorResult<T>>;
    try {
      next = source.next();
    } catch (error) {
      pulling = false;
      take({ error });
      return;
    }
    void Promise.resolve(next).then(
      (item) => {
        pulling = false;
        take(item.done ? END : { value: item.value });
        proceed();
      },
      (error: unknown) => {
        pulling = false;
        take({ error });
      },
    );
  };
  const listener: StreamListener<T> = {
    item: (value) => take({ value }),
    end: () => take(END),
    fail: (error) => take({ error }),
  };
  const end = (): IteratorResult<ExecutionResult> => {
    finished = true;
    backlog.length = 0;
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
      // graphql-ws asks again once it has sent what it was handed.
      busy = false;
      if (!started) {
        started = true;
        if (listenable) (source as ListenableStream<T>)[LISTEN](listener);
      }
      proceed();
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
