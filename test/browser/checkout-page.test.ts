import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ChargeDocument } from '../generated/operations.js';
import { dataOf, startHarness, type Harness } from '../integration/support/harness.js';

/**
 * The reference checkout page (/demo) in a real headless Chromium (Debian's `chromium` package, driven
 * by playwright-core; no browser is downloaded) against a real gateway and simulator whose signed
 * webhooks reach the gateway: the page learns every outcome as a customer's browser would, from the
 * chargeStatus subscription.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

jest.setTimeout(90_000);

/** The id of the element that has the focus (a string: this project's TypeScript has no DOM types). */
const focusedId = (page: Page) => page.evaluate<string | undefined>('document.activeElement?.id');

describe('the checkout page in Chromium', () => {
  let harness: Harness;
  let browser: BrowserContext;
  let profile: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
    }
    const webhookSecret = randomBytes(32).toString('base64');
    harness = await startHarness({
      env: { OMISE_WEBHOOK_SECRET: webhookSecret, LOG_LEVEL: 'warn' },
      simulator: { webhookSecret },
      logLevel: 'info',
    });
    harness.sim.setWebhookUrls([`${harness.gateway.origin}/webhooks/omise`]);
    profile = mkdtempSync(join(tmpdir(), 'tmgw-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 390, height: 844 }, // a phone
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await harness?.close();
  });

  async function openCheckout(): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${harness.gateway.origin}/demo`);
    await page.locator('body[data-ready="true"]').waitFor();
    return page;
  }

  /** Enters an amount, pays, and waits for the QR code; returns the charge's id. */
  async function payAndWaitForQr(page: Page, amount: string): Promise<string> {
    await page.getByLabel('Amount (THB)').fill(amount);
    await page.getByRole('button', { name: 'Pay with TrueMoney' }).click();
    const qr = page.getByRole('img', { name: /TrueMoney QR code to pay/ });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    // The image really decoded (a broken image has no natural size).
    expect(
      await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    ).toBeGreaterThan(0);
    const chargeId = await page.locator('#payment-step').getAttribute('data-charge-id');
    expect(chargeId).toMatch(/^chrg_test_/);
    return chargeId!;
  }

  it('shows the QR code and a countdown, then "Payment received" after a simulated success', async () => {
    const page = await openCheckout();
    expect(await page.getByText('Test mode: no real money moves').isVisible()).toBe(true);
    const chargeId = await payAndWaitForQr(page, '250.50');

    // Focus moves to the new step; the status region announces it.
    expect(await focusedId(page)).toBe('payment-heading');
    await page.getByRole('status').filter({ hasText: 'QR code ready' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Scan to pay 250.50 THB' }).isVisible()).toBe(true);
    expect(await page.getByRole('timer').textContent()).toMatch(/^\d+(:\d\d){1,2}$/);
    const charge = dataOf(await harness.gql(ChargeDocument, { id: chargeId })).charge!;
    expect(charge.amount).toBe(25_050);
    expect(charge.status).toBe('PENDING');

    await page.getByRole('button', { name: 'Simulate success' }).click();
    await page.getByRole('heading', { name: 'Payment received' }).waitFor();
    expect(await page.getByText('Thank you! 250.50 THB paid.').isVisible()).toBe(true);
    expect(await focusedId(page)).toBe('outcome-heading');
    expect(await page.getByRole('status').textContent()).toBe('Payment received');
    expect(dataOf(await harness.gql(ChargeDocument, { id: chargeId })).charge!.status).toBe('SUCCESSFUL');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('shows "QR code expired" when the simulator\'s clock passes expiresAt', async () => {
    const page = await openCheckout();
    const chargeId = await payAndWaitForQr(page, '100');
    const { expiresAt } = dataOf(await harness.gql(ChargeDocument, { id: chargeId })).charge!;
    // The simulator expires the charge and sends charge.expire; nobody touches the page.
    await harness.sim.clock.set(Date.parse(expiresAt!) + 1_000);
    await page.getByRole('heading', { name: 'QR code expired' }).waitFor();
    expect(await page.getByRole('status').textContent()).toBe('QR code expired');
    expect(await page.getByText(/nothing was charged/).isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('shows "Payment failed" after a simulated failure, and starts again', async () => {
    const page = await openCheckout();
    await payAndWaitForQr(page, '1,000');
    await page.getByRole('button', { name: 'Simulate failure' }).click();
    await page.getByRole('heading', { name: 'Payment failed' }).waitFor();
    expect(await page.locator('#outcome-detail').textContent()).toBe(
      'The payment did not go through (payment processing failed). Nothing was charged.',
    );
    await page.getByRole('button', { name: 'New payment' }).click();
    expect(await focusedId(page)).toBe('amount');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('refuses an amount out of range next to the field, without creating a charge', async () => {
    const page = await openCheckout();
    const creates = harness.omiseRequests.filter((r) => r.method === 'POST').length;
    await page.getByLabel('Amount (THB)').fill('99.99');
    await page.getByRole('button', { name: 'Pay with TrueMoney' }).click();
    const error = page.locator('#amount-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('Enter an amount from 100.00 THB to 50,000.00 THB.');
    expect(await page.getByLabel('Amount (THB)').getAttribute('aria-invalid')).toBe('true');
    expect(await focusedId(page)).toBe('amount');
    expect(harness.omiseRequests.filter((r) => r.method === 'POST').length).toBe(creates);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
