import t from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/cli/config.js';
import { serviceOptions } from '../../src/server/edge-service.js';
import { silentLogger } from '../../src/edge/edge-options.js';
import { hasOpenssl, selfSignedCert, tempDir } from '../server/support/server-fixture.js';

const TOKEN = 'node-token-0123456789';

t.test('config: new keys have their defaults', (t) => {
  t.match(loadConfig({ env: {}, flags: {} }), {
    ok: true,
    value: {
      workers: 1,
      drainTimeoutSec: 30,
      brain: undefined,
      location: { redis: undefined },
      sip: {
        tlsPort: 5061,
        wssPort: 7443,
        tls: { cert: undefined, key: undefined, ca: undefined },
        relayForeignDomains: false,
      },
    },
  });
  t.end();
});

t.test('config: workers, drain timeout, brain and Redis are validated with the key named', (t) => {
  t.match(loadConfig({ env: { SWITCHBOARD_WORKERS: '4' }, flags: { '--drain-timeout': '5' } }), {
    ok: true,
    value: { workers: 4, drainTimeoutSec: 5 },
  });
  t.match(loadConfig({ env: {}, flags: { '--workers': '0' } }), {
    ok: false,
    error: {
      code: 'CTL_ERR_CONFIG',
      message: 'flag --workers (workers) must be an integer of at least 1',
    },
  });
  t.match(loadConfig({ env: { SWITCHBOARD_WORKERS: 'two' }, flags: {} }), {
    ok: false,
    error: { message: /environment SWITCHBOARD_WORKERS \(workers\) must be an integer/ },
  });
  t.match(loadConfig({ env: {}, flags: { '--drain-timeout': '-1' } }), {
    ok: false,
    error: { message: /drain_timeout_sec\) must be an integer of at least 0/ },
  });
  t.match(loadConfig({ env: {}, flags: { '--brain': 'http://10.0.0.1:8080' } }), {
    ok: false,
    error: { message: /^node_token is required with brain/ },
  });
  t.match(
    loadConfig({ env: {}, flags: { '--brain': 'http://10.0.0.1:8080', '--node-token': TOKEN } }),
    { ok: true, value: { brain: 'http://10.0.0.1:8080', nodeToken: TOKEN } },
  );
  t.match(loadConfig({ env: {}, flags: { '--brain': 'ftp://x', '--node-token': TOKEN } }), {
    ok: false,
    error: { message: 'flag --brain (brain) must be a http:// URL' },
  });
  t.match(
    loadConfig({ env: { SWITCHBOARD_LOCATION_REDIS: 'redis://127.0.0.1:6379/2' }, flags: {} }),
    {
      ok: true,
      value: { location: { redis: 'redis://127.0.0.1:6379/2' } },
    },
  );
  t.match(loadConfig({ env: {}, flags: { '--location-redis': 'localhost:6379' } }), {
    ok: false,
    error: { message: /location\.redis\) must be a redis:\/\/ or rediss:\/\/ URL/ },
  });
  t.match(loadConfig({ env: {}, flags: { '--sip-relay-foreign-domains': 'on' } }), {
    ok: true,
    value: { sip: { relayForeignDomains: true } },
  });
  t.end();
});

t.test('config: file < environment < flags for the new keys', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'sb.yaml');
  writeFileSync(
    file,
    'workers: 2\ndrain_timeout_sec: 10\nsip:\n  relay_foreign_domains: true\nlocation:\n  redis: redis://10.0.0.2:6379\n',
  );
  t.match(loadConfig({ file, env: {}, flags: {} }), {
    ok: true,
    value: {
      workers: 2,
      drainTimeoutSec: 10,
      sip: { relayForeignDomains: true },
      location: { redis: 'redis://10.0.0.2:6379' },
    },
  });
  t.match(loadConfig({ file, env: { SWITCHBOARD_WORKERS: '3' }, flags: { '--workers': '4' } }), {
    ok: true,
    value: { workers: 4 },
  });
  writeFileSync(file, 'workers: 1.5\n');
  t.match(loadConfig({ file, env: {}, flags: {} }), {
    ok: false,
    error: { message: `${file}: workers must be an integer of at least 1` },
  });
  t.end();
});

t.test(
  'config: TLS needs a readable certificate and key; a missing file is an error naming the key',
  { skip: hasOpenssl() ? false : 'openssl is not installed' },
  (t) => {
    const dir = tempDir(t);
    const { cert, key } = selfSignedCert(dir);
    const file = join(dir, 'sb.yaml');
    writeFileSync(file, `sip:\n  tls:\n    cert: ${cert}\n    key: ${key}\n`);
    const loaded = loadConfig({ file, env: {}, flags: {} });
    t.match(loaded, { ok: true, value: { sip: { tls: { cert, key } } } });
    if (!loaded.ok) return t.end();
    const listen = serviceOptions(loaded.value, silentLogger).listen;
    t.match(
      listen.filter((l) => l.protocol === 'tls' || l.protocol === 'wss'),
      [
        { protocol: 'tls', port: 5061, tls: { certFile: cert, keyFile: key } },
        { protocol: 'wss', port: 7443, tls: { certFile: cert, keyFile: key } },
      ],
      'TLS 5061 and WSS 7443 on the same certificate',
    );
    const none = loadConfig({ env: {}, flags: {} });
    if (none.ok)
      t.notOk(
        serviceOptions(none.value, silentLogger).listen.some((l) => l.protocol === 'tls'),
        'no certificate, no TLS listener',
      );

    t.match(loadConfig({ env: {}, flags: { '--sip-tls-cert': join(dir, 'nope.pem') } }), {
      ok: false,
      error: {
        message:
          /^flag --sip-tls-cert \(sip\.tls\.cert\) must be a readable PEM file \(.*nope\.pem: ENOENT\)/,
      },
    });
    t.match(loadConfig({ env: { SWITCHBOARD_SIP_TLS_CERT: cert }, flags: {} }), {
      ok: false,
      error: { message: 'sip.tls.key is required with sip.tls.cert' },
    });
    t.match(loadConfig({ env: {}, flags: { '--sip-tls-key': key } }), {
      ok: false,
      error: { message: 'sip.tls.cert is required with sip.tls.key' },
    });
    writeFileSync(join(dir, 'text.pem'), 'not a certificate\n');
    t.match(loadConfig({ env: {}, flags: { '--sip-tls-ca': join(dir, 'text.pem') } }), {
      ok: false,
      error: { message: /\(sip\.tls\.ca\) must be a PEM file/ },
    });
    if (process.getuid?.() !== 0) {
      chmodSync(key, 0o000);
      t.match(loadConfig({ file, env: {}, flags: {} }), {
        ok: false,
        error: { message: `${file}: sip.tls.key must be a readable PEM file (${key}: EACCES)` },
      });
    }
    t.end();
  },
);

t.test(
  'config: trunk OPTIONS probing is 30 s by default, 0 turns it off, the rest is refused',
  (t) => {
    const dflt = loadConfig({ env: {}, flags: {} });
    t.match(dflt, { ok: true, value: { sip: { trunkProbeIntervalSec: 30 } } });
    if (dflt.ok)
      t.equal(
        serviceOptions(dflt.value, silentLogger).trunkProbeIntervalMs,
        30_000,
        'in ms for the edge',
      );
    t.match(loadConfig({ env: { SWITCHBOARD_SIP_TRUNK_PROBE_INTERVAL_SEC: '0' }, flags: {} }), {
      ok: true,
      value: { sip: { trunkProbeIntervalSec: 0 } },
    });
    t.match(loadConfig({ env: {}, flags: { '--sip-trunk-probe-interval-sec': '-5' } }), {
      ok: false,
      error: {
        message:
          'flag --sip-trunk-probe-interval-sec (sip.trunk_probe_interval_sec) must be an integer of at least 0',
      },
    });
    t.end();
  },
);

t.test(
  'config: contact qualify and flow keep-alives are off by default, set in seconds, never negative',
  (t) => {
    const dflt = loadConfig({ env: {}, flags: {} });
    t.match(dflt, { ok: true, value: { sip: { qualifyIntervalSec: 0, keepAliveIntervalSec: 0 } } });
    const set = loadConfig({
      env: { SWITCHBOARD_SIP_QUALIFY_INTERVAL_SEC: '60' },
      flags: { '--sip-keepalive-interval-sec': '25' },
    });
    t.match(set, {
      ok: true,
      value: { sip: { qualifyIntervalSec: 60, keepAliveIntervalSec: 25 } },
    });
    if (set.ok) {
      const edge = serviceOptions(set.value, silentLogger);
      t.equal(edge.qualifyIntervalMs, 60_000, 'in ms for the edge');
      t.equal(edge.keepAliveIntervalMs, 25_000);
    }
    t.match(loadConfig({ env: {}, flags: { '--sip-qualify-interval-sec': '-1' } }), {
      ok: false,
      error: {
        message:
          'flag --sip-qualify-interval-sec (sip.qualify_interval_sec) must be an integer of at least 0',
      },
    });
    t.end();
  },
);
