import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Omise webhook signatures: `Omise-Signature` is the hex HMAC-SHA256 of `timestamp + "." + rawBody`
 * keyed with the base64-decoded webhook secret; `Omise-Signature-Timestamp` is unix seconds. During a
 * secret rotation the header carries several comma-separated signatures: any match is enough.
 */
export const SIGNATURE_HEADER = 'omise-signature';
export const TIMESTAMP_HEADER = 'omise-signature-timestamp';
/** Timestamps further than this from now are refused (replay protection). */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export function signWebhook(secretBase64: string, timestamp: number, rawBody: Uint8Array | string): string {
  return createHmac('sha256', Buffer.from(secretBase64, 'base64'))
    .update(`${timestamp}.`)
    .update(rawBody)
    .digest('hex');
}

export type SignatureVerdict =
  { ok: true } | { ok: false; reason: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'mismatch' };

export function verifyWebhookSignature(options: {
  secretBase64: string;
  rawBody: Uint8Array;
  signatureHeader: string | undefined;
  timestampHeader: string | undefined;
  nowSeconds?: number;
  toleranceSeconds?: number;
}): SignatureVerdict {
  const { signatureHeader, timestampHeader } = options;
  if (!signatureHeader || !timestampHeader) return { ok: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(timestampHeader.trim())) return { ok: false, reason: 'bad_timestamp' };
  const timestamp = Number(timestampHeader.trim());
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    return { ok: false, reason: 'stale_timestamp' };
  }
  const expected = Buffer.from(signWebhook(options.secretBase64, timestamp, options.rawBody), 'hex');
  let matched = false;
  for (const candidate of signatureHeader.split(',')) {
    const given = candidate.trim();
    if (!/^[0-9a-fA-F]{64}$/.test(given)) continue;
    // Constant-time comparison; keep looping so the time does not tell which candidate matched.
    if (timingSafeEqual(Buffer.from(given, 'hex'), expected)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}
