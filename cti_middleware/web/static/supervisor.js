// Supervisor view: every agent's live state, with listen / whisper / barge and forced
// status changes. It talks to the /supervisor namespace, which the server only admits
// for supervisor accounts; the panel stays hidden for everyone else.
// One monitoring session at a time: the first of listen/whisper/barge rings the
// supervisor's phone, later ones switch mode on that same leg, stop hangs it up. The row
// being monitored carries data-monitor="<mode>" once the server has acknowledged it.
// Take over (after a confirmation dialog) rings the supervisor's phone into the customer's
// leg and cuts the agent off. Work orders past their SLA arrive as workorder.overdue and
// stay in the alert list until dismissed.

import { byId, el, formatTimestamp, setText, show } from './dom.js';
import { has, t } from './i18n.js';
import { request, toast } from './toast.js';

const MONITOR_MODES = ['listen', 'whisper', 'barge'];
const CALL_ACTIONS = [...MONITOR_MODES, 'takeover'];
const OVERDUE_KEEP = 50;

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
    this.overdue = new Map(); // work order id -> overdue payload, newest last
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
      this.overdue.delete(button.dataset.id);
      this.renderOverdue();
    });
  }

  /** Open the /supervisor namespace with the same credentials as the agent session. */
  connect(io, auth) {
    this.disconnect();
    this.bindDialog();
    show('supervisor-panel', true);
    setText('sup-error', '');
    const socket = io('/supervisor', { auth, transports: ['websocket'] });
    this.socket = socket;
    socket.on('connect_error', (err) => {
      setText('sup-error', t('sup.unavailable', { message: err && err.message ? err.message : '' }));
    });
    socket.on('connect', () => setText('sup-error', ''));
    socket.on('supervisor.agents', (list) => this.replaceAll(list));
    socket.on('agent.state', (msg) => this.update(msg));
    socket.on('workorder.overdue', (order) => this.addOverdue(order));
  }

  /** A work order passed its deadline: newest on top, one row per order. */
  addOverdue(order) {
    if (!order || typeof order !== 'object' || order.id === undefined || order.id === null) return;
    const key = String(order.id);
    this.overdue.delete(key);
    this.overdue.set(key, order);
    while (this.overdue.size > OVERDUE_KEEP) this.overdue.delete(this.overdue.keys().next().value);
    toast(t('sup.overdue.toast', { id: key }), 'info');
    this.renderOverdue();
  }

  renderOverdue() {
    const list = byId('sup-overdue');
    if (!list) return;
    const rows = [...this.overdue.values()].reverse().map((order) => el('li', {
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

  disconnect() {
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
    }
    this.socket = null;
    this.agents.clear();
    this.monitoring = null;
    this.overdue.clear();
    this.pendingTakeover = null;
    const dialog = byId('takeover-dialog');
    if (dialog && dialog.open) dialog.close();
    show('supervisor-panel', false);
    this.render();
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

/** Colour class for a mod_callcenter status string. */
export function statusClass(status) {
  if (status === 'Available' || status === 'Available (On Demand)') return 'available';
  if (status === 'On Break') return 'break';
  if (status === 'Logged Out') return 'loggedout';
  return 'other';
}
