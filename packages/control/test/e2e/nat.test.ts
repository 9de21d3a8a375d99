/** A callee behind a NAT (network namespaces + nftables masquerade) is reached through its pinhole. */
import t from 'tap';
import { DOMAIN, closedCdr, startE2eServer } from './support/e2e-server.js';
import { freePort } from './support/free-port.js';
import { createNatLab } from './support/nat-lab.js';
import { countOf, runSipp } from './support/sipp.js';
import {
  callIdPrefix,
  registerSipp,
  sippPassed,
  skipBecause,
  startCallee,
} from './support/sipp-peers.js';

t.test(
  'a NATed UDP contact is called at its public address (received/rport), not its Contact',
  async (t) => {
    const lab = createNatLab();
    if ('unavailable' in lab) return skipBecause(t, lab.unavailable);
    t.teardown(() => lab.close());
    const fx = await startE2eServer({
      flags: { '--sip-host': lab.hostIp, '--sip-tcp-port': 'off' },
    });
    t.teardown(() => fx.close());
    const server = `${lab.hostIp}:${fx.ports.udp}`;

    // The phone registers from its private port; the router maps it to a public port (the pinhole).
    const phonePort = 40000 + Math.floor(Math.random() * 20000);
    const reg = await registerSipp({
      registrar: server,
      user: '1002',
      password: fx.passwords['1002'] ?? '',
      port: phonePort,
      localIp: lab.phoneIp,
      netns: lab.phoneNs,
    });
    if (!sippPassed(t, reg, '1002 registers through the NAT')) return;
    t.match(
      reg.messages,
      new RegExp(`Contact: <sip:1002@${lab.phoneIp.replace(/\./g, '\\.')}:${phonePort}`),
      'its Contact names the private address',
    );
    const binding = (await fx.node.registrar.lookup(`sip:1002@${DOMAIN}`))[0];
    t.equal(
      binding?.received?.address,
      lab.publicIp,
      'the registrar keeps the public source as received',
    );
    t.ok(binding?.uri.includes(lab.phoneIp), 'and the private Contact as the binding URI');

    // The same private port now answers calls; the conntrack entry of the REGISTER is the pinhole.
    const uas = await startCallee(t, {
      scenario: 'uas-answer.xml',
      port: phonePort,
      localIp: lab.phoneIp,
      netns: lab.phoneNs,
      timeoutMs: 8_000,
    });
    const callId = callIdPrefix('nat');
    const uac = await runSipp({
      scenario: 'uac-call.xml',
      remote: server,
      localIp: lab.hostIp,
      localPort: await freePort(lab.hostIp),
      vars: { user: '1001', domain: DOMAIN, callee: '1002' },
      auth: { user: '1001', password: fx.passwords['1001'] ?? '', uri: `sip:1002@${DOMAIN}` },
      callId,
      timeoutMs: 6_000,
    });
    const callee = await uas.done;
    t.equal(
      countOf(callee, 'received', 'INVITE'),
      1,
      'the INVITE reached the phone through the pinhole',
    );
    t.equal(countOf(uac, 'received', '180'), 1, 'the caller heard it ring');
    t.ok(countOf(uac, 'received', '200') >= 1, 'the phone’s 200 OK reached the caller');
    t.equal((await closedCdr(fx, `${callId}1`))?.disposition, 'answered', 'the CDR says answered');
    // ACK and BYE follow the 200's Contact, the phone's private address: the edge aliases it with
    // the pinhole (Kamailio's add_contact_alias) and sends in-dialog requests there (handle_ruri_alias).
    const privateContact = `sip:${lab.phoneIp}:${phonePort}`.replace(/\./g, '\\.');
    const publicAlias = `alias=${lab.publicIp.replace(/\./g, '\\.')}~\\d+~1`;
    t.match(
      uac.messages,
      new RegExp(`Contact: <${privateContact}[^>]*;${publicAlias}>`),
      'the caller got the phone’s Contact aliased with its public address',
    );
    t.equal(countOf(callee, 'received', 'ACK'), 1, 'the ACK reached the phone');
    t.equal(countOf(callee, 'received', 'BYE'), 1, 'the BYE reached the phone');
    t.notMatch(callee.messages, /alias=/, 'the phone never saw our alias');
    t.equal(uac.exitCode, 0, 'caller: SIPp exit code 0 (its BYE answered)');
  },
);
