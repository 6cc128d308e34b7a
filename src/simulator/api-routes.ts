/** The Omise REST endpoints, mapped onto the engine. */
import type { SimulatorEngine } from './engine.js';
import { notFound } from './errors.js';
import { renderQrPng } from './qr.js';
import { route, type Route, type RouteRequest } from './router.js';
import type { Store } from './store.js';
import { authorizePage } from './authorize-page.js';

function param(req: RouteRequest, name: string): string {
  return req.pathParams[name] ?? '';
}

export function apiRoutes(engine: SimulatorEngine, store: Store, baseUrl: () => string): Route[] {
  return [
    route('POST', '/sources', 'public-or-secret', (req) => ({
      json: engine.createSource(req.params, req.ip),
    })),
    route('GET', '/sources/:id', 'public-or-secret', (req) => ({ json: engine.getSource(param(req, 'id')) })),

    route('POST', '/charges', 'secret', (req) => ({ json: engine.createCharge(req.params, req.ip) })),
    route('GET', '/charges', 'secret', (req) => ({ json: engine.listCharges(req.params) })),
    route('GET', '/charges/:id', 'secret', (req) => ({ json: engine.getCharge(param(req, 'id')) })),
    route('PATCH', '/charges/:id', 'secret', (req) => ({
      json: engine.updateCharge(param(req, 'id'), req.params),
    })),
    route('PUT', '/charges/:id', 'secret', (req) => ({
      json: engine.updateCharge(param(req, 'id'), req.params),
    })),
    route('POST', '/charges/:id/expire', 'secret', (req) => ({
      json: engine.expireCharge(param(req, 'id')),
    })),
    route('POST', '/charges/:id/mark_as_paid', 'secret', (req) => ({
      json: engine.markAsPaid(param(req, 'id')),
    })),
    route('POST', '/charges/:id/mark_as_failed', 'secret', (req) => ({
      json: engine.markAsFailed(param(req, 'id')),
    })),
    route('POST', '/charges/:id/capture', 'secret', (req) => engine.capture(param(req, 'id'))),
    route('POST', '/charges/:id/reverse', 'secret', (req) => engine.reverse(param(req, 'id'))),

    route('POST', '/charges/:id/refunds', 'secret', (req) => ({
      json: engine.createRefund(param(req, 'id'), req.params),
    })),
    route('GET', '/charges/:id/refunds', 'secret', (req) => ({
      json: engine.listRefunds(param(req, 'id'), req.params),
    })),
    route('GET', '/charges/:id/refunds/:rid', 'secret', (req) => ({
      json: engine.getRefund(param(req, 'id'), param(req, 'rid')),
    })),
    route('GET', '/refunds', 'secret', (req) => ({ json: engine.listAllRefunds(req.params) })),

    route('GET', '/events', 'secret', (req) => ({ json: engine.listEvents(req.params) })),
    route('GET', '/events/:id', 'secret', (req) => ({ json: engine.getEvent(param(req, 'id')) })),
    route('GET', '/charges/:id/events', 'secret', (req) => ({
      json: engine.listChargeEvents(param(req, 'id'), req.params),
    })),

    // The QR image: no key, like Omise's download_uri.
    route('GET', '/charges/:cid/documents/:did/downloads/:key', 'none', async (req) => {
      const doc = store.documents.get(param(req, 'did'));
      if (!doc || doc.chargeId !== param(req, 'cid') || doc.downloadKey !== param(req, 'key')) {
        throw notFound('document', param(req, 'did'));
      }
      doc.png ??= await renderQrPng(doc.payload);
      return { raw: { contentType: 'image/png', body: doc.png } };
    }),

    // A stand-in for the page a customer's app would show; lets a human pay or fail a charge by hand.
    route('GET', '/payments/:pid/authorize', 'none', (req) => {
      const charge = engine.findChargeByPaymentId(param(req, 'pid'));
      if (!charge) throw notFound('payment', param(req, 'pid'));
      const json = engine.getCharge(charge.id) as {
        source?: { scannable_code?: { image?: { download_uri?: string } } };
      };
      return {
        raw: {
          contentType: 'text/html; charset=utf-8',
          body: authorizePage({
            baseUrl: baseUrl(),
            paymentId: charge.paymentId,
            chargeId: charge.id,
            amount: charge.amount,
            status: charge.status,
            qrUrl: json.source?.scannable_code?.image?.download_uri ?? null,
          }),
        },
      };
    }),
    route('POST', '/payments/:pid/complete', 'none', (req) => {
      const outcome = req.params.outcome === 'failed' ? 'failed' : 'successful';
      const charge = engine.completeByPaymentId(param(req, 'pid'), outcome);
      return { status: 303, headers: { location: `/payments/${charge.paymentId}/authorize?acs=false` } };
    }),
  ];
}
