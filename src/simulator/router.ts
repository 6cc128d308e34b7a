import type { Params } from './params.js';

/** Who may call a route: `none` = no key (document downloads, authorize page). */
export type Access = 'none' | 'public-or-secret' | 'secret';

export interface RouteRequest {
  method: string;
  path: string;
  pathParams: Record<string, string>;
  /** Query string merged with the body (body wins): list params arrive either way. */
  params: Params;
  /** Client address, as Omise records it in `source.ip`. */
  ip: string | null;
}

export interface Reply {
  status?: number;
  json?: unknown;
  /** A non-JSON answer (the QR PNG, the authorize page). */
  raw?: { contentType: string; body: Buffer | string };
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  pattern: RegExp;
  access: Access;
  handler: (req: RouteRequest) => Reply | Promise<Reply>;
}

/** Compiles `/charges/:id/refunds` into a regex with named groups; a trailing slash is tolerated. */
export function route(method: string, path: string, access: Access, handler: Route['handler']): Route {
  const source = path.replace(/:([a-zA-Z]+)/g, (_m, name: string) => `(?<${name}>[^/]+)`);
  return { method, pattern: new RegExp(`^${source}/?$`), access, handler };
}

export function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; pathParams: Record<string, string> } | undefined {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (match) {
      const pathParams: Record<string, string> = {};
      for (const [k, v] of Object.entries(match.groups ?? {})) {
        try {
          pathParams[k] = decodeURIComponent(v);
        } catch {
          pathParams[k] = v;
        }
      }
      return { route: candidate, pathParams };
    }
  }
  return undefined;
}
