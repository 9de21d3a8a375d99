import t from 'tap';
import { SipResolver, type SipResolvableUri } from '../../src/dns/sip-resolver.js';
import { isSipUri, parseUri } from '../../src/message/sip-uri.js';
import { ManualClock } from '../../src/util/clock.js';
import { FakeDnsResolver, seededRandom } from './support/fake-dns-resolver.js';

const naptr = (service: string, replacement: string, order: number, preference: number) => ({
  flags: 'S',
  service,
  regexp: '',
  replacement,
  order,
  preference,
});
const a = (address: string, ttl = 3600) => ({ address, ttl });

function uri(
  host: string,
  extra: Partial<SipResolvableUri> & { transport?: string } = {},
): SipResolvableUri {
  const params = new Map<string, string | null>();
  if (extra.transport !== undefined) params.set('transport', extra.transport);
  return { scheme: extra.scheme ?? 'sip', host, port: extra.port, params };
}

function summary(targets: { protocol: string; address: string; port: number }[]): string[] {
  return targets.map((x) => `${x.protocol} ${x.address}:${x.port}`);
}

const carrier = () =>
  new FakeDnsResolver({
    NAPTR: {
      'example.com': [
        naptr('SIP+D2U', '_sip._udp.example.com', 20, 10),
        naptr('SIPS+D2T', '_sips._tcp.example.com', 10, 10),
        naptr('SIP+D2T', '_sip._tcp.example.com', 10, 20),
        naptr('SIP+D2S', '_sip._sctp.example.com', 5, 10),
      ],
    },
    SRV: {
      '_sips._tcp.example.com': [{ name: 'tls.example.com', port: 5061, priority: 0, weight: 0 }],
      '_sip._tcp.example.com': [{ name: 'tcp.example.com', port: 5060, priority: 0, weight: 0 }],
      '_sip._udp.example.com': [{ name: 'udp.example.com', port: 5070, priority: 0, weight: 0 }],
    },
    A: {
      'tls.example.com': [a('192.0.2.3')],
      'tcp.example.com': [a('192.0.2.2')],
      'udp.example.com': [a('192.0.2.1')],
    },
    AAAA: { 'tls.example.com': [a('2001:db8::3')] },
  });

t.test(
  'NAPTR records are followed in order/preference, skipping unsupported services (RFC 3263 §4.1)',
  async (t) => {
    const dns = carrier();
    const targets = await new SipResolver({ resolver: dns }).resolve(uri('example.com'));
    t.same(summary(targets), [
      'tls 192.0.2.3:5061',
      'tls 2001:db8::3:5061',
      'tcp 192.0.2.2:5060',
      'udp 192.0.2.1:5070',
    ]);
    t.equal(targets[0]?.serverName, 'example.com', 'TLS identity is the URI domain');
    t.equal(targets[1]?.family, 6);
    t.notOk(dns.queries.includes('SRV _sip._sctp.example.com'), 'SCTP is not supported');
  },
);

t.test('a SIPS URI keeps only SIPS NAPTR services (RFC 3263 §4.1)', async (t) => {
  const targets = await new SipResolver({ resolver: carrier() }).resolve(
    uri('example.com', { scheme: 'sips' }),
  );
  t.same(summary(targets), ['tls 192.0.2.3:5061', 'tls 2001:db8::3:5061']);
});

t.test('only the transports the resolver supports are used', async (t) => {
  const targets = await new SipResolver({
    resolver: carrier(),
    protocols: ['udp'],
    families: [4],
  }).resolve(uri('example.com'));
  t.same(summary(targets), ['udp 192.0.2.1:5070']);
});

t.test(
  'without NAPTR, SRV is queried for each supported transport in preference order',
  async (t) => {
    const dns = new FakeDnsResolver({
      SRV: {
        '_sip._tcp.example.net': [{ name: 'b.example.net', port: 5080, priority: 1, weight: 0 }],
        '_sip._udp.example.net': [{ name: 'a.example.net', port: 5060, priority: 1, weight: 0 }],
      },
      A: { 'a.example.net': [a('198.51.100.1')], 'b.example.net': [a('198.51.100.2')] },
    });
    const targets = await new SipResolver({ resolver: dns, families: [4] }).resolve(
      uri('example.net'),
    );
    t.same(summary(targets), ['udp 198.51.100.1:5060', 'tcp 198.51.100.2:5080']);
    t.same(dns.queries.slice(0, 4), [
      'NAPTR example.net',
      'SRV _sip._udp.example.net',
      'SRV _sip._tcp.example.net',
      'SRV _sips._tcp.example.net',
    ]);
  },
);

t.test(
  'with no NAPTR and no SRV, A/AAAA on 5060 over UDP for sip and 5061 over TLS for sips',
  async (t) => {
    const dns = new FakeDnsResolver({
      A: { 'host.test': [a('203.0.113.9')] },
      AAAA: { 'host.test': [a('2001:db8::9')] },
    });
    const r = new SipResolver({ resolver: dns });
    t.same(summary(await r.resolve(uri('host.test'))), [
      'udp 203.0.113.9:5060',
      'udp 2001:db8::9:5060',
    ]);
    t.same(summary(await r.resolve(uri('host.test', { scheme: 'sips' }))), [
      'tls 203.0.113.9:5061',
      'tls 2001:db8::9:5061',
    ]);
  },
);

t.test('families order A and AAAA answers (IPv6 first when asked)', async (t) => {
  const dns = new FakeDnsResolver({
    A: { 'host.test': [a('203.0.113.9')] },
    AAAA: { 'host.test': [a('2001:db8::9')] },
  });
  const targets = await new SipResolver({ resolver: dns, families: [6, 4] }).resolve(
    uri('host.test'),
  );
  t.same(summary(targets), ['udp 2001:db8::9:5060', 'udp 203.0.113.9:5060']);
});

t.test(
  'a transport parameter skips NAPTR and queries SRV for that transport (RFC 3263 §4.2)',
  async (t) => {
    const dns = carrier();
    const targets = await new SipResolver({ resolver: dns, families: [4] }).resolve(
      uri('example.com', { transport: 'TCP' }),
    );
    t.same(summary(targets), ['tcp 192.0.2.2:5060']);
    t.notOk(dns.queries.some((q) => q.startsWith('NAPTR')));
    const secure = await new SipResolver({ resolver: carrier(), families: [4] }).resolve(
      uri('example.com', { scheme: 'sips', transport: 'tcp' }),
    );
    t.same(
      summary(secure),
      ['tls 192.0.2.3:5061'],
      'sips + transport=tcp means TLS over _sips._tcp',
    );
  },
);

t.test(
  'a transport parameter without SRV falls back to A/AAAA on that transport default port',
  async (t) => {
    const dns = new FakeDnsResolver({ A: { 'host.test': [a('203.0.113.9')] } });
    const targets = await new SipResolver({ resolver: dns, families: [4] }).resolve(
      uri('host.test', { transport: 'tls' }),
    );
    t.same(summary(targets), ['tls 203.0.113.9:5061']);
  },
);

t.test('an explicit port means A/AAAA only, no NAPTR or SRV (RFC 3263 §4.2)', async (t) => {
  const dns = carrier();
  const targets = await new SipResolver({ resolver: dns }).resolve(
    uri('tls.example.com', { port: 5099 }),
  );
  t.same(summary(targets), ['udp 192.0.2.3:5099', 'udp 2001:db8::3:5099']);
  t.same(dns.queries, ['A tls.example.com', 'AAAA tls.example.com']);
});

t.test('numeric IPv4 and bracketed IPv6 hosts are used directly, with no DNS query', async (t) => {
  const dns = new FakeDnsResolver({});
  const r = new SipResolver({ resolver: dns });
  t.same(await r.resolve(uri('192.0.2.7')), [
    { protocol: 'udp', address: '192.0.2.7', port: 5060, family: 4, ttl: Infinity },
  ]);
  t.same(summary(await r.resolve(uri('[2001:db8::1]', { port: 5070, transport: 'tcp' }))), [
    'tcp 2001:db8::1:5070',
  ]);
  t.same(summary(await r.resolve(uri('[::1]', { scheme: 'sips' }))), ['tls ::1:5061']);
  t.same(dns.queries, []);
});

t.test('impossible or unsupported combinations resolve to nothing', async (t) => {
  const r = new SipResolver({ resolver: carrier() });
  t.same(
    await r.resolve(uri('example.com', { scheme: 'sips', transport: 'udp' })),
    [],
    'SIPS over UDP',
  );
  t.same(await r.resolve(uri('example.com', { transport: 'sctp' })), [], 'SCTP');
  t.same(await r.resolve(uri('example.com', { scheme: 'tel' })), [], 'tel URI');
  t.same(
    await new SipResolver({ resolver: carrier(), protocols: ['udp'] }).resolve(
      uri('example.com', { transport: 'tcp' }),
    ),
    [],
  );
});

t.test('an SRV target of "." means the service is decidedly unavailable (RFC 2782)', async (t) => {
  const dns = new FakeDnsResolver({
    SRV: { '_sip._udp.example.org': [{ name: '.', port: 0, priority: 0, weight: 0 }] },
    A: { 'example.org': [a('192.0.2.50')] },
  });
  t.same(
    await new SipResolver({ resolver: dns, protocols: ['udp'] }).resolve(uri('example.org')),
    [],
  );
});

t.test('SRV priority and seeded weights decide the failover order across hosts', async (t) => {
  const dns = new FakeDnsResolver({
    SRV: {
      '_sip._udp.pool.test': [
        { name: 'backup.pool.test', port: 5060, priority: 20, weight: 0 },
        { name: 'p1.pool.test', port: 5060, priority: 10, weight: 50 },
        { name: 'p2.pool.test', port: 5060, priority: 10, weight: 50 },
      ],
    },
    A: {
      'p1.pool.test': [a('10.0.0.1')],
      'p2.pool.test': [a('10.0.0.2')],
      'backup.pool.test': [a('10.0.0.9')],
    },
  });
  const orders = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) {
    const r = new SipResolver({
      resolver: dns,
      protocols: ['udp'],
      families: [4],
      random: seededRandom(seed),
    });
    const targets = summary(await r.resolve(uri('pool.test')));
    t.equal(targets[2], 'udp 10.0.0.9:5060', 'the backup priority is last');
    orders.add(targets.slice(0, 2).join(','));
  }
  t.equal(orders.size, 2, 'equal weights put either primary first depending on the draw');
  const again = async (seed: number) =>
    summary(
      await new SipResolver({
        resolver: dns,
        protocols: ['udp'],
        families: [4],
        random: seededRandom(seed),
      }).resolve(uri('pool.test')),
    );
  t.same(await again(3), await again(3), 'a seed reproduces its order');
});

t.test(
  'nextTarget hands out targets lazily for failover and then ends (RFC 3263 §4.3)',
  async (t) => {
    const dns = carrier();
    const it = new SipResolver({ resolver: dns, families: [4] }).targets(uri('example.com'));
    const first = await it.nextTarget();
    t.equal(first?.address, '192.0.2.3');
    t.notOk(
      dns.queries.includes('A tcp.example.com'),
      'the next host is not resolved before it is needed',
    );
    t.equal(
      (await it.nextTarget())?.address,
      '192.0.2.2',
      'after a timeout or 503, the next target',
    );
    t.equal((await it.nextTarget())?.address, '192.0.2.1');
    t.equal(await it.nextTarget(), undefined);
    t.equal(await it.nextTarget(), undefined, 'stays exhausted');
  },
);

t.test('duplicate targets are handed out once and maxTargets bounds the list', async (t) => {
  const dns = new FakeDnsResolver({
    SRV: {
      '_sip._udp.dup.test': [
        { name: 'x.dup.test', port: 5060, priority: 1, weight: 0 },
        { name: 'y.dup.test', port: 5060, priority: 2, weight: 0 },
      ],
    },
    A: {
      'x.dup.test': [a('10.1.1.1'), a('10.1.1.2'), a('10.1.1.3')],
      'y.dup.test': [a('10.1.1.1')],
    },
  });
  const r = new SipResolver({ resolver: dns, protocols: ['udp'], families: [4] });
  t.same(summary(await r.resolve(uri('dup.test'))), [
    'udp 10.1.1.1:5060',
    'udp 10.1.1.2:5060',
    'udp 10.1.1.3:5060',
  ]);
  const bounded = new SipResolver({
    resolver: dns,
    protocols: ['udp'],
    families: [4],
    maxTargets: 2,
  });
  t.equal((await bounded.resolve(uri('dup.test'))).length, 2);
});

t.test('a target TTL is the smallest TTL along NAPTR → SRV → A', async (t) => {
  const dns = carrier();
  dns.zone.A = {
    ...dns.zone.A,
    'tls.example.com': [a('192.0.2.3', 45)],
    'udp.example.com': [a('192.0.2.1', 900)],
  };
  const targets = await new SipResolver({ resolver: dns, families: [4], defaultTtl: 120 }).resolve(
    uri('example.com'),
  );
  t.same(
    targets.map((x) => x.ttl),
    [45, 120, 120],
  );
});

t.test('answers are cached for their TTL on the injected clock, then queried again', async (t) => {
  const clock = new ManualClock();
  const dns = new FakeDnsResolver({ A: { 'host.test': [a('203.0.113.9', 60)] } });
  const r = new SipResolver({ resolver: dns, clock, families: [4], protocols: ['udp'] });
  await r.resolve(uri('host.test', { port: 5060 }));
  clock.advance(59_000);
  const cached = await r.resolve(uri('host.test', { port: 5060 }));
  t.equal(cached[0]?.ttl, 1, 'remaining TTL is reported');
  t.same(dns.queries, ['A host.test'], 'served from cache');
  clock.advance(1_000);
  await r.resolve(uri('host.test', { port: 5060 }));
  t.same(dns.queries, ['A host.test', 'A host.test'], 'expired at its TTL');
});

t.test('SRV and NAPTR answers use the configured default TTL (node reports none)', async (t) => {
  const clock = new ManualClock();
  const dns = carrier();
  const r = new SipResolver({ resolver: dns, clock, families: [4], defaultTtl: 10 });
  await r.resolve(uri('example.com'));
  const count = dns.queries.length;
  clock.advance(9_999);
  await r.resolve(uri('example.com'));
  t.equal(dns.queries.length, count, 'all cached');
  clock.advance(1);
  await r.resolve(uri('example.com'));
  t.ok(
    dns.queries.slice(count).includes('NAPTR example.com'),
    'NAPTR re-queried after the default TTL',
  );
  t.notOk(
    dns.queries.slice(count).includes('A tls.example.com'),
    'A records keep their own, longer TTL',
  );
});

t.test('negative answers are cached for the short negative TTL', async (t) => {
  const clock = new ManualClock();
  const dns = new FakeDnsResolver({ A: { 'host.test': [a('203.0.113.9')] } });
  const r = new SipResolver({
    resolver: dns,
    clock,
    families: [4],
    protocols: ['udp'],
    negativeTtl: 5,
  });
  await r.resolve(uri('host.test'));
  t.same(dns.queries, ['NAPTR host.test', 'SRV _sip._udp.host.test', 'A host.test']);
  await r.resolve(uri('host.test'));
  t.equal(dns.queries.length, 3, 'NXDOMAIN/NODATA answers came from the cache');
  t.same(r.cache.stats().negativeHits, 2);
  clock.advance(5_000);
  await r.resolve(uri('host.test'));
  t.same(dns.queries.slice(3), ['NAPTR host.test', 'SRV _sip._udp.host.test']);
});

t.test(
  'failures other than negative answers are not cached and do not stop resolution',
  async (t) => {
    const dns = new FakeDnsResolver({
      A: { 'host.test': [a('203.0.113.9')] },
      failures: { 'host.test': 'ETIMEOUT' },
    });
    dns.zone.failures = { '_sip._udp.host.test': 'ESERVFAIL' };
    const r = new SipResolver({ resolver: dns, families: [4], protocols: ['udp'] });
    t.same(summary(await r.resolve(uri('host.test'))), ['udp 203.0.113.9:5060']);
    await r.resolve(uri('host.test'));
    t.equal(
      dns.queries.filter((q) => q === 'SRV _sip._udp.host.test').length,
      2,
      'SERVFAIL queried again',
    );
    t.equal(r.cache.stats().errors, 2);
  },
);

t.test('concurrent resolutions of one name share one query', async (t) => {
  const dns = new FakeDnsResolver({ A: { 'host.test': [a('203.0.113.9')] } });
  const r = new SipResolver({ resolver: dns, families: [4] });
  await Promise.all([
    r.resolve(uri('host.test', { port: 1 })),
    r.resolve(uri('host.test', { port: 2 })),
  ]);
  t.same(dns.queries, ['A host.test']);
});

t.test('the cache never holds more than maxCacheEntries names', async (t) => {
  const A: Record<string, { address: string; ttl: number }[]> = {};
  for (let i = 0; i < 50; i++) A[`h${i}.test`] = [a(`10.0.0.${i}`)];
  const r = new SipResolver({
    resolver: new FakeDnsResolver({ A }),
    families: [4],
    maxCacheEntries: 10,
  });
  for (let i = 0; i < 50; i++) await r.resolve(uri(`h${i}.test`, { port: 5060 }));
  t.equal(r.cache.size, 10);
});

t.test('a parsed message-layer SipUri resolves directly', async (t) => {
  const r = new SipResolver({ resolver: carrier(), families: [4] });
  const parsed = parseUri('sips:alice@example.com;transport=tcp');
  if (!parsed.ok || !isSipUri(parsed.uri)) return t.fail('parse');
  t.same(summary(await r.resolve(parsed.uri)), ['tls 192.0.2.3:5061']);
  const v6 = parseUri('sip:[2001:db8::5]:5062;transport=udp');
  if (!v6.ok || !isSipUri(v6.uri)) return t.fail('parse');
  t.same(summary(await r.resolve(v6.uri)), ['udp 2001:db8::5:5062']);
});
