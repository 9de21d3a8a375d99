import t from 'tap';
import { createNodeDnsResolver } from '../../src/dns/dns-resolver.js';
import { SipResolver } from '../../src/dns/sip-resolver.js';
import { LoopbackDnsServer } from './support/loopback-dns-server.js';

// The real node:dns resolver, pointed at a DNS server this test runs on 127.0.0.1: no outside network.
t.test(
  'node:dns resolver: NAPTR → SRV → A/AAAA with TTLs, against a loopback DNS server',
  async (t) => {
    const server = await LoopbackDnsServer.start({
      NAPTR: {
        'sip.test': [
          {
            order: 10,
            preference: 10,
            flags: 'S',
            service: 'SIP+D2T',
            regexp: '',
            replacement: '_sip._tcp.sip.test',
          },
          {
            order: 20,
            preference: 10,
            flags: 'S',
            service: 'SIP+D2U',
            regexp: '',
            replacement: '_sip._udp.sip.test',
          },
        ],
      },
      SRV: {
        '_sip._tcp.sip.test': [{ priority: 1, weight: 0, port: 5080, name: 'pbx.sip.test' }],
        '_sip._udp.sip.test': [{ priority: 1, weight: 0, port: 5060, name: 'pbx.sip.test' }],
      },
      A: { 'pbx.sip.test': [{ address: '127.0.0.42', ttl: 77 }] },
      AAAA: { 'pbx.sip.test': [{ address: '2001:db8::42', ttl: 99 }] },
    });
    t.teardown(() => server.close());
    const resolver = new SipResolver({
      resolver: createNodeDnsResolver({ servers: [server.address], timeoutMs: 2000, tries: 2 }),
      defaultTtl: 300,
    });
    const targets = await resolver.resolve({ scheme: 'sip', host: 'sip.test' });
    t.same(
      targets.map((x) => [x.protocol, x.address, x.port, x.ttl]),
      [
        ['tcp', '127.0.0.42', 5080, 77],
        ['tcp', '2001:db8::42', 5080, 99],
        ['udp', '127.0.0.42', 5060, 77],
        ['udp', '2001:db8::42', 5060, 99],
      ],
    );
    t.equal(targets[0]?.serverName, 'sip.test');
  },
);

t.test(
  'node:dns resolver: NXDOMAIN and NODATA are negative answers and fall through to A records',
  async (t) => {
    const server = await LoopbackDnsServer.start({
      A: { 'plain.test': [{ address: '127.0.0.7', ttl: 30 }] },
    });
    t.teardown(() => server.close());
    const resolver = new SipResolver({
      resolver: createNodeDnsResolver({ servers: [server.address], timeoutMs: 2000, tries: 2 }),
      protocols: ['udp'],
    });
    const targets = await resolver.resolve({ scheme: 'sip', host: 'plain.test' });
    t.same(
      targets.map((x) => [x.protocol, x.address, x.port]),
      [['udp', '127.0.0.7', 5060]],
    );
    t.same(resolver.cache.stats().errors, 0, 'NODATA / NXDOMAIN are not errors');
    t.ok(server.queries.includes('NAPTR plain.test'));
    t.ok(server.queries.includes('SRV _sip._udp.plain.test'));
    t.same(await resolver.resolve({ scheme: 'sip', host: 'missing.test' }), []);
  },
);
