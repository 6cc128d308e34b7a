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

/** Event keys whose data is a charge. */
export function isChargeEventKey(key: string): boolean {
  return key.startsWith('charge.');
}
