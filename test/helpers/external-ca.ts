// Another organisation's CA made with the `openssl` CLI in a folder: keys, CSRs and certificates
// signed with the extension sections below (ca, server, client). What `authbox tls import` takes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssl } from './authbox.js';

const EXTENSIONS = `
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = IP:127.0.0.1
`;

export interface ExternalCaKit {
  /** Runs openssl in the folder; throws with its stderr on failure. */
  ok(args: string[]): string;
  /** name.key (EC P-256 in PKCS#8, or RSA-2048 in the traditional PKCS#1 form) and name.csr; `subject` is a CN or a whole /X=../CN=.. subject. */
  csr(name: string, subject: string, keyType?: 'ec' | 'rsa'): void;
  /** Signs name.csr into name.pem with `ca` (self-signed without), extensions from the section `ext`. */
  sign(name: string, ext: 'ca' | 'server' | 'client', ca?: string, days?: string): void;
}

export function externalCaKit(dir: string): ExternalCaKit {
  writeFileSync(join(dir, 'ext.cnf'), EXTENSIONS);
  const ok = (args: string[]): string => {
    const r = openssl(args, { cwd: dir });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    ok,
    csr(name, subject, keyType = 'ec') {
      if (keyType === 'ec') ok(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
      else ok(['genrsa', '-traditional', '-out', `${name}.key`, '2048']);
      ok(['req', '-new', '-key', `${name}.key`, '-subj', subject.startsWith('/') ? subject : `/CN=${subject}`, '-out', `${name}.csr`]);
    },
    sign(name, ext, ca, days = '30') {
      ok(['x509', '-req', '-in', `${name}.csr`, '-days', days, '-extfile', 'ext.cnf', '-extensions', ext, '-out', `${name}.pem`,
        ...(ca ? ['-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial'] : ['-signkey', `${name}.key`])]);
    },
  };
}
