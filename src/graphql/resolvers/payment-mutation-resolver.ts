import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { describePrincipal } from '../../auth/principal.js';
import type { CallContext } from '../../payments/payments-service.js';
import type { GraphQLContext } from '../context.js';
import { primeCharge } from '../loaders.js';
import {
  CreateTrueMoneyChargeInputType,
  RefundChargeInputType,
  SimulateChargeOutcomeInputType,
  VoidChargeInputType,
} from '../types/inputs.js';
import {
  CreateTrueMoneyChargePayload,
  RefundChargePayload,
  SimulateChargeOutcomePayload,
  VoidChargePayload,
} from '../types/payloads.js';

// Each mutation maps its Result to a payload: the objects and `userErrors: []`, or nulls and the errors.
// Objects a mutation returns are primed into the loader so that the rest of the operation reuses them.

@Resolver()
export class PaymentMutationResolver {
  @Authorized('charges:create')
  @Mutation(() => CreateTrueMoneyChargePayload, {
    description: 'Creates a TrueMoney QR charge; show its qrCode to the customer.',
  })
  async createTrueMoneyCharge(
    @Arg('input', () => CreateTrueMoneyChargeInputType) input: CreateTrueMoneyChargeInputType,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CreateTrueMoneyChargePayload> {
    const result = await ctx.payments.createTrueMoneyCharge(input, callContext(ctx));
    if (!result.ok) return { charge: null, clientToken: null, userErrors: result.errors };
    primeCharge(ctx.loaders, result.value);
    // For the browser or app of this one charge: reads it and its status, expires with it.
    const { token } = await ctx.clientTokens.issue(result.value);
    return { charge: result.value, clientToken: token, userErrors: [] };
  }

  @Authorized('charges:refund')
  @Mutation(() => RefundChargePayload, {
    description: 'Refunds part or all of what is left of a paid charge.',
  })
  async refundCharge(
    @Arg('input', () => RefundChargeInputType) input: RefundChargeInputType,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RefundChargePayload> {
    const result = await ctx.payments.refundCharge(input, callContext(ctx));
    if (!result.ok) return { refund: null, charge: null, userErrors: result.errors };
    primeCharge(ctx.loaders, result.value.charge);
    return { ...result.value, userErrors: [] };
  }

  @Authorized('charges:void')
  @Mutation(() => VoidChargePayload, { description: 'Voids a charge in full before it is settled.' })
  async voidCharge(
    @Arg('input', () => VoidChargeInputType) input: VoidChargeInputType,
    @Ctx() ctx: GraphQLContext,
  ): Promise<VoidChargePayload> {
    const result = await ctx.payments.voidCharge(input, callContext(ctx));
    if (!result.ok) return { refund: null, charge: null, userErrors: result.errors };
    primeCharge(ctx.loaders, result.value.charge);
    return { ...result.value, userErrors: [] };
  }

  @Authorized('test:simulate')
  @Mutation(() => SimulateChargeOutcomePayload, {
    description: 'Test mode only: makes a pending charge SUCCESSFUL or FAILED as if the customer had acted.',
  })
  async simulateChargeOutcome(
    @Arg('input', () => SimulateChargeOutcomeInputType) input: SimulateChargeOutcomeInputType,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SimulateChargeOutcomePayload> {
    const result = await ctx.payments.simulateChargeOutcome(input, callContext(ctx));
    if (!result.ok) return { charge: null, userErrors: result.errors };
    primeCharge(ctx.loaders, result.value);
    return { charge: result.value, userErrors: [] };
  }
}

/**
 * Idempotency keys are scoped per caller (two services may pick the same key without colliding); the
 * ledger records who made each money-moving call, in which request.
 */
function callContext(ctx: GraphQLContext): CallContext {
  return { principal: describePrincipal(ctx.principal), requestId: ctx.requestId };
}
