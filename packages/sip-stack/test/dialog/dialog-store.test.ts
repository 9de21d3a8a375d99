import t from 'tap';
import { createUacDialog, createUasDialog } from '../../src/dialog/create-dialog.js';
import type { Dialog } from '../../src/dialog/dialog.js';
import { dialogKey } from '../../src/dialog/dialog-id.js';
import { DialogStore } from '../../src/dialog/dialog-store.js';
import { request, response } from '../transaction/messages.js';

function uacDialog(toTag: string, status = 180): Dialog {
  const req = request();
  const r = createUacDialog(
    req,
    response(req, status, { toTag, headers: { Contact: `<sip:${toTag}@192.0.2.4>` } }),
  );
  if (!r.ok) throw new Error(r.reason);
  return r.dialog;
}

t.test('dialog store: dialog id is Call-ID + local tag + remote tag', (t) => {
  const d = uacDialog('b1');
  t.equal(d.key, dialogKey({ callId: 'call-1@pc33', localTag: 'a1', remoteTag: 'b1' }));
  t.end();
});

t.test('dialog store: forked early dialogs of one INVITE are separate entries', (t) => {
  const store = new DialogStore();
  t.ok(store.add(uacDialog('fork1')));
  t.ok(store.add(uacDialog('fork2')));
  t.equal(store.size, 2);
  t.notOk(store.add(uacDialog('fork1')), 'same id is refused');
  t.end();
});

t.test(
  'dialog store: a response finds its UAC dialog by From tag (local) and To tag (remote)',
  (t) => {
    const store = new DialogStore();
    const d = uacDialog('fork1');
    store.add(d);
    t.equal(store.findForResponse(response(request(), 200, { toTag: 'fork1' })), d);
    t.equal(store.findForResponse(response(request(), 200, { toTag: 'fork3' })), undefined);
    t.end();
  },
);

t.test(
  'dialog store: an incoming request finds its dialog by To tag (local) and From tag (remote)',
  (t) => {
    const store = new DialogStore();
    const req = request();
    const r = createUasDialog(req, response(req, 200, { toTag: 'ours' }));
    if (!r.ok) throw new Error(r.reason);
    store.add(r.dialog);
    t.equal(store.findForRequest(request({ method: 'BYE', toTag: 'ours' })), r.dialog);
    t.equal(
      store.findForRequest(request({ method: 'BYE', toTag: 'ours', fromTag: 'other' })),
      undefined,
    );
    t.equal(
      store.findForRequest(request({ method: 'BYE' })),
      undefined,
      'no To tag: not in a dialog',
    );
    t.end();
  },
);

t.test('dialog store: delete removes and terminates the dialog', (t) => {
  const store = new DialogStore();
  const d = uacDialog('b1');
  store.add(d);
  t.ok(store.delete(d));
  t.notOk(store.delete(d));
  t.equal(d.state, 'Terminated');
  t.equal(store.size, 0);
  store.add(uacDialog('b2'));
  store.clear();
  t.equal(store.size, 0);
  t.end();
});
