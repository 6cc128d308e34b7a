export * from './principal.js';
export * from './api-key-store.js';
export * from './client-token.js';
export * from './authenticate.js';
export * from './authorization.js';
export * from './errors.js';
export * from './redaction.js';
export * from './setup.js';
