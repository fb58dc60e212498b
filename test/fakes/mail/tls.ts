// Throwaway TLS material for the loopback mail fakes: a test CA, a trusted localhost cert and untrusted ones.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  caPem: string;
  certPem: string;
  keyPem: string;
}
export interface CertPair {
  certPem: string;
  keyPem: string;
}

const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1';
// EC P-256 keys: generated in milliseconds, unlike RSA.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

let cachedCa: TestCa | undefined;
let cachedUntrusted: CertPair | undefined;
let cachedWrongHost: CertPair | undefined;

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed (is the openssl package installed?): ${stderr || String(err)}`);
  }
}

/** Issues a leaf certificate signed by the CA in `dir` (ca.pem/ca.key). */
function issueLeaf(dir: string, name: string, cn: string, san: string): CertPair {
  writeFileSync(
    join(dir, `${name}.ext`),
    `${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(dir, ['req', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-sha256',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ]);
  return {
    certPem: readFileSync(join(dir, `${name}.pem`), 'utf8'),
    keyPem: readFileSync(join(dir, `${name}.key`), 'utf8'),
  };
}

let caKeyPem: string | undefined;

/** A CA plus a server certificate for localhost and 127.0.0.1, created once per process. */
export function makeTestCa(): TestCa {
  if (cachedCa) return cachedCa;
  cachedCa = withTempDir((dir) => {
    openssl(dir, [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-sha256',
      '-subj',
      '/CN=Mailroom Test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const leaf = issueLeaf(dir, 'server', 'localhost', SAN);
    caKeyPem = readFileSync(join(dir, 'ca.key'), 'utf8');
    return { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), ...leaf };
  });
  return cachedCa;
}

/** A self-signed localhost certificate that no test CA vouches for (the TLS_CERT case). */
export function makeUntrustedCert(): CertPair {
  if (cachedUntrusted) return cachedUntrusted;
  cachedUntrusted = withTempDir((dir) => {
    openssl(dir, [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      'self.key',
      '-out',
      'self.pem',
      '-days',
      '2',
      '-sha256',
      '-subj',
      '/CN=localhost',
      '-addext',
      SAN,
    ]);
    return {
      certPem: readFileSync(join(dir, 'self.pem'), 'utf8'),
      keyPem: readFileSync(join(dir, 'self.key'), 'utf8'),
    };
  });
  return cachedUntrusted;
}

/** Signed by the test CA but for another host name: the hostname-mismatch case. */
export function makeWrongHostCert(): CertPair {
  if (cachedWrongHost) return cachedWrongHost;
  const ca = makeTestCa();
  cachedWrongHost = withTempDir((dir) => {
    writeFileSync(join(dir, 'ca.pem'), ca.caPem);
    writeFileSync(join(dir, 'ca.key'), caKeyPem ?? '');
    return issueLeaf(dir, 'wrong', 'mail.example.invalid', 'subjectAltName=DNS:mail.example.invalid');
  });
  return cachedWrongHost;
}
