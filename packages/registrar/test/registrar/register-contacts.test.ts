import t from 'tap';
import { parseMessage, type SipRequest } from '@switchboard/sip-stack';
import { readContacts } from '../../src/registrar/register-contacts.js';

const LIMITS = { defaultExpires: 3600, minExpires: 60, maxExpires: 7200 };

function registerWith(contacts: string[], extra = ''): SipRequest {
  const text =
    'REGISTER sip:a.example SIP/2.0\r\n' +
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n' +
    'From: <sip:1002@a.example>;tag=1\r\nTo: <sip:1002@a.example>\r\n' +
    'Call-ID: c1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n' +
    contacts.map((c) => `Contact: ${c}\r\n`).join('') +
    extra +
    'Content-Length: 0\r\n\r\n';
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('test message did not parse');
  return r.message;
}

t.test('Contacts: the same binding twice counts once, the last value in the first place', (t) => {
  const r = readContacts(
    registerWith([
      '<sip:1002@192.0.2.1:5060>;expires=100',
      '<sip:1002@192.0.2.2:5060>',
      '<sip:1002@192.0.2.1:5060>;expires=300',
    ]),
    LIMITS,
    true,
  );
  if (!r.ok || r.star) return t.fail('expected contacts');
  t.same(
    r.contacts.map((c) => [c.uri, c.expires]),
    [
      ['sip:1002@192.0.2.1:5060', 300],
      ['sip:1002@192.0.2.2:5060', 3600],
    ],
  );
  t.end();
});

t.test('Contacts: the echo drops only expires; the parsed SIP URI comes along', (t) => {
  const r = readContacts(
    registerWith(['"Bob" <sip:1002@192.0.2.1:5060;transport=tcp>;q=0.5;expires=120;x=y']),
    LIMITS,
    true,
  );
  if (!r.ok || r.star) return t.fail('expected contacts');
  const [c] = r.contacts;
  t.equal(c?.echo, 'Bob <sip:1002@192.0.2.1:5060;transport=tcp>;q=0.5;x=y');
  t.equal(c?.q, 0.5);
  t.equal(c?.sipUri?.host, '192.0.2.1');
  t.equal(c?.sipUri?.port, 5060);
  const plain = readContacts(registerWith(['<sip:1002@192.0.2.1>']), LIMITS, true);
  t.equal(plain.ok && !plain.star && plain.contacts[0]?.echo, '<sip:1002@192.0.2.1>');
  t.end();
});
