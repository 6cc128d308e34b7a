import { buildSchema } from 'graphql';

/** The public schema (schema.graphql), as SDL: enough to price and validate real-looking queries. */
export const SAMPLE_SDL = /* GraphQL */ `
  scalar DateTime
  scalar JSONObject
  enum ChargeStatus {
    PENDING
    SUCCESSFUL
    FAILED
    EXPIRED
    REVERSED
  }
  enum Currency {
    THB
  }
  enum PaymentOutcome {
    SUCCESSFUL
    FAILED
  }
  type QrCode {
    imageUrl: String!
    imageDataUri: String
    expiresAt: DateTime
  }
  type Refund {
    id: ID!
    chargeId: ID!
    amount: Int!
    currency: Currency!
    voided: Boolean!
    metadata: JSONObject!
    createdAt: DateTime!
  }
  type Charge {
    id: ID!
    status: ChargeStatus!
    amount: Int!
    currency: Currency!
    sourceType: String!
    description: String
    metadata: JSONObject!
    qrCode: QrCode
    returnUri: String
    authorizeUri: String
    paid: Boolean!
    paidAt: DateTime
    expiresAt: DateTime
    expiredAt: DateTime
    failureCode: String
    failureMessage: String
    refundedAmount: Int!
    refundable: Boolean!
    voidable: Boolean!
    voided: Boolean!
    refunds: [Refund!]!
    livemode: Boolean!
    createdAt: DateTime!
  }
  type UserError {
    code: String!
    message: String!
    field: [String!]
  }
  input CreateTrueMoneyChargeInput {
    amount: Int!
    currency: Currency! = THB
    sourceId: ID
    returnUri: String
    description: String
    metadata: JSONObject
    idempotencyKey: String
  }
  type CreateTrueMoneyChargePayload {
    charge: Charge
    clientToken: String
    userErrors: [UserError!]!
  }
  type ChargeEdge {
    cursor: String!
    node: Charge!
  }
  type PageInfo {
    hasNextPage: Boolean!
    endCursor: String
  }
  type ChargeConnection {
    edges: [ChargeEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }
  type ChargeStatusEvent {
    chargeId: ID!
    status: ChargeStatus!
    terminal: Boolean!
    charge: Charge!
    occurredAt: DateTime!
  }
  type Query {
    charge(id: ID!): Charge
    charges(first: Int = 20, after: String, from: DateTime, to: DateTime): ChargeConnection!
  }
  type Mutation {
    createTrueMoneyCharge(input: CreateTrueMoneyChargeInput!): CreateTrueMoneyChargePayload!
  }
  type Subscription {
    chargeStatus(chargeId: ID!): ChargeStatusEvent!
  }
`;

export const sampleSchema = buildSchema(SAMPLE_SDL);

/** Every field of a charge, QR image included. */
export const FULL_CHARGE = /* GraphQL */ `
  id status amount currency sourceType description metadata
  qrCode { imageUrl imageDataUri expiresAt } returnUri authorizeUri
  paid paidAt expiresAt expiredAt failureCode failureMessage
  refundedAmount refundable voidable voided
  refunds { id chargeId amount currency voided metadata createdAt }
  livemode createdAt
`;
