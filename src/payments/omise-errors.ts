import {
  isOmiseCredentialsRefusal,
  isOmiseNotFound,
  omiseFailureKind,
  OmiseClientError,
  type OmiseError,
} from '../omise/errors.js';
import { UpstreamRateLimitedError, UpstreamUnavailableError, type UserError } from './errors.js';
import { OmiseMappingError } from './omise-mapper.js';

/**
 * Omise client errors → what the use cases return or throw. A 4xx about the request becomes a UserError
 * (a value); everything else is a system error (thrown) whose message is safe to show a client: no
 * stack, no key, no upstream body. What a failure means (rejection, not found, maybe processed) is
 * decided next to the error classes, in omise/errors.ts.
 */

/** Which use case asked, so that a 404 or a generic code means the right thing. */
export type OmiseOperation =
  'createCharge' | 'retrieveSource' | 'retrieveCharge' | 'refund' | 'void' | 'simulate';

const input = (...path: string[]): string[] => ['input', ...path];

/** The UserError for an Omise 4xx rejection (see isOmiseRejection in omise/errors.ts). */
export function userErrorFromOmise(err: OmiseError, operation: OmiseOperation): UserError {
  const message = err.omiseMessage || `Omise refused the request (${err.code})`;
  const about = (word: string): boolean => message.toLowerCase().includes(word);
  if (isOmiseNotFound(err)) {
    return operation === 'retrieveSource'
      ? { code: 'SOURCE_NOT_FOUND', message: 'No such source', field: input('sourceId') }
      : { code: 'CHARGE_NOT_FOUND', message: 'No such charge', field: input('chargeId') };
  }
  if (
    operation === 'simulate' &&
    (err.code === 'invalid_charge' || err.code === 'expired_charge' || err.code.startsWith('failed_'))
  ) {
    return { code: 'CHARGE_NOT_PENDING', message, field: input('chargeId') };
  }
  switch (err.code) {
    case 'invalid_charge':
    case 'invalid_amount':
      // Omise says which parameter in the message ("amount must be ...", "return_uri is not ...").
      if (about('source') && (about('used') || about('already'))) {
        return { code: 'SOURCE_ALREADY_USED', message, field: input('sourceId') };
      }
      if (about("source's") || about('source amount') || about('source currency')) {
        return { code: 'SOURCE_AMOUNT_MISMATCH', message, field: input('amount') };
      }
      if (about('amount')) {
        if (operation !== 'refund') return { code: 'AMOUNT_OUT_OF_RANGE', message, field: input('amount') };
        const code = about('exceed') ? 'REFUND_EXCEEDS_REMAINING' : 'INVALID_AMOUNT';
        return { code, message, field: input('amount') };
      }
      if (about('currency')) return { code: 'UNSUPPORTED_CURRENCY', message, field: input('currency') };
      if (about('return_uri')) return { code: 'INVALID_RETURN_URI', message, field: input('returnUri') };
      break;
    case 'failed_refund':
      if (about('exceed') || about('left to refund')) {
        return { code: 'REFUND_EXCEEDS_REMAINING', message, field: input('amount') };
      }
      if (about('30 days')) return { code: 'REFUND_WINDOW_EXPIRED', message, field: input('chargeId') };
      if (about('times') || about('too many'))
        return { code: 'TOO_MANY_REFUNDS', message, field: input('chargeId') };
      return { code: 'CHARGE_NOT_REFUNDABLE', message, field: input('chargeId') };
    case 'failed_void':
      return { code: 'CHARGE_NOT_VOIDABLE', message, field: input('chargeId') };
    case 'used_token':
    case 'used_source':
      return { code: 'SOURCE_ALREADY_USED', message, field: input('sourceId') };
    case 'bad_request':
      if (about('currency')) return { code: 'UNSUPPORTED_CURRENCY', message, field: input('currency') };
      break;
  }
  return { code: 'OMISE_REJECTED', message };
}

/**
 * The error to throw for a failure that is not the caller's: Omise unreachable, slow, 5xx, 429, refusing
 * the gateway's own credentials (401/403: a deployment problem, not the caller's), or answering
 * something unreadable. Errors that are already gateway errors pass through.
 */
export function toSystemError(err: unknown): Error {
  if (err instanceof UpstreamUnavailableError || err instanceof UpstreamRateLimitedError) return err;
  const unavailable = (message: string) => new UpstreamUnavailableError(message, { cause: err });
  if (isOmiseCredentialsRefusal(err)) return unavailable('Omise refused the gateway credentials');
  switch (omiseFailureKind(err)) {
    case 'rate_limited':
      return new UpstreamRateLimitedError(
        'Omise is rate limiting the gateway; retry later',
        (err as OmiseError).retryAfterSeconds,
      );
    case 'timeout':
      return unavailable('Omise did not answer in time');
    case 'network_error':
      return unavailable('Omise could not be reached');
    case 'server_error':
    case 'rejected':
      return unavailable('Omise failed to process the request');
    case 'error':
      break;
  }
  if (err instanceof OmiseMappingError || err instanceof OmiseClientError) {
    return unavailable('Omise answered something the gateway cannot read');
  }
  return err instanceof Error ? err : new Error(String(err));
}
