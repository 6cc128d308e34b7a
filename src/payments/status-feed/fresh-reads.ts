/**
 * Shares reads of the same key among concurrent callers, without ever handing a caller a read that
 * started before a point of its choosing (its mark). The chargeStatus feed subscribes to the topic,
 * takes a mark, then reads: a read that started before the mark may have missed a change published
 * before the subscription existed, so joining it could leave that subscriber waiting forever.
 *
 * Per key at most one read is in flight. A caller joins it if it started after the caller's mark;
 * otherwise the caller waits for the next read, which starts once the current one settles (or on the
 * next turn of the event loop when none is in flight, so that callers marked in the same turn share
 * it). Nothing is cached: once a read settles, the next caller starts a new one.
 *
 * A caller may say how long it wants its read (`wanted`): a queued read whose callers all said so and
 * none still wants it when its turn comes is not started (its callers get a {@link ReadNotWantedError}),
 * so that a subscriber who left while its retry waited does not cost an Omise call.
 */

/** The read was not started: none of its callers wanted it any more. */
export class ReadNotWantedError extends Error {
  override name = 'ReadNotWantedError';

  constructor(key: string) {
    super(`the read of ${key} was not started: none of its callers wanted it any more`);
  }
}

interface Flight<T> {
  startedAt: number;
  promise: Promise<T>;
}

interface Queued<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  /** Each caller's `wanted`; undefined once a caller did not give one (it is then always wanted). */
  wanted: Array<() => boolean> | undefined;
}

interface Entry<T> {
  current: Flight<T> | undefined;
  next: Queued<T> | undefined;
}

export class FreshReads<T> {
  /** One counter for marks and read starts, so that "started after the mark" is exact. */
  private clock = 0;
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly load: (key: string) => Promise<T>) {}

  /** Take this once whatever must precede the read (e.g. the topic subscription) is in place. */
  mark(): number {
    return ++this.clock;
  }

  /**
   * The result of a read of `key` that started after `mark` (shared with other callers). `wanted`:
   * asked when a queued read is about to start; see {@link ReadNotWantedError}.
   */
  read(key: string, mark: number, wanted?: () => boolean): Promise<T> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { current: undefined, next: undefined };
      this.entries.set(key, entry);
    }
    if (entry.current && entry.current.startedAt > mark) return entry.current.promise;
    if (!entry.next) {
      entry.next = queued<T>(wanted);
      if (!entry.current) {
        const waiting = entry;
        setImmediate(() => this.launch(key, waiting));
      }
    } else if (wanted === undefined) {
      entry.next.wanted = undefined;
    } else {
      entry.next.wanted?.push(wanted);
    }
    return entry.next.promise;
  }

  /** Keys with a read in flight or queued (0 when idle: nothing is kept). */
  get size(): number {
    return this.entries.size;
  }

  private launch(key: string, entry: Entry<T>): void {
    const waiting = entry.next;
    if (!waiting) return;
    entry.next = undefined;
    if (waiting.wanted !== undefined && !waiting.wanted.some((stillWanted) => stillWanted())) {
      if (!entry.current) this.entries.delete(key);
      waiting.reject(new ReadNotWantedError(key));
      return;
    }
    const startedAt = ++this.clock;
    const promise = (async () => this.load(key))();
    const flight = { startedAt, promise };
    entry.current = flight;
    const settle = () => {
      if (entry.current === flight) entry.current = undefined;
      if (entry.next) this.launch(key, entry);
      else if (!entry.current) this.entries.delete(key);
    };
    promise.then(
      (value) => {
        settle();
        waiting.resolve(value);
      },
      (error: unknown) => {
        settle();
        waiting.reject(error);
      },
    );
  }
}

function queued<T>(wanted: (() => boolean) | undefined): Queued<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject, wanted: wanted === undefined ? undefined : [wanted] };
}
