// The benchmark's users, written in every format the run needs: SIPp injection files, the
// Switchboard provisioning CSV and the Kamailio htable (db_text) table. Users are numbered
// (100000, 100001, ...) with password `pw<user>x`, all in one domain.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** `count` generated users, or the `username,password` lines of a file (`--users`). */
export function loadUsers({ count, file }) {
  if (file === undefined) {
    return Array.from({ length: count }, (_, i) => {
      const username = String(100000 + i);
      return { username, password: `pw${username}x` };
    });
  }
  const users = [];
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || /^username[,;]/i.test(t)) continue;
    const [username, password] = t.split(/[,;]/);
    if (!username || password === undefined) throw new Error(`${file}: bad line "${t}"`);
    users.push({ username, password });
  }
  if (users.length === 0) throw new Error(`${file}: no users`);
  return users;
}

const authField = (u) => `[authentication username=${u.username} password=${u.password}]`;

/**
 * Writes the SIPp injection files into `dir`:
 *  - register.csv: every user (`user;domain;[authentication ...]`), RANDOM or SEQUENTIAL;
 *  - callee.csv: the callee alone (registered on the UAS port before the calls);
 *  - uac.csv: every user but the callee as caller (`caller;domain;[authentication ...];callee`).
 */
export function writeSippFiles(dir, users, { domain, callee, order }) {
  const reg = users.map((u) => `${u.username};${domain};${authField(u)}`);
  const files = {
    register: path.join(dir, 'register.csv'),
    callee: path.join(dir, 'callee.csv'),
    uac: path.join(dir, 'uac.csv'),
  };
  writeFileSync(files.register, `${order}\n${reg.join('\n')}\n`);
  const c = users.find((u) => u.username === callee);
  if (c === undefined) throw new Error(`the callee ${callee} is not one of the users`);
  writeFileSync(files.callee, `SEQUENTIAL\n${c.username};${domain};${authField(c)}\n`);
  const callers = users
    .filter((u) => u.username !== callee)
    .map((u) => `${u.username};${domain};${authField(u)};${callee}`);
  writeFileSync(files.uac, `${order}\n${callers.join('\n')}\n`);
  return files;
}

/** Switchboard's provisioning CSV (`switchboard import`): domain,username,password,... */
export function writeSwitchboardCsv(file, users, domain) {
  const rows = users.map((u) => `${domain},${u.username},${u.password},,,${u.username}`);
  writeFileSync(
    file,
    `domain,username,password,display_name,caller_id_number,extension\n${rows.join('\n')}\n`,
  );
}

/** Kamailio: db_text tables `htable` (users=>password) and `version`, in `dir`. */
export function writeKamailioTables(dir, users) {
  const head =
    'id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int) ';
  const rows = users.map((u, i) => `${i + 1}:${u.username}:0:0:${u.password}:0`);
  writeFileSync(path.join(dir, 'htable'), `${head}\n${rows.join('\n')}\n`);
  writeFileSync(
    path.join(dir, 'version'),
    'id(int,auto) table_name(string) table_version(int) \n0:htable:2\n',
  );
}
