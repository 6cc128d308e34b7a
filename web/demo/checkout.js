/**
 * checkout.js: the page's behaviour. Three steps, one visible at a time:
 *   order (amount) → payment (QR code, countdown, live status) → outcome (paid, failed, expired).
 * The calls to the gateway are in payment-api.js; this file is only the customer's side of them.
 *
 * Accessibility: each step's heading takes the focus when the step appears (keyboard and screen
 * reader users land on what changed), and changes nobody asked for (payment received, QR expired,
 * connection lost) are announced through the page's role="status" region.
 */
import { createCharge, gatewayEndpoints, simulateOutcome, watchChargeStatus } from './payment-api.js';

const MIN_SATANG = 100_00;
const MAX_SATANG = 50_000_00;

const $ = (id) => document.getElementById(id);
const page = {
  modeBadge: $('mode-badge'),
  orderStep: $('order-step'),
  orderForm: $('order-form'),
  amount: $('amount'),
  amountError: $('amount-error'),
  apiKeyField: $('api-key-field'),
  apiKey: $('api-key'),
  payButton: $('pay-button'),
  paymentStep: $('payment-step'),
  paymentHeading: $('payment-heading'),
  paymentAmount: $('payment-amount'),
  qrImage: $('qr-image'),
  countdown: $('countdown'),
  simulateBox: $('simulate-box'),
  simulateSuccess: $('simulate-success'),
  simulateFailure: $('simulate-failure'),
  cancelButton: $('cancel-button'),
  outcomeStep: $('outcome-step'),
  outcomeHeading: $('outcome-heading'),
  outcomeDetail: $('outcome-detail'),
  restartButton: $('restart-button'),
  status: $('status'),
};

/** What the server says about this page (test mode, whether a credential is needed). */
let settings = { testMode: false, authRequired: false, graphqlPath: '/graphql' };
let endpoints;
/** The payment in progress: { chargeId, amount, expiresAtMs, stopWatching, countdownTimer }. */
let current;

// ---- Money: integer satang only. A float would turn 100.10 THB into 10009.999… satang. ----

/** "1,234.5" → 123450; undefined when the text is not an amount. */
function parseBaht(text) {
  const match = /^\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return undefined;
  const baht = Number(match[1].replaceAll(',', ''));
  const satang = Number((match[2] ?? '').padEnd(2, '0'));
  return baht * 100 + satang;
}

/** 123450 → "1,234.50 THB" */
function formatBaht(satang) {
  const baht = Math.floor(satang / 100).toLocaleString('en-US');
  return `${baht}.${String(satang % 100).padStart(2, '0')} THB`;
}

// ---- Steps and announcements ----

function showStep(step) {
  for (const section of [page.orderStep, page.paymentStep, page.outcomeStep]) {
    section.hidden = section !== step;
  }
}

/** Screen readers read this out without moving the focus. */
function announce(message) {
  page.status.textContent = message;
}

function showAmountError(message) {
  page.amountError.textContent = message;
  page.amountError.hidden = false;
  page.amount.setAttribute('aria-invalid', 'true');
  page.amount.focus();
}

function clearAmountError() {
  page.amountError.hidden = true;
  page.amountError.textContent = '';
  page.amount.removeAttribute('aria-invalid');
}

function authorization() {
  const key = page.apiKey.value.trim();
  return key ? `Bearer ${key}` : undefined;
}

// ---- Step 1: create the charge ----

async function onOrder(event) {
  event.preventDefault();
  clearAmountError();
  const amount = parseBaht(page.amount.value);
  if (amount === undefined) {
    showAmountError('Enter an amount in baht, for example 250 or 250.50.');
    return;
  }
  if (amount < MIN_SATANG || amount > MAX_SATANG) {
    showAmountError(`Enter an amount from ${formatBaht(MIN_SATANG)} to ${formatBaht(MAX_SATANG)}.`);
    return;
  }

  page.payButton.disabled = true;
  announce('Creating your QR code…');
  try {
    // The idempotency key makes a double submit (or a retry after a timeout) return the same charge.
    const result = await createCharge(
      endpoints.http,
      { amount, description: 'Demo checkout', idempotencyKey: crypto.randomUUID() },
      authorization(),
    );
    const [userError] = result.userErrors;
    if (userError) {
      // Business failures (amount out of range, Omise refusing…) name the field at fault.
      showAmountError(userError.message);
      announce('');
      return;
    }
    startPayment(result.charge, result.clientToken);
  } catch (error) {
    announce(`Could not create the QR code: ${error.message}`);
    page.payButton.focus();
  } finally {
    page.payButton.disabled = false;
  }
}

// ---- Step 2: show the QR code and follow the charge ----

function startPayment(charge, clientToken) {
  const expiresAt = charge.qrCode?.expiresAt ?? charge.expiresAt;
  current = {
    chargeId: charge.id,
    amount: charge.amount,
    expiresAtMs: expiresAt ? Date.parse(expiresAt) : undefined,
    stopWatching: undefined,
    countdownTimer: undefined,
    warnedLastMinute: false,
    announcedTimeUp: false,
  };
  page.paymentAmount.textContent = formatBaht(charge.amount);
  // The inlined image works even when the browser cannot reach Omise's download URL.
  page.qrImage.src = charge.qrCode.imageDataUri ?? charge.qrCode.imageUrl;
  page.qrImage.alt = `TrueMoney QR code to pay ${formatBaht(charge.amount)}`;
  page.paymentStep.dataset.chargeId = charge.id;
  page.simulateBox.hidden = !settings.testMode;
  setSimulateEnabled(true);
  showStep(page.paymentStep);
  page.paymentHeading.focus();
  announce('QR code ready. Scan it with the TrueMoney Wallet app.');

  tickCountdown();
  current.countdownTimer = setInterval(tickCountdown, 1000);

  const payment = current;
  payment.stopWatching = watchChargeStatus(endpoints.ws, charge.id, clientToken, {
    onEvent: (update) => {
      if (current !== payment) return;
      if (update.terminal) showOutcome(update.status, update.charge);
    },
    onConnection: (state) => {
      if (current !== payment) return;
      if (state === 'reconnecting') announce('Connection lost. Reconnecting…');
      else if (page.status.textContent.startsWith('Connection lost')) announce('Connected again.');
    },
    onError: (error) => {
      if (current !== payment) return;
      announce(`We cannot follow this payment any more (${error.message}). Reload the page to check it.`);
    },
  });
}

function tickCountdown() {
  if (!current || current.expiresAtMs === undefined) return;
  const seconds = Math.max(0, Math.ceil((current.expiresAtMs - Date.now()) / 1000));
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  const two = (n) => String(n).padStart(2, '0');
  page.countdown.textContent = h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
  page.countdown.setAttribute('aria-label', `${h > 0 ? `${h} hours ` : ''}${m} minutes ${s} seconds`);
  if (seconds <= 60 && seconds > 0 && !current.warnedLastMinute) {
    current.warnedLastMinute = true;
    announce('Less than a minute left to scan the QR code.');
  }
  // At zero the page waits for the gateway to confirm EXPIRED: the customer may have paid at the
  // last second, and only the gateway knows.
  if (seconds === 0 && !current.announcedTimeUp) {
    current.announcedTimeUp = true;
    announce('Time is up. Checking whether the payment arrived…');
  }
}

function setSimulateEnabled(enabled) {
  page.simulateSuccess.disabled = !enabled;
  page.simulateFailure.disabled = !enabled;
}

async function onSimulate(outcome) {
  if (!current) return;
  setSimulateEnabled(false);
  try {
    const result = await simulateOutcome(endpoints.http, current.chargeId, outcome, authorization());
    const [userError] = result.userErrors;
    if (userError) {
      announce(userError.message);
      setSimulateEnabled(true);
    }
    // Success: nothing to do here; the outcome arrives through the subscription like a real one.
  } catch (error) {
    announce(`Could not simulate: ${error.message}`);
    setSimulateEnabled(true);
  }
}

// ---- Step 3: the outcome ----

const OUTCOMES = {
  SUCCESSFUL: { title: 'Payment received', detail: (c) => `Thank you! ${formatBaht(c.amount)} paid.` },
  FAILED: {
    title: 'Payment failed',
    detail: (c) =>
      `The payment did not go through${c.failureMessage ? ` (${c.failureMessage})` : ''}. Nothing was charged.`,
  },
  EXPIRED: {
    title: 'QR code expired',
    detail: () => 'The time to pay ran out and nothing was charged. Start again for a new QR code.',
  },
  REVERSED: { title: 'Payment reversed', detail: () => 'The payment was reversed; nothing is owed.' },
};

function showOutcome(status, charge) {
  const outcome = OUTCOMES[status] ?? { title: status, detail: () => '' };
  finishPayment();
  page.outcomeStep.dataset.status = status;
  page.outcomeHeading.textContent = outcome.title;
  page.outcomeDetail.textContent = outcome.detail({ amount: current?.amount ?? 0, ...charge });
  showStep(page.outcomeStep);
  page.outcomeHeading.focus();
  announce(outcome.title);
}

function finishPayment() {
  if (!current) return;
  clearInterval(current.countdownTimer);
  current.stopWatching?.();
}

function restart() {
  finishPayment();
  current = undefined;
  showStep(page.orderStep);
  page.amount.focus();
  announce('');
}

// ---- Start-up ----

async function init() {
  try {
    const response = await fetch('/demo/config.json');
    if (response.ok) settings = { ...settings, ...(await response.json()) };
  } catch {
    // Defaults: no test buttons, no API key field.
  }
  endpoints = gatewayEndpoints(settings.graphqlPath);
  page.modeBadge.hidden = !settings.testMode;
  page.apiKeyField.hidden = !settings.authRequired;

  page.orderForm.addEventListener('submit', onOrder);
  page.simulateSuccess.addEventListener('click', () => onSimulate('SUCCESSFUL'));
  page.simulateFailure.addEventListener('click', () => onSimulate('FAILED'));
  page.cancelButton.addEventListener('click', restart);
  page.restartButton.addEventListener('click', restart);
  document.body.dataset.ready = 'true';
}

init();
