/**
 * SIPp as a child process: every run is bounded (`-m`, `-timeout`, `-timeout_error`, and a kill by
 * PID as the last resort), writes its logs into a temporary directory, and reports its exit code,
 * the messages it sent and received (`-trace_msg`) and any unexpected ones (`-trace_err`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

export interface SippOptions {
  /** Scenario file name in test/e2e/scenarios. */
  scenario: string;
  /** The server: `host:port`; omitted for a UAS that only answers. */
  remote?: string;
  transport?: 'udp' | 'tcp';
  /** Local SIP port (`-p`); choose one with freePort(). */
  localPort: number;
  localIp?: string;
  /** Scenario variables (`-set name value`), declared by the scenario's `<Global variables>`. */
  vars?: Record<string, string>;
  /**
   * Digest credentials for `[authentication]` (`-au`, `-ap`, `-auth_uri`). SIPp puts
   * `sip:remote_ip:remote_port` in the digest uri unless told: give the Request-URI.
   */
  auth?: { user: string; password: string; uri: string };
  /** Calls to complete before exiting (`-m`), default 1. */
  calls?: number;
  /** SIPp's own global timeout; the process is killed 3 s after it. */
  timeoutMs: number;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** Call-ID prefix (`-cid_str`): call n gets `${callId}${n}`. */
  callId?: string;
}

export interface SippResult {
  /** 0: every call succeeded; 1: some failed; 97/99/255: see SIPp's manual. null when killed. */
  exitCode: number | null;
  killed: boolean;
  successful: number;
  failed: number;
  /** Unexpected messages and errors SIPp traced (`-trace_err`). */
  errors: string;
  /** Every message sent and received (`-trace_msg`). */
  messages: string;
  /** Console output, for failure reports. */
  output: string;
}

export interface SippProcess {
  readonly pid: number;
  readonly done: Promise<SippResult>;
  /** Kills the process by PID (idempotent). */
  kill(): void;
}

function args(o: SippOptions): string[] {
  const a = ['-sf', join(SCENARIOS, o.scenario), '-t', o.transport === 'tcp' ? 't1' : 'u1'];
  a.push('-i', o.localIp ?? '127.0.0.1', '-p', String(o.localPort), '-bind_local');
  a.push('-m', String(o.calls ?? 1), '-timeout', `${Math.ceil(o.timeoutMs / 1000)}s`);
  // -aa: OPTIONS (trunk probes, qualify) are answered 200 outside the scenario.
  a.push('-timeout_error', '-nostdin', '-trace_err', '-trace_msg', '-aa');
  a.push('-trace_stat', '-max_socket', '16', '-mp', String(o.localPort + 2));
  for (const [k, v] of Object.entries(o.vars ?? {})) a.push('-set', k, v);
  if (o.auth !== undefined)
    a.push(
      '-au',
      o.auth.user,
      '-ap',
      o.auth.password,
      '-auth_uri',
      o.auth.uri.replace(/^sip:/, ''),
    ); // SIPp adds the scheme
  if (o.callId !== undefined) a.push('-cid_str', `${o.callId}%u`);
  if (o.remote !== undefined) a.push(o.remote);
  return o.netns === undefined ? a : ['netns', 'exec', o.netns, 'sipp', ...a];
}

function readLog(dir: string, suffix: string): string {
  const f = readdirSync(dir).find((n) => n.endsWith(suffix));
  return f === undefined ? '' : readFileSync(join(dir, f), 'latin1');
}

/** Successful and failed calls from the last line of the `-trace_stat` CSV. */
function parseStat(csv: string): { successful: number; failed: number } {
  const lines = csv.trim().split('\n');
  const head = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  const col = (name: string): number => Number(last[head.indexOf(name)] ?? 0) || 0;
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}

export function startSipp(o: SippOptions): SippProcess {
  const dir = mkdtempSync(join(tmpdir(), 'sb-sipp-'));
  const child = spawn(o.netns === undefined ? 'sipp' : 'ip', args(o), {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString('latin1')).slice(-4000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString('latin1')).slice(-4000)));
  let killed = false;
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    killed = true;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const guard = setTimeout(kill, o.timeoutMs + 3000);
  const done = new Promise<SippResult>((resolve) => {
    child.on('error', (err) => (output += `\nspawn failed: ${err.message}`));
    child.on('close', (code) => {
      clearTimeout(guard);
      const stat = parseStat(readLog(dir, '_.csv'));
      const result: SippResult = {
        exitCode: killed ? null : code,
        killed,
        ...stat,
        errors: readLog(dir, '_errors.log'),
        messages: readLog(dir, '_messages.log'),
        output,
      };
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      resolve(result);
    });
  });
  return { pid: child.pid ?? -1, done, kill };
}

export function runSipp(o: SippOptions): Promise<SippResult> {
  return startSipp(o).done;
}

/**
 * How often a request (by method) or response (by status) was sent or received in a run, read
 * from the `-trace_msg` log (retransmissions included).
 */
export function countOf(r: SippResult, direction: 'sent' | 'received', message: string): number {
  const verb = direction === 'sent' ? 'sent' : 'received';
  const start = /^\d{3}$/.test(message) ? `SIP/2.0 ${message} ` : `${message} `;
  let n = 0;
  for (const block of r.messages.split(/^-{20,}.*$/m)) {
    const m = /^\s*(?:UDP|TCP|TLS|SCTP) message (\w+)[^\n]*\n\s*\n([^\r\n]*)/.exec(block);
    if (m !== null && m[1] === verb && (m[2] ?? '').startsWith(start)) n++;
  }
  return n;
}

/** A short description of a failed run for assertion messages. */
export function explain(r: SippResult): string {
  return `exit ${String(r.exitCode)}${r.killed ? ' (killed)' : ''}; errors: ${r.errors.slice(0, 1500)}; output: ${r.output.slice(-600)}`;
}
