import { OMISE_WEBHOOK_MAX_BODY_BYTES, type WebhookHandler } from '../webhooks/index.js';
import { sendJson, type RouteHandler } from './http-server.js';
import type { GatewayMetrics } from './metrics.js';
import { readBody } from './read-body.js';

/**
 * `POST /webhooks/omise`. Without a receiver it answers 501, so that Omise (or the simulator) keeps the
 * event and retries it rather than believing it was processed. Each answer of the receiver is counted
 * by status (`webhook_responses_total`).
 */
export function webhookRoute(
  receiver: WebhookHandler | undefined,
  metrics?: Pick<GatewayMetrics, 'webhookResponses'>,
): RouteHandler {
  return async (req, res) => {
    if (!receiver) {
      sendJson(res, 501, { error: 'webhook receiver not enabled' });
      return;
    }
    // Refused (413) before it is buffered.
    const rawBody = await readBody(req, OMISE_WEBHOOK_MAX_BODY_BYTES);
    const { status, body } = await receiver({ headers: req.headers, rawBody });
    metrics?.webhookResponses.inc({ status_code: String(status) });
    sendJson(res, status, body);
  };
}
