import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** The address a request comes from, as used for rate limits and logs. */
export type ClientIpOf = (req: IncomingMessage) => string | undefined;

/**
 * TRUSTED_PROXIES → how to find the client's address. Without trusted proxies it is the socket's
 * address and `X-Forwarded-For` is ignored (anyone can send it). With them, and only for requests whose
 * socket peer is one of them, proxy-addr walks `X-Forwarded-For` from the right and stops at the first
 * hop that is not trusted: the right-most address a trusted proxy saw, which a client cannot forge.
 */
export function createClientIpOf(trustedProxies: readonly string[]): ClientIpOf {
  if (trustedProxies.length === 0) return (req) => req.socket.remoteAddress;
  const trust = proxyaddr.compile([...trustedProxies]);
  return (req) => {
    // A socket already closed has no address; proxy-addr would throw on it.
    if (req.socket.remoteAddress === undefined) return undefined;
    return proxyaddr(req, trust);
  };
}
