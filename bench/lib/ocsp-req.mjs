// OCSP requests without a nonce, byte for byte what `openssl ocsp -issuer I -serial S
// -no_nonce -reqout F` writes (ocsp.mjs checks that on its request mix), built in
// memory because a thousand openssl processes take longer than the benchmark itself.
import { createHash } from 'node:crypto';
import { dist } from './common.mjs';

const { seq, octets, oid, derNull, unsignedInteger } = await dist('ca/der.js');
const { readCertificate } = await dist('ca/x509.js');
const { subjectPublicKeyBits } = await dist('ca/keys.js');
const { fromPem } = await dist('ca/pem.js');

const HASH_OID = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' };

/** A function serialHex -> DER OCSPRequest for certificates of this issuer. */
export function ocspRequestBuilder(issuerPem, hash = 'sha1') {
  const facts = readCertificate(fromPem(issuerPem, ['CERTIFICATE']));
  const nameHash = createHash(hash).update(facts.subjectDer).digest();
  const keyHash = createHash(hash).update(subjectPublicKeyBits(facts.spki)).digest();
  const alg = seq(oid(HASH_OID[hash]), derNull());
  return (serialHex) => {
    const serial = unsignedInteger(Buffer.from(serialHex.length % 2 ? '0' + serialHex : serialHex, 'hex'));
    const certId = seq(alg, octets(nameHash), octets(keyHash), serial);
    return seq(seq(seq(seq(certId))));
  };
}
