// Ordered header lines of a SIP message (RFC 3261 §7.3). Lines parsed from the wire keep their
// raw text, are decoded only when read, and are written back verbatim until changed.

import { headerInfo, type HeaderInfo } from './header-names.js';
import { splitValues, valueEnd } from './header-values.js';

/** Headers whose values contain commas that do not separate values (RFC 3261 §7.3.1). */
const NOT_LISTS = new Set([
  'www-authenticate',
  'authorization',
  'proxy-authenticate',
  'proxy-authorization',
  'authentication-info',
  'date',
  'retry-after',
  'subject',
  'user-agent',
  'server',
  'organization',
  'timestamp',
  'call-id',
  'cseq',
  'content-length',
  'content-type',
  'max-forwards',
  'from',
  'to',
  'identity',
]);

/** Any character outside ASCII (U+0080 and up). */
const NON_ASCII = /[\u0080-\uffff]/;
const FOLD = /[ \t]*\r\n[ \t]+/g;

/** arr.splice(at, 0, v) without splice's allocation (arrays here are short). */
function insertAt<T>(arr: T[], at: number, v: T): void {
  arr.push(v);
  for (let k = arr.length - 1; k > at; k--) arr[k] = arr[k - 1] as T;
  arr[at] = v;
}

/** arr.splice(at, 1) without splice's allocation. */
function removeAt<T>(arr: T[], at: number): void {
  for (let k = at; k < arr.length - 1; k++) arr[k] = arr[k + 1] as T;
  arr.pop();
}

export type HeaderInit =
  Iterable<readonly [string, string]> | Readonly<Record<string, string | readonly string[]>>;

/** Parser output adopted by the next constructed SipHeaders (avoids allocating empty arrays). */
let adoptInfos: HeaderInfo[] | undefined;
let adoptValues: (string | undefined)[] = [];
let adoptPos: number[] = [];
let adoptSrc = '';
let adoptAscii = true;

export class SipHeaders {
  #infos: HeaderInfo[];
  /** Decoded values; undefined until first read for lines parsed from the wire. */
  #values: (string | undefined)[];
  /**
   * Per line, three offsets in #src: line start (-1 when the line was added or changed through
   * the API), value start just after the colon (bitwise-inverted when the line is folded), and
   * line end (its CRLF).
   */
  #pos: number[];
  #src: string;
  /** False when #src may hold UTF-8 bytes (decoded on read). */
  #ascii: boolean;
  #version = 0;

  constructor(init?: HeaderInit) {
    const infos = adoptInfos;
    if (infos !== undefined) {
      adoptInfos = undefined;
      this.#src = adoptSrc;
      this.#ascii = adoptAscii;
      this.#infos = infos;
      this.#values = adoptValues;
      this.#pos = adoptPos;
      return;
    }
    this.#src = '';
    this.#ascii = true;
    this.#infos = [];
    this.#values = [];
    this.#pos = [];
    if (init === undefined) return;
    if (Symbol.iterator in init) {
      for (const [n, v] of init as Iterable<readonly [string, string]>) this.append(n, v);
    } else {
      for (const [n, v] of Object.entries(init)) {
        if (typeof v === 'string') this.append(n, v);
        else for (const one of v) this.append(n, one);
      }
    }
  }

  /** @internal Used by the parser: adopts line tables built while scanning `src`. */
  static fromParsed(
    src: string,
    ascii: boolean,
    infos: HeaderInfo[],
    values: (string | undefined)[],
    pos: number[],
  ): SipHeaders {
    adoptSrc = src;
    adoptAscii = ascii;
    adoptInfos = infos;
    adoptValues = values;
    adoptPos = pos;
    return new SipHeaders();
  }

  /** Increments on every change; message caches compare it. */
  get version(): number {
    return this.#version;
  }

  /** Number of header lines. */
  get size(): number {
    return this.#infos.length;
  }

  /** @internal Value of line `i`, decoded from the source on first read. */
  valueAt(i: number): string {
    const v = this.#values[i];
    if (v !== undefined) return v;
    const s = this.#src;
    const v0 = this.#pos[i * 3 + 1] as number;
    let vs = v0 < 0 ? ~v0 : v0;
    let ve = this.#pos[i * 3 + 2] as number;
    while (vs < ve && s.charCodeAt(vs) <= 32) vs++;
    while (ve > vs && (s.charCodeAt(ve - 1) === 32 || s.charCodeAt(ve - 1) === 9)) ve--;
    let value = s.slice(vs, ve);
    // RFC 3261 §7.3.1: a folded line is equivalent to one SP
    if (v0 < 0) value = value.replace(FOLD, ' ');
    if (!this.#ascii && NON_ASCII.test(value))
      value = Buffer.from(value, 'latin1').toString('utf8');
    this.#values[i] = value;
    return value;
  }

  #index(key: string, from = 0): number {
    const infos = this.#infos;
    for (let i = from; i < infos.length; i++) if ((infos[i] as HeaderInfo).key === key) return i;
    return -1;
  }

  get(name: string): string | undefined {
    const i = this.#index(headerInfo(name).key);
    return i < 0 ? undefined : this.valueAt(i);
  }

  getAll(name: string): string[] {
    const key = headerInfo(name).key;
    const out: string[] = [];
    const infos = this.#infos;
    for (let i = 0; i < infos.length; i++)
      if ((infos[i] as HeaderInfo).key === key) out.push(this.valueAt(i));
    return out;
  }

  /** Comma-separated values across all lines (quotes and <> respected). Auth-like headers are not split. */
  values(name: string): string[] {
    const key = headerInfo(name).key;
    const lines = this.getAll(name);
    if (NOT_LISTS.has(key)) return lines;
    const out: string[] = [];
    for (const line of lines) for (const v of splitValues(line)) out.push(v);
    return out;
  }

  has(name: string): boolean {
    return this.#index(headerInfo(name).key) >= 0;
  }

  /** Replaces all lines of that name (at the position of the first one, else at the end). */
  set(name: string, value: string | readonly string[]): void {
    const info = headerInfo(name);
    const vals = typeof value === 'string' ? [value] : value;
    let at = this.#index(info.key);
    if (at >= 0 && vals.length === 1 && this.#index(info.key, at + 1) < 0) {
      // one line replaced by one line: in place
      if (this.#values.length < this.#infos.length) this.#values.length = this.#infos.length;
      this.#values[at] = vals[0];
      this.#infos[at] = info;
      this.#pos[at * 3] = -1;
      this.#version++;
      return;
    }
    if (at >= 0) this.#removeAll(info.key);
    else at = this.#infos.length;
    for (let k = 0; k < vals.length; k++) this.#insert(at + k, info, vals[k] as string);
    this.#version++;
  }

  append(name: string, value: string): void {
    this.#insert(this.#infos.length, headerInfo(name), value);
    this.#version++;
  }

  /** New line before the first line of that name, or at the top when there is none. */
  prepend(name: string, value: string): void {
    const info = headerInfo(name);
    const at = this.#index(info.key);
    this.#insert(at < 0 ? 0 : at, info, value);
    this.#version++;
  }

  delete(name: string): void {
    if (this.#removeAll(headerInfo(name).key)) this.#version++;
  }

  /** Removes and returns the first value (a line "a, b" becomes "b"). */
  shiftValue(name: string): string | undefined {
    const key = headerInfo(name).key;
    const i = this.#index(key);
    if (i < 0) return undefined;
    const line = this.valueAt(i);
    const end = NOT_LISTS.has(key) ? line.length : valueEnd(line, 0);
    const first = line.slice(0, end).trim();
    const rest = line.slice(end + 1).trim();
    if (rest.length === 0) this.#splice(i);
    else {
      this.#values[i] = rest;
      this.#pos[i * 3] = -1;
    }
    this.#version++;
    return first;
  }

  entries(): IterableIterator<[name: string, value: string]> {
    const pairs: [string, string][] = [];
    for (let i = 0; i < this.#infos.length; i++)
      pairs.push([(this.#infos[i] as HeaderInfo).name, this.valueAt(i)]);
    return pairs[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[name: string, value: string]> {
    return this.entries();
  }

  clone(): SipHeaders {
    return SipHeaders.fromParsed(
      this.#src,
      this.#ascii,
      this.#infos.slice(),
      this.#values.slice(),
      this.#pos.slice(),
    );
  }

  #insert(at: number, info: HeaderInfo, value: string): void {
    // the parser leaves #values short (filled on read): align it first
    if (this.#values.length < this.#infos.length) this.#values.length = this.#infos.length;
    insertAt(this.#infos, at, info);
    insertAt(this.#values, at, value);
    const pos = this.#pos;
    pos.push(-1, -1, -1);
    for (let k = pos.length - 1; k >= at * 3 + 3; k--) pos[k] = pos[k - 3] as number;
    pos[at * 3] = -1;
    pos[at * 3 + 1] = -1;
    pos[at * 3 + 2] = -1;
  }

  #splice(i: number): void {
    if (this.#values.length < this.#infos.length) this.#values.length = this.#infos.length;
    removeAt(this.#infos, i);
    removeAt(this.#values, i);
    const pos = this.#pos;
    for (let k = i * 3; k < pos.length - 3; k++) pos[k] = pos[k + 3] as number;
    pos.length -= 3;
  }

  #removeAll(key: string): boolean {
    let removed = false;
    for (let i = this.#infos.length - 1; i >= 0; i--) {
      if ((this.#infos[i] as HeaderInfo).key === key) {
        this.#splice(i);
        removed = true;
      }
    }
    return removed;
  }

  /**
   * @internal The header block as a latin1 "binary" string (each line ending in CRLF), with
   * Content-Length set to `bodyLength`. Unchanged lines are copied from the source verbatim,
   * runs of adjacent unchanged lines in one slice.
   */
  serialize(bodyLength: number): string {
    let out = '';
    let runStart = -1;
    let runEnd = -1;
    let sawLength = false;
    const n = this.#infos.length;
    const src = this.#src;
    for (let i = 0; i < n; i++) {
      let rs = this.#pos[i * 3] as number;
      const info = this.#infos[i] as HeaderInfo;
      if (info.key === 'content-length') {
        sawLength = true;
        if (this.valueAt(i) !== String(bodyLength)) rs = -1;
      }
      if (rs >= 0) {
        if (rs === runEnd + 2 && runStart >= 0) runEnd = this.#pos[i * 3 + 2] as number;
        else {
          if (runStart >= 0) out += src.slice(runStart, runEnd + 2);
          runStart = rs;
          runEnd = this.#pos[i * 3 + 2] as number;
        }
        continue;
      }
      if (runStart >= 0) {
        out += src.slice(runStart, runEnd + 2);
        runStart = -1;
      }
      let value = info.key === 'content-length' ? String(bodyLength) : this.valueAt(i);
      // user-supplied text is UTF-8 on the wire
      if (NON_ASCII.test(value)) value = Buffer.from(value, 'utf8').toString('latin1');
      out += info.name + ': ' + value + '\r\n';
    }
    if (runStart >= 0) out += src.slice(runStart, runEnd + 2);
    if (!sawLength) out += 'Content-Length: ' + bodyLength + '\r\n';
    return out;
  }
}
