// Labels of the agent desktop in Chinese and English.
// Static markup names its label with data-i18n="key" (text) or data-i18n-placeholder /
// data-i18n-title / data-i18n-aria (attributes); dynamic text calls t(key, params).
// The choice is kept in localStorage so a reload (or the next shift) keeps the language.

const STORAGE_KEY = 'cti.lang';
export const LANGUAGES = ['zh', 'en'];

const MESSAGES = {
  zh: {
    'app.title': '坐席工作台',
    'app.brand': 'CTI 坐席工作台',
    'lang.switch': 'English',
    'login.title': '坐席登录',
    'login.agent': '坐席工号',
    'login.password': '密码',
    'login.submit': '登录',
    'login.connecting': '正在连接…',
    'login.invalid': '工号或密码错误（invalid credentials）',
    'login.failed': '连接失败：{message}',
    'login.missing': '请输入工号和密码',
    'header.signout': '退出',
    'conn.online': '已连接',
    'conn.offline': '连接中断，正在重连…',
    'role.agent': '坐席',
    'role.supervisor': '班长',
    'role.admin': '管理员',
    'state.title': '坐席状态',
    'state.status': '状态',
    'state.state': '话务状态',
    'state.timer': '当前状态时长',
    'state.reason': '未就绪原因',
    'state.login': '签入',
    'state.ready': '就绪',
    'state.notready': '未就绪',
    'state.wrapup': '话后整理',
    'state.logout': '签出',
    'reason.break': '小休',
    'reason.lunch': '午餐',
    'reason.training': '培训',
    'reason.meeting': '会议',
    'status.Available': '就绪',
    'status.Available (On Demand)': '就绪（按需）',
    'status.On Break': '小休',
    'status.Logged Out': '已签出',
    'state.Waiting': '等待来电',
    'state.Receiving': '来电振铃',
    'state.In a queue call': '通话中',
    'state.Idle': '空闲',
    'state.Reserved': '已预留',
    'state.unknown': '—',
    'stats.title': '今日统计',
    'stats.calls': '接听数',
    'stats.talk': '通话时长',
    'stats.aht': '平均处理时长',
    'queue.title': '排队情况',
    'queue.waiting': '等待中',
    'queue.longest': '最长等待',
    'queue.none': '暂无排队',
    'pop.title': '来电弹屏',
    'pop.empty': '当前无来电',
    'pop.stage.offered': '振铃中',
    'pop.stage.bridged': '通话中',
    'pop.stage.ended': '已结束',
    'pop.queue': '队列',
    'pop.caller': '主叫',
    'pop.new': '新来电',
    'pop.region': '号码归属地',
    'pop.region.unknown': '未知',
    'pop.vip': 'VIP',
    'pop.address': '地址',
    'pop.phones': '电话',
    'pop.notes': '备注',
    'pop.orders': '最近工单',
    'pop.calls': '最近通话',
    'pop.none': '无记录',
    'pop.abandoned': '放弃',
    'pop.answered': '已接听',
    'pop.by': '坐席 {agent}',
    'call.title': '通话控制',
    'call.answer': '接听',
    'call.hangup': '挂断',
    'call.hold': '保持',
    'call.unhold': '取回',
    'call.transfer': '转接',
    'call.consult': '咨询',
    'call.consult_cancel': '取消咨询',
    'call.consult_complete': '完成转接',
    'call.conference': '三方会议',
    'call.dial': '外呼',
    'call.dial.placeholder': '输入号码',
    'call.dtmf': '按键 (DTMF)',
    'call.notes': '通话备注',
    'call.notes.placeholder': '记录本次通话要点…',
    'call.notes.save': '保存备注',
    'call.phase.none': '无通话',
    'call.phase.offered': '来电振铃',
    'call.phase.bridged': '通话中',
    'call.phase.held': '保持中',
    'call.phase.consulting': '咨询中',
    'dialog.transfer': '转接通话',
    'dialog.consult': '咨询转接',
    'dialog.target': '目标（分机 / 队列 / 坐席）',
    'dialog.target.placeholder': '例如 1001、support@default、1001@default',
    'dialog.confirm': '确定',
    'dialog.cancel': '取消',
    'sup.title': '班长监控',
    'sup.agent': '坐席',
    'sup.name': '姓名',
    'sup.status': '状态',
    'sup.state': '话务状态',
    'sup.call': '通话',
    'sup.actions': '操作',
    'sup.listen': '监听',
    'sup.whisper': '密语',
    'sup.barge': '强插',
    'sup.stop': '停止',
    'sup.force_ready': '强制就绪',
    'sup.force_break': '强制小休',
    'sup.force_logout': '强制签出',
    'sup.empty': '暂无坐席',
    'sup.unavailable': '班长通道不可用：{message}',
    'toast.ok': '{action}：成功',
    'toast.error': '{action}失败：{message}',
    'toast.timeout': '{action}：服务器无响应',
    'toast.nocall': '当前没有通话',
    'toast.notarget': '请输入目标',
    'toast.nonumber': '请输入有效号码',
  },
  en: {
    'app.title': 'Agent Desktop',
    'app.brand': 'CTI Agent Desktop',
    'lang.switch': '中文',
    'login.title': 'Agent sign-in',
    'login.agent': 'Agent ID',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.connecting': 'Connecting…',
    'login.invalid': 'Invalid credentials',
    'login.failed': 'Connection failed: {message}',
    'login.missing': 'Enter agent ID and password',
    'header.signout': 'Sign out',
    'conn.online': 'Connected',
    'conn.offline': 'Connection lost, reconnecting…',
    'role.agent': 'Agent',
    'role.supervisor': 'Supervisor',
    'role.admin': 'Administrator',
    'state.title': 'Agent state',
    'state.status': 'Status',
    'state.state': 'State',
    'state.timer': 'Time in state',
    'state.reason': 'Not-ready reason',
    'state.login': 'Log in',
    'state.ready': 'Ready',
    'state.notready': 'Not ready',
    'state.wrapup': 'Wrap-up',
    'state.logout': 'Log out',
    'reason.break': 'Break',
    'reason.lunch': 'Lunch',
    'reason.training': 'Training',
    'reason.meeting': 'Meeting',
    'status.Available': 'Available',
    'status.Available (On Demand)': 'Available (on demand)',
    'status.On Break': 'On break',
    'status.Logged Out': 'Logged out',
    'state.Waiting': 'Waiting',
    'state.Receiving': 'Ringing',
    'state.In a queue call': 'In a call',
    'state.Idle': 'Idle',
    'state.Reserved': 'Reserved',
    'state.unknown': '—',
    'stats.title': 'Today',
    'stats.calls': 'Calls',
    'stats.talk': 'Talk time',
    'stats.aht': 'Avg handle time',
    'queue.title': 'Queues',
    'queue.waiting': 'waiting',
    'queue.longest': 'longest',
    'queue.none': 'No callers waiting',
    'pop.title': 'Caller',
    'pop.empty': 'No active call',
    'pop.stage.offered': 'Ringing',
    'pop.stage.bridged': 'Talking',
    'pop.stage.ended': 'Ended',
    'pop.queue': 'Queue',
    'pop.caller': 'Caller',
    'pop.new': 'New caller',
    'pop.region': 'Home region',
    'pop.region.unknown': 'Unknown',
    'pop.vip': 'VIP',
    'pop.address': 'Address',
    'pop.phones': 'Phones',
    'pop.notes': 'Notes',
    'pop.orders': 'Recent work orders',
    'pop.calls': 'Recent calls',
    'pop.none': 'None',
    'pop.abandoned': 'abandoned',
    'pop.answered': 'answered',
    'pop.by': 'agent {agent}',
    'call.title': 'Call control',
    'call.answer': 'Answer',
    'call.hangup': 'Hang up',
    'call.hold': 'Hold',
    'call.unhold': 'Unhold',
    'call.transfer': 'Transfer',
    'call.consult': 'Consult',
    'call.consult_cancel': 'Cancel consult',
    'call.consult_complete': 'Complete transfer',
    'call.conference': 'Conference',
    'call.dial': 'Dial',
    'call.dial.placeholder': 'Number',
    'call.dtmf': 'Keypad (DTMF)',
    'call.notes': 'Call notes',
    'call.notes.placeholder': 'Notes for this call…',
    'call.notes.save': 'Save notes',
    'call.phase.none': 'No call',
    'call.phase.offered': 'Ringing',
    'call.phase.bridged': 'Talking',
    'call.phase.held': 'On hold',
    'call.phase.consulting': 'Consulting',
    'dialog.transfer': 'Transfer call',
    'dialog.consult': 'Consult',
    'dialog.target': 'Target (extension / queue / agent)',
    'dialog.target.placeholder': 'e.g. 1001, support@default, 1001@default',
    'dialog.confirm': 'OK',
    'dialog.cancel': 'Cancel',
    'sup.title': 'Supervisor',
    'sup.agent': 'Agent',
    'sup.name': 'Name',
    'sup.status': 'Status',
    'sup.state': 'State',
    'sup.call': 'Call',
    'sup.actions': 'Actions',
    'sup.listen': 'Listen',
    'sup.whisper': 'Whisper',
    'sup.barge': 'Barge',
    'sup.stop': 'Stop',
    'sup.force_ready': 'Force ready',
    'sup.force_break': 'Force break',
    'sup.force_logout': 'Force logout',
    'sup.empty': 'No agents',
    'sup.unavailable': 'Supervisor channel unavailable: {message}',
    'toast.ok': '{action}: done',
    'toast.error': '{action} failed: {message}',
    'toast.timeout': '{action}: no response from server',
    'toast.nocall': 'No active call',
    'toast.notarget': 'Enter a target',
    'toast.nonumber': 'Enter a valid number',
  },
};

let current = initialLanguage();

/** Language chosen earlier in this browser, Chinese when nothing (or junk) was stored. */
function initialLanguage() {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(stored)) return stored;
  } catch {
    // storage can be disabled (private mode); the default still works
  }
  return 'zh';
}

export function language() {
  return current;
}

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  current = lang;
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not persisted, but the page still switches
  }
}

/** True when a label exists, so server values we know get translated and others shown raw. */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(MESSAGES[current], key);
}

/** Translated text; {name} placeholders are filled from params as plain strings. */
export function t(key, params = {}) {
  const template = has(key) ? MESSAGES[current][key] : key;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
}

/** Re-label every element of the static markup that names a key. */
export function applyStatic(root = document) {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  root.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
}
