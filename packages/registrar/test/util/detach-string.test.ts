import t from 'tap';
import { detachString } from '../../src/util/detach-string.js';

t.test('detachString: a copy equal to the original, whatever its characters or length', (t) => {
  const message = `Contact: <sip:jürgen@[2001:db8::1]:5060;transport=tcp>;+sip.instance="<urn:€>"`;
  for (const s of [
    '',
    'short',
    message.slice(9),
    'ünïcødé text with € and 😀 beyond the BMP',
    'x'.repeat(5000) + 'é'.repeat(3000),
  ])
    t.equal(detachString(s), s, `${s.length} characters`);
  t.end();
});
