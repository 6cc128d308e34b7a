/** Messages between bench/run.ts (load generator) and bench/target.ts (the servers under test). */

/** What the target process started, sent once when everything answers. */
export interface TargetInfo {
  /** Bare node:http server answering the gateway's own `charge(id)` response body, verbatim. */
  baselineUrl: string;
  /** That body (so the load generator can check it gets the same bytes from the gateway). */
  chargeResponseBody: string;
  /** Bare node:http server answering each request with one `retrieveCharge` of the gateway's OmiseClient. */
  omiseClientRelayUrl: string;
  /** The same with a plain node:http keep-alive request instead of the OmiseClient. */
  leanClientRelayUrl: string;
  /** The OmiseClient relay again, its calls over Node's global fetch instead of the pooled undici fetch. */
  nodeFetchRelayUrl: string;
  /** Gateway with in-memory stores. */
  gatewayUrl: string;
  /** The same with authentication on; `apiKey` reads and creates. */
  gatewayAuthUrl: string;
  apiKey: string;
  /** A charge paid at start-up (the repeated-read scenario). */
  paidChargeId: string;
  /** A pending charge the polling storm polls (webhooks off: it stays pending). */
  pollingChargeId: string;
  /** A second gateway on the same Redis as `gatewayRedisUrl` (a change must show on both). */
  gatewayRedisSecondUrl?: string;
  /** Gateway with Redis stores (REDIS_URL, private key prefix); unset when Redis was not asked for or not reachable. */
  gatewayRedisUrl?: string;
  /** Why there is no Redis gateway, when there is none. */
  redisNote?: string;
  /** Omise simulator both gateways talk to. */
  simulatorUrl: string;
  simulatorSecretKey: string;
  /** A pending charge created at start-up (the one every read scenario queries). */
  chargeId: string;
  /** Five more distinct charges. */
  otherChargeIds: string[];
}

export type TargetCommand =
  /** How many HTTP requests the gateways' Omise client has sent so far. */
  | { id: number; cmd: 'omiseCalls' }
  /** CPU time this process has used so far (user + system), in microseconds. */
  | { id: number; cmd: 'cpu' }
  /** process.memoryUsage() after a full GC. */
  | { id: number; cmd: 'memory' }
  /** Deletes every Redis key under the run's private prefix; answers how many. */
  | { id: number; cmd: 'cleanupRedis' }
  /**
   * Points the simulator's webhooks at the memory gateway (on) or nowhere (off). Off during the load
   * scenarios: each created charge's webhook makes the gateway re-fetch it, which would blur the counts.
   */
  | { id: number; cmd: 'webhooks'; on: boolean; to?: 'memory' | 'redis' }
  /**
   * Starts one more gateway with memory stores, pointed at a simulator in another process (the burst);
   * answers its GraphQL URL and its webhook URL.
   */
  | { id: number; cmd: 'startExternalGateway'; simulator: SimulatorInfo }
  | { id: number; cmd: 'close' };

export interface TargetReply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export type TargetMessage = { type: 'ready'; info: TargetInfo } | { type: 'failed'; error: string };

export interface MemorySample {
  rss: number;
  heapUsed: number;
}

/** A simulator in a process of its own (bench/simulator.ts): where it listens and its keys. */
export interface SimulatorInfo {
  url: string;
  secretKey: string;
  publicKey: string;
  webhookSecret: string;
}

export type SimulatorCommand =
  /** Where the simulator POSTs its webhooks (replaces the list). */
  | { id: number; cmd: 'webhooks'; urls: string[] }
  /** CPU time the simulator's process has used so far (user + system), in microseconds. */
  | { id: number; cmd: 'cpu' };

export type SimulatorMessage =
  | { type: 'ready'; info: SimulatorInfo }
  | { type: 'failed'; error: string }
  | { id: number; ok: true; value?: number };
