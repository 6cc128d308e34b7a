/**
 * Run-time control of a simulator running in another process (end-to-end tests): faults, clock,
 * webhook URLs and the delivery log. Authenticated with the secret key; never faulted.
 */
import { z } from 'zod';
import type { ControllableClock } from './clock.js';
import type { SimulatorEngine } from './engine.js';
import { badRequest } from './errors.js';
import { faultSettingsSchema, type FaultInjector } from './faults.js';
import { isHttpUrl } from './params.js';
import { route, type Route } from './router.js';
import { formatTimestamp } from './time.js';
import type { WebhookDispatcher } from './webhook-delivery.js';

interface AdminDeps {
  engine: Pick<SimulatorEngine, 'importForeignCharge'>;
  faults: FaultInjector;
  clock: ControllableClock;
  dispatcher: WebhookDispatcher;
  getWebhookUrls: () => string[];
  setWebhookUrls: (urls: string[]) => void;
}

function parseOrBadRequest<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw badRequest(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

const advanceSchema = z.object({ ms: z.number().int().min(0) });
const setSchema = z.object({ ms: z.number().int().optional(), time: z.string().optional() });
const urlsSchema = z.object({ urls: z.array(z.string().refine(isHttpUrl, 'must be an http(s) URL')) });
const foreignChargeSchema = z.object({
  amount: z.number().int().min(1),
  currency: z.string().regex(/^[A-Za-z]{3}$/, 'three letters'),
  status: z.enum(['pending', 'successful']).default('successful'),
});
const waitSchema = z.object({ timeoutMs: z.number().int().min(0).max(600_000).optional() });

export function adminRoutes(deps: AdminDeps): Route[] {
  const clockView = () => ({ now: formatTimestamp(deps.clock.now()), ms: deps.clock.now() });
  return [
    route('GET', '/_simulator/faults', 'secret', () => ({ json: deps.faults.get() })),
    route('POST', '/_simulator/faults', 'secret', (req) => {
      deps.faults.set(parseOrBadRequest(faultSettingsSchema, req.params));
      return { json: deps.faults.get() };
    }),
    route('GET', '/_simulator/faults/stats', 'secret', () => ({ json: deps.faults.stats() })),
    route('POST', '/_simulator/faults/reset', 'secret', () => {
      deps.faults.reset();
      return { json: deps.faults.get() };
    }),
    route('GET', '/_simulator/clock', 'secret', () => ({ json: clockView() })),
    route('POST', '/_simulator/clock/advance', 'secret', async (req) => {
      const { ms } = parseOrBadRequest(advanceSchema, req.params);
      await deps.clock.advance(ms);
      return { json: clockView() };
    }),
    route('POST', '/_simulator/clock/set', 'secret', async (req) => {
      const body = parseOrBadRequest(setSchema, req.params);
      const ms = body.ms ?? (body.time !== undefined ? Date.parse(body.time) : NaN);
      if (!Number.isFinite(ms)) throw badRequest('give "ms" (epoch ms) or "time" (ISO 8601)');
      await deps.clock.set(ms);
      return { json: clockView() };
    }),
    route('POST', '/_simulator/charges/foreign', 'secret', (req) => ({
      json: deps.engine.importForeignCharge(parseOrBadRequest(foreignChargeSchema, req.params)),
    })),
    route('GET', '/_simulator/deliveries', 'secret', () => ({
      json: { object: 'list', data: deps.dispatcher.deliveries() },
    })),
    route('POST', '/_simulator/deliveries/wait', 'secret', async (req) => {
      const { timeoutMs } = parseOrBadRequest(waitSchema, req.params);
      await deps.dispatcher.waitForIdle(timeoutMs ?? 30_000);
      return { json: { object: 'list', data: deps.dispatcher.deliveries() } };
    }),
    route('GET', '/_simulator/webhook-urls', 'secret', () => ({ json: { urls: deps.getWebhookUrls() } })),
    route('PUT', '/_simulator/webhook-urls', 'secret', (req) => {
      const { urls } = parseOrBadRequest(urlsSchema, req.params);
      deps.setWebhookUrls(urls);
      return { json: { urls: deps.getWebhookUrls() } };
    }),
  ];
}
