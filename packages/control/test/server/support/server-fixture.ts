/** Helpers of the server tests: temp dirs, self-signed certificates, HTTP GETs, CLI start flags. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

export function tempDir(t: Test, prefix = 'sb-server-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestCert {
  cert: string;
  key: string;
}

/** A self-signed certificate for localhost / 127.0.0.1, made now with openssl (never committed). */
export function selfSignedCert(dir: string): TestCert {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

/** An even relay port range below the ephemeral range, different per run. */
export function relayFlags(): string[] {
  const min = 20000 + 200 * Math.floor(Math.random() * 40);
  return ['--rtp-min', String(min), '--rtp-max', String(min + 199)];
}

/** Flags for a server on 127.0.0.1 with ephemeral HTTP and SIP ports (UDP + TCP only). */
export function localFlags(dataDir: string): string[] {
  return [
    '--data-dir',
    dataDir,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--log-level',
    'silent',
    '--sip-host',
    '127.0.0.1',
    '--sip-udp-port',
    '0',
    '--sip-tcp-port',
    '0',
    '--sip-ws-port',
    'off',
    '--sip-tls-port',
    'off',
    '--sip-wss-port',
    'off',
    ...relayFlags(),
  ];
}

export async function getText(
  url: string,
): Promise<{ status: number; type: string; text: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

/** The value of one sample in Prometheus text (`name{labels} value`), undefined when absent. */
export function sample(text: string, name: string, labels = ''): number | undefined {
  const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

export function cliIo(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env },
  };
}

/** Demo credentials as `switchboard start` prints them on first start. */
export function passwordsIn(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/user (\d+)\s+password (\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']),
  );
}
