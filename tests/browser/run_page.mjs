#!/usr/bin/env node
// Drive the agent desktop in headless Chromium through a scenario of steps, waiting on the
// DOM (never sleeping), saving screenshots, and exiting non-zero with a clear message on the
// first step that does not come true in time.
//
// Usage:
//   node run_page.mjs --url http://127.0.0.1:PORT --scenario scenario.json
//                     [--artifacts DIR] [--timeout MS] [--chromium PATH]
//   (or env CTI_URL, CTI_SCENARIO = path or inline JSON, CTI_ARTIFACTS, CHROMIUM)
//
// Scenario: {"name": "...", "lang": "zh"|"en", "timeout": 10000,
//            "viewport": {"width": 1440, "height": 900}, "steps": [STEP, ...]}
// A step has one action key (plus an optional "timeout" in ms):
//   {"login": {"agent": "1000@default", "password": "..."}}   fill the form and submit
//   {"text": {"selector": S, "equals"|"contains"|"regex": V}}   wait for textContent
//   {"value": {"selector": S, "equals": V}}                     wait for an input's value
//   {"attr": {"selector": S, "name": N, "equals": V}}           wait for an attribute
//   {"count": {"selector": S, "equals": N}}                     wait for N matches
//   {"visible": S} {"hidden": S} {"enabled": S} {"disabled": S}
//   {"click": S} {"fill": {"selector": S, "value": V}} {"select": {"selector": S, "value": V}}
//   {"assert": "JS expression"}                                 poll until truthy
//   {"reload": true} {"screenshot": "name"}
//   {"mark": "name"}  print "@@mark name" on stdout and go on
//   {"sync": "name"}  print "@@sync name" and wait for the line "name" on stdin, so the
//                     process driving the test can make the server do something first
// Output: "@@..." lines and "PASS <name>" on stdout, progress on stderr.

import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

class StepFailure extends Error {}

function parseArgs(argv) {
  const opts = {
    url: process.env.CTI_URL,
    scenario: process.env.CTI_SCENARIO,
    artifacts: process.env.CTI_ARTIFACTS || path.resolve(HERE, '..', 'artifacts'),
    timeout: undefined,
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
  for (let i = 2; i < argv.length; i += 1) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts)) throw new Error(`unknown option ${argv[i]}`);
    opts[key] = argv[i + 1];
    i += 1;
  }
  if (!opts.url) throw new Error('missing --url (or CTI_URL)');
  if (!opts.scenario) throw new Error('missing --scenario (or CTI_SCENARIO)');
  return opts;
}

function loadScenario(spec) {
  const text = spec.trim().startsWith('{') ? spec : readFileSync(spec, 'utf8');
  const scenario = JSON.parse(text);
  if (!Array.isArray(scenario.steps)) throw new Error('scenario has no "steps" list');
  return scenario;
}

/** Lines arriving on stdin, handed to whoever waits for them (for "sync" steps). */
class StdinLines {
  constructor() {
    this.lines = [];
    this.waiters = [];
    this.closed = false;
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => { this.lines.push(line.trim()); this.flush(); });
    rl.on('close', () => { this.closed = true; this.flush(); });
  }

  flush() {
    this.waiters = this.waiters.filter((w) => {
      const index = this.lines.indexOf(w.name);
      if (index >= 0) {
        this.lines.splice(index, 1);
        w.resolve();
        return false;
      }
      if (this.closed) {
        w.reject(new StepFailure(`stdin closed before "${w.name}" arrived`));
        return false;
      }
      return true;
    });
  }

  waitFor(name, timeout) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new StepFailure(`no "${name}" on stdin within ${timeout} ms`)), timeout);
      this.waiters.push({
        name,
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      });
      this.flush();
    });
  }
}

/** Poll a predicate inside the page; on timeout, say what the page actually showed. */
async function waitInPage(page, description, predicate, arg, timeout, describeActual) {
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (err) {
    let actual = '';
    if (describeActual) {
      actual = await page.evaluate(describeActual, arg).catch((e) => `(could not read: ${e.message})`);
    }
    throw new StepFailure(`${description} not true within ${timeout} ms; page shows: ${JSON.stringify(actual)}`
      + (err.name === 'TimeoutError' ? '' : ` (${err.message})`));
  }
}

const readText = ([selector]) => {
  const node = document.querySelector(selector);
  return node ? node.textContent : '(no element)';
};

function textMatches([selector, mode, expected]) {
  const node = document.querySelector(selector);
  if (!node) return false;
  const text = node.textContent;
  if (mode === 'equals') return text === expected;
  if (mode === 'contains') return text.includes(expected);
  return new RegExp(expected).test(text);
}

async function runStep(ctx, step, index) {
  const { page } = ctx;
  const timeout = step.timeout ?? ctx.timeout;
  const [action] = Object.keys(step).filter((k) => k !== 'timeout');
  const arg = step[action];
  const label = `step ${index + 1} ${action} ${JSON.stringify(arg)}`;
  process.stderr.write(`.. ${label}\n`);
  switch (action) {
    case 'login':
      await page.locator('#login-agent').fill(arg.agent, { timeout });
      await page.locator('#login-password').fill(arg.password, { timeout });
      await page.locator('#login-submit').click({ timeout });
      break;
    case 'text': {
      const mode = ['equals', 'contains', 'regex'].find((m) => m in arg);
      if (!mode) throw new StepFailure(`${label}: needs equals, contains or regex`);
      await waitInPage(page, label, textMatches, [arg.selector, mode, arg[mode]], timeout, readText);
      break;
    }
    case 'value':
      await waitInPage(page, label, ([s, v]) => document.querySelector(s)?.value === v,
        [arg.selector, arg.equals], timeout, ([s]) => document.querySelector(s)?.value);
      break;
    case 'attr':
      await waitInPage(page, label, ([s, n, v]) => document.querySelector(s)?.getAttribute(n) === v,
        [arg.selector, arg.name, arg.equals], timeout, ([s, n]) => document.querySelector(s)?.getAttribute(n));
      break;
    case 'count':
      await waitInPage(page, label, ([s, n]) => document.querySelectorAll(s).length === n,
        [arg.selector, arg.equals], timeout, ([s]) => document.querySelectorAll(s).length);
      break;
    case 'visible':
      await waitInPage(page, label, (s) => window.isVisibleInPage(s), arg, timeout,
        (s) => `not visible; exists=${Boolean(document.querySelector(s))}`);
      break;
    case 'hidden':
      await waitInPage(page, label, (s) => !window.isVisibleInPage(s), arg, timeout, () => 'still visible');
      break;
    case 'enabled':
    case 'disabled': {
      const want = action === 'disabled';
      await waitInPage(page, label, ([s, d]) => {
        const node = document.querySelector(s);
        return Boolean(node) && node.disabled === d;
      }, [arg, want], timeout, ([s]) => `disabled=${document.querySelector(s)?.disabled}`);
      break;
    }
    case 'click':
      await page.locator(arg).click({ timeout });
      break;
    case 'fill':
      await page.locator(arg.selector).fill(arg.value, { timeout });
      break;
    case 'select':
      await page.locator(arg.selector).selectOption(arg.value, { timeout });
      break;
    case 'assert':
      await waitInPage(page, label, (expr) => Boolean(window.eval(expr)), arg, timeout, (expr) => {
        try { return String(window.eval(expr)); } catch (e) { return `threw ${e}`; }
      });
      break;
    case 'reload':
      await page.reload({ waitUntil: 'load', timeout });
      await waitReady(page, timeout);
      break;
    case 'screenshot':
      await screenshot(ctx, arg);
      break;
    case 'mark':
      process.stdout.write(`@@mark ${arg}\n`);
      break;
    case 'sync':
      process.stdout.write(`@@sync ${arg}\n`);
      await ctx.stdin.waitFor(arg, timeout);
      break;
    default:
      throw new StepFailure(`${label}: unknown action "${action}"`);
  }
}

async function screenshot(ctx, name) {
  const safe = String(name).replace(/[^\w.-]+/g, '_');
  const file = path.join(ctx.artifacts, `${safe}.png`);
  await ctx.page.screenshot({ path: file, fullPage: true });
  process.stdout.write(`@@screenshot ${file}\n`);
  return file;
}

async function waitReady(page, timeout) {
  await waitInPage(page, 'page scripts ready (body[data-ready])',
    () => document.body && document.body.dataset.ready === 'true', null, timeout, () => document.body?.outerHTML.slice(0, 200));
}

async function main() {
  const opts = parseArgs(process.argv);
  const scenario = loadScenario(opts.scenario);
  const name = scenario.name || 'scenario';
  const timeout = Number(opts.timeout || scenario.timeout || 10000);
  if (!existsSync(opts.chromium)) throw new Error(`Chromium not found at ${opts.chromium} (apt-get install chromium)`);
  mkdirSync(opts.artifacts, { recursive: true });

  const browser = await chromium.launch({ executablePath: opts.chromium, args: CHROMIUM_ARGS, headless: true });
  const pageErrors = [];
  let ctx;
  try {
    const context = await browser.newContext({ viewport: scenario.viewport || { width: 1440, height: 900 }, locale: 'zh-CN' });
    if (scenario.lang) {
      await context.addInitScript((lang) => {
        if (!sessionStorage.getItem('cti.test.lang')) {
          localStorage.setItem('cti.lang', lang);
          sessionStorage.setItem('cti.test.lang', '1');
        }
      }, scenario.lang);
    }
    await context.addInitScript(() => {
      window.isVisibleInPage = (selector) => {
        const node = document.querySelector(selector);
        if (!node) return false;
        const rect = node.getBoundingClientRect();
        return !node.closest('[hidden]') && getComputedStyle(node).visibility !== 'hidden' && rect.width > 0 && rect.height > 0;
      };
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => process.stderr.write(`   [console.${msg.type()}] ${msg.text()}\n`));
    ctx = { page, timeout, artifacts: opts.artifacts, stdin: new StdinLines(), name };
    await page.goto(opts.url, { waitUntil: 'load', timeout });
    await waitReady(page, timeout);
    for (const [index, step] of scenario.steps.entries()) {
      await runStep(ctx, step, index);
      if (pageErrors.length) throw new StepFailure(`uncaught error in the page: ${pageErrors.join(' | ')}`);
    }
    process.stdout.write(`PASS ${name}\n`);
  } catch (err) {
    if (ctx) {
      const shot = await screenshot(ctx, `${name}-FAILED`).catch(() => '(no screenshot)');
      process.stderr.write(`screenshot of the failure: ${shot}\n`);
    }
    throw err;
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`FAIL: ${err instanceof StepFailure ? err.message : err.stack || err}\n`);
  process.stdout.write(`FAIL ${err.message}\n`);
  process.exit(1);
});
