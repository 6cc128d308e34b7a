import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** A real local HTTP server standing for a merchant's webhook endpoint. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Statuses answered to the next requests, in order; 200 once used up. */
  answers: number[];
  close(): Promise<void>;
}

export async function startReceiver(answers: number[] = []): Promise<Receiver> {
  const received: Received[] = [];
  const state = { answers: [...answers] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      let json: unknown = null;
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        json = null;
      }
      received.push({ headers: req.headers, rawBody, json });
      res.statusCode = state.answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/omise`,
    received,
    get answers() {
      return state.answers;
    },
    set answers(value: number[]) {
      state.answers = [...value];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
