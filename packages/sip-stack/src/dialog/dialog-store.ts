import type { SipRequest, SipResponse } from '../message/sip-message.js';
import type { Dialog } from './dialog.js';
import {
  dialogKey,
  incomingRequestDialogId,
  incomingResponseDialogId,
  type DialogId,
} from './dialog-id.js';

/** Dialogs by id (RFC 3261 §12): Call-ID + local tag + remote tag. Early forks are separate entries. */
export class DialogStore {
  readonly #dialogs = new Map<string, Dialog>();

  get size(): number {
    return this.#dialogs.size;
  }

  /** Adds a dialog; false when one with the same id is already stored (the stored one is kept). */
  add(dialog: Dialog): boolean {
    if (this.#dialogs.has(dialog.key)) return false;
    this.#dialogs.set(dialog.key, dialog);
    return true;
  }

  get(id: DialogId): Dialog | undefined {
    return this.#dialogs.get(dialogKey(id));
  }

  /** The dialog an incoming in-dialog request belongs to (local tag = To tag, §12.2.2). */
  findForRequest(request: SipRequest): Dialog | undefined {
    if (request.toTag === undefined) return undefined;
    return this.get(incomingRequestDialogId(request));
  }

  /** The dialog an incoming response belongs to (local tag = From tag, §12.1.2). */
  findForResponse(response: SipResponse): Dialog | undefined {
    return this.get(incomingResponseDialogId(response));
  }

  /** Removes the dialog and marks it Terminated. */
  delete(dialog: Dialog): boolean {
    dialog.terminate();
    if (this.#dialogs.get(dialog.key) !== dialog) return false;
    return this.#dialogs.delete(dialog.key);
  }

  values(): IterableIterator<Dialog> {
    return this.#dialogs.values();
  }

  clear(): void {
    for (const d of this.#dialogs.values()) d.terminate();
    this.#dialogs.clear();
  }
}
