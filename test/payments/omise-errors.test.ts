import { describe, expect, it } from '@jest/globals';
import {
  isOmiseRejection,
  mayHaveBeenProcessed,
  mayStillBeInFlight,
  OmiseError,
  OmiseNetworkError,
  OmiseTimeoutError,
} from '../../src/omise/errors.js';
import type { OmiseErrorBody } from '../../src/omise/types.js';
import { UpstreamRateLimitedError, UpstreamUnavailableError } from '../../src/payments/errors.js';
import { toSystemError, userErrorFromOmise } from '../../src/payments/omise-errors.js';
import { fixture, recordedBody } from './fixtures.js';

/** An OmiseError as the client builds it from a recorded error body. */
function fromRecording(path: string, method = 'POST', apiPath = '/charges'): OmiseError {
  const { status, body } = recordedBody<OmiseErrorBody>(path);
  return new OmiseError({
    status,
    code: body.code,
    omiseMessage: body.message,
    location: body.location,
    method,
    path: apiPath,
  });
}

describe('userErrorFromOmise', () => {
  it('maps a recorded invalid_charge about the amount to AMOUNT_OUT_OF_RANGE with Omise’s message', () => {
    const err = fromRecording('elixir-2017/create_charge_with_invalid_amount.json');
    expect(isOmiseRejection(err)).toBe(true);
    expect(userErrorFromOmise(err, 'createCharge')).toEqual({
      code: 'AMOUNT_OUT_OF_RANGE',
      message: 'amount must be greater than or equal to 2000 (thb subunits)',
      field: ['input', 'amount'],
    });
  });

  it('maps recorded bad_request answers: currency → UNSUPPORTED_CURRENCY, others → OMISE_REJECTED', () => {
    const currency = fromRecording(
      'elixir-2017/create_source_with_invalid_currency.json',
      'POST',
      '/sources',
    );
    expect(userErrorFromOmise(currency, 'createCharge').code).toBe('UNSUPPORTED_CURRENCY');
    const type = fromRecording('elixir-2017/create_source_with_invalid_type.json', 'POST', '/sources');
    expect(userErrorFromOmise(type, 'createCharge')).toEqual({
      code: 'OMISE_REJECTED',
      message: 'type is currently not supported',
    });
  });

  it('maps 404 to CHARGE_NOT_FOUND or SOURCE_NOT_FOUND by operation (recorded not_found body)', () => {
    const body = fixture<OmiseErrorBody>('go/charge-not-found.json');
    const err = new OmiseError({
      status: 404,
      code: body.code,
      omiseMessage: body.message,
      location: body.location,
      method: 'GET',
      path: '/charges/x',
    });
    expect(userErrorFromOmise(err, 'retrieveCharge').code).toBe('CHARGE_NOT_FOUND');
    expect(userErrorFromOmise(err, 'refund').code).toBe('CHARGE_NOT_FOUND');
    expect(userErrorFromOmise(err, 'retrieveSource').code).toBe('SOURCE_NOT_FOUND');
  });

  it('maps the simulator’s create-charge refusals by the parameter its message names', () => {
    const e = (code: string, message: string) =>
      new OmiseError({ status: 400, code, omiseMessage: message, method: 'POST', path: '/charges' });
    const code = (err: OmiseError) => userErrorFromOmise(err, 'createCharge').code;
    expect(code(e('invalid_charge', "amount must be equal to the source's amount (10000)"))).toBe(
      'SOURCE_AMOUNT_MISMATCH',
    );
    expect(code(e('invalid_charge', "currency must be equal to the source's currency (THB)"))).toBe(
      'SOURCE_AMOUNT_MISMATCH',
    );
    expect(code(e('used_source', 'source src_test_1 has already been used'))).toBe('SOURCE_ALREADY_USED');
    expect(code(e('invalid_charge', 'amount must be less than or equal to 5000000'))).toBe(
      'AMOUNT_OUT_OF_RANGE',
    );
    expect(code(e('invalid_charge', 'return_uri is not a valid URI'))).toBe('INVALID_RETURN_URI');
    expect(code(e('invalid_charge', 'capture must be true for truemoney_qr'))).toBe('OMISE_REJECTED');
  });

  it('maps refund and void failures', () => {
    const e = (code: string, message: string) =>
      new OmiseError({
        status: 400,
        code,
        omiseMessage: message,
        method: 'POST',
        path: '/charges/x/refunds',
      });
    expect(userErrorFromOmise(e('failed_void', 'charge cannot be voided'), 'void').code).toBe(
      'CHARGE_NOT_VOIDABLE',
    );
    expect(userErrorFromOmise(e('failed_refund', 'charge cannot be refunded'), 'refund').code).toBe(
      'CHARGE_NOT_REFUNDABLE',
    );
    expect(
      userErrorFromOmise(e('failed_refund', 'amount exceeds the refundable amount'), 'refund').code,
    ).toBe('REFUND_EXCEEDS_REMAINING');
    expect(userErrorFromOmise(e('invalid_amount', 'amount must be greater than 0'), 'refund').code).toBe(
      'INVALID_AMOUNT',
    );
    expect(
      userErrorFromOmise(
        e('failed_refund', 'charge cannot be refunded more than 30 days after payment'),
        'refund',
      ).code,
    ).toBe('REFUND_WINDOW_EXPIRED');
    expect(
      userErrorFromOmise(e('failed_refund', 'charge cannot be refunded more than 15 times'), 'refund').code,
    ).toBe('TOO_MANY_REFUNDS');
    expect(userErrorFromOmise(e('expired_charge', 'charge expired'), 'simulate').code).toBe(
      'CHARGE_NOT_PENDING',
    );
  });

  it('does not treat 401/403 or 429 as the caller’s fault', () => {
    const auth = new OmiseError({
      status: 401,
      code: 'authentication_failure',
      omiseMessage: 'authentication failed',
      method: 'GET',
      path: '/charges',
    });
    expect(isOmiseRejection(auth)).toBe(false);
    expect(toSystemError(auth)).toBeInstanceOf(UpstreamUnavailableError);
    const limited = new OmiseError({
      status: 429,
      code: 'too_many_requests',
      omiseMessage: 'slow down',
      method: 'GET',
      path: '/charges',
      retryAfterSeconds: 7,
    });
    expect(isOmiseRejection(limited)).toBe(false);
    const translated = toSystemError(limited);
    expect(translated).toBeInstanceOf(UpstreamRateLimitedError);
    expect((translated as UpstreamRateLimitedError).retryAfterSeconds).toBe(7);
  });
});

describe('toSystemError and write classification', () => {
  it('5xx, network and timeout → UpstreamUnavailableError with a safe message', () => {
    const errors = [
      new OmiseError({
        status: 503,
        code: 'service_unavailable',
        omiseMessage: 'maintenance',
        method: 'POST',
        path: '/charges',
      }),
      new OmiseNetworkError({
        method: 'POST',
        path: '/charges',
        causeCode: 'ECONNRESET',
        mayHaveReachedServer: true,
      }),
      new OmiseTimeoutError('POST', '/charges', 10_000),
    ];
    for (const err of errors) {
      const translated = toSystemError(err);
      expect(translated).toBeInstanceOf(UpstreamUnavailableError);
      expect(translated.message).not.toMatch(/charges|ECONN|maintenance/);
    }
  });

  it('classifies whether a failed write may have been processed or still be in flight', () => {
    expect(mayHaveBeenProcessed(new OmiseTimeoutError('POST', '/charges', 1))).toBe(true);
    expect(
      mayHaveBeenProcessed(
        new OmiseNetworkError({
          method: 'POST',
          path: '/charges',
          causeCode: 'ECONNRESET',
          mayHaveReachedServer: true,
        }),
      ),
    ).toBe(true);
    expect(
      mayHaveBeenProcessed(
        new OmiseNetworkError({
          method: 'POST',
          path: '/charges',
          causeCode: 'ECONNREFUSED',
          mayHaveReachedServer: false,
        }),
      ),
    ).toBe(false);
    expect(
      mayHaveBeenProcessed(
        new OmiseError({
          status: 500,
          code: 'internal_error',
          omiseMessage: 'x',
          method: 'POST',
          path: '/charges',
        }),
      ),
    ).toBe(true);
    // A 200 whose body could not be read: the write happened.
    expect(
      mayHaveBeenProcessed(
        new OmiseError({
          status: 200,
          code: 'unexpected_response',
          omiseMessage: 'x',
          method: 'POST',
          path: '/charges',
        }),
      ),
    ).toBe(true);
    expect(
      mayHaveBeenProcessed(
        new OmiseError({
          status: 429,
          code: 'too_many_requests',
          omiseMessage: 'x',
          method: 'POST',
          path: '/charges',
        }),
      ),
    ).toBe(false);
    expect(
      mayHaveBeenProcessed(
        new OmiseError({
          status: 400,
          code: 'invalid_charge',
          omiseMessage: 'x',
          method: 'POST',
          path: '/charges',
        }),
      ),
    ).toBe(false);
    expect(mayStillBeInFlight(new OmiseTimeoutError('POST', '/charges', 1))).toBe(true);
    expect(
      mayStillBeInFlight(
        new OmiseError({
          status: 500,
          code: 'internal_error',
          omiseMessage: 'x',
          method: 'POST',
          path: '/charges',
        }),
      ),
    ).toBe(false);
  });
});
