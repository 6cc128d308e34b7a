import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { createClientIpOf } from '../../src/server/client-ip.js';

/** A request as node:http hands it over: only what proxy-addr reads. */
function request(peer: string | undefined, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    connection: { remoteAddress: peer },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('createClientIpOf (TRUSTED_PROXIES)', () => {
  it('without trusted proxies: the socket address, X-Forwarded-For ignored', () => {
    const ipOf = createClientIpOf([]);
    expect(ipOf(request('198.51.100.1', '203.0.113.7'))).toBe('198.51.100.1');
  });

  it('believes X-Forwarded-For only from a trusted peer, right-most untrusted hop first', () => {
    const ipOf = createClientIpOf(['10.0.0.0/8', '192.168.0.1']);
    // Peer untrusted: its header is not believed.
    expect(ipOf(request('198.51.100.1', '203.0.113.7'))).toBe('198.51.100.1');
    // Trusted peer: the hop it saw; a forged left part does not matter.
    expect(ipOf(request('10.1.2.3', 'forged, 1.1.1.1, 203.0.113.7'))).toBe('203.0.113.7');
    // Two trusted proxies in a row: skipped both.
    expect(ipOf(request('10.1.2.3', '203.0.113.7, 192.168.0.1'))).toBe('203.0.113.7');
    // Trusted peer without the header: the peer itself.
    expect(ipOf(request('10.1.2.3'))).toBe('10.1.2.3');
    // IPv4-mapped IPv6 peer of a dual-stack socket.
    expect(ipOf(request('::ffff:10.1.2.3', '203.0.113.9'))).toBe('203.0.113.9');
    expect(ipOf(request(undefined, '203.0.113.9'))).toBeUndefined();
  });
});
