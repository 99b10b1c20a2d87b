import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

/** A throwaway PKI made by openssl for the tests; never a key from anywhere else. */
export interface Pki {
  dir: string;
  /** Absolute paths by name: root.pem, int.pem, leaf.pem, leaf.key, ... */
  path: (name: string) => string;
  passphrase: string;
}

export function makePki(): Pki {
  const dir = tempDir('mdmgen-pki-');
  const path = (name: string) => join(dir, name);
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(path('ext.cnf'), [
    '[ca]', 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign',
    '[leaf]', 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature',
    '[enc]', 'basicConstraints=CA:FALSE', 'keyUsage=critical,keyEncipherment',
    '[notca]', 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyCertSign',
    // No key identifiers: nothing but the signature tells its issuer from another of the same name.
    '[noids]', 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'authorityKeyIdentifier=none', 'subjectKeyIdentifier=none',
  ].join('\n'));
  const root = (name: string, cn: string, keyArgs: string[], days = '3650') =>
    run('req', '-x509', '-newkey', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', days, '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const issue = (name: string, cn: string, issuer: string, section: string, keyArgs = ['rsa:2048'], days = '365') => {
    run('req', '-newkey', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', days, '-extfile', 'ext.cnf', '-extensions', section, '-out', `${name}.pem`);
  };
  root('root', 'Test Root CA', ['rsa:2048']);
  issue('int', 'Test Intermediate CA', 'root', 'ca', ['rsa:2048'], '3650');
  issue('leaf', 'Profile Signer', 'int', 'leaf');
  issue('enc', 'Encryption Only', 'int', 'enc');
  root('other', 'Other Root CA', ['rsa:2048']);
  root('short', 'Short Lived CA', ['rsa:2048'], '60');
  root('ecroot', 'Test EC Root', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384']);
  issue('ecleaf', 'EC Profile Signer', 'ecroot', 'leaf', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  issue('edleaf', 'Ed25519 Signer', 'int', 'leaf', ['ed25519']);
  // Forgeries: a CA named as the real intermediate, one named as the real root, each with its own signer;
  // and a signer issued by a certificate that may sign certificates (keyUsage) but is no CA (basicConstraints).
  root('forgedint', 'Test Intermediate CA', ['rsa:2048']);
  issue('forgedleaf', 'Profile Signer', 'forgedint', 'noids');
  root('forgedroot', 'Test Root CA', ['rsa:2048']);
  issue('forgedrootleaf', 'Profile Signer', 'forgedroot', 'leaf');
  issue('notca-issuer', 'Not A CA Issuer', 'int', 'notca');
  issue('notca-leaf', 'Profile Signer', 'notca-issuer', 'leaf');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'notca.key', '-out', 'notca.pem', '-days', '365', '-subj', '/CN=Not A CA', '-addext', 'basicConstraints=critical,CA:FALSE');
  // What a quick `openssl req -x509` makes: a self-signed CA with no keyUsage, so it may sign anything.
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'quick.key', '-out', 'quick.pem', '-days', '365', '-subj', '/CN=Quick Signer', '-addext', 'basicConstraints=critical,CA:TRUE');
  const passphrase = 'p12-S3cr3t-SENTINEL';
  run('pkcs12', '-export', '-in', 'leaf.pem', '-inkey', 'leaf.key', '-certfile', 'int.pem', '-out', 'leaf-aes.p12', '-passout', `pass:${passphrase}`);
  run('pkcs12', '-export', '-legacy', '-in', 'leaf.pem', '-inkey', 'leaf.key', '-certfile', 'int.pem', '-out', 'leaf-legacy.p12', '-passout', `pass:${passphrase}`);
  run('x509', '-in', 'root.pem', '-outform', 'DER', '-out', 'root.der');
  return { dir, path, passphrase };
}
