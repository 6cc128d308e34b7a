export * from './rate-limiter.js';
export * from './errors.js';
export * from './query-limits.js';
export * from './apollo-plugins.js';
export * from './websocket-limits.js';
export * from './request-guards.js';
