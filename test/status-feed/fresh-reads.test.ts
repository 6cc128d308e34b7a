import { describe, expect, it } from '@jest/globals';
import { FreshReads, ReadNotWantedError } from '../../src/payments/status-feed/fresh-reads.js';
import { flushAsync } from './support/helpers.js';

/** A loader whose reads the test finishes by hand; each read returns the value current at its start. */
function heldLoader() {
  let value = 'v0';
  const pending: Array<{ key: string; finish: () => void; fail: (error: Error) => void }> = [];
  const load = (key: string) => {
    const seen = `${key}:${value}`;
    return new Promise<string>((resolve, reject) => {
      pending.push({ key, finish: () => resolve(seen), fail: reject });
    });
  };
  return {
    load,
    pending,
    set: (next: string) => (value = next),
  };
}

describe('FreshReads', () => {
  it('shares one read among callers marked before it started', async () => {
    const loader = heldLoader();
    const reads = new FreshReads(loader.load);
    const marks = [reads.mark(), reads.mark(), reads.mark()];
    const results = Promise.all(marks.map((mark) => reads.read('a', mark)));
    await flushAsync();
    expect(loader.pending).toHaveLength(1);
    loader.pending[0]!.finish();
    expect(await results).toEqual(['a:v0', 'a:v0', 'a:v0']);
    expect(reads.size).toBe(0);
  });

  it('lets a caller join a read under way if its mark came before that read started', async () => {
    const loader = heldLoader();
    const reads = new FreshReads(loader.load);
    const earlyMark = reads.mark();
    const first = reads.read('a', reads.mark());
    await flushAsync();
    expect(loader.pending).toHaveLength(1);
    const second = reads.read('a', earlyMark);
    loader.pending[0]!.finish();
    expect([await first, await second]).toEqual(['a:v0', 'a:v0']);
    expect(loader.pending).toHaveLength(1);
  });

  it('never hands a caller a read that started before its mark: it gets the next one', async () => {
    const loader = heldLoader();
    const reads = new FreshReads(loader.load);
    const early = reads.read('a', reads.mark());
    await flushAsync();
    expect(loader.pending).toHaveLength(1);
    // The value changes after the first read started, then two callers mark (e.g. they subscribe).
    loader.set('v1');
    const late = [reads.read('a', reads.mark()), reads.read('a', reads.mark())];
    await flushAsync();
    expect(loader.pending).toHaveLength(1); // one read in flight per key
    loader.pending[0]!.finish();
    expect(await early).toBe('a:v0');
    await flushAsync();
    expect(loader.pending).toHaveLength(2);
    loader.pending[1]!.finish();
    expect(await Promise.all(late)).toEqual(['a:v1', 'a:v1']);
    expect(reads.size).toBe(0);
  });

  it('keeps keys apart, shares a failure with the callers of that read, and caches nothing', async () => {
    const loader = heldLoader();
    const reads = new FreshReads(loader.load);
    const a = [reads.read('a', reads.mark()), reads.read('a', reads.mark())];
    const b = reads.read('b', reads.mark());
    await flushAsync();
    expect(loader.pending.map((p) => p.key)).toEqual(['a', 'b']);
    loader.pending[0]!.fail(new Error('omise down'));
    loader.pending[1]!.finish();
    for (const result of a) await expect(result).rejects.toThrow('omise down');
    expect(await b).toBe('b:v0');
    expect(reads.size).toBe(0);

    const again = reads.read('a', reads.mark());
    await flushAsync();
    expect(loader.pending).toHaveLength(3);
    loader.pending[2]!.finish();
    expect(await again).toBe('a:v0');
  });

  it('turns a loader that throws synchronously into a rejection', async () => {
    const reads = new FreshReads<string>(() => {
      throw new Error('boom');
    });
    await expect(reads.read('a', reads.mark())).rejects.toThrow('boom');
    expect(reads.size).toBe(0);
  });

  it('does not start a queued read none of its callers wants any more: they get a ReadNotWantedError', async () => {
    const loader = heldLoader();
    const reads = new FreshReads(loader.load);
    let wanted = true;
    const read = reads.read('a', reads.mark(), () => wanted);
    // The caller leaves before the read starts (it starts on the next turn of the event loop).
    wanted = false;
    await expect(read).rejects.toBeInstanceOf(ReadNotWantedError);
    expect(loader.pending).toHaveLength(0);
    expect(reads.size).toBe(0);
  });

  it('starts it when one caller still wants it, or did not say; a read queued behind one under way too', async () => {
    const loader = heldLoader();
    const reads = new FreshReads(loader.load);
    const both = Promise.all([reads.read('a', reads.mark(), () => false), reads.read('a', reads.mark())]);
    await flushAsync();
    expect(loader.pending).toHaveLength(1);
    // Marked after the read under way started: queued behind it, and still wanted when it ends.
    let wanted = true;
    const behind = reads.read('a', reads.mark(), () => wanted);
    loader.pending[0]!.finish();
    expect(await both).toEqual(['a:v0', 'a:v0']);
    await flushAsync();
    expect(loader.pending).toHaveLength(2);
    // Queued behind that one, and no longer wanted when it ends.
    wanted = false;
    const later = reads.read('a', reads.mark(), () => wanted);
    loader.pending[1]!.finish();
    expect(await behind).toBe('a:v0');
    await expect(later).rejects.toBeInstanceOf(ReadNotWantedError);
    expect(loader.pending).toHaveLength(2);
    expect(reads.size).toBe(0);
  });
});
