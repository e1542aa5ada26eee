// Agent desktop: sign-in, agent state, screen pop, queue and personal statistics.
// One Socket.IO connection to the /agent namespace carries everything for the agent;
// supervisors additionally get /supervisor (see supervisor.js). Server payloads are
// documented at the top of index.html.

import { CallbackPanel } from './callbacks.js';
import { CallControls } from './calls.js';
import { byId, el, formatDuration, secondsSince, setText, show } from './dom.js';
import { applyStatic, has, language, setLanguage, t } from './i18n.js';
import { bindHistoryPlayback, renderPop } from './pop.js';
import { SupervisorView, statusClass } from './supervisor.js';
import { request } from './toast.js';
import { WorkOrders } from './workorders.js';

const LAST_AGENT_KEY = 'cti.agent';
const INVALID_CREDENTIALS = 'invalid credentials';
const SUPERVISOR_ROLES = ['supervisor', 'admin'];

const state = {
  socket: null,
  auth: null,
  signedIn: false,
  session: null, // {agent, name, role}
  agent: null, // last agent.state for this agent
  pop: null, // last screen.pop
  popEnded: false,
  queues: new Map(), // queue -> {waiting, longest_wait_since}
  stats: null,
};
const calls = new CallControls(() => state.socket);
const supervisor = new SupervisorView();
const workOrders = new WorkOrders(() => state.socket, () => state.pop);
const callbackPanel = new CallbackPanel(() => state.socket);

/** Translate a mod_callcenter status/state when we know it, show it raw otherwise. */
function label(prefix, value) {
  if (value === undefined || value === null || value === '') return t('state.unknown');
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value);
}

// ---- sign-in -------------------------------------------------------------------------

function showLoginError(message) {
  setText('login-error', message);
  show('login-error', Boolean(message));
}

function setView(signedIn) {
  state.signedIn = signedIn;
  show('login-view', !signedIn);
  show('desktop-view', signedIn);
  show('header-session', signedIn);
  document.body.dataset.view = signedIn ? 'desktop' : 'login';
}

function onLoginSubmit(event) {
  event.preventDefault();
  const agent = byId('login-agent').value.trim();
  const password = byId('login-password').value;
  if (!agent || !password) {
    showLoginError(t('login.missing'));
    return;
  }
  showLoginError('');
  byId('login-submit').disabled = true;
  setText('login-progress', t('login.connecting'));
  connect({ agent, password });
}

function connect(auth) {
  closeSocket();
  state.auth = auth;
  // window.io comes from /static/vendor/socket.io.min.js
  const socket = window.io('/agent', { auth, transports: ['websocket'] });
  state.socket = socket;
  socket.on('connect', () => onConnected(auth));
  socket.on('connect_error', (err) => onConnectError(socket, err));
  socket.on('disconnect', (reason) => {
    if (reason !== 'io client disconnect') setConnection(false);
  });
  socket.on('session', onSession);
  socket.on('agent.state', onAgentState);
  socket.on('screen.pop', onScreenPop);
  socket.on('queue.waiting', onQueueWaiting);
  socket.on('agent.stats', onStats);
  socket.on('call.ended', (msg) => { if (calls.onCallEnded(msg)) markPopEnded(); });
  socket.on('call.held', (msg) => calls.onCallHeld(msg));
  workOrders.listen(socket);
  callbackPanel.listen(socket);
}

function onConnected(auth) {
  setConnection(true);
  workOrders.refresh();
  if (state.signedIn) return; // a reconnect: the server re-sends state
  try {
    window.localStorage.setItem(LAST_AGENT_KEY, auth.agent);
  } catch {
    // only a convenience
  }
  byId('login-password').value = '';
  byId('login-submit').disabled = false;
  setText('login-progress', '');
  setText('header-agent', auth.agent);
  setView(true);
  renderAll();
}

function onConnectError(socket, err) {
  const message = err && err.message ? String(err.message) : '';
  const refused = message === INVALID_CREDENTIALS;
  if (state.signedIn && !refused) {
    setConnection(false); // transport trouble: socket.io keeps retrying on its own
    return;
  }
  socket.disconnect();
  if (state.socket === socket) state.socket = null;
  if (state.signedIn) signOut();
  byId('login-submit').disabled = false;
  setText('login-progress', '');
  showLoginError(refused ? t('login.invalid') : t('login.failed', { message: message || '?' }));
}

function closeSocket() {
  if (state.socket) {
    state.socket.removeAllListeners();
    state.socket.disconnect();
  }
  state.socket = null;
}

function signOut() {
  closeSocket();
  supervisor.disconnect();
  Object.assign(state, { auth: null, session: null, agent: null, pop: null, popEnded: false, stats: null });
  state.queues.clear();
  calls.clear();
  workOrders.clear();
  setView(false);
  renderAll();
  byId('login-password').focus();
}

function setConnection(online) {
  const badge = byId('conn-status');
  badge.dataset.online = online ? 'true' : 'false';
  badge.textContent = t(online ? 'conn.online' : 'conn.offline');
}

// ---- server events -------------------------------------------------------------------

function onSession(msg) {
  if (!msg || typeof msg !== 'object') return;
  state.session = msg;
  renderSession();
  if (SUPERVISOR_ROLES.includes(msg.role) && state.auth) supervisor.connect(window.io, state.auth);
}

function onAgentState(msg) {
  if (!msg || typeof msg !== 'object') return;
  const me = state.session ? state.session.agent : state.auth && state.auth.agent;
  if (me && msg.agent && msg.agent !== me) return;
  state.agent = msg;
  if (calls.onAgentState(msg)) markPopEnded();
  renderAgentState();
}

function onScreenPop(msg) {
  if (!msg || typeof msg !== 'object' || !msg.call_uuid) return;
  state.pop = msg;
  state.popEnded = false;
  calls.onPop(msg);
  renderPop(state.pop, false);
  workOrders.onPop();
}

function markPopEnded() {
  state.popEnded = true;
  renderPop(state.pop, true);
}

function onQueueWaiting(msg) {
  if (!msg || !msg.queue) return;
  const waiting = Math.max(0, Number(msg.waiting) || 0);
  if (waiting === 0) state.queues.delete(String(msg.queue));
  else state.queues.set(String(msg.queue), { waiting, longest_wait_since: msg.longest_wait_since ?? null });
  renderQueues();
}

function onStats(msg) {
  if (!msg || typeof msg !== 'object') return;
  state.stats = msg;
  renderStats();
}

// ---- rendering -----------------------------------------------------------------------

function renderSession() {
  const session = state.session;
  setText('header-name', session && session.name ? session.name : '');
  const role = session && session.role ? String(session.role) : 'agent';
  setText('header-role', label('role', role));
  byId('header-role').dataset.role = role;
}

function renderAgentState() {
  const agent = state.agent;
  setText('state-status', label('status', agent && agent.status));
  setText('state-state', label('state', agent && agent.state));
  byId('state-status').className = `badge status-badge status-${statusClass(agent && agent.status)}`;
  byId('state-panel').dataset.status = agent ? String(agent.status) : '';
  if (agent && agent.name && !(state.session && state.session.name)) setText('header-name', agent.name);
  renderTimers();
}

function renderTimers() {
  const agent = state.agent;
  const since = agent && Number(agent.since);
  setText('state-timer', since ? formatDuration(secondsSince(since)) : '--:--');
  document.querySelectorAll('#queue-list [data-since]').forEach((node) => {
    node.textContent = formatDuration(secondsSince(Number(node.dataset.since)));
  });
}

function renderQueues() {
  let total = 0;
  const items = [...state.queues.entries()].sort().map(([queue, info]) => {
    total += info.waiting;
    const since = Number(info.longest_wait_since);
    return el('li', { className: 'queue-item', dataset: { queue }, 'data-testid': 'queue-item' },
      el('span', { className: 'queue-name' }, queue),
      el('span', { className: 'queue-count' }, String(info.waiting)),
      since ? el('span', { className: 'queue-longest muted' }, `${t('queue.longest')} `,
        el('span', { className: 'mono', dataset: { since: String(since) } }, formatDuration(secondsSince(since))))
        : null);
  });
  byId('queue-list').replaceChildren(...items);
  show('queue-empty', items.length === 0);
  setText('queue-total', String(total));
  byId('queue-indicator').dataset.waiting = String(total);
}

function renderStats() {
  const stats = state.stats || {};
  const num = (v) => (v === undefined || v === null ? '—' : String(v));
  const dur = (v) => (v === undefined || v === null ? '—' : formatDuration(v));
  setText('stats-calls', num(stats.calls_today));
  setText('stats-talk', dur(stats.talk_time));
  setText('stats-aht', dur(stats.avg_handle_time));
}

function renderAll() {
  applyStatic();
  setText('lang-switch', t('lang.switch'));
  const online = byId('conn-status').dataset.online === 'true';
  setConnection(online);
  renderSession();
  renderAgentState();
  renderPop(state.pop, state.popEnded);
  renderQueues();
  renderStats();
  calls.render();
  supervisor.render();
  workOrders.render();
}

// ---- agent actions -------------------------------------------------------------------

function bindAgentActions() {
  const on = (id, handler) => byId(id).addEventListener('click', handler);
  on('btn-login', () => request(state.socket, 'agent.login', undefined, 'state.login'));
  on('btn-ready', () => request(state.socket, 'agent.ready', undefined, 'state.ready'));
  on('btn-not-ready', () => request(state.socket, 'agent.not_ready',
    { reason: byId('notready-reason').value }, 'state.notready'));
  on('btn-wrapup', () => request(state.socket, 'agent.wrapup', undefined, 'state.wrapup'));
  on('btn-logout', () => request(state.socket, 'agent.logout', undefined, 'state.logout'));
  on('btn-signout', signOut);
  on('lang-switch', () => {
    setLanguage(language() === 'zh' ? 'en' : 'zh');
    renderAll();
  });
}

function start() {
  if (typeof window.io !== 'function') {
    showLoginError(t('login.failed', { message: 'socket.io client missing' }));
  }
  try {
    const last = window.localStorage.getItem(LAST_AGENT_KEY);
    if (last) byId('login-agent').value = last;
  } catch {
    // no stored agent id
  }
  byId('login-form').addEventListener('submit', onLoginSubmit);
  bindAgentActions();
  calls.bind();
  workOrders.bind();
  callbackPanel.bind();
  bindHistoryPlayback(() => state.socket);
  setView(false);
  renderAll();
  window.setInterval(renderTimers, 1000);
  document.body.dataset.ready = 'true';
}

start();
