// PEM armour (RFC 7468), strict enough to refuse what is not one.
import { AppError } from '../core/errors.js';

export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/** Every block with one of the given labels, in order. */
export function fromPemAll(text: string, labels: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!labels.includes(m[1]!)) continue;
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
      throw new AppError('PEM_INVALID', `the ${m[1]} block is not valid base64`);
    }
    out.push(Buffer.from(body, 'base64'));
  }
  return out;
}

export function fromPem(text: string, labels: readonly string[]): Buffer {
  const [first] = fromPemAll(text, labels);
  if (!first) throw new AppError('PEM_INVALID', `no ${labels.join(' or ')} PEM block found`);
  return first;
}

/** Reads PEM or raw DER, whichever the bytes are. */
export function pemOrDer(data: Buffer, labels: readonly string[]): Buffer {
  const head = data.subarray(0, 64).toString('latin1');
  if (head.includes('-----BEGIN')) return fromPem(data.toString('utf8'), labels);
  if (data.length > 0 && data[0] === 0x30) return data;
  // `openssl req -text` and `openssl pkcs12` put a text dump or bag attributes before the block.
  if (data.includes('-----BEGIN', 0, 'latin1')) return fromPem(data.toString('utf8'), labels);
  throw new AppError('PEM_INVALID', `neither PEM (${labels.join(' or ')}) nor DER`);
}
