import type {
  CreateChargeParams,
  CreateRefundParams,
  CreateSourceParams,
  ListParams,
  OmiseCharge,
  OmiseEvent,
  OmiseList,
  OmiseRefund,
  OmiseSource,
  UpdateChargeParams,
} from './types.js';

/**
 * The Omise calls the gateway makes. `OmiseClient` implements it over HTTP; the payments layer depends
 * on this interface only. Every method rejects with an `OmiseClientError` subclass (errors.ts).
 */
export interface OmiseApi {
  createSource(params: CreateSourceParams): Promise<OmiseSource>;
  retrieveSource(id: string): Promise<OmiseSource>;

  createCharge(params: CreateChargeParams): Promise<OmiseCharge>;
  retrieveCharge(id: string): Promise<OmiseCharge>;
  listCharges(params?: ListParams): Promise<OmiseList<OmiseCharge>>;
  updateCharge(id: string, params: UpdateChargeParams): Promise<OmiseCharge>;
  expireCharge(id: string): Promise<OmiseCharge>;
  /** Test mode only. */
  markChargeAsPaid(id: string): Promise<OmiseCharge>;
  /** Test mode only; the charge fails with `failed_processing`. */
  markChargeAsFailed(id: string): Promise<OmiseCharge>;

  createRefund(chargeId: string, params: CreateRefundParams): Promise<OmiseRefund>;
  listRefunds(chargeId: string, params?: ListParams): Promise<OmiseList<OmiseRefund>>;
  listAllRefunds(params?: ListParams): Promise<OmiseList<OmiseRefund>>;
  retrieveRefund(chargeId: string, refundId: string): Promise<OmiseRefund>;

  listEvents(params?: ListParams): Promise<OmiseList<OmiseEvent>>;
  retrieveEvent(id: string): Promise<OmiseEvent>;
  listChargeEvents(chargeId: string, params?: ListParams): Promise<OmiseList<OmiseEvent>>;

  /** The bytes behind a document's `download_uri` (the QR PNG); no auth is sent. */
  downloadDocument(downloadUri: string): Promise<Uint8Array>;

  /** Cheap authenticated call used by readiness checks; resolves when Omise answers. */
  ping(): Promise<void>;
}
