/**
 * Self-signed certificates generated at test time with the `openssl` command into a temporary
 * directory (no private keys are committed). One certificate per host name, each naming itself in
 * subjectAltName, so a client can tell which one the server chose (SNI tests).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  host: string;
  certFile: string;
  keyFile: string;
  /** PEM text of the certificate (usable as a client `ca`). */
  cert: string;
}

export interface TestCerts {
  dir: string;
  byHost: Map<string, TestCert>;
  get(host: string): TestCert;
  /** Removes the directory. */
  cleanup(): void;
}

export function generateTestCerts(hosts: readonly string[]): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'sip-stack-tls-'));
  const byHost = new Map<string, TestCert>();
  for (const host of hosts) {
    const certFile = join(dir, `${host}.crt`);
    const keyFile = join(dir, `${host}.key`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=${host}`,
        '-addext',
        `subjectAltName=DNS:${host},IP:127.0.0.1,IP:::1`,
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    byHost.set(host, { host, certFile, keyFile, cert: readFileSync(certFile, 'utf8') });
  }
  return {
    dir,
    byHost,
    get(host) {
      const c = byHost.get(host);
      if (c === undefined) throw new Error(`no test certificate for ${host}`);
      return c;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
