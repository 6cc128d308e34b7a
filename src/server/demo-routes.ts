/**
 * The reference checkout page (`GET /demo`, its files under `/demo/…`) and the test-mode index
 * (`GET /`). The files live in `web/` at the repository root and are read once, at start-up: they are
 * small, and a missing file then fails the start instead of a customer's page load.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse, IncomingMessage } from 'node:http';
import type { Route } from './http-server.js';

/**
 * The repository's `web/`, the nearest one up from this module: src/server/ (npm start), dist/modules/
 * server/ (tsc's output) or dist/ (the bundle) alike.
 */
function webRoot(): string {
  for (const up of ['../../', '../../../', '../']) {
    const candidate = fileURLToPath(new URL(`${up}web/`, import.meta.url));
    if (existsSync(join(candidate, 'demo/index.html'))) return candidate;
  }
  throw new Error('the demo page files (web/) are missing next to the gateway; set DEMO_ENABLED=false');
}

export interface DemoPageOptions {
  /** Test keys or the simulator: the page offers the "simulate" buttons. */
  testMode: boolean;
  /** Auth is on: the page asks for an API key (demo only; a shop's server would hold it). */
  authRequired: boolean;
}

interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
  headers: Record<string, string>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Revalidate every time (cheap with the ETag): a new gateway version must not meet an old page.
  'cache-control': 'no-cache',
};

export function demoRoutes(options: DemoPageOptions): Route[] {
  const WEB_ROOT = webRoot();
  const graphqlWs = graphqlWsBrowserFiles();
  const config = JSON.stringify({
    testMode: options.testMode,
    authRequired: options.authRequired,
    graphqlPath: '/graphql',
  });
  const files: Record<string, StaticFile> = {
    '/': htmlFile(readFileSync(join(WEB_ROOT, 'index.html'))),
    '/demo': htmlFile(readFileSync(join(WEB_ROOT, 'demo/index.html'))),
    '/demo/checkout.js': asset('.js', readFileSync(join(WEB_ROOT, 'demo/checkout.js'))),
    '/demo/payment-api.js': asset('.js', readFileSync(join(WEB_ROOT, 'demo/payment-api.js'))),
    '/demo/checkout.css': asset('.css', readFileSync(join(WEB_ROOT, 'demo/checkout.css'))),
    '/demo/config.json': asset('.json', Buffer.from(config)),
    ...Object.fromEntries(
      graphqlWs.map(({ name, body }) => [`/demo/vendor/graphql-ws/${name}`, asset('.js', body)]),
    ),
  };
  return Object.entries(files).map(([path, file]) => ({
    method: 'GET',
    path,
    handler: (req, res) => serve(req, res, file),
  }));
}

function serve(req: IncomingMessage, res: ServerResponse, file: StaticFile): void {
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, { etag: file.etag, ...COMMON_HEADERS });
    res.end();
    return;
  }
  res.writeHead(200, {
    'content-type': file.contentType,
    'content-length': file.body.length,
    etag: file.etag,
    ...COMMON_HEADERS,
    ...file.headers,
  });
  res.end(file.body);
}

function asset(extension: string, body: Buffer): StaticFile {
  return {
    body,
    contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    headers: {},
  };
}

/**
 * An HTML page with a strict Content-Security-Policy: scripts and styles from this origin only (plus
 * the page's inline import map, allowed by its hash), images from here or inlined (the QR code's data:
 * URI), requests to this origin only (`'self'` covers ws:/wss: to the same host), no framing.
 */
function htmlFile(body: Buffer): StaticFile {
  const inlineScripts = [...body.toString('utf8').matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)];
  const hashes = inlineScripts.map(
    ([, text]) =>
      `'sha256-${createHash('sha256')
        .update(text ?? '')
        .digest('base64')}'`,
  );
  const csp = [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    ...asset('.html', body),
    headers: { 'content-security-policy': csp, 'x-frame-options': 'DENY' },
  };
}

/**
 * graphql-ws's browser build (its ESM `client.js` and the chunks it imports), served from
 * node_modules so that the page runs the very library a front end would install.
 */
function graphqlWsBrowserFiles(): { name: string; body: Buffer }[] {
  const require = createRequire(import.meta.url);
  // The package's "require" entry sits next to its ESM files in dist/.
  const dist = dirname(require.resolve('graphql-ws/client'));
  const files = new Map<string, Buffer>();
  const add = (name: string) => {
    if (files.has(name)) return;
    const body = readFileSync(join(dist, name));
    files.set(name, body);
    for (const [, chunk] of body.toString('utf8').matchAll(/from '\.\/([\w.-]+\.js)'/g)) add(chunk!);
  };
  add('client.js');
  return [...files].map(([name, body]) => ({ name, body }));
}
