// Call controls. The current call is tracked from `screen.pop` (offered -> bridged) and
// `agent.state` (call_uuid cleared = call gone); hold and consult are tracked from the acks
// of our own requests. Each button is enabled only in the phases where it makes sense, so
// an agent cannot, say, transfer a call that is still ringing.

import { byId, setText } from './dom.js';
import { t } from './i18n.js';
import { request, toast } from './toast.js';

/** Phases in which each control is usable. */
const ENABLED_IN = {
  'btn-answer': ['offered'],
  'btn-hangup': ['offered', 'bridged', 'held', 'consulting'],
  'btn-hold': ['bridged', 'held'],
  'btn-transfer': ['bridged', 'held'],
  'btn-consult': ['bridged', 'held'],
  'btn-consult-cancel': ['consulting'],
  'btn-consult-complete': ['consulting'],
  'btn-conference': ['consulting'],
  'btn-dial': ['none'],
  'dial-number': ['none'],
};
const DTMF_PHASES = ['bridged', 'consulting'];
const DIALABLE = /^\+?[0-9*#]{1,32}$/;

export class CallControls {
  /** getSocket returns the live /agent socket (it changes on every sign-in). */
  constructor(getSocket) {
    this.getSocket = getSocket;
    this.call = null; // {uuid, stage, held, consulting, ended}
    this.dialogMode = 'transfer';
  }

  phase() {
    const call = this.call;
    if (!call || call.ended) return 'none';
    if (call.consulting) return 'consulting';
    if (call.held) return 'held';
    return call.stage === 'bridged' ? 'bridged' : 'offered';
  }

  /** A pop for a new call resets hold/consult; a later pop for the same call advances it. */
  onPop(pop) {
    const uuid = pop.call_uuid;
    if (!this.call || this.call.uuid !== uuid || this.call.ended) {
      this.call = { uuid, stage: pop.stage, held: false, consulting: false, ended: false };
      setText('dtmf-sent', '');
      byId('call-notes').value = '';
    } else {
      this.call.stage = pop.stage;
    }
    this.render();
  }

  /** agent.state without a call uuid means our call is over (hung up, or moved away). */
  onAgentState(msg) {
    if (this.call && !this.call.ended && !msg.call_uuid) {
      this.call.ended = true;
      this.render();
      return true;
    }
    return false;
  }

  /** `call.ended` / `call.held` are optional server events; honoured when they arrive. */
  onCallEnded(msg) {
    if (this.call && msg && (msg.call_uuid === this.call.uuid || msg.uuid === this.call.uuid)) {
      this.call.ended = true;
      this.render();
      return true;
    }
    return false;
  }

  onCallHeld(msg) {
    if (this.call && msg && (msg.uuid === this.call.uuid || msg.call_uuid === this.call.uuid)) {
      this.call.held = Boolean(msg.held);
      this.render();
    }
  }

  clear() {
    this.call = null;
    this.render();
  }

  render() {
    const phase = this.phase();
    byId('call-panel').dataset.phase = phase;
    setText('call-phase', t(`call.phase.${phase}`));
    for (const [id, phases] of Object.entries(ENABLED_IN)) byId(id).disabled = !phases.includes(phase);
    const hold = byId('btn-hold');
    hold.textContent = t(phase === 'held' ? 'call.unhold' : 'call.hold');
    hold.setAttribute('aria-pressed', phase === 'held' ? 'true' : 'false');
    document.querySelectorAll('#dtmf-pad button').forEach((b) => { b.disabled = !DTMF_PHASES.includes(phase); });
    const hasCall = Boolean(this.call && this.call.uuid);
    byId('btn-save-notes').disabled = !hasCall;
    byId('call-notes').disabled = !hasCall;
  }

  bind() {
    const on = (id, handler) => byId(id).addEventListener('click', handler);
    on('btn-answer', () => this.simple('call.answer', 'call.answer'));
    on('btn-hangup', () => this.simple('call.hangup', 'call.hangup'));
    on('btn-hold', () => this.toggleHold());
    on('btn-transfer', () => this.openDialog('transfer'));
    on('btn-consult', () => this.openDialog('consult'));
    on('btn-consult-cancel', () => this.endConsult('call.consult_cancel'));
    on('btn-consult-complete', () => this.endConsult('call.consult_complete'));
    on('btn-conference', () => this.simple('call.conference', 'call.conference'));
    on('btn-dial', () => this.dial());
    on('btn-save-notes', () => this.saveNotes());
    on('transfer-cancel', () => byId('transfer-dialog').close());
    byId('transfer-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.confirmDialog();
    });
    byId('dial-number').addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.dial();
    });
    document.querySelectorAll('#dtmf-pad button').forEach((button) => {
      button.addEventListener('click', () => this.dtmf(button.dataset.digit));
    });
    this.render();
  }

  uuidOrWarn() {
    if (this.call && this.call.uuid && !this.call.ended) return this.call.uuid;
    toast(t('toast.nocall'), 'error');
    return null;
  }

  async simple(event, actionKey) {
    const uuid = this.uuidOrWarn();
    if (!uuid) return null;
    return request(this.getSocket(), event, { uuid }, actionKey);
  }

  async toggleHold() {
    const holding = this.phase() === 'held';
    const ack = await this.simple(holding ? 'call.unhold' : 'call.hold', holding ? 'call.unhold' : 'call.hold');
    if (ack && ack.ok && this.call) {
      this.call.held = !holding;
      this.render();
    }
  }

  openDialog(mode) {
    this.dialogMode = mode;
    setText('transfer-title', t(mode === 'consult' ? 'dialog.consult' : 'dialog.transfer'));
    byId('transfer-dialog').dataset.mode = mode;
    byId('transfer-target').value = '';
    byId('transfer-dialog').showModal();
    byId('transfer-target').focus();
  }

  async confirmDialog() {
    const target = byId('transfer-target').value.trim();
    if (!target) {
      toast(t('toast.notarget'), 'error');
      return;
    }
    byId('transfer-dialog').close();
    const uuid = this.uuidOrWarn();
    if (!uuid) return;
    const consult = this.dialogMode === 'consult';
    const event = consult ? 'call.consult' : 'call.transfer';
    const ack = await request(this.getSocket(), event, { uuid, target }, event);
    if (ack && ack.ok && consult && this.call) {
      this.call.consulting = true;
      this.render();
    }
  }

  async endConsult(event) {
    const ack = await this.simple(event, event);
    if (ack && ack.ok && this.call) {
      this.call.consulting = false;
      this.render();
    }
  }

  async dial() {
    const number = byId('dial-number').value.trim().replace(/[\s-]/g, '');
    if (!DIALABLE.test(number)) {
      toast(t('toast.nonumber'), 'error');
      return;
    }
    await request(this.getSocket(), 'call.dial', { number }, 'call.dial');
  }

  async dtmf(digit) {
    const uuid = this.uuidOrWarn();
    if (!uuid) return;
    const ack = await request(this.getSocket(), 'call.dtmf', { uuid, digits: digit }, 'call.dtmf');
    if (ack && ack.ok) byId('dtmf-sent').textContent += digit;
  }

  async saveNotes() {
    if (!this.call || !this.call.uuid) {
      toast(t('toast.nocall'), 'error');
      return;
    }
    const notes = byId('call-notes').value;
    await request(this.getSocket(), 'call.attach_data', { uuid: this.call.uuid, notes }, 'call.notes.save');
  }
}
