/** Reads certificate files for TLS and WSS listeners (SNI contexts included). */
import { readFile } from 'node:fs/promises';
import type { SecureContextOptions } from 'node:tls';
import { TransportError } from './transport-error.js';
import type { TlsCertificateFiles, TlsListenOptions } from './transport.js';

export interface LoadedTls {
  /** Default certificate (used when the client sends no server name, or an unknown one). */
  options: SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean };
  /** Server name (wildcards allowed) → context options, for `tls.Server.addContext`. */
  sni: [servername: string, options: SecureContextOptions][];
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new TransportError('SIP_ERR_TLS_CONFIG', `cannot read TLS ${what} file ${file}`, {
      cause: err,
    });
  }
}

async function loadPair(files: TlsCertificateFiles): Promise<SecureContextOptions> {
  const [cert, key] = await Promise.all([
    readPem(files.certFile, 'certificate'),
    readPem(files.keyFile, 'key'),
  ]);
  return { cert, key };
}

export async function loadTlsFiles(spec: TlsListenOptions): Promise<LoadedTls> {
  const options: LoadedTls['options'] = await loadPair(spec);
  if (spec.caFile !== undefined) options.ca = await readPem(spec.caFile, 'CA');
  if (spec.requestCert !== undefined) options.requestCert = spec.requestCert;
  if (spec.rejectUnauthorized !== undefined) options.rejectUnauthorized = spec.rejectUnauthorized;
  const sni: LoadedTls['sni'] = [];
  for (const [name, files] of Object.entries(spec.sni ?? {}))
    sni.push([name, await loadPair(files)]);
  return { options, sni };
}
