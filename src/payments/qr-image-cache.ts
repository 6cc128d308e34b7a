/**
 * The QR PNGs behind `download_uri`, cached per URL. Omise documents are immutable, so a cached image
 * never goes stale; the cache is a small LRU so that memory stays bounded. Concurrent requests for the
 * same URL share one download; a failed download is not cached.
 */
export class QrImageCache {
  private readonly images = new Map<string, Uint8Array>();
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly download: (url: string) => Promise<Uint8Array>,
    /** How many images to keep (a QR PNG is a few KB). */
    private readonly maxEntries = 200,
  ) {}

  async get(url: string): Promise<Uint8Array> {
    const cached = this.images.get(url);
    if (cached) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.images.delete(url);
      this.images.set(url, cached);
      return cached;
    }
    const running = this.inFlight.get(url);
    if (running) return running;
    const download = this.download(url)
      .then((bytes) => {
        this.remember(url, bytes);
        return bytes;
      })
      .finally(() => this.inFlight.delete(url));
    this.inFlight.set(url, download);
    return download;
  }

  get size(): number {
    return this.images.size;
  }

  private remember(url: string, bytes: Uint8Array): void {
    this.images.set(url, bytes);
    while (this.images.size > this.maxEntries) {
      const oldest = this.images.keys().next();
      if (oldest.done) break;
      this.images.delete(oldest.value);
    }
  }
}
