import { describe, expect, it } from '@jest/globals';
import { QrImageCache } from '../../src/payments/qr-image-cache.js';

function downloader() {
  const calls: string[] = [];
  let failNext = false;
  const download = async (url: string) => {
    calls.push(url);
    await new Promise((r) => setImmediate(r));
    if (failNext) {
      failNext = false;
      throw new Error('boom');
    }
    return new TextEncoder().encode(url);
  };
  return { download, calls, failOnce: () => (failNext = true) };
}

describe('QrImageCache', () => {
  it('shares one download among concurrent requests and caches the bytes', async () => {
    const d = downloader();
    const cache = new QrImageCache(d.download);
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.get('https://x/a')));
    expect(d.calls).toEqual(['https://x/a']);
    for (const r of results) expect(new TextDecoder().decode(r)).toBe('https://x/a');
    await cache.get('https://x/a');
    expect(d.calls).toHaveLength(1);
  });

  it('evicts the least recently used beyond its bound, and does not cache failures', async () => {
    const d = downloader();
    const cache = new QrImageCache(d.download, 2);
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // evicts b
    expect(cache.size).toBe(2);
    await cache.get('a');
    expect(d.calls).toEqual(['a', 'b', 'c']);
    await cache.get('b');
    expect(d.calls).toEqual(['a', 'b', 'c', 'b']);
    d.failOnce();
    await expect(cache.get('z')).rejects.toThrow('boom');
    expect(new TextDecoder().decode(await cache.get('z'))).toBe('z');
  });
});
