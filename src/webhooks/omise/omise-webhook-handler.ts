import type { Logger } from 'pino';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../omise/webhook-signature.js';
import type { ChargeReader } from '../../payments/charge-reader.js';
import type { Charge } from '../../payments/model.js';
import { OmiseMappingError } from '../../payments/omise-mapper.js';
import type { ChargeStatusPublisher } from '../../payments/status-feed/charge-status-publisher.js';
import type { KeyValueStore } from '../../realtime/ports.js';
import { chargeIdOfEvent, omiseEventEnvelope } from './omise-event-schema.js';

/** Largest webhook body accepted; the HTTP route refuses bigger ones (413) before reading them. */
export const OMISE_WEBHOOK_MAX_BODY_BYTES = 256 * 1024;
/** How long a delivery may hold an event before another delivery of it may take over (crash recovery). */
export const DEFAULT_EVENT_CLAIM_TTL_MS = 60_000;
/** How long a processed event id is remembered; default for `dedupTtlMs`. */
export const DEFAULT_WEBHOOK_DEDUP_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface WebhookRequest {
  /** Header names in any case; Node's `IncomingMessage.headers` fits. */
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

/** A transport-free webhook receiver: raw bytes in (signatures are over them), status and JSON out. */
export type WebhookHandler = (request: WebhookRequest) => Promise<WebhookResponse>;

export interface OmiseWebhookHandlerDeps {
  /** Re-fetches the charge from Omise (and so updates the charge cache of every instance). */
  charges: Pick<ChargeReader, 'readFresh'>;
  kv: KeyValueStore;
  publisher: Pick<ChargeStatusPublisher, 'publish'>;
  /** base64. Set → every delivery must be signed with it; unset → signatures are not checked. */
  webhookSecret?: string;
  logger: Logger;
  /**
   * How long a processed event id is remembered (duplicates within it are acknowledged, not redone).
   * @default {@link DEFAULT_WEBHOOK_DEDUP_TTL_MS}
   */
  dedupTtlMs?: number;
  /**
   * How long a delivery may hold an event before another delivery of it may take over.
   * @default {@link DEFAULT_EVENT_CLAIM_TTL_MS}
   */
  claimTtlMs?: number;
  /**
   * Namespace of the KeyValueStore keys.
   * @default 'gateway'
   */
  keyPrefix?: string;
  /** Milliseconds since the epoch; used for the signature's timestamp tolerance. */
  now?: () => number;
}

/**
 * Answers are split on purpose (Saleor's pattern): 4xx = this delivery will never succeed, do not
 * retry (forged, malformed); 5xx = we could not do it now, Omise must deliver again; 2xx only once the
 * charge's state is published (or there is provably nothing to publish). Bodies are fixed, small and
 * never echo the input.
 */
const answer = {
  received: (extra: Record<string, unknown> = {}): WebhookResponse => ({
    status: 200,
    body: { received: true, ...extra },
  }),
  error: (status: number, error: string): WebhookResponse => ({ status, body: { error } }),
};

function header(headers: WebhookRequest['headers'], name: string): string | string[] | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function isJsonContentType(value: string | string[] | undefined): boolean {
  if (typeof value !== 'string') return false;
  return value.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * The Omise webhook receiver: signature → content type → JSON → event shape → key → dedup → re-fetch
 * the charge from Omise → publish → acknowledge. Transport-agnostic: the HTTP server passes the raw
 * body and the headers and writes back `{status, body}` as JSON.
 */
export function createOmiseWebhookHandler(deps: OmiseWebhookHandlerDeps): WebhookHandler {
  const { charges, kv, publisher, webhookSecret, logger } = deps;
  const now = deps.now ?? Date.now;
  const prefix = deps.keyPrefix ?? 'gateway';
  const claimTtlMs = deps.claimTtlMs ?? DEFAULT_EVENT_CLAIM_TTL_MS;
  const dedupTtlMs = deps.dedupTtlMs ?? DEFAULT_WEBHOOK_DEDUP_TTL_MS;
  const log = logger.child({ component: 'omise-webhook' });
  if (webhookSecret === undefined) {
    log.warn('OMISE_WEBHOOK_SECRET is not set: webhook signatures are not verified');
  }

  return async function handleOmiseWebhook(request: WebhookRequest): Promise<WebhookResponse> {
    const { rawBody } = request;
    if (rawBody.length > OMISE_WEBHOOK_MAX_BODY_BYTES) {
      log.warn({ bytes: rawBody.length }, 'webhook refused: body too large');
      return answer.error(413, 'payload_too_large');
    }

    // 1. Authenticity before anything looks at the body. Only the reason is logged: never the secret,
    //    the signature or the body.
    if (webhookSecret !== undefined) {
      const signatures = header(request.headers, SIGNATURE_HEADER);
      const timestamp = header(request.headers, TIMESTAMP_HEADER);
      const verdict = verifyWebhookSignature({
        secretBase64: webhookSecret,
        rawBody,
        // Repeated signature headers are as good as one comma-separated header; a repeated
        // timestamp is ambiguous and fails the check.
        signatureHeader: Array.isArray(signatures) ? signatures.join(',') : signatures,
        timestampHeader: Array.isArray(timestamp) ? (timestamp.length === 1 ? timestamp[0] : 'x') : timestamp,
        nowSeconds: Math.floor(now() / 1000),
      });
      if (!verdict.ok) {
        log.warn({ reason: verdict.reason }, 'webhook refused: invalid signature');
        return answer.error(401, 'invalid_signature');
      }
    }

    // 2. Shape: JSON, an Omise event, with ids we are willing to put in a URL.
    if (!isJsonContentType(header(request.headers, 'content-type'))) {
      log.warn('webhook refused: content type is not application/json');
      return answer.error(415, 'unsupported_media_type');
    }
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      log.warn('webhook refused: body is not JSON');
      return answer.error(400, 'invalid_json');
    }
    const envelope = omiseEventEnvelope.safeParse(json);
    if (!envelope.success) {
      log.warn('webhook refused: not an Omise event');
      return answer.error(400, 'invalid_event');
    }
    const { id: eventId, key } = envelope.data;
    const elog = log.child({ eventId, eventKey: key });
    const about = chargeIdOfEvent(key, envelope.data.data);
    if (about.kind === 'other') {
      elog.info('webhook ignored: not a charge or refund event');
      return answer.received({ ignored: true });
    }
    if (about.kind === 'invalid') {
      elog.warn('webhook refused: charge or refund event without its charge');
      return answer.error(400, 'invalid_event');
    }
    const { chargeId } = about;

    // 3. Dedup, with an in-flight claim. Reasoning:
    //  - "processed" is written only after the publish succeeded, so a failure (answered 5xx) leaves the
    //    event unprocessed and Omise's redelivery does it again;
    //  - the claim stops two concurrent deliveries of one event from both re-fetching. The loser answers
    //    503, not 200: if the winner then failed, a 200 would have told Omise the event was delivered
    //    and it would be lost. 503 makes Omise come back later, when it is either processed (→ 200) or
    //    free again (→ processed);
    //  - a crash mid-way leaves only the claim, which expires after claimTtlMs: the next redelivery
    //    processes the event. Nothing is ever marked processed that was not published.
    const doneKey = `${prefix}:webhook:omise:done:${eventId}`;
    const claimKey = `${prefix}:webhook:omise:claim:${eventId}`;
    let claimed = false;
    try {
      if ((await kv.get(doneKey)) !== undefined) {
        elog.info('webhook duplicate: event already processed');
        return answer.received({ duplicate: true });
      }
      claimed = await kv.setIfAbsent(claimKey, String(now()), claimTtlMs);
    } catch (error) {
      elog.error({ err: error }, 'webhook not processed: key-value store unavailable');
      return answer.error(503, 'temporarily_unavailable');
    }
    if (!claimed) {
      elog.info('webhook deferred: the same event is being processed by another delivery');
      return answer.error(503, 'in_progress');
    }

    const release = async () => {
      try {
        await kv.delete(claimKey);
      } catch (error) {
        elog.warn({ err: error }, 'could not release webhook claim; it will expire');
      }
    };

    // 4. Re-fetch: the event's copy of the charge is never trusted. Without a secret anyone can post
    //    it; with one it may still be older than the charge (deliveries are not ordered) or in the
    //    account's API version rather than ours. The reader also puts the state in every instance's
    //    charge cache before anything is published.
    let charge: Charge | null;
    try {
      charge = await charges.readFresh(chargeId);
    } catch (error) {
      if (error instanceof OmiseMappingError) {
        // A charge the gateway cannot represent (an unknown currency or status...) stays so on every
        // redelivery: a 5xx would make Omise redeliver it for ever. No subscriber can be waiting for
        // it either (chargeStatus reads it through the same mapper). Acknowledge, and say so loudly.
        elog.error(
          { chargeId, err: error },
          'webhook acknowledged but not published: the gateway cannot represent this charge',
        );
        await markDone(kv, doneKey, dedupTtlMs, elog);
        await release();
        return answer.received({ ignored: true });
      }
      // Network, timeout, 5xx, 429 — and also 401/403 (our keys are wrong: fixing the configuration
      // must not have lost the event). All retryable.
      elog.error({ chargeId, err: error }, 'webhook not processed: could not re-fetch the charge');
      await release();
      return answer.error(503, 'upstream_unavailable');
    }
    if (charge === null) {
      // Signed but unknown to our account (e.g. a test-mode event meant for another account's
      // endpoint, or a charge from other keys): nothing to publish, and redelivery would not change
      // that. Acknowledge and remember it.
      elog.warn({ chargeId }, 'webhook ignored: Omise does not know the charge');
      await markDone(kv, doneKey, dedupTtlMs, elog);
      await release();
      return answer.received({ ignored: true });
    }

    // 5. Publish what Omise says now; the publisher drops states already published.
    try {
      const published = await publisher.publish(charge);
      elog.info({ chargeId, status: charge.status, published }, 'webhook processed');
    } catch (error) {
      elog.error({ chargeId, err: error }, 'webhook not processed: could not publish');
      await release();
      return answer.error(503, 'temporarily_unavailable');
    }

    // 6. Remember it. If that fails the event is still published: a redelivery re-publishes, which
    //    subscribers drop as a duplicate. So acknowledge anyway.
    await markDone(kv, doneKey, dedupTtlMs, elog);
    await release();
    return answer.received();
  };
}

async function markDone(kv: KeyValueStore, key: string, ttlMs: number, log: Logger): Promise<void> {
  try {
    await kv.set(key, '1', ttlMs);
  } catch (error) {
    log.warn({ err: error }, 'could not remember a processed webhook event');
  }
}
