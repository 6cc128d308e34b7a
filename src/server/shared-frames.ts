/**
 * The graphql-transport-ws frames of shared subscription results, written to each subscriber's socket
 * without graphql-ws (./direct-stream.ts): a shared result's payload is serialised once (kept with the
 * result object) and spliced into each subscriber's `{"id":…,"type":"next","payload":…}`, byte for byte
 * what graphql-ws writes (`JSON.stringify({ id, type, payload })`).
 */
export class SharedFrames {
  private readonly payloads = new WeakMap<object, string>();

  /** The `next` frame of `result` (never mutated: it is shared) for subscription `id`. */
  next(id: string, result: object): string {
    let payload = this.payloads.get(result);
    if (payload === undefined) {
      payload = JSON.stringify(result);
      this.payloads.set(result, payload);
    }
    return `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`;
  }

  /** The `complete` frame of subscription `id`. */
  complete(id: string): string {
    return `{"id":${JSON.stringify(id)},"type":"complete"}`;
  }
}
