export {
  chargeStatusEventOf,
  chargeStatusTopic,
  deserializeChargeStatusEvent,
  fromChargeStatusMessage,
  InvalidChargeStatusMessageError,
  isTerminalStatus,
  serializeChargeStatusEvent,
  statusRank,
  toChargeStatusMessage,
  type ChargeStatusEvent,
  type ChargeStatusMessage,
} from './charge-status-event.js';
export {
  ChargeStatusPublisher,
  DEFAULT_PUBLISHED_TTL_MS,
  type ChargeStatusPublisherOptions,
} from './charge-status-publisher.js';
export { ChargeStatusFeed, type ChargeStatusFeedOptions } from './charge-status-feed.js';
export {
  ReconciliationPoller,
  realScheduler,
  type ChargeListener,
  type ReconciliationPollerOptions,
  type Scheduler,
} from './reconciliation-poller.js';
export { ChargeNotFoundError } from './errors.js';
export {
  createStatusFeed,
  type GaugeRegistry,
  type StatusFeed,
  type StatusFeedOptions,
} from './status-feed.js';
