// Feedback for every action: the status line keeps the latest message (so a test or the
// agent can always read it), and a toast pops up briefly in the corner.

import { byId, el } from './dom.js';
import { t } from './i18n.js';

const ACK_TIMEOUT_MS = 8000;
const TOAST_MS = 5000;

/** Show a message; kind is 'ok', 'error' or 'info'. */
export function toast(message, kind = 'info') {
  const line = byId('status-line');
  line.textContent = message;
  line.dataset.kind = kind;
  const item = el('div', { className: `toast toast-${kind}`, role: 'status', 'data-testid': 'toast' }, message);
  byId('toasts').append(item);
  window.setTimeout(() => item.remove(), TOAST_MS);
}

/**
 * Emit an event that the server acknowledges, and report the outcome.
 * Resolves to the ack object, or null when the server never answered (an event it does not
 * handle yet, or a dead connection) so callers can update the page only on success.
 */
export function request(socket, event, payload, actionKey) {
  const action = t(actionKey);
  return new Promise((resolve) => {
    if (!socket || !socket.connected) {
      toast(t('toast.timeout', { action }), 'error');
      resolve(null);
      return;
    }
    const args = payload === undefined ? [] : [payload];
    socket.timeout(ACK_TIMEOUT_MS).emit(event, ...args, (err, ack) => {
      if (err) {
        toast(t('toast.timeout', { action }), 'error');
        resolve(null);
      } else if (ack && ack.ok === true) {
        toast(t('toast.ok', { action }), 'ok');
        resolve(ack);
      } else {
        const message = (ack && (ack.message || ack.error)) || 'unknown error';
        toast(t('toast.error', { action, message: String(message) }), 'error');
        resolve(ack || { ok: false });
      }
    });
  });
}
