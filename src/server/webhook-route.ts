import { OMISE_WEBHOOK_MAX_BODY_BYTES, type WebhookHandler } from '../webhooks/index.js';
import { sendJson, type RouteHandler } from './http-server.js';
import { readBody } from './read-body.js';

/**
 * `POST /webhooks/omise`. Without a receiver it answers 501, so that Omise (or the simulator) keeps the
 * event and retries it rather than believing it was processed.
 */
export function webhookRoute(receiver: WebhookHandler | undefined): RouteHandler {
  return async (req, res) => {
    if (!receiver) {
      sendJson(res, 501, { error: 'webhook receiver not enabled' });
      return;
    }
    // Refused (413) before it is buffered.
    const rawBody = await readBody(req, OMISE_WEBHOOK_MAX_BODY_BYTES);
    const { status, body } = await receiver({ headers: req.headers, rawBody });
    sendJson(res, status, body);
  };
}
