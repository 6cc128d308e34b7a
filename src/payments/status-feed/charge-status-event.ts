import { z } from 'zod';
import { TERMINAL_STATUSES, type Charge, type ChargeStatus } from '../model.js';

/** One status of one charge, as the `chargeStatus` subscription sends it. */
export interface ChargeStatusEvent {
  chargeId: string;
  status: ChargeStatus;
  /** true for SUCCESSFUL, FAILED, EXPIRED and REVERSED: the subscription completes after it. */
  terminal: boolean;
  /** The whole charge as Omise reported it when this status was observed. */
  charge: Charge;
  /** When the status was reached: Omise's paidAt / expiredAt / createdAt when it says, else when it was observed. */
  occurredAt: Date;
}

/**
 * Order of the states a charge goes through. The feed only moves forward: an event whose rank is not
 * above what a subscriber already has is stale (or a duplicate) and is dropped.
 *
 * Refunds and voids do not change a charge's status (a voided charge stays SUCCESSFUL with
 * `voided: true`), and a subscription completes at the first terminal status anyway, so they are not
 * events of this feed. REVERSED ranks above the other terminal states because it can follow SUCCESSFUL
 * (late subscribers then get REVERSED as the current state).
 */
export function statusRank(status: ChargeStatus): number {
  switch (status) {
    case 'PENDING':
      return 0;
    case 'SUCCESSFUL':
    case 'FAILED':
    case 'EXPIRED':
      return 1;
    case 'REVERSED':
      return 2;
  }
}

export function isTerminalStatus(status: ChargeStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** The event for a charge's current state; `observedAt` is used when Omise gives no time for the status. */
export function chargeStatusEventOf(charge: Charge, observedAt: Date): ChargeStatusEvent {
  const known =
    charge.status === 'SUCCESSFUL'
      ? charge.paidAt
      : charge.status === 'EXPIRED'
        ? charge.expiredAt
        : charge.status === 'PENDING'
          ? charge.createdAt
          : null;
  return {
    chargeId: charge.id,
    status: charge.status,
    terminal: isTerminalStatus(charge.status),
    charge,
    occurredAt: known ?? observedAt,
  };
}

/** The PubSub topic of one charge's status events. */
export function chargeStatusTopic(chargeId: string): string {
  return `charge-status:${chargeId}`;
}

// ---- wire format: events cross Redis as JSON, so Dates travel as ISO strings and are revived ----

/** What is published: plain JSON (Dates as ISO 8601 strings), versioned. */
export interface ChargeStatusMessage {
  v: 1;
  chargeId: string;
  status: ChargeStatus;
  terminal: boolean;
  occurredAt: string;
  charge: Record<string, unknown>;
}

export function toChargeStatusMessage(event: ChargeStatusEvent): ChargeStatusMessage {
  // JSON round trip: Dates become ISO strings, undefined disappears, the result is safe to share.
  return JSON.parse(JSON.stringify({ v: 1, ...event })) as ChargeStatusMessage;
}

const statusSchema = z.enum(['PENDING', 'SUCCESSFUL', 'FAILED', 'EXPIRED', 'REVERSED']);
const date = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
// Loose objects: fields added to the model later pass through untouched; only Dates need reviving.
const chargeWire = z.looseObject({
  id: z.string(),
  status: statusSchema,
  createdAt: date,
  paidAt: date.nullable(),
  expiresAt: date.nullable(),
  expiredAt: date.nullable(),
  qrCode: z.looseObject({ expiresAt: date.nullable() }).nullable(),
  refunds: z.array(z.looseObject({ createdAt: date })),
});
const messageWire = z.object({
  v: z.literal(1),
  chargeId: z.string(),
  status: statusSchema,
  terminal: z.boolean(),
  occurredAt: date,
  charge: chargeWire,
});

export class InvalidChargeStatusMessageError extends Error {
  override name = 'InvalidChargeStatusMessageError';
}

/** Reads a published message back (an object, or its JSON text); Dates are revived. */
export function fromChargeStatusMessage(message: unknown): ChargeStatusEvent {
  let value = message;
  if (typeof message === 'string') {
    try {
      value = JSON.parse(message);
    } catch {
      throw new InvalidChargeStatusMessageError('charge status message is not JSON');
    }
  }
  const parsed = messageWire.safeParse(value);
  if (!parsed.success) {
    throw new InvalidChargeStatusMessageError(
      `invalid charge status message: ${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`,
    );
  }
  const { v: _v, ...event } = parsed.data;
  return { ...event, charge: event.charge as unknown as Charge };
}

export function serializeChargeStatusEvent(event: ChargeStatusEvent): string {
  return JSON.stringify(toChargeStatusMessage(event));
}

export function deserializeChargeStatusEvent(json: string): ChargeStatusEvent {
  return fromChargeStatusMessage(json);
}
