/**
 * payment-api.js: every call a checkout page makes to the gateway, in plain browser JavaScript.
 *
 * Copy this file into your front end. It needs one library, graphql-ws (`npm install graphql-ws`), for
 * the live status; everything else is `fetch`. The GraphQL documents are the same as in
 * src/client/operations.graphql, for which `npm run codegen` makes typed documents (docs/clients.md).
 */
import { createClient } from 'graphql-ws';

const CREATE_CHARGE = /* GraphQL */ `
  mutation CreateCheckoutCharge($input: CreateTrueMoneyChargeInput!) {
    createTrueMoneyCharge(input: $input) {
      charge {
        id
        status
        amount
        currency
        expiresAt
        qrCode {
          imageUrl
          imageDataUri
          expiresAt
        }
      }
      clientToken
      userErrors {
        code
        message
        field
      }
    }
  }
`;

const SIMULATE_OUTCOME = /* GraphQL */ `
  mutation SimulateCheckoutOutcome($input: SimulateChargeOutcomeInput!) {
    simulateChargeOutcome(input: $input) {
      charge {
        id
        status
      }
      userErrors {
        code
        message
      }
    }
  }
`;

const CHARGE_STATUS = /* GraphQL */ `
  subscription CheckoutChargeStatus($chargeId: ID!) {
    chargeStatus(chargeId: $chargeId) {
      chargeId
      status
      terminal
      occurredAt
      charge {
        id
        status
        failureCode
        failureMessage
      }
    }
  }
`;

/** A GraphQL error (network, auth, rate limit, gateway trouble); `code` is `extensions.code`. */
export class GatewayError extends Error {
  /**
   * @param {string} message
   * @param {string} code e.g. UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED, UPSTREAM_UNAVAILABLE, NETWORK
   */
  constructor(message, code) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
  }
}

/**
 * The gateway's GraphQL endpoint, over HTTP and over WebSocket.
 * @param {string} graphqlUrl e.g. 'https://pay.example.com/graphql' or a path such as '/graphql'
 */
export function gatewayEndpoints(graphqlUrl) {
  const http = new URL(graphqlUrl, window.location.href);
  const ws = new URL(http);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: http.href, ws: ws.href };
}

/**
 * One GraphQL request over HTTP POST. Returns `data`; throws GatewayError when the gateway answers
 * with GraphQL errors (business failures are not errors: they come back in `userErrors`).
 * @param {string} url
 * @param {string} query
 * @param {Record<string, unknown>} variables
 * @param {string} [authorization] an `Authorization` header value, e.g. `Bearer <token>`
 */
async function graphqlRequest(url, query, variables, authorization) {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      // application/json makes the request "preflighted", which is what Apollo's CSRF prevention wants.
      headers: {
        'content-type': 'application/json',
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new GatewayError('The payment service cannot be reached. Check your connection.', 'NETWORK');
  }
  const body = await response.json().catch(() => undefined);
  const error = body?.errors?.[0];
  if (error) throw new GatewayError(error.message, error.extensions?.code ?? 'UNKNOWN');
  if (!response.ok || !body?.data) {
    throw new GatewayError(`The payment service answered ${response.status}.`, 'UNKNOWN');
  }
  return body.data;
}

/**
 * Creates a TrueMoney QR charge. In a real shop YOUR SERVER makes this call (with its API key) and
 * hands the page only `charge` and `clientToken`; the demo page calls it itself because test mode
 * without GATEWAY_API_KEYS needs no credential.
 *
 * @param {string} url the HTTP endpoint
 * @param {{ amount: number, description?: string, idempotencyKey?: string }} input amount in satang
 * @param {string} [authorization]
 * @returns {Promise<{ charge: object | null, clientToken: string | null, userErrors: { code: string, message: string, field?: string[] }[] }>}
 */
export async function createCharge(url, input, authorization) {
  const data = await graphqlRequest(url, CREATE_CHARGE, { input }, authorization);
  return data.createTrueMoneyCharge;
}

/**
 * Test mode only: makes the pending charge SUCCESSFUL or FAILED as if the customer had acted in the
 * wallet app. The page still learns the outcome from the subscription, as it would in production.
 * @param {string} url
 * @param {string} chargeId
 * @param {'SUCCESSFUL' | 'FAILED'} outcome
 * @param {string} [authorization]
 */
export async function simulateOutcome(url, chargeId, outcome, authorization) {
  const data = await graphqlRequest(url, SIMULATE_OUTCOME, { input: { chargeId, outcome } }, authorization);
  return data.simulateChargeOutcome;
}

/**
 * Follows a charge's status over WebSocket (graphql-transport-ws). The first event is always the
 * charge's CURRENT state, then every change; the subscription completes after a terminal status
 * (SUCCESSFUL, FAILED, EXPIRED, REVERSED). If the connection drops (a phone going through a tunnel,
 * a gateway restarting), graphql-ws reconnects and subscribes again, and the current state comes
 * first again: an outcome reached meanwhile is never missed.
 *
 * @param {string} wsUrl
 * @param {string} chargeId
 * @param {string} clientToken the token createTrueMoneyCharge returned: it may read this charge only
 * @param {{
 *   onEvent: (event: { status: string, terminal: boolean, occurredAt: string, charge: object }) => void,
 *   onConnection?: (state: 'connected' | 'reconnecting') => void,
 *   onError: (error: GatewayError) => void,
 * }} handlers
 * @returns {() => void} stops following (and closes the socket)
 */
export function watchChargeStatus(wsUrl, chargeId, clientToken, handlers) {
  let hadConnection = false;
  let finished = false;
  const client = createClient({
    url: wsUrl,
    // Sent in connection_init: the gateway checks it before any operation.
    connectionParams: { authorization: `Bearer ${clientToken}` },
    // Keep trying for as long as the page is open, backing off up to 10 s between attempts...
    retryAttempts: Infinity,
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** retries))),
    // ...but not when the gateway refused the token (4403): it will not change its mind.
    shouldRetry: (event) => event?.code !== 4403,
    on: {
      connected: () => {
        hadConnection = true;
        handlers.onConnection?.('connected');
      },
      closed: () => {
        if (hadConnection && !finished) handlers.onConnection?.('reconnecting');
      },
    },
  });

  const stop = client.subscribe(
    { query: CHARGE_STATUS, variables: { chargeId } },
    {
      next: (result) => {
        if (result.errors?.length) {
          const [error] = result.errors;
          handlers.onError(new GatewayError(error.message, error.extensions?.code ?? 'UNKNOWN'));
          return;
        }
        handlers.onEvent(result.data.chargeStatus);
      },
      error: (error) => {
        // A close event (refused token, too many retries) or GraphQL errors.
        const code = error?.code === 4403 ? 'FORBIDDEN' : 'NETWORK';
        const message = Array.isArray(error)
          ? (error[0]?.message ?? 'Subscription refused.')
          : 'Lost the connection to the payment service.';
        handlers.onError(new GatewayError(message, code));
      },
      complete: () => {
        finished = true;
        client.dispose();
      },
    },
  );
  return () => {
    finished = true;
    stop();
    client.dispose();
  };
}
