function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A minimal HTML page at `authorize_uri`: the QR and two buttons standing for the customer's app. */
export function authorizePage(view: {
  baseUrl: string;
  paymentId: string;
  chargeId: string;
  amount: number;
  status: string;
  qrUrl: string | null;
}): string {
  const baht = (view.amount / 100).toFixed(2);
  const action = `${view.baseUrl}/payments/${encodeURIComponent(view.paymentId)}/complete`;
  const buttons =
    view.status === 'pending'
      ? `<form method="post" action="${escapeHtml(action)}">
  <button name="outcome" value="successful">Pay (simulate success)</button>
  <button name="outcome" value="failed">Fail (simulate failed_processing)</button>
</form>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TrueMoney QR (Omise simulator)</title></head>
<body style="font-family: sans-serif; text-align: center">
<h1>TrueMoney QR — simulator</h1>
<p>Charge <code>${escapeHtml(view.chargeId)}</code>: THB ${escapeHtml(baht)}, status <strong>${escapeHtml(view.status)}</strong></p>
${view.qrUrl ? `<img alt="QR code" src="${escapeHtml(view.qrUrl)}">` : ''}
${buttons}
</body></html>
`;
}
