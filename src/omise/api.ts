import type * as Wire from './types.js';

/**
 * The Omise calls `OmiseClient` makes over HTTP. Consumers depend on the few they call (the payments
 * service on `PaymentsOmiseApi` (payments/omise-payments-service.ts), the charge reader on `retrieveCharge`); the rest serve tests and
 * tools. Every method rejects with an `OmiseClientError` subclass (errors.ts).
 */
export interface OmiseApi {
  createSource(params: Wire.CreateSourceParams): Promise<Wire.OmiseSource>;
  retrieveSource(id: string): Promise<Wire.OmiseSource>;

  createCharge(params: Wire.CreateChargeParams): Promise<Wire.OmiseCharge>;
  retrieveCharge(id: string): Promise<Wire.OmiseCharge>;
  listCharges(params?: Wire.ListParams): Promise<Wire.OmiseList<Wire.OmiseCharge>>;
  updateCharge(id: string, params: Wire.UpdateChargeParams): Promise<Wire.OmiseCharge>;
  expireCharge(id: string): Promise<Wire.OmiseCharge>;
  /** Test mode only. */
  markChargeAsPaid(id: string): Promise<Wire.OmiseCharge>;
  /** Test mode only; the charge fails with `failed_processing`. */
  markChargeAsFailed(id: string): Promise<Wire.OmiseCharge>;

  createRefund(chargeId: string, params: Wire.CreateRefundParams): Promise<Wire.OmiseRefund>;
  listRefunds(chargeId: string, params?: Wire.ListParams): Promise<Wire.OmiseList<Wire.OmiseRefund>>;
  listAllRefunds(params?: Wire.ListParams): Promise<Wire.OmiseList<Wire.OmiseRefund>>;
  retrieveRefund(chargeId: string, refundId: string): Promise<Wire.OmiseRefund>;

  listEvents(params?: Wire.ListParams): Promise<Wire.OmiseList<Wire.OmiseEvent>>;
  retrieveEvent(id: string): Promise<Wire.OmiseEvent>;
  listChargeEvents(chargeId: string, params?: Wire.ListParams): Promise<Wire.OmiseList<Wire.OmiseEvent>>;

  /** The bytes behind a document's `download_uri` (the QR PNG); no auth is sent. */
  downloadDocument(downloadUri: string): Promise<Uint8Array>;

  /** Cheap authenticated call used by readiness checks; resolves when Omise answers. */
  ping(): Promise<void>;
}
