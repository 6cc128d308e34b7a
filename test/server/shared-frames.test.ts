import { describe, expect, it } from '@jest/globals';
import { SharedFrames } from '../../src/server/shared-frames.js';

/** JSON.stringify as graphql-ws calls it, then the socket's send as the gateway's WebSocket does it. */
function sent(frames: SharedFrames, message: unknown): string {
  const text = JSON.stringify(message, frames.replacer);
  return frames.take(text) ?? text;
}

describe('SharedFrames', () => {
  const result = { data: { chargeStatus: { status: 'SUCCESSFUL', note: 'é "quoted" \u2028' } } };
  const shared = new Set<unknown>([result]);

  it('writes a shared next message byte for byte as JSON.stringify would, serialising the payload once', () => {
    const frames = new SharedFrames((payload) => shared.has(payload));
    let reads = 0;
    const counted = {
      get data() {
        reads++;
        return result.data;
      },
    };
    shared.add(counted);
    for (const id of ['1', 'a"b', '∑']) {
      const frame = sent(frames, { id, type: 'next', payload: counted });
      expect(frame).toBe(JSON.stringify({ id, type: 'next', payload: result }));
    }
    expect(reads).toBe(1);
  });

  it('leaves every other message to JSON.stringify', () => {
    const frames = new SharedFrames((payload) => shared.has(payload));
    const others = [
      { type: 'connection_ack' },
      { id: '1', type: 'next', payload: { data: { chargeStatus: null } } },
      { id: '1', type: 'error', payload: [{ message: 'no' }] },
      { id: '1', type: 'complete' },
    ];
    for (const message of others) {
      const text = JSON.stringify(message, frames.replacer);
      expect(text).toBe(JSON.stringify(message));
      expect(frames.take(text)).toBeUndefined();
    }
  });

  it('hands a frame over only for the text just produced, and only once', () => {
    const frames = new SharedFrames((payload) => shared.has(payload));
    const first = JSON.stringify({ id: '1', type: 'next', payload: result }, frames.replacer);
    const second = JSON.stringify({ id: '2', type: 'next', payload: result }, frames.replacer);
    expect(first).not.toBe(second);
    // The first was never sent (its socket closed): its text is no longer recognised.
    expect(frames.take(first)).toBeUndefined();
    expect(frames.take(second)).toBe(JSON.stringify({ id: '2', type: 'next', payload: result }));
    expect(frames.take(second)).toBeUndefined();
  });
});
