import { z } from 'zod';

/**
 * What the receiver needs from an Omise event body, and nothing more: the rest of the payload is never
 * trusted (the charge is re-fetched). Ids are checked strictly because they end up in an Omise URL path.
 */
const EVENT_ID = /^evnt_[0-9a-z_]{1,64}$/;
const CHARGE_ID = /^chrg_[0-9a-z_]{1,64}$/;

export const omiseEventEnvelope = z.object({
  object: z.literal('event'),
  id: z.string().regex(EVENT_ID),
  key: z.string().min(1).max(100),
  data: z.unknown(),
});

export const chargeEventData = z.object({
  object: z.literal('charge'),
  id: z.string().regex(CHARGE_ID),
});

/** A refund event's data names its charge: a refund or void changes the charge (refunded amount). */
export const refundEventData = z.object({
  object: z.literal('refund'),
  charge: z.string().regex(CHARGE_ID),
});

/** Event keys whose data is a charge. */
export function isChargeEventKey(key: string): boolean {
  return key.startsWith('charge.');
}

/** Event keys whose data is a refund of a charge. */
export function isRefundEventKey(key: string): boolean {
  return key.startsWith('refund.');
}

export type EventSubject = { kind: 'charge'; chargeId: string } | { kind: 'invalid' } | { kind: 'other' };

/** Which charge an event is about: charge events name it, refund events name it in `charge`. */
export function chargeIdOfEvent(key: string, data: unknown): EventSubject {
  if (isChargeEventKey(key)) {
    const parsed = chargeEventData.safeParse(data);
    return parsed.success ? { kind: 'charge', chargeId: parsed.data.id } : { kind: 'invalid' };
  }
  if (isRefundEventKey(key)) {
    const parsed = refundEventData.safeParse(data);
    return parsed.success ? { kind: 'charge', chargeId: parsed.data.charge } : { kind: 'invalid' };
  }
  return { kind: 'other' };
}
