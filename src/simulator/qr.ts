import QRCode from 'qrcode';

function tlv(tag: string, value: string): string {
  return `${tag}${String(value.length).padStart(2, '0')}${value}`;
}

/** CRC-16/CCITT-FALSE, as EMVCo QR payloads end with. */
function crc16(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * An EMVCo-style (Thai QR / PromptPay bill-payment-like) payload naming the charge. Not scannable by a
 * real TrueMoney app, but shaped like what real QR codes carry, and decodable in tests.
 */
export function qrPayload(charge: { id: string; amount: number; paymentId: string }): string {
  const merchant = tlv('00', 'A000000677010112') + tlv('01', 'OMISESIMULATOR') + tlv('02', charge.id);
  const body =
    tlv('00', '01') +
    tlv('01', '12') +
    tlv('30', merchant) +
    tlv('53', '764') +
    tlv('54', (charge.amount / 100).toFixed(2)) +
    tlv('58', 'TH') +
    tlv('59', 'OMISE SIMULATOR') +
    tlv('62', tlv('05', charge.paymentId)) +
    '6304';
  return body + crc16(body);
}

export function renderQrPng(payload: string): Promise<Buffer> {
  return QRCode.toBuffer(payload, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 });
}
