// Supervisor view: every agent's live state, with listen / whisper / barge and forced
// status changes. It talks to the /supervisor namespace, which the server only admits
// for supervisor accounts; the panel stays hidden for everyone else.
// One monitoring session at a time: the first of listen/whisper/barge rings the
// supervisor's phone, later ones switch mode on that same leg, stop hangs it up. The row
// being monitored carries data-monitor="<mode>" once the server has acknowledged it.
// Take over (after a confirmation dialog) rings the supervisor's phone into the customer's
// leg and cuts the agent off. Work orders past their SLA arrive as workorder.overdue and
// stay in the alert list until dismissed. The server pushes each of them only once, so on
// every (re)connect the page also asks for the orders already overdue and still open
//   workorder.list {scope: 'every', overdue: true, limit: 100} -> {items: [order]}
// and merges them with the pushes: one row per order, a dismissed order stays dismissed.

import { byId, el, formatTimestamp, setText, show } from './dom.js';
import { has, t } from './i18n.js';
import { request, toast } from './toast.js';

const MONITOR_MODES = ['listen', 'whisper', 'barge'];
const CALL_ACTIONS = [...MONITOR_MODES, 'takeover'];
const OVERDUE_KEEP = 100; // rows in the overdue list; also what one fetch asks for
const DISMISSED_KEEP = 1000;
const LIST_TIMEOUT_MS = 8000;

const ACTIONS = [
  { action: 'listen', event: 'supervisor.listen', label: 'sup.listen' },
  { action: 'whisper', event: 'supervisor.whisper', label: 'sup.whisper' },
  { action: 'barge', event: 'supervisor.barge', label: 'sup.barge' },
  { action: 'stop', event: 'supervisor.stop', label: 'sup.stop' },
  { action: 'takeover', event: 'supervisor.takeover', label: 'sup.takeover', confirm: true },
  { action: 'force-ready', event: 'supervisor.force', status: 'Available', label: 'sup.force_ready' },
  { action: 'force-break', event: 'supervisor.force', status: 'On Break', label: 'sup.force_break' },
  { action: 'force-logout', event: 'supervisor.force', status: 'Logged Out', label: 'sup.force_logout' },
];

export class SupervisorView {
  constructor() {
    this.socket = null;
    this.agents = new Map(); // agent id -> {agent, name, status, state, call_uuid, reason}
    this.monitoring = null; // {agent, mode, uuid} once a listen/whisper/barge is acknowledged
    this.overdue = new Map(); // work order id -> overdue payload
    this.dismissed = new Set(); // work order ids dismissed while signed in, oldest first
    this.pushedDuringFetch = null; // ids pushed while a fetch of the overdue list is out
    this.who = null; // the account the overdue list belongs to
    this.pendingTakeover = null; // the agent the confirmation dialog is about
    this.dialogBound = false;
  }

  /** The confirmation dialog's buttons; bound once, on the first connect. */
  bindDialog() {
    if (this.dialogBound) return;
    const dialog = byId('takeover-dialog');
    if (!dialog) return;
    this.dialogBound = true;
    byId('takeover-cancel').addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { this.pendingTakeover = null; }); // Cancel, Escape
    byId('takeover-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const agent = this.pendingTakeover;
      this.pendingTakeover = null;
      dialog.close();
      if (agent) this.send(ACTIONS.find((spec) => spec.action === 'takeover'), agent);
    });
    byId('sup-overdue').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-action=dismiss]');
      if (!button) return;
      this.dismiss(button.dataset.id);
    });
  }

  /** Open the /supervisor namespace with the same credentials as the agent session.
   *  Called again whenever the agent session reconnects: the same account keeps its
   *  overdue list and dismissals until the fresh fetch replaces the list. */
  connect(io, auth) {
    const who = auth && auth.agent ? String(auth.agent) : null;
    if (who !== this.who) this.forgetOverdue();
    this.closeSocket();
    this.who = who;
    this.bindDialog();
    show('supervisor-panel', true);
    setText('sup-error', '');
    this.render();
    const socket = io('/supervisor', { auth, transports: ['websocket'] });
    this.socket = socket;
    socket.on('connect_error', (err) => {
      setText('sup-error', t('sup.unavailable', { message: err && err.message ? err.message : '' }));
    });
    socket.on('connect', () => {
      setText('sup-error', '');
      this.fetchOverdue(socket);
    });
    socket.on('supervisor.agents', (list) => this.replaceAll(list));
    socket.on('agent.state', (msg) => this.update(msg));
    socket.on('workorder.overdue', (order) => this.addOverdue(order));
  }

  /** Ask for the orders that went overdue while this page was not listening. The answer
   *  replaces what the page held before the request (orders resolved since drop out);
   *  orders pushed while it was on its way stay. */
  fetchOverdue(socket) {
    const pushed = new Set();
    this.pushedDuringFetch = pushed;
    const query = { scope: 'every', overdue: true, limit: OVERDUE_KEEP };
    socket.timeout(LIST_TIMEOUT_MS).emit('workorder.list', query, (err, ack) => {
      if (this.socket !== socket || this.pushedDuringFetch !== pushed) return; // superseded
      this.pushedDuringFetch = null;
      if (err || !ack || ack.ok !== true || !Array.isArray(ack.items)) {
        const message = err ? err.message : (ack && (ack.message || ack.error)) || '?';
        toast(t('sup.overdue.load_failed', { message: String(message) }), 'error');
        return;
      }
      const merged = new Map();
      ack.items.forEach((order) => {
        const key = overdueKey(order);
        if (key !== null && !this.dismissed.has(key)) merged.set(key, order);
      });
      pushed.forEach((key) => { if (this.overdue.has(key)) merged.set(key, this.overdue.get(key)); });
      this.overdue = merged;
      this.trimOverdue();
      this.renderOverdue();
    });
  }

  /** A work order passed its deadline: one row per order, announced once. An order the
   *  list already shows (fetched just before its push) is only refreshed. */
  addOverdue(order) {
    const key = overdueKey(order);
    if (key === null || this.dismissed.has(key)) return;
    const known = this.overdue.has(key);
    this.overdue.set(key, order);
    if (this.pushedDuringFetch) this.pushedDuringFetch.add(key);
    this.trimOverdue();
    if (!known) toast(t('sup.overdue.toast', { id: key }), 'info');
    this.renderOverdue();
  }

  /** The supervisor has seen it: off the list, and later fetches or pushes leave it off. */
  dismiss(key) {
    this.overdue.delete(key);
    this.dismissed.add(key);
    while (this.dismissed.size > DISMISSED_KEEP) this.dismissed.delete(this.dismissed.values().next().value);
    this.renderOverdue();
  }

  /** Keep the OVERDUE_KEEP orders that went overdue last. */
  trimOverdue() {
    if (this.overdue.size <= OVERDUE_KEEP) return;
    const kept = sortedOverdue(this.overdue).slice(0, OVERDUE_KEEP);
    this.overdue = new Map(kept.map((order) => [String(order.id), order]));
  }

  forgetOverdue() {
    this.overdue.clear();
    this.dismissed.clear();
    this.pushedDuringFetch = null;
    this.who = null;
  }

  renderOverdue() {
    const list = byId('sup-overdue');
    if (!list) return;
    const rows = sortedOverdue(this.overdue).map((order) => el('li', {
      className: 'row-item sup-overdue-item',
      dataset: { id: String(order.id) },
      'data-testid': 'sup-overdue-item',
    },
    el('span', { className: 'row-main' },
      el('span', { className: 'mono' }, `#${order.id}`), ' ',
      el('span', { className: 'tag' }, has(`wo.type.${order.type}`) ? t(`wo.type.${order.type}`) : order.type ?? ''), ' ',
      el('span', { className: 'summary', 'data-testid': 'sup-overdue-summary' }, order.summary ?? '')),
    el('span', { className: 'row-side' },
      order.department ? el('span', { className: 'muted', 'data-testid': 'sup-overdue-department' }, order.department) : null,
      ' ',
      el('span', { className: 'tag status-bad', 'data-testid': 'sup-overdue-due' },
        t('sup.overdue.due', { time: formatTimestamp(order.due_at) })),
      ' ',
      el('button', { type: 'button', className: 'btn btn-ghost btn-small',
        dataset: { action: 'dismiss', id: String(order.id) } }, t('sup.overdue.dismiss')))));
    list.replaceChildren(...rows);
    show('sup-overdue-empty', rows.length === 0);
  }

  /** Signing out: nothing of this account's view stays. */
  disconnect() {
    this.closeSocket();
    this.forgetOverdue();
    show('supervisor-panel', false);
    this.render();
  }

  closeSocket() {
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
    }
    this.socket = null;
    this.agents.clear();
    this.monitoring = null;
    this.pendingTakeover = null;
    const dialog = byId('takeover-dialog');
    if (dialog && dialog.open) dialog.close();
  }

  replaceAll(list) {
    this.agents.clear();
    if (Array.isArray(list)) list.forEach((row) => { if (row && row.agent) this.agents.set(String(row.agent), { ...row }); });
    this.render();
  }

  /** An agent.state update merges into the row (the name may be absent from updates). */
  update(msg) {
    if (!msg || !msg.agent) return;
    const key = String(msg.agent);
    const before = this.agents.get(key) || {};
    const merged = { ...before, ...msg };
    if (!msg.name && before.name) merged.name = before.name;
    this.agents.set(key, merged);
    // The tap ends with the call it listens to: the switch hangs the supervisor's leg up.
    if (this.monitoring && this.monitoring.agent === key && !merged.call_uuid) this.monitoring = null;
    this.render();
  }

  render() {
    const body = byId('sup-agents');
    const rows = [...this.agents.values()].sort((a, b) => String(a.agent).localeCompare(String(b.agent)));
    body.replaceChildren(...rows.map((row) => this.row(row)));
    show('sup-empty', rows.length === 0);
    this.renderOverdue();
  }

  row(agent) {
    const label = (prefix, value) => (value && has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value ?? '');
    const buttons = ACTIONS.map((spec) => {
      const button = el('button', {
        type: 'button',
        className: `btn btn-small ${spec.status ? 'btn-warn' : spec.confirm ? 'btn-danger' : 'btn-secondary'}`,
        dataset: { action: spec.action },
        'data-testid': `sup-${spec.action}`,
      }, t(spec.label));
      button.disabled = !this.allowed(spec.action, agent);
      button.addEventListener('click', () => this.act(spec, String(agent.agent)));
      return button;
    });
    const key = String(agent.agent);
    const mode = this.monitoring && this.monitoring.agent === key ? this.monitoring.mode : null;
    const status = el('td', {}, el('span', { className: `badge status-badge status-${statusClass(agent.status)}` },
      label('status', agent.status)));
    if (agent.reason) {
      status.append(' ', el('span', { className: 'muted small', 'data-testid': 'sup-reason' }, label('reason', agent.reason)));
    }
    const call = el('td', { className: 'mono small' }, agent.call_uuid ? String(agent.call_uuid).slice(0, 8) : '');
    if (mode) call.append(' ', el('span', { className: 'badge', 'data-testid': 'sup-monitor' }, t(`sup.mode.${mode}`)));
    const attrs = { dataset: { agent: key }, 'data-testid': 'sup-row' };
    if (mode) attrs.dataset.monitor = mode;
    return el('tr', attrs,
      el('td', { className: 'mono' }, key),
      el('td', {}, agent.name ?? ''),
      status,
      el('td', {}, label('state', agent.state)),
      call,
      el('td', { className: 'actions-cell' }, el('div', { className: 'actions' }, buttons)));
  }

  /** Monitoring needs a call to tap; stop needs this agent to be the one monitored. */
  allowed(action, agent) {
    if (CALL_ACTIONS.includes(action)) return Boolean(agent.call_uuid);
    if (action === 'stop') return Boolean(this.monitoring && this.monitoring.agent === String(agent.agent));
    return true;
  }

  /** Actions marked confirm ask first, in the takeover dialog; the rest go straight out. */
  act(spec, agent) {
    const dialog = byId('takeover-dialog');
    if (spec.confirm && dialog) {
      this.pendingTakeover = agent;
      setText('takeover-agent', agent);
      if (!dialog.open) dialog.showModal();
      return Promise.resolve(null);
    }
    return this.send(spec, agent);
  }

  async send(spec, agent) {
    const payload = spec.status ? { agent, status: spec.status } : { agent };
    const ack = await request(this.socket, spec.event, payload, spec.label);
    if (ack && ack.ok === true) {
      if (MONITOR_MODES.includes(spec.action)) this.monitoring = { agent, mode: ack.mode || spec.action, uuid: ack.uuid };
      else if (spec.action === 'stop' || (spec.action === 'takeover' && this.monitoring
        && this.monitoring.agent === agent)) this.monitoring = null; // the tapped agent leg is gone
      this.render();
    } else if (ack && spec.action === 'stop' && ack.error === 'illegal_state') {
      this.monitoring = null; // the server holds no session for it any more
      this.render();
    }
    return ack;
  }
}

/** The row key of an overdue payload, or null if it names no order. */
function overdueKey(order) {
  if (!order || typeof order !== 'object' || order.id === undefined || order.id === null) return null;
  return String(order.id);
}

/** Latest deadline first (the order that went overdue last on top), then highest id. */
function sortedOverdue(orders) {
  const due = (order) => (Number.isFinite(Number(order.due_at)) ? Number(order.due_at) : 0);
  return [...orders.values()].sort((a, b) => due(b) - due(a) || Number(b.id) - Number(a.id));
}

/** Colour class for a mod_callcenter status string. */
export function statusClass(status) {
  if (status === 'Available' || status === 'Available (On Demand)') return 'available';
  if (status === 'On Break') return 'break';
  if (status === 'Logged Out') return 'loggedout';
  return 'other';
}
