// Callback tasks on the desktop: the agent's list (own tasks and the unassigned ones of its
// queues, next attempt first), preview dialling and the result form. Over the /agent socket:
//   callback.list -> {tasks: [task]}
//   callback.dial {id} -> {uuid, task}      (rings the agent's phone, then the customer)
//   callback.result {id, result, score?, notes?} -> {task}
// The server pushes callback.assigned {task} when a task lands on the agent or its queues.
//
// Stable ids: #cb-panel, #cb-refresh, #cb-empty, #cb-list (li[data-testid=cb-item][data-id]
// [data-status][data-due] with [data-testid=cb-number], [data-testid=cb-reason],
// button[data-action=dial|result], [data-testid=cb-history], [data-testid=cb-order]), #cb-dialog: #cb-form,
// #cb-context, #cb-result (reached|no_answer|wrong_number|refused), #cb-score (1-5, only for
// reached), #cb-notes, #cb-error, #cb-cancel, #cb-submit.

import { byId, el, formatTimestamp, setText, show } from './dom.js';
import { has, t } from './i18n.js';
import { request, toast } from './toast.js';

const LIST_TIMEOUT_MS = 8000;

function label(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value ?? '');
}

export class CallbackPanel {
  /** getSocket: the live /agent socket (or null before sign-in). */
  constructor(getSocket) {
    this.getSocket = getSocket;
    this.tasks = [];
    this.current = null; // the task the result form is for
  }

  bind() {
    byId('cb-refresh').addEventListener('click', () => this.refresh());
    byId('cb-cancel').addEventListener('click', () => byId('cb-dialog').close());
    byId('cb-result').addEventListener('change', () => this.showScore());
    byId('cb-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    byId('cb-list').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-action]');
      if (!button) return;
      const task = this.tasks.find((item) => item.id === Number(button.dataset.id));
      if (!task) return;
      if (button.dataset.action === 'dial') this.dial(task);
      else this.openResult(task);
    });
    // The page re-labels itself on these; the list follows.
    byId('lang-switch').addEventListener('click', () => this.render());
    byId('btn-signout').addEventListener('click', () => this.clear());
    this.render();
  }

  /** Subscribe to the socket's pushes; the list loads on every (re)connect. */
  listen(socket) {
    socket.on('connect', () => this.refresh());
    socket.on('callback.assigned', (task) => {
      if (task && task.id) toast(t('cb.toast.assigned', { number: task.number || '' }), 'info');
      this.refresh();
    });
  }

  clear() {
    this.tasks = [];
    this.current = null;
    this.render();
  }

  /** Ask for the list quietly (no toast on success: it happens on every push). */
  refresh() {
    const socket = this.getSocket();
    if (!socket || !socket.connected) return;
    socket.timeout(LIST_TIMEOUT_MS).emit('callback.list', {}, (err, ack) => {
      if (err || !ack || ack.ok !== true || !Array.isArray(ack.tasks)) return;
      this.tasks = ack.tasks;
      this.render();
    });
  }

  async dial(task) {
    const ack = await request(this.getSocket(), 'callback.dial', { id: task.id }, 'cb.dial');
    if (ack && ack.ok && ack.task) {
      this.replace(ack.task);
      this.openResult(ack.task);
    } else {
      this.refresh();
    }
  }

  openResult(task) {
    this.current = task;
    setText('cb-context', `${task.customer_name || ''} ${task.number}`.trim());
    byId('cb-result').value = 'reached';
    byId('cb-score').value = '';
    byId('cb-notes').value = task.notes || '';
    setText('cb-error', '');
    this.showScore();
    const dialog = byId('cb-dialog');
    if (!dialog.open) dialog.showModal();
  }

  showScore() {
    show('cb-score-row', byId('cb-result').value === 'reached');
  }

  async submit() {
    const task = this.current;
    if (!task) return;
    const result = byId('cb-result').value;
    const payload = { id: task.id, result };
    const score = byId('cb-score').value;
    if (result === 'reached' && score) payload.score = Number(score);
    const notes = byId('cb-notes').value.trim();
    if (notes) payload.notes = notes;
    const ack = await request(this.getSocket(), 'callback.result', payload, 'cb.result');
    if (ack && ack.ok) {
      byId('cb-dialog').close();
      this.current = null;
      this.refresh();
    } else {
      setText('cb-error', ack ? String(ack.message || ack.error || '') : t('toast.timeout', { action: t('cb.result') }));
    }
  }

  replace(task) {
    this.tasks = this.tasks.map((item) => (item.id === task.id ? task : item));
    this.render();
  }

  item(task) {
    const due = task.status === 'pending' && task.due;
    return el('li', {
      className: `row cb-item cb-${task.status}`,
      'data-testid': 'cb-item',
      dataset: { id: String(task.id), status: task.status, due: due ? 'true' : 'false' },
    },
    el('div', { className: 'row-main' },
      el('span', { className: 'mono', 'data-testid': 'cb-number' }, task.number),
      task.customer_name ? el('span', { className: 'cb-customer' }, ` ${task.customer_name}`) : null,
      ' ', el('span', { className: 'badge' }, label('cb.status', task.status)),
      due ? el('span', { className: 'badge badge-new' }, t('cb.due')) : null),
    el('div', { className: 'small muted' },
      el('span', { 'data-testid': 'cb-reason' }, label('cb.source', task.source),
        task.reason ? ` · ${task.reason}` : ''),
      ` · ${t('cb.next')} ${formatTimestamp(task.next_attempt_at)}`,
      ` · ${t('cb.attempts', { n: task.attempts, max: task.max_attempts })}`,
      task.recording_path ? ` · ${t('cb.recording')}` : ''),
    el('div', { className: 'cb-actions' },
      task.status === 'pending'
        ? el('button', { type: 'button', className: 'btn btn-primary btn-small',
          dataset: { action: 'dial', id: String(task.id) } }, t('cb.dial')) : null,
      task.status === 'in_progress'
        ? el('button', { type: 'button', className: 'btn btn-secondary btn-small',
          dataset: { action: 'result', id: String(task.id) } }, t('cb.result')) : null,
      // The contact history is a CRM (REST) resource: shown as its reference, not a page.
      task.customer_id
        ? el('span', { className: 'small muted mono', title: task.history, 'data-testid': 'cb-history' },
          ` ${t('cb.history')}: #${task.customer_id}`) : null,
      task.work_order_id
        ? el('span', { className: 'small muted mono', 'data-testid': 'cb-order' },
          ` ${t('cb.order', { id: task.work_order_id })}`) : null));
  }

  render() {
    byId('cb-list').replaceChildren(...this.tasks.map((task) => this.item(task)));
    show('cb-empty', this.tasks.length === 0);
  }
}
