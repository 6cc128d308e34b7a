import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does to the next matching request:
 * - `pass`: forwards it and its answer;
 * - `fail-before`: answers `status` with an Omise error body without forwarding (Omise did nothing);
 * - `fail-after`: forwards it (Omise acts), then answers `status` instead of Omise's answer;
 * - `drop-after`: forwards it (Omise acts), then destroys the connection without an answer.
 */
export type ProxyFault =
  | { kind: 'pass' }
  | { kind: 'fail-before'; status: number; retryAfterSeconds?: number }
  | { kind: 'fail-after'; status: number }
  | { kind: 'drop-after' };

export interface FaultyProxy {
  url: string;
  /** Queues faults for requests whose `METHOD path` matches (e.g. `POST /charges`); others pass. */
  script(match: RegExp, faults: ProxyFault[]): void;
  /** Every `METHOD path` seen, with what was done to it. */
  seen: { request: string; fault: ProxyFault['kind'] }[];
  close(): Promise<void>;
}

/** An HTTP proxy in front of the simulator that loses or replaces answers, as the faulty proxy. */
export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const scripts: { match: RegExp; faults: ProxyFault[] }[] = [];
  const seen: FaultyProxy['seen'] = [];
  const targetUrl = new URL(target);

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          hostname: targetUrl.hostname,
          port: targetUrl.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: targetUrl.host },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const errorBody = (status: number) =>
    JSON.stringify({
      object: 'error',
      location: 'https://www.omise.co/api-errors',
      code: status === 429 ? 'too_many_requests' : 'internal_error',
      message: status === 429 ? 'too many requests' : 'an internal error occurred (proxy)',
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const name = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    const script = scripts.find((s) => s.match.test(name) && s.faults.length > 0);
    const fault: ProxyFault = script?.faults.shift() ?? { kind: 'pass' };
    seen.push({ request: name, fault: fault.kind });
    if (fault.kind === 'fail-before') {
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfterSeconds !== undefined && { 'retry-after': String(fault.retryAfterSeconds) }),
      });
      res.end(errorBody(fault.status));
      return;
    }
    const answer = await forward(req, body);
    if (fault.kind === 'drop-after') {
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'fail-after') {
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(errorBody(fault.status));
      return;
    }
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    delete headers['connection'];
    delete headers['keep-alive'];
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script: (match, faults) => scripts.push({ match, faults: [...faults] }),
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
