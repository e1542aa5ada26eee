// Small DOM and formatting helpers. Everything that comes from the server (caller names,
// customer notes, work-order summaries) is untrusted, so nodes are only ever filled with
// textContent: a name such as "<img onerror=…>" must show up as those characters.

/** Create an element; children that are strings become text nodes, never markup. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

export function setText(id, value) {
  const node = byId(id);
  if (node) node.textContent = value === undefined || value === null ? '' : String(value);
}

export function show(id, visible) {
  const node = byId(id);
  if (node) node.hidden = !visible;
}

/** Seconds as H:MM:SS (or M:SS under an hour); negative values (clock skew) count as 0. */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Epoch seconds (float) or ISO string as local "YYYY-MM-DD HH:MM"; '' when absent or junk. */
export function formatTimestamp(value) {
  if (value === undefined || value === null || value === '') return '';
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} `
    + `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Seconds elapsed since an epoch-seconds timestamp, by the browser's clock. */
export function secondsSince(epochSeconds) {
  return Date.now() / 1000 - Number(epochSeconds);
}
