import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context.js';
import { QrCodeType } from '../types/charge.js';

@Resolver(() => QrCodeType)
export class QrCodeResolver {
  /** Fetched only when asked for: most clients show `imageUrl` and never need the bytes. */
  @FieldResolver(() => String, {
    nullable: true,
    description: 'The same PNG inlined as data:image/png;base64,…; fetched on demand and cached.',
  })
  async imageDataUri(@Root() qrCode: QrCodeType, @Ctx() ctx: GraphQLContext): Promise<string> {
    const png = await ctx.payments.getQrImage(qrCode.imageUrl);
    return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
  }
}
