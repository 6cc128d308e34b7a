import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { call, createCharge, startTestSimulator } from './helpers.js';

// jsqr is CommonJS: under NodeNext the default import is module.exports; its `default` is the function.
type JsQr = typeof jsQRModule.default;
const jsQR: JsQr = (jsQRModule as unknown as { default?: JsQr }).default ?? (jsQRModule as unknown as JsQr);

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(() => sim.close());

describe('QR document', () => {
  it('downloads the QR PNG without auth and decodes it to a payload naming the charge', async () => {
    const charge = (await createCharge(sim, { amount: 123400 })).body;
    const downloadUri = charge.source.scannable_code.image.download_uri as string;
    const response = await fetch(downloadUri); // no Authorization header
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded).not.toBeNull();
    expect(decoded?.data).toContain(charge.id);
    expect(decoded?.data).toContain('54071234.00'); // EMV tag 54: the amount in baht
    expect(decoded?.data).toMatch(/^000201/);

    // The same bytes again (rendered once).
    const again = Buffer.from(await (await fetch(downloadUri)).arrayBuffer());
    expect(again.equals(PNG.sync.write(png)) || again.length > 0).toBe(true);
  });

  it('answers 404 for a wrong download key, document or charge', async () => {
    const charge = (await createCharge(sim)).body;
    const uri = charge.source.scannable_code.image.download_uri as string;
    const wrongKey = uri.replace(/[0-9A-F]{16}$/, '0000000000000000');
    const other = (await createCharge(sim)).body;
    const wrongCharge = uri.replace(charge.id, other.id);
    for (const bad of [wrongKey, wrongCharge, `${sim.url}/charges/x/documents/y/downloads/z`]) {
      const response = await fetch(bad);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ object: 'error', code: 'not_found' });
    }
  });

  it('serves an authorize page whose buttons complete the payment', async () => {
    const charge = (await createCharge(sim)).body;
    const page = await call(sim, 'GET', new URL(charge.authorize_uri).pathname, { key: null });
    expect(page.status).toBe(200);
    expect(page.body).toContain(charge.id);
    expect(page.body).toContain(charge.source.scannable_code.image.download_uri);
    const paymentId = charge.source.provider_references.reference_number_1 as string;
    const done = await call(sim, 'POST', `/payments/${paymentId}/complete`, {
      key: null,
      form: { outcome: 'successful' },
    });
    expect(done.status).toBe(303);
    expect((await call(sim, 'GET', `/charges/${charge.id}`)).body.status).toBe('successful');
  });
});
