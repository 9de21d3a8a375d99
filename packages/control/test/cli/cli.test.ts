import t from 'tap';
import type { Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/cli/config.js';
import { parseCsv } from '../../src/cli/csv.js';
import { runCli } from '../../src/cli/run-cli.js';
import { NODE_TOKEN_HEADER } from '../../src/http/brain-routes.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), env },
  };
}

t.test(
  'config: file < environment < flags, each validated with the key and its source named',
  (t) => {
    const dir = tempDir(t);
    const yaml = join(dir, 'switchboard.yaml');
    writeFileSync(
      yaml,
      'data_dir: /srv/sb\nhttp:\n  port: 9000\n  host: 127.0.0.1\nlog_level: warn\n',
    );
    t.match(loadConfig({ file: yaml, env: {}, flags: {} }), {
      ok: true,
      value: { dataDir: '/srv/sb', http: { port: 9000, host: '127.0.0.1' }, logLevel: 'warn' },
    });
    t.match(loadConfig({ file: yaml, env: { SWITCHBOARD_HTTP_PORT: '9100' }, flags: {} }), {
      ok: true,
      value: { http: { port: 9100 } },
    });
    t.match(
      loadConfig({
        file: yaml,
        env: { SWITCHBOARD_HTTP_PORT: '9100' },
        flags: { '--port': '9200' },
      }),
      { ok: true, value: { http: { port: 9200 } } },
    );
    writeFileSync(yaml, 'http:\n  prot: 9000\n');
    t.match(loadConfig({ file: yaml, env: {}, flags: {} }), {
      ok: false,
      error: { code: 'CTL_ERR_CONFIG', message: `${yaml}: unknown key http.prot` },
    });
    writeFileSync(yaml, 'http:\n  port: lots\n');
    t.match(loadConfig({ file: yaml, env: {}, flags: {} }), {
      ok: false,
      error: { message: `${yaml}: http.port must be an integer from 0 to 65535` },
    });
    const json = join(dir, 'c.json');
    writeFileSync(json, '{"log_level": "chatty"}');
    t.match(loadConfig({ file: json, env: {}, flags: {} }), {
      ok: false,
      error: { message: /c\.json: log_level must be one of/ },
    });
    writeFileSync(json, '{bad');
    t.match(loadConfig({ file: json, env: {}, flags: {} }), {
      ok: false,
      error: { message: /c\.json: not valid JSON/ },
    });
    t.match(loadConfig({ env: { SWITCHBOARD_HTTP_PORT: '-1' }, flags: {} }), {
      ok: false,
      error: {
        message: 'environment SWITCHBOARD_HTTP_PORT (http.port) must be an integer from 0 to 65535',
      },
    });
    t.match(loadConfig({ env: {}, flags: { '--node-token': 'short' } }), {
      ok: false,
      error: { message: /flag --node-token \(node_token\) must be/ },
    });
    t.match(loadConfig({ file: join(dir, 'missing.yaml'), env: {}, flags: {} }), {
      ok: false,
      error: { message: /missing\.yaml: cannot read the config file \(ENOENT\)/ },
    });
    t.end();
  },
);

t.test('csv: quoted fields, doubled quotes and ragged rows', (t) => {
  t.same(parseCsv('a,b\r\n1,"x, ""y"""\n2,\n'), {
    ok: true,
    rows: [{ a: '1', b: 'x, "y"' }, { a: '2' }],
  });
  t.match(parseCsv('a,b\n1,2,3\n'), { ok: false, line: 2, reason: 'expected 2 fields, found 3' });
  t.match(parseCsv('a\n"open\n'), { ok: false, reason: 'unterminated quoted field' });
  t.end();
});

t.test('cli: migrate, then import a CSV of subscribers, all or nothing', async (t) => {
  const dir = tempDir(t);
  const m = io();
  t.equal((await runCli(['migrate', '--data-dir', dir], m.io)).code, 0);
  t.match(m.out.join(''), /Migrated schema 0 → 1/);
  const again = io();
  await runCli(['migrate', '--data-dir', dir], again.io);
  t.match(again.out.join(''), /up to date \(schema 1\)/);

  const start = io();
  const started = await runCli(
    [
      'start',
      '--data-dir',
      dir,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--log-level',
      'silent',
      '--sip',
      'off',
    ],
    start.io,
  );
  t.ok(started.server);
  const accounts = started.server?.store.db.prepare('SELECT id FROM account').all() as {
    id: string;
  }[];
  await started.server?.stop();
  const acc = accounts[0]?.id ?? '';

  const csv = join(dir, 'users.csv');
  writeFileSync(
    csv,
    'domain,username,password,extension\nimport.test,2001,password-2001,2001\nimport.test,2002,password-2002,2002\n',
  );
  const imp = io();
  t.equal(
    (await runCli(['import', csv, '--data-dir', dir, '--account', acc], imp.io)).code,
    0,
    imp.err.join(''),
  );
  t.match(imp.out.join(''), /Imported 2 subscribers \(1 new domains\)/);

  writeFileSync(
    csv,
    'domain,username,password\nimport.test,2003,password-2003\nimport.test,2004,short\n',
  );
  const bad = io();
  t.equal((await runCli(['import', csv, '--data-dir', dir, '--account', acc], bad.io)).code, 1);
  t.match(
    bad.err.join(''),
    /subscribers\[1\]: password must be at least 8 characters\nNothing was imported/,
  );
  const check = await runCli(
    [
      'start',
      '--data-dir',
      dir,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--log-level',
      'silent',
      '--sip',
      'off',
    ],
    io().io,
  );
  const n = (
    check.server?.store.db
      .prepare("SELECT count(*) AS n FROM sip_user WHERE username LIKE '200%'")
      .get() as { n: number }
  ).n;
  await check.server?.stop();
  t.equal(n, 2, 'the failed import left no row behind');
});

t.test(
  'cli: first start creates a demo account, prints its credentials and serves both APIs',
  async (t) => {
    const dir = tempDir(t);
    const s = io();
    const r = await runCli(
      [
        'start',
        '--data-dir',
        dir,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--log-level',
        'silent',
        '--sip',
        'off',
      ],
      s.io,
    );
    const server = r.server;
    if (server === undefined) return t.fail(s.err.join(''));
    t.teardown(() => server.stop());
    const text = s.out.join('');
    t.match(text, /demo account/);
    const users = [...text.matchAll(/user (\d+) {2}password (\S+)/g)];
    t.equal(users.length, 2, 'two users with passwords are printed');
    const key = /API key \(all scopes, shown once\): (sk_\S+)/.exec(text)?.[1] ?? '';
    const base = `http://127.0.0.1:${server.httpPort}`;
    const list = await fetch(`${base}/v1/users`, { headers: { authorization: `Bearer ${key}` } });
    t.equal(list.status, 200);
    t.equal(((await list.json()) as { items: unknown[] }).items.length, 2);
    const cac = await fetch(`${base}/cac`, { headers: { [NODE_TOKEN_HEADER]: server.nodeToken } });
    t.same(await cac.json(), { accounts: [] });
    t.equal((await fetch(`${base}/cac`)).status, 401, 'the control-plane API needs the node token');
    const second = io();
    const r2 = await runCli(
      [
        'start',
        '--data-dir',
        dir,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--log-level',
        'silent',
        '--sip',
        'off',
      ],
      second.io,
    );
    await r2.server?.stop();
    t.notMatch(second.out.join(''), /demo account/, 'the demo is created only once');
  },
);

t.test('cli: usage errors and a bad config stop with a clear message', async (t) => {
  const u = io();
  t.equal((await runCli(['frobnicate'], u.io)).code, 2);
  t.match(u.err.join(''), /unknown command frobnicate/);
  const c = io({ SWITCHBOARD_HTTP_PORT: 'x' });
  t.equal((await runCli(['start'], c.io)).code, 78);
  t.match(c.err.join(''), /environment SWITCHBOARD_HTTP_PORT \(http\.port\)/);
  const i = io();
  t.equal((await runCli(['import', '--data-dir', tempDir(t)], i.io)).code, 2);
  t.match(i.err.join(''), /name the file to import/);
});
