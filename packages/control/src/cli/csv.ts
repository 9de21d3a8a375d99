/**
 * RFC 4180 CSV: a header line of column names, quoted fields with doubled quotes, CRLF or LF.
 * Returns one object per data row keyed by the header; empty cells are omitted.
 */
export function parseCsv(
  text: string,
): { ok: true; rows: Record<string, string>[] } | { ok: false; line: number; reason: string } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      line++;
    } else field += ch;
  }
  if (quoted) return { ok: false, line, reason: 'unterminated quoted field' };
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const nonEmpty = records.filter((r) => !(r.length === 1 && r[0] === ''));
  const header = nonEmpty.shift();
  if (header === undefined) return { ok: false, line: 1, reason: 'no header line' };
  const names = header.map((h) => h.trim());
  const rows: Record<string, string>[] = [];
  for (const [n, r] of nonEmpty.entries()) {
    if (r.length !== names.length)
      return {
        ok: false,
        line: n + 2,
        reason: `expected ${names.length} fields, found ${r.length}`,
      };
    const row: Record<string, string> = {};
    for (const [i, name] of names.entries()) if (r[i] !== '') row[name] = r[i] ?? '';
    rows.push(row);
  }
  return { ok: true, rows };
}
