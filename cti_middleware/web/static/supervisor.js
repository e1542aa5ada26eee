// Supervisor view: every agent's live state, with listen / whisper / barge and forced
// status changes. It talks to the /supervisor namespace, which the server only admits
// for supervisor accounts; the panel stays hidden for everyone else.

import { byId, el, setText, show } from './dom.js';
import { has, t } from './i18n.js';
import { request } from './toast.js';

const ACTIONS = [
  { action: 'listen', event: 'supervisor.listen', label: 'sup.listen' },
  { action: 'whisper', event: 'supervisor.whisper', label: 'sup.whisper' },
  { action: 'barge', event: 'supervisor.barge', label: 'sup.barge' },
  { action: 'stop', event: 'supervisor.stop', label: 'sup.stop' },
  { action: 'force-ready', event: 'supervisor.force', status: 'Available', label: 'sup.force_ready' },
  { action: 'force-break', event: 'supervisor.force', status: 'On Break', label: 'sup.force_break' },
  { action: 'force-logout', event: 'supervisor.force', status: 'Logged Out', label: 'sup.force_logout' },
];

export class SupervisorView {
  constructor() {
    this.socket = null;
    this.agents = new Map(); // agent id -> {agent, name, status, state, call_uuid}
  }

  /** Open the /supervisor namespace with the same credentials as the agent session. */
  connect(io, auth) {
    this.disconnect();
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
  }

  disconnect() {
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
    }
    this.socket = null;
    this.agents.clear();
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
    this.render();
  }

  render() {
    const body = byId('sup-agents');
    const rows = [...this.agents.values()].sort((a, b) => String(a.agent).localeCompare(String(b.agent)));
    body.replaceChildren(...rows.map((row) => this.row(row)));
    show('sup-empty', rows.length === 0);
  }

  row(agent) {
    const label = (prefix, value) => (value && has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value ?? '');
    const buttons = ACTIONS.map((spec) => {
      const button = el('button', {
        type: 'button',
        className: `btn btn-small ${spec.status ? 'btn-warn' : 'btn-secondary'}`,
        dataset: { action: spec.action },
        'data-testid': `sup-${spec.action}`,
      }, t(spec.label));
      button.addEventListener('click', () => this.act(spec, String(agent.agent)));
      return button;
    });
    return el('tr', { dataset: { agent: String(agent.agent) }, 'data-testid': 'sup-row' },
      el('td', { className: 'mono' }, String(agent.agent)),
      el('td', {}, agent.name ?? ''),
      el('td', {}, el('span', { className: `badge status-badge status-${statusClass(agent.status)}` },
        label('status', agent.status))),
      el('td', {}, label('state', agent.state)),
      el('td', { className: 'mono small' }, agent.call_uuid ? String(agent.call_uuid).slice(0, 8) : ''),
      el('td', { className: 'actions-cell' }, el('div', { className: 'actions' }, buttons)));
  }

  act(spec, agent) {
    const payload = spec.status ? { agent, status: spec.status } : { agent };
    return request(this.socket, spec.event, payload, spec.label);
  }
}

/** Colour class for a mod_callcenter status string. */
export function statusClass(status) {
  if (status === 'Available' || status === 'Available (On Demand)') return 'available';
  if (status === 'On Break') return 'break';
  if (status === 'Logged Out') return 'loggedout';
  return 'other';
}
