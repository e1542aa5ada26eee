// Screen-pop card: who is calling, and what we know about them.
// The card skeleton lives in index.html; this module only fills text and toggles parts.
// Past calls that were recorded get a Play button: the desktop asks `recording.url` {id}
// on /agent for a short-lived signed URL and plays it in #pop-audio (an <audio> element
// cannot send credentials, the signature in the URL is its permission).

import { byId, el, formatTimestamp, setText, show } from './dom.js';
import { t } from './i18n.js';
import { request } from './toast.js';

let shownCall = null; // call_uuid of the pop on screen, so a new call resets the player

/** Wire the history's Play buttons to the agent socket (called once at start). */
export function bindHistoryPlayback(getSocket) {
  byId('pop-calls').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-testid=pop-play]');
    if (button) playRecording(getSocket(), Number(button.dataset.recordingId), button);
  });
}

async function playRecording(socket, id, button) {
  if (!Number.isInteger(id) || id <= 0) return;
  button.disabled = true;
  try {
    const ack = await request(socket, 'recording.url', { id }, 'pop.play');
    if (!ack || ack.ok !== true || typeof ack.url !== 'string') return;
    const audio = byId('pop-audio');
    audio.dataset.recordingId = String(id);
    audio.src = ack.url;
    show('pop-player', true);
    // Autoplay may be refused (no recent user gesture); the controls still work.
    audio.play().catch(() => {});
  } finally {
    button.disabled = false;
  }
}

function resetPlayer() {
  const audio = byId('pop-audio');
  audio.pause();
  audio.removeAttribute('src');
  delete audio.dataset.recordingId;
  audio.load();
  show('pop-player', false);
}

/** Render the last `screen.pop` (or the empty card when pop is null); `ended` greys it out. */
export function renderPop(pop, ended = false) {
  show('pop-empty', !pop);
  show('pop-body', Boolean(pop));
  const card = byId('pop-card');
  card.dataset.stage = pop ? (ended ? 'ended' : String(pop.stage || '')) : '';
  const callUuid = pop ? String(pop.call_uuid || '') : null;
  if (callUuid !== shownCall) {
    shownCall = callUuid;
    resetPlayer();
  }
  if (!pop) return;

  const stage = ended ? 'ended' : pop.stage;
  setText('pop-stage', t(`pop.stage.${stage === 'bridged' ? 'bridged' : stage === 'ended' ? 'ended' : 'offered'}`));
  byId('pop-stage').className = `badge stage-${ended ? 'ended' : stage === 'bridged' ? 'bridged' : 'offered'}`;
  const caller = pop.caller || {};
  setText('pop-caller-number', caller.number || '');
  setText('pop-caller-name', caller.name || '');
  setText('pop-queue', pop.queue || '');
  setText('pop-call-uuid', pop.call_uuid || '');

  const customer = pop.customer && typeof pop.customer === 'object' ? pop.customer : null;
  const isNew = !customer;
  show('pop-new', isNew);
  show('pop-region-row', isNew || Boolean(pop.region));
  setText('pop-region', pop.region || t('pop.region.unknown'));
  show('pop-customer', !isNew);
  if (customer) renderCustomer(customer);
}

function renderCustomer(customer) {
  setText('pop-customer-name', customer.name || '');
  show('pop-vip', customer.vip === true);
  setText('pop-address', customer.address || '');
  show('pop-address-row', Boolean(customer.address));
  setText('pop-notes', customer.notes || '');
  show('pop-notes-row', Boolean(customer.notes));
  fillList('pop-phones', Array.isArray(customer.phones) ? customer.phones : [], (phone) =>
    el('li', { className: 'chip' }, String(phone)));
  fillList('pop-orders', lastFive(customer.work_orders), orderItem);
  fillList('pop-calls', lastFive(customer.calls), callItem);
}

function lastFive(list) {
  return Array.isArray(list) ? list.slice(0, 5) : [];
}

/** Replace a list's items, or show the "none" line when there are no rows. */
function fillList(id, rows, render) {
  const list = byId(id);
  list.replaceChildren(...rows.map(render));
  if (rows.length === 0) list.append(el('li', { className: 'muted empty-row' }, t('pop.none')));
}

function orderItem(order) {
  return el('li', { className: 'row-item', 'data-testid': 'pop-order' },
    el('span', { className: 'row-main' },
      el('span', { className: 'mono' }, `#${order.id ?? ''}`), ' ',
      el('span', { className: 'tag' }, order.type ?? ''), ' ',
      el('span', { className: 'summary' }, order.summary ?? '')),
    el('span', { className: 'row-side' },
      el('span', { className: `tag status-${cssToken(order.status)}` }, order.status ?? ''), ' ',
      el('span', { className: 'muted' }, formatTimestamp(order.created_at))));
}

function callItem(call) {
  const outcome = call.abandoned ? t('pop.abandoned') : call.answered_at ? t('pop.answered') : '';
  const recording = Number.isInteger(call.recording_id) && call.recording_id > 0 ? String(call.recording_id) : null;
  return el('li', { className: 'row-item', 'data-testid': 'pop-call', dataset: recording ? { recording } : {} },
    el('span', { className: 'row-main' },
      el('span', { className: 'muted' }, formatTimestamp(call.joined_at)), ' ',
      el('span', {}, call.queue ?? ''), ' ',
      call.agent ? el('span', { className: 'muted' }, t('pop.by', { agent: call.agent })) : null),
    el('span', { className: 'row-side' },
      outcome ? el('span', { className: `tag ${call.abandoned ? 'status-bad' : 'status-ok'}` }, outcome) : null,
      recording ? ' ' : null,
      recording ? el('button', { type: 'button', className: 'btn btn-secondary btn-small',
        'data-testid': 'pop-play', dataset: { recordingId: recording } }, t('pop.play')) : null));
}

/** A safe class-name fragment from free text (only used for colouring). */
function cssToken(value) {
  return String(value ?? '').toLowerCase().replace(/[^a-z0-9_-]/g, '') || 'none';
}
