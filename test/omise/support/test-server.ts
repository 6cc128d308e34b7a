import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (
  request: SeenRequest,
  response: http.ServerResponse,
  index: number,
  socket: import('node:net').Socket,
) => void;

/** A real HTTP server on 127.0.0.1, port 0, whose every answer the test decides. */
export interface TestServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export async function startTestServer(handler: Handler, port = 0): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      handler(seen, res, requests.length - 1, req.socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = await startTestServer(() => undefined);
  await server.close();
  return server.port;
}

export const TEST_SECRET_KEY = 'skey_test_5zsecretvaluenotforlogs';
export const TEST_PUBLIC_KEY = 'pkey_test_5zpublicvaluenotforlogs';

/** A minimal valid charge in Omise's 2019-05-29 shape. */
export function chargeBody(id = 'chrg_test_5zabcdefghijklmnopq', overrides: Record<string, unknown> = {}) {
  return {
    object: 'charge',
    id,
    livemode: false,
    location: `/charges/${id}`,
    amount: 20000,
    currency: 'THB',
    status: 'pending',
    created_at: '2026-11-27T10:00:00Z',
    ...overrides,
  };
}

export function listBody(data: unknown[], extra: Record<string, unknown> = {}) {
  return {
    object: 'list',
    data,
    limit: 20,
    offset: 0,
    total: data.length,
    order: 'chronological',
    location: '/charges',
    from: '1970-01-01T00:00:00Z',
    to: '2026-11-27T10:00:00Z',
    ...extra,
  };
}
