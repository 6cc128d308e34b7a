export {
  createOmiseWebhookHandler,
  DEFAULT_EVENT_CLAIM_TTL_MS,
  DEFAULT_WEBHOOK_DEDUP_TTL_MS,
  OMISE_WEBHOOK_MAX_BODY_BYTES,
  type OmiseWebhookHandlerDeps,
  type WebhookHandler,
  type WebhookRequest,
  type WebhookResponse,
} from './omise/omise-webhook-handler.js';
