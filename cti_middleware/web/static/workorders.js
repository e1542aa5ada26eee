// Work orders on the desktop: the "New work order" form opened from the screen pop, the
// "My work orders" list (mine / my department) with the workflow's next steps, and the
// "Block this caller" confirmation. Everything goes over the /agent socket with acks:
//   workorder.create {type, summary, details, customer_id, call_uuid, region, <type fields>}
//   workorder.list {scope: mine|department|all, overdue?} -> {items: [order + next]}
//   workorder.transition {id, to, note?}, blacklist.add {number, reason}
// The server pushes workorder.assigned / workorder.updated / workorder.overdue.

import { byId, el, formatTimestamp, setText, show } from './dom.js';
import { has, t } from './i18n.js';
import { request, toast } from './toast.js';

const TYPES = ['complaint', 'inquiry', 'service_request', 'appointment', 'callback'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'];

/** Epoch seconds from a datetime-local input value ('' -> null). */
function epochOf(value) {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : ms / 1000;
}

function label(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value ?? '');
}

export class WorkOrders {
  /** getSocket: the live /agent socket; getPop: the last screen.pop (or null). */
  constructor(getSocket, getPop) {
    this.getSocket = getSocket;
    this.getPop = getPop;
    this.items = [];
    this.scope = 'all';
  }

  bind() {
    const on = (id, handler) => byId(id).addEventListener('click', handler);
    on('btn-new-order', () => this.openForm());
    on('btn-block-caller', () => this.openBlock());
    on('wo-cancel', () => byId('wo-dialog').close());
    on('block-cancel', () => byId('block-dialog').close());
    on('wo-refresh', () => this.refresh());
    byId('wo-scope').addEventListener('change', () => {
      this.scope = byId('wo-scope').value;
      this.refresh();
    });
    byId('wo-type').addEventListener('change', () => this.showTypeFields());
    byId('wo-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    byId('block-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.block();
    });
    byId('wo-list').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-to]');
      if (button) this.move(Number(button.dataset.id), button.dataset.to);
    });
    this.render();
  }

  /** Server pushes: refresh the list, and say why. */
  listen(socket) {
    socket.on('workorder.assigned', (order) => {
      if (order && order.id) toast(t('wo.toast.assigned', { id: order.id }), 'info');
      this.refresh();
    });
    socket.on('workorder.updated', () => this.refresh());
    socket.on('workorder.overdue', (order) => {
      if (order && order.id) toast(t('wo.toast.overdue', { id: order.id }), 'error');
      this.refresh();
    });
  }

  /** A new call: the caller is not blocked yet, and the pop's buttons follow it. */
  onPop() {
    delete byId('pop-card').dataset.blocked;
    this.render();
  }

  clear() {
    this.items = [];
    this.render();
  }

  // ---- list -----------------------------------------------------------------------------

  refresh() {
    const socket = this.getSocket();
    if (!socket || !socket.connected) return;
    socket.timeout(8000).emit('workorder.list', { scope: this.scope }, (err, ack) => {
      if (err || !ack || ack.ok !== true) return;
      this.items = Array.isArray(ack.items) ? ack.items : [];
      this.render();
    });
  }

  render() {
    const pop = this.getPop();
    const number = pop && pop.caller ? pop.caller.number : '';
    byId('btn-new-order').disabled = !pop;
    byId('btn-block-caller').disabled = !number;
    const rows = this.items.map((order) => this.item(order));
    byId('wo-list').replaceChildren(...rows);
    show('wo-empty', rows.length === 0);
  }

  item(order) {
    const next = Array.isArray(order.next) ? order.next : [];
    return el('li', {
      className: 'row-item wo-item', 'data-testid': 'wo-item',
      dataset: { id: String(order.id), status: String(order.status), overdue: String(Boolean(order.overdue)) },
    },
    el('span', { className: 'row-main' },
      el('span', { className: 'mono' }, `#${order.id}`), ' ',
      el('span', { className: 'tag' }, label('wo.type', order.type)), ' ',
      el('span', { className: 'summary' }, order.summary ?? ''),
      order.department ? el('span', { className: 'muted small' }, ` · ${order.department}`) : null),
    el('span', { className: 'row-side' },
      el('span', { className: `tag status-${order.status}`, 'data-testid': 'wo-status' },
        label('wo.status', order.status)), ' ',
      order.due_at ? el('span', { className: 'muted small' },
        t('wo.due', { at: formatTimestamp(order.due_at) })) : null, ' ',
      order.overdue ? el('span', { className: 'badge wo-overdue', 'data-testid': 'wo-overdue' },
        t('wo.overdue')) : null,
      ...next.map((to) => el('button', {
        type: 'button', className: 'btn btn-secondary btn-small',
        dataset: { id: String(order.id), to },
      }, label('wo.to', to)))));
  }

  async move(id, to) {
    const ack = await request(this.getSocket(), 'workorder.transition', { id, to }, 'wo.action.move');
    if (ack && ack.ok) this.refresh();
  }

  // ---- new work order ---------------------------------------------------------------------

  openForm() {
    const pop = this.getPop();
    if (!pop) {
      toast(t('toast.nocall'), 'error');
      return;
    }
    const customer = pop.customer && typeof pop.customer === 'object' ? pop.customer : null;
    const caller = pop.caller || {};
    setText('wo-context', customer
      ? t('wo.context.customer', { name: customer.name ?? '', number: caller.number ?? '' })
      : t('wo.context.caller', { number: caller.number ?? '', region: pop.region ?? '' }));
    byId('wo-type').value = 'complaint';
    byId('wo-summary').value = '';
    byId('wo-details').value = '';
    byId('wo-address').value = customer && customer.address ? customer.address : '';
    byId('wo-against').value = '';
    byId('wo-severity').value = 'medium';
    byId('wo-window-start').value = '';
    byId('wo-window-end').value = '';
    setText('wo-error', '');
    this.showTypeFields();
    byId('wo-dialog').showModal();
    byId('wo-summary').focus();
  }

  showTypeFields() {
    const type = byId('wo-type').value;
    show('wo-appointment', type === 'appointment');
    show('wo-complaint', type === 'complaint');
  }

  formPayload() {
    const pop = this.getPop() || {};
    const type = byId('wo-type').value;
    if (!TYPES.includes(type)) return null;
    const payload = { type, summary: byId('wo-summary').value.trim() };
    const details = byId('wo-details').value.trim();
    if (details) payload.details = details;
    if (pop.customer && Number.isInteger(pop.customer.id)) payload.customer_id = pop.customer.id;
    if (pop.call_uuid) payload.call_uuid = String(pop.call_uuid);
    if (pop.region) payload.region = String(pop.region);
    if (type === 'appointment') {
      payload.window_start = epochOf(byId('wo-window-start').value);
      payload.window_end = epochOf(byId('wo-window-end').value);
      payload.address = byId('wo-address').value.trim();
    } else if (type === 'complaint') {
      const severity = byId('wo-severity').value;
      payload.severity = SEVERITIES.includes(severity) ? severity : 'medium';
      const against = byId('wo-against').value.trim();
      if (against) payload.against = against;
    }
    return payload;
  }

  async submit() {
    const payload = this.formPayload();
    if (!payload || !payload.summary) {
      setText('wo-error', t('wo.error.summary'));
      return;
    }
    const ack = await request(this.getSocket(), 'workorder.create', payload, 'wo.action.create');
    if (ack && ack.ok) {
      byId('wo-dialog').close();
      this.refresh();
    } else if (ack) {
      setText('wo-error', String(ack.message || ack.error || ''));
    }
  }

  // ---- block this caller --------------------------------------------------------------------

  openBlock() {
    const pop = this.getPop();
    const number = pop && pop.caller ? pop.caller.number : '';
    if (!number) {
      toast(t('toast.nocall'), 'error');
      return;
    }
    setText('block-number', number);
    byId('block-reason').value = '';
    byId('block-dialog').showModal();
    byId('block-reason').focus();
  }

  async block() {
    const number = byId('block-number').textContent;
    const reason = byId('block-reason').value.trim();
    byId('block-dialog').close();
    const payload = { number };
    if (reason) payload.reason = reason;
    const pop = this.getPop();
    if (pop && pop.call_uuid) payload.call_uuid = String(pop.call_uuid);
    const ack = await request(this.getSocket(), 'blacklist.add', payload, 'wo.action.block');
    if (ack && ack.ok) byId('pop-card').dataset.blocked = 'true';
  }
}
