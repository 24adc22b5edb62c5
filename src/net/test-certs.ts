/**
 * Throwaway certificates for tests (ours and the protocol engineers'): a CA, a server
 * certificate for `localhost` / 127.0.0.1 and a client certificate, made with the `openssl`
 * binary in a directory the caller owns (and removes). EC P-256 keys: fast to generate.
 *
 * Imports: node built-ins.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** CN of the client certificate */
  clientName: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Make the files under `dir` (which must exist). Takes ~100 ms. */
export function makeTestCerts(dir: string, clientName = 'certuser'): TestCerts {
  const p = (n: string): string => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      p('ca.key'),
      '-out',
      p('ca.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=cyrus-ts test CA',
    ],
    dir,
  );
  writeFileSync(p('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl(['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost'], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      p('server.csr'),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      p('server.ext'),
      '-out',
      p('server.pem'),
    ],
    dir,
  );
  writeFileSync(p('client.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  openssl(
    ['req', ...ec, '-keyout', p('client.key'), '-out', p('client.csr'), '-subj', `/CN=${clientName}`],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      p('client.csr'),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      p('client.ext'),
      '-out',
      p('client.pem'),
    ],
    dir,
  );
  return {
    dir,
    caCert: p('ca.pem'),
    caKey: p('ca.key'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    clientName,
  };
}
