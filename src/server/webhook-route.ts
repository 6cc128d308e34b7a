import { sendJson, type RouteHandler } from './http-server.js';
import { readBody } from './read-body.js';

/** A transport-free webhook receiver: raw bytes in (signatures are over them), status and JSON out. */
export type WebhookReceiver = (request: {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}) => Promise<{ status: number; body: Record<string, unknown> }>;

/** Webhook bodies are small; anything bigger is refused (413) before it is buffered. */
export const WEBHOOK_MAX_BODY_BYTES = 256 * 1024;

/**
 * `POST /webhooks/omise`. Without a receiver it answers 501, so that Omise (or the simulator) keeps the
 * event and retries it rather than believing it was processed.
 */
export function webhookRoute(receiver: WebhookReceiver | undefined): RouteHandler {
  return async (req, res) => {
    if (!receiver) {
      sendJson(res, 501, { error: 'webhook receiver not enabled' });
      return;
    }
    const rawBody = await readBody(req, WEBHOOK_MAX_BODY_BYTES);
    const { status, body } = await receiver({ headers: req.headers, rawBody });
    sendJson(res, status, body);
  };
}
