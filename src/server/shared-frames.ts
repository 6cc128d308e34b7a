/**
 * Serialises a shared subscription result once for all its subscribers. graphql-ws turns every message
 * into text with `JSON.stringify(message, jsonMessageReplacer)` and hands that text straight to the
 * socket's `send`: for a `next` message whose payload is a shared result, {@link SharedFrames.replacer}
 * makes the payload's JSON once (kept with the result object) and splices it into this subscriber's
 * `{"id":…,"type":"next","payload":…}`, byte for byte what graphql-ws would have written; the socket's
 * `send` swaps it in through {@link SharedFrames.take}. JSON.stringify cannot emit raw JSON, so the
 * replacer returns a one-off token instead, and `take` recognises the token's text: graphql-ws sends
 * the text in the same synchronous step, so one slot is enough (a message never sent, to a socket that
 * closed meanwhile, is simply overwritten by the next).
 */
export class SharedFrames {
  private readonly payloads = new WeakMap<object, string>();
  private pending: { token: string; frame: string } | undefined;
  private sequence = 0;

  /** @param isShared whether a `next` payload is a result shared by several subscribers */
  constructor(private readonly isShared: (payload: unknown) => boolean) {}

  /** graphql-ws's `jsonMessageReplacer`. */
  readonly replacer = (key: string, value: unknown): unknown => {
    if (key !== '' || !isNextMessage(value) || !this.isShared(value.payload)) return value;
    let payload = this.payloads.get(value.payload);
    if (payload === undefined) {
      payload = JSON.stringify(value.payload);
      this.payloads.set(value.payload, payload);
    }
    const token = `\u0000shared-frame:${(this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER)}`;
    this.pending = {
      token: JSON.stringify(token),
      frame: `{"id":${JSON.stringify(value.id)},"type":"next","payload":${payload}}`,
    };
    return token;
  };

  /** The frame to send instead of `data`, when `data` is the text the replacer just produced. */
  take(data: unknown): string | undefined {
    const pending = this.pending;
    if (pending === undefined || data !== pending.token) return undefined;
    this.pending = undefined;
    return pending.frame;
  }
}

function isNextMessage(value: unknown): value is { id: string; type: 'next'; payload: object } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'next' &&
    typeof (value as { id?: unknown }).id === 'string' &&
    typeof (value as { payload?: unknown }).payload === 'object'
  );
}
