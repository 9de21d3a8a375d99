import t from 'tap';
import { EndpointError } from '@switchboard/sip-stack';
import { runCli } from '../../src/cli/run-cli.js';
import { EdgeCounters, formatEdgeMetrics, MetricsText } from '../../src/edge/edge-metrics.js';
import type { EdgeSnapshot } from '../../src/edge/edge-metrics.js';
import { DOMAIN, demoUa, register, sdpFor } from '../edge/support/edge-fixture.js';
import {
  cliIo,
  passwordsIn,
  getText,
  localFlags,
  sample,
  tempDir,
} from './support/server-fixture.js';

function snapshot(counters: EdgeCounters): EdgeSnapshot {
  return {
    counters,
    transactions: {
      clientTransactions: 2,
      serverTransactions: 3,
      strayResponses: 0,
      strayAcks: 0,
      retransmittedRequests: 0,
    },
    proxy: {
      contexts: 1,
      routed: 0,
      rejected: 0,
      acksForwarded: 0,
      strayResponsesForwarded: 0,
      statelessDropped: 0,
    },
    transport: {
      received: { udp: 5, tcp: 0, tls: 0, ws: 0, wss: 0 },
      sent: { udp: 5, tcp: 0, tls: 0, ws: 0, wss: 0 },
      parseErrors: 4,
      errorResponsesSent: 0,
      dropped: 2,
      badFraming: 0,
      tooLarge: 0,
      keepAlivesAnswered: 0,
      mtuSwitches: 0,
      socketErrors: 0,
      sendErrors: 0,
      handlerErrors: 0,
      connections: {
        open: 0,
        accepted: 0,
        connected: 0,
        refused: 0,
        reaped: 0,
        connectFailures: 0,
      },
    },
    callsActive: 1,
    registrations: 7,
    relay: {
      mode: 'userspace',
      portMode: 'sockets',
      sessions: 1,
      ports: { total: 200, free: 196 },
    },
    draining: false,
  };
}

t.test(
  'metrics text: unknown methods count as other; labels are escaped; every sample is typed',
  (t) => {
    const c = new EdgeCounters();
    c.countRequest('INVITE');
    c.countRequest('BREW');
    c.countRequest('constructor');
    c.countResponse(100);
    c.countResponse(486);
    c.countResponse(999);
    const text = formatEdgeMetrics(snapshot(c));
    t.equal(sample(text, 'switchboard_sip_requests_received_total', 'method="INVITE"'), 1);
    t.equal(sample(text, 'switchboard_sip_requests_received_total', 'method="other"'), 2);
    t.equal(sample(text, 'switchboard_sip_responses_sent_total', 'class="1xx"'), 1);
    t.equal(sample(text, 'switchboard_sip_responses_sent_total', 'class="4xx"'), 1);
    t.equal(sample(text, 'switchboard_sip_parse_errors_total'), 4);
    t.equal(sample(text, 'switchboard_registrations'), 7);
    t.equal(sample(text, 'switchboard_relay_info', 'mode="userspace",port_mode="sockets"'), 1);
    t.notMatch(text, /BREW|constructor/, 'peer-chosen method names never become labels');
    for (const line of text
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#'))) {
      const name = /^[a-z_]+/.exec(line)?.[0] ?? '';
      t.ok(text.includes(`# TYPE ${name} `), `${name} has a TYPE line`);
    }
    const escaped = new MetricsText().add('x', 'gauge', 'h', [[{ a: 'q"b\\c\nd' }, 1]]).toString();
    t.match(escaped, 'x{a="q\\"b\\\\c\\nd"} 1');
    t.end();
  },
);

t.test(
  'GET /metrics counts registrations, requests, responses and calls; /health is 200',
  async (t) => {
    const dir = tempDir(t);
    const s = cliIo();
    const started = await runCli(['start', ...localFlags(dir)], s.io);
    const server = started.server;
    if (server === undefined) return t.fail(s.err.join(''));
    t.teardown(() => server.stop());
    const passwords = passwordsIn(s.out.join(''));
    const udp = server.edge?.node?.listeningPoints().find((lp) => lp.protocol === 'udp');
    const sipPort = udp?.local.port ?? 0;
    const base = `http://127.0.0.1:${server.httpPort}`;

    const a = await demoUa('1001', passwords['1001'] ?? '');
    const b = await demoUa('1002', passwords['1002'] ?? '');
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    t.equal((await register(a, '1001', sipPort)).status, 200);
    t.equal((await register(b, '1002', sipPort)).status, 200);
    b.onRequest('INVITE', (req) => void req.reject(486));
    const busy = await a
      .invite({
        uri: `sip:1002@${DOMAIN}`,
        route: [`<sip:127.0.0.1:${sipPort};lr>`],
        body: sdpFor('1001', 4000),
        contentType: 'application/sdp',
        timeoutMs: 10_000,
      })
      .then(
        () => 200,
        (err: unknown) => (err instanceof EndpointError ? err.status : 0),
      );
    t.equal(busy, 486, 'the callee was busy');

    const m = await getText(`${base}/metrics`);
    t.equal(m.status, 200);
    t.match(m.type, /^text\/plain; version=0\.0\.4/);
    t.equal(sample(m.text, 'switchboard_registrations'), 2, 'two contacts registered');
    t.ok(
      (sample(m.text, 'switchboard_sip_requests_received_total', 'method="REGISTER"') ?? 0) >= 4,
      'REGISTERs (challenged and authorised) counted',
    );
    t.ok(
      (sample(m.text, 'switchboard_sip_requests_received_total', 'method="INVITE"') ?? 0) >= 2,
      'INVITEs counted',
    );
    t.ok(
      (sample(m.text, 'switchboard_sip_responses_sent_total', 'class="2xx"') ?? 0) >= 2,
      '200s to REGISTER counted',
    );
    t.ok(
      (sample(m.text, 'switchboard_sip_responses_sent_total', 'class="4xx"') ?? 0) >= 3,
      '401s, 407 and 486 counted',
    );
    t.equal(sample(m.text, 'switchboard_calls_total'), 1, 'one call was routed');
    t.equal(sample(m.text, 'switchboard_calls_ended_total', 'disposition="busy"'), 1);
    t.equal(sample(m.text, 'switchboard_calls_active'), 0);
    t.ok(
      (sample(m.text, 'switchboard_sip_transactions_created_total', 'kind="client"') ?? 0) >= 1,
      'the INVITE to B was a client transaction',
    );
    t.equal(sample(m.text, 'switchboard_draining'), 0);
    t.match(
      m.text,
      /switchboard_relay_info\{mode="(kernel|userspace)",port_mode="(shared|sockets)"\} 1/,
    );
    t.equal(
      sample(m.text, 'switchboard_relay_sessions_active'),
      0,
      'the busy call left no relay session',
    );
    t.equal(sample(m.text, 'switchboard_up'), 1);

    const h = await getText(`${base}/health`);
    t.equal(h.status, 200);
    t.match(JSON.parse(h.text), {
      status: 'ok',
      sip: 'ok',
      relay: /^(kernel|userspace)$/,
      store: 'ok',
      calls: 0,
    });
  },
);
