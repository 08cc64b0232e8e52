// A parallel CA made with the openssl command for the peer side of the benchmarks:
// root and issuing CA (ECDSA P-256, like authbox's default), a delegated OCSP signer,
// and an `openssl ca` configuration whose leaf profile mirrors authbox's user profile.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './common.mjs';

const P256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

export function makeOpensslCa(dir, { publicUrl = 'http://127.0.0.1:18090' } = {}) {
  mkdirSync(join(dir, 'newcerts'), { recursive: true });
  const f = (name) => join(dir, name);
  const key = (name) => run('openssl', ['genpkey', ...P256, '-out', f(name)]);
  writeFileSync(f('ext.cnf'), `
[req]
distinguished_name = dn
prompt = no

[dn]

[root_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash

[issuing_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ocsp_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`);
  key('root.key');
  run('openssl', ['req', '-x509', '-new', '-key', f('root.key'), '-subj', '/O=Bench OpenSSL/CN=Bench OpenSSL Root CA', '-days', '3650',
    '-sha256', '-config', f('ext.cnf'), '-extensions', 'root_ext', '-out', f('root.pem')]);
  const child = (name, subj, ext, issuer, days) => {
    key(`${name}.key`);
    run('openssl', ['req', '-new', '-key', f(`${name}.key`), '-subj', subj, '-config', f('ext.cnf'), '-out', f(`${name}.csr`)]);
    run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${issuer}.pem`), '-CAkey', f(`${issuer}.key`),
      '-set_serial', '0x' + Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^./, '4'),
      '-days', String(days), '-sha256', '-extfile', f('ext.cnf'), '-extensions', ext, '-out', f(`${name}.pem`)]);
  };
  child('issuing', '/O=Bench OpenSSL/CN=Bench OpenSSL Issuing CA 1', 'issuing_ext', 'root', 3650);
  child('ocsp', '/O=Bench OpenSSL/CN=Bench OpenSSL OCSP Responder', 'ocsp_ext', 'issuing', 365);

  // `openssl ca` for -gencrl and CSR signing; the leaf profile mirrors authbox's "user".
  writeFileSync(f('index.txt'), '');
  writeFileSync(f('index.txt.attr'), 'unique_subject = no\n');
  writeFileSync(f('crlnumber'), '01\n');
  writeFileSync(f('ca.cnf'), `
[ca]
default_ca = bench

[bench]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/issuing.pem
private_key = $dir/issuing.key
serial = $dir/serial
crlnumber = $dir/crlnumber
rand_serial = yes
default_md = sha256
default_days = 365
default_crl_days = 1
unique_subject = no
policy = policy_any
x509_extensions = user_cert
crl_extensions = crl_ext
copy_extensions = none
preserve = no
email_in_dn = no

[policy_any]
commonName = supplied

[user_cert]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:${publicUrl}/crl/issuing.crl
authorityInfoAccess = OCSP;URI:${publicUrl}/ocsp, caIssuers;URI:${publicUrl}/ca/issuing.crt

[crl_ext]
authorityKeyIdentifier = keyid:always
`);
  return {
    dir, root: f('root.pem'), issuing: f('issuing.pem'), issuingKey: f('issuing.key'),
    ocspCert: f('ocsp.pem'), ocspKey: f('ocsp.key'), config: f('ca.cnf'), index: f('index.txt'), extFile: f('ca.cnf'),
  };
}

/** UTCTime as index.txt writes it (YYMMDDHHMMSSZ). */
export function indexTime(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

const REASON_NAMES = { 1: 'keyCompromise', 3: 'affiliationChanged', 4: 'superseded', 5: 'cessationOfOperation', 6: 'certificateHold' };

/**
 * One index.txt line. `reason` null or 0 writes no reason, so OpenSSL adds no reasonCode
 * extension, exactly as authbox leaves it out for "unspecified" (RFC 5280 §5.3.1).
 */
export function indexLine({ serialHex, notAfter, revokedAt = null, reason = null, cn }) {
  const serial = (serialHex.length % 2 ? '0' + serialHex : serialHex).toUpperCase();
  if (revokedAt === null) return `V\t${indexTime(notAfter)}\t\t${serial}\tunknown\t/CN=${cn}\n`;
  const why = reason ? `,${REASON_NAMES[reason]}` : '';
  return `R\t${indexTime(notAfter)}\t${indexTime(revokedAt)}${why}\t${serial}\tunknown\t/CN=${cn}\n`;
}
