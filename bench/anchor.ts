/**
 * An anchor server for the benchmarks, in a process of its own (forked by bench/run.ts): a GraphQL
 * hello-world of the same shape as the gateway's `charge(id)` (the same query, the same fields, a
 * constant answer), served by
 * - `apollo`: Apollo Server 5 `startStandaloneServer`, defaults — what a team would pick instead;
 * - `mercurius`: Mercurius on Fastify with graphql-jit (`jit: 1`) — the fastest Node GraphQL server
 *   we know, the high-water mark.
 * Tells the parent its URL over IPC, then serves until the parent goes.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import Fastify from 'fastify';
import mercurius from 'mercurius';

const typeDefs = /* GraphQL */ `
  type QrCode {
    imageUrl: String!
    expiresAt: String
  }
  type Charge {
    id: ID!
    status: String!
    amount: Int!
    currency: String!
    sourceType: String!
    paid: Boolean!
    createdAt: String!
    expiresAt: String
    qrCode: QrCode
  }
  type Query {
    charge(id: ID!): Charge
  }
`;

const charge = (id: string) => ({
  id,
  status: 'SUCCESSFUL',
  amount: 10_000,
  currency: 'THB',
  sourceType: 'truemoney_qr',
  paid: true,
  createdAt: '2026-11-27T00:00:00.000Z',
  expiresAt: '2026-11-28T00:00:00.000Z',
  qrCode: { imageUrl: 'https://example.test/qr.png', expiresAt: '2026-11-28T00:00:00.000Z' },
});
const resolvers = { Query: { charge: (_: unknown, args: { id: string }) => charge(args.id) } };

async function startApollo(): Promise<string> {
  const server = new ApolloServer({ typeDefs, resolvers });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return url.endsWith('/') ? url : `${url}/`;
}

async function startMercurius(): Promise<string> {
  const app = Fastify({ logger: false });
  await app.register(mercurius, { schema: typeDefs, resolvers, jit: 1 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}/graphql`;
}

const kind = process.argv[2];
const start = kind === 'apollo' ? startApollo : kind === 'mercurius' ? startMercurius : undefined;
if (!start) throw new Error('usage: anchor.ts apollo|mercurius');
start().then(
  (url) => process.send?.({ type: 'ready', url }),
  (error: unknown) => {
    process.send?.({ type: 'failed', error: String(error) });
    process.exit(1);
  },
);
process.on('message', (message: { id: number; cmd: string }) => {
  if (message.cmd === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ id: message.id, ok: true, value: user + system });
  }
});
process.on('disconnect', () => process.exit(0));
