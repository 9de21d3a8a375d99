// Ordered header lines of a SIP message (RFC 3261 §7.3). Lines parsed from the wire keep their
// raw text, are decoded only when read, and are written back verbatim until changed.

import { isAscii } from 'node:buffer';
import { headerInfo, infoOfId, HeaderId, type HeaderInfo } from './header-names.js';
import { splitValues, valueEnd } from './header-values.js';
import {
  asciiBytes,
  insertAt,
  keyId,
  keyStart,
  lineKey,
  isNotList,
  removeAt,
  serializeLines,
  wireLineInfo,
  wireValue,
} from './header-lines.js';

export type HeaderInit =
  Iterable<readonly [string, string]> | Readonly<Record<string, string | readonly string[]>>;

/** Columns per line in the position table (header-lines.ts COLS; a module const is embedded). */
const COLS = 3;

/** Placeholder table of a SipHeaders being adopted (never read: #adopt replaces it). */
const NO_LINES: number[] = [];

/**
 * Set just before the parser constructs a SipHeaders whose fields it then fills in (no empty
 * arrays allocated). A flag, not the parser's objects: storing young objects in module variables
 * (old space) costs a write barrier each.
 */
let adopting = false;

export class SipHeaders {
  /**
   * Per line, COLS numbers: the line key (lineKey: offset of the line in #src, -1 when the line
   * was added or changed through the API, and the line's HeaderId), offset of the value just after
   * the colon (bitwise-inverted when the line is folded; -1 for API lines), offset of the line end
   * (its CRLF).
   */
  #pos: number[];
  /** Per line; undefined until first needed for lines parsed from the wire (classified lazily). */
  #infos: HeaderInfo[] | undefined;
  /** Decoded values; undefined (or short) until first read for lines parsed from the wire. */
  #values: (string | undefined)[] | undefined;
  #src: string;
  /** The received bytes #src was decoded from (latin1: same offsets), to find UTF-8 values. */
  #bytes: Uint8Array | undefined;
  /** Whether all of #bytes is ASCII: -1 until first needed, then 0 or 1. */
  #ascii = -1;
  #version = 0;

  constructor(init?: HeaderInit) {
    if (adopting) {
      // (#adopt sets every field right after)
      adopting = false;
      this.#pos = NO_LINES;
      this.#infos = undefined;
      this.#values = undefined;
      this.#src = '';
      this.#bytes = undefined;
      return;
    }
    this.#pos = [];
    this.#infos = [];
    this.#values = [];
    this.#src = '';
    this.#bytes = undefined;
    if (init !== undefined) this.#appendAll(init);
  }

  // (out of the constructor: a small constructor is inlined where the parser builds headers)
  #appendAll(init: HeaderInit): void {
    if (Symbol.iterator in init) {
      for (const [n, v] of init as Iterable<readonly [string, string]>) this.append(n, v);
    } else {
      for (const [n, v] of Object.entries(init)) {
        if (typeof v === 'string') this.append(n, v);
        else for (const one of v) this.append(n, one);
      }
    }
  }

  /**
   * @internal Used by the parser: adopts the position table built while scanning `src`
   * (COLS numbers per line, see #pos); names other than the routing ones are classified on use.
   */
  static fromParsed(src: string, bytes: Uint8Array, pos: number[], ascii = false): SipHeaders {
    const h = SipHeaders.#adopt(src, bytes, pos, undefined, undefined);
    // (the parser already knows all of `bytes` is ASCII: saves the check on first read)
    if (ascii) h.#ascii = 1;
    return h;
  }

  static #adopt(
    src: string,
    bytes: Uint8Array | undefined,
    pos: number[],
    infos: HeaderInfo[] | undefined,
    values: (string | undefined)[] | undefined,
  ): SipHeaders {
    adopting = true;
    const h = new SipHeaders();
    h.#pos = pos;
    h.#infos = infos;
    h.#values = values;
    h.#src = src;
    h.#bytes = bytes;
    return h;
  }

  /** Increments on every change; message caches compare it. */
  get version(): number {
    return this.#version;
  }

  /** Number of header lines. */
  get size(): number {
    return this.#pos.length / COLS;
  }

  /** Per-line infos, classifying lines parsed from the wire on first use. */
  #lines(): HeaderInfo[] {
    const known = this.#infos;
    if (known !== undefined) return known;
    const pos = this.#pos;
    const s = this.#src;
    const n = pos.length / COLS;
    const infos: HeaderInfo[] = new Array<HeaderInfo>(n);
    for (let i = 0; i < n; i++) {
      const key = pos[i * COLS] as number;
      const id = keyId(key);
      if (id !== HeaderId.other) {
        infos[i] = infoOfId(id);
        continue;
      }
      infos[i] = wireLineInfo(s, keyStart(key), pos[i * COLS + 1] as number);
    }
    return (this.#infos = infos);
  }

  /** #values, allocated and aligned with the lines. */
  #vals(): (string | undefined)[] {
    const n = this.#pos.length / COLS;
    let values = this.#values;
    if (values === undefined) values = this.#values = new Array<string | undefined>(n);
    else if (values.length < n) values.length = n;
    return values;
  }

  /** @internal Index of the first line with HeaderId `id` at or after `from`, or -1. */
  lineOf(id: HeaderId, from = 0): number {
    const pos = this.#pos;
    for (let i = from, k = from * COLS; k < pos.length; i++, k += COLS)
      if (keyId(pos[k] as number) === id) return i;
    return -1;
  }

  /** @internal Value of line `i`: the cached one, else decoded without caching it. */
  peekAt(i: number): string {
    const values = this.#values;
    const v = values === undefined ? undefined : values[i];
    return v !== undefined ? v : this.#decode(i);
  }

  /** @internal Value of the first line with HeaderId `id` (not cached: callers cache). */
  firstOf(id: HeaderId): string | undefined {
    const i = this.lineOf(id);
    return i < 0 ? undefined : this.peekAt(i);
  }

  /**
   * @internal Comma-split values of every line with HeaderId `id` (a list header: Via, Route,
   * Record-Route, Contact), as values() gives them; decoded values are not cached.
   */
  valuesOf(id: HeaderId): string[] {
    const out: string[] = [];
    for (let i = this.lineOf(id); i >= 0; i = this.lineOf(id, i + 1)) {
      const line = this.peekAt(i);
      if (line.indexOf(',') < 0) {
        const v = line.trim();
        if (v.length > 0) out.push(v);
      } else for (const v of splitValues(line)) out.push(v);
    }
    return out;
  }

  /**
   * @internal The source text when line `i` can be read in place (an unchanged, unfolded, ASCII
   * line parsed from the wire), with its trimmed value at span[0, 1) of it; else undefined.
   */
  rawSpan(i: number, span: [number, number]): string | undefined {
    const pos = this.#pos;
    const values = this.#values;
    let vs = pos[i * COLS + 1] as number;
    if (vs < 0 || (values !== undefined && values[i] !== undefined)) return undefined;
    let ve = pos[i * COLS + 2] as number;
    const b = this.#bytes;
    if (b !== undefined) {
      // (the received bytes: byte reads are cheaper than charCodeAt)
      while (vs < ve && (b[vs] as number) <= 32) vs++;
      while (ve > vs && (b[ve - 1] === 32 || b[ve - 1] === 9)) ve--;
      if (this.#ascii !== 1 && !this.#asciiSpan(vs, ve)) return undefined;
    } else {
      const t = this.#src;
      while (vs < ve && t.charCodeAt(vs) <= 32) vs++;
      while (ve > vs && (t.charCodeAt(ve - 1) === 32 || t.charCodeAt(ve - 1) === 9)) ve--;
    }
    const s = this.#src;
    span[0] = vs;
    span[1] = ve;
    return s;
  }

  /** @internal The received bytes the wire lines are decoded from (latin1 offsets), if any. */
  get rawBytes(): Uint8Array | undefined {
    return this.#bytes;
  }

  /** True when the wire bytes [from, to) are ASCII (their latin1 text is the decoded text). */
  #asciiSpan(from: number, to: number): boolean {
    const b = this.#bytes;
    if (b === undefined) return true;
    // one native check per message (most are all ASCII), then per value when it is not
    if (this.#ascii < 0) this.#ascii = isAscii(b) ? 1 : 0;
    return this.#ascii === 1 || asciiBytes(b, from, to);
  }

  /** @internal Value of line `i`, decoded from the source on first read. */
  valueAt(i: number): string {
    const values = this.#values;
    const v = values === undefined ? undefined : values[i];
    if (v !== undefined) return v;
    const value = this.#decode(i);
    this.#vals()[i] = value;
    return value;
  }

  /** Value of wire line `i`: trimmed, unfolded, UTF-8 decoded. */
  #decode(i: number): string {
    const b = this.#bytes;
    // one native check per message (most are all ASCII), then per value when it is not
    if (b !== undefined && this.#ascii < 0) this.#ascii = isAscii(b) ? 1 : 0;
    const pos = this.#pos;
    const bytes = this.#ascii === 0 ? b : undefined;
    return wireValue(this.#src, bytes, pos[i * COLS + 1] as number, pos[i * COLS + 2] as number);
  }

  #index(key: string, from = 0): number {
    const infos = this.#lines();
    for (let i = from; i < infos.length; i++) if ((infos[i] as HeaderInfo).key === key) return i;
    return -1;
  }

  get(name: string): string | undefined {
    const info = headerInfo(name);
    // the routing headers are found by id without classifying the other lines
    const i = info.id !== HeaderId.other ? this.lineOf(info.id) : this.#index(info.key);
    return i < 0 ? undefined : this.valueAt(i);
  }

  getAll(name: string): string[] {
    const info = headerInfo(name);
    const out: string[] = [];
    if (info.id !== HeaderId.other) {
      for (let i = this.lineOf(info.id); i >= 0; i = this.lineOf(info.id, i + 1))
        out.push(this.valueAt(i));
      return out;
    }
    const infos = this.#lines();
    for (let i = 0; i < infos.length; i++)
      if ((infos[i] as HeaderInfo).key === info.key) out.push(this.valueAt(i));
    return out;
  }

  /** Comma-separated values across all lines (quotes and <> respected). Auth-like headers are not split. */
  values(name: string): string[] {
    const key = headerInfo(name).key;
    const lines = this.getAll(name);
    if (isNotList(key)) return lines;
    const out: string[] = [];
    for (const line of lines) {
      if (line.indexOf(',') < 0) {
        // one value on the line: what splitValues would return, without its array
        const v = line.trim();
        if (v.length > 0) out.push(v);
      } else for (const v of splitValues(line)) out.push(v);
    }
    return out;
  }

  has(name: string): boolean {
    const info = headerInfo(name);
    return (info.id !== HeaderId.other ? this.lineOf(info.id) : this.#index(info.key)) >= 0;
  }

  /** Replaces all lines of that name (at the position of the first one, else at the end). */
  set(name: string, value: string | readonly string[]): void {
    const info = headerInfo(name);
    const vals = typeof value === 'string' ? [value] : value;
    let at = this.#index(info.key);
    if (at >= 0 && vals.length === 1 && this.#index(info.key, at + 1) < 0) {
      // one line replaced by one line: in place
      this.#vals()[at] = vals[0];
      (this.#infos as HeaderInfo[])[at] = info;
      this.#markChanged(at);
      this.#version++;
      return;
    }
    if (at >= 0) this.#removeAll(info.key);
    else at = this.size;
    for (let k = 0; k < vals.length; k++) this.#insert(at + k, info, vals[k] as string);
    this.#version++;
  }

  append(name: string, value: string): void {
    this.#insert(this.size, headerInfo(name), value);
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
    const end = isNotList(key) ? line.length : valueEnd(line, 0);
    const first = line.slice(0, end).trim();
    const rest = line.slice(end + 1).trim();
    if (rest.length === 0) this.#splice(i);
    else {
      this.#vals()[i] = rest;
      this.#markChanged(i);
    }
    this.#version++;
    return first;
  }

  entries(): IterableIterator<[name: string, value: string]> {
    const infos = this.#lines();
    const pairs: [string, string][] = [];
    for (let i = 0; i < infos.length; i++)
      pairs.push([(infos[i] as HeaderInfo).name, this.valueAt(i)]);
    return pairs[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[name: string, value: string]> {
    return this.entries();
  }

  clone(): SipHeaders {
    return SipHeaders.#adopt(
      this.#src,
      this.#bytes,
      this.#pos.slice(),
      this.#infos?.slice(),
      this.#values?.slice(),
    );
  }

  #insert(at: number, info: HeaderInfo, value: string): void {
    const infos = this.#lines();
    // the parser leaves #values short (filled on read): align it first
    const values = this.#vals();
    insertAt(infos, at, info);
    insertAt(values, at, value);
    const pos = this.#pos;
    pos.push(-1, -1, -1);
    for (let k = pos.length - 1; k >= at * COLS + COLS; k--) pos[k] = pos[k - COLS] as number;
    pos[at * COLS] = lineKey(-1, info.id);
    pos[at * COLS + 1] = -1;
    pos[at * COLS + 2] = -1;
  }

  /** Line `i` is no longer the wire text (its value is in #values); it keeps its HeaderId. */
  #markChanged(i: number): void {
    const pos = this.#pos;
    pos[i * COLS] = lineKey(-1, keyId(pos[i * COLS] as number));
    pos[i * COLS + 1] = -1;
  }

  #splice(i: number): void {
    removeAt(this.#lines(), i);
    removeAt(this.#vals(), i);
    const pos = this.#pos;
    for (let k = i * COLS; k < pos.length - COLS; k++) pos[k] = pos[k + COLS] as number;
    pos.length -= COLS;
  }

  #removeAll(key: string): boolean {
    const infos = this.#lines();
    let removed = false;
    for (let i = infos.length - 1; i >= 0; i--) {
      if ((infos[i] as HeaderInfo).key === key) {
        this.#splice(i);
        removed = true;
      }
    }
    return removed;
  }

  /** @internal Display name of line `i`. */
  nameAt(i: number): string {
    return (this.#lines()[i] as HeaderInfo).name;
  }

  /**
   * @internal The header block as a latin1 "binary" string (each line ending in CRLF), with
   * Content-Length set to `bodyLength`; unchanged lines are copied from the source verbatim.
   */
  serialize(bodyLength: number): string {
    return serializeLines(this, this.#pos, this.#src, bodyLength);
  }
}
