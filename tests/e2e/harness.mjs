// Shared by the end-to-end tests: starts `wxpay demo` (backend + WeChat Pay simulator + www/ +
// the built pkg/) on a free loopback port with a throw-away data dir, launches Debian's
// Chromium through playwright-core, and offers the few helpers the scenarios share (user
// agents, the element's events, reading the QR code back, paying through the simulator).
import { before, after } from 'node:test';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import jsQR from 'jsqr';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = join(root, 'tests', 'artifacts');
mkdirSync(artifacts, { recursive: true });

export const UA = {
  desktop: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  wechatIos:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN',
  iphoneSafari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
};
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 860 };

/** The `wxpay` binary: $WXPAY_BIN if set, else built by cargo (which prints where it is). */
function wxpayBinary() {
  if (process.env.WXPAY_BIN) return process.env.WXPAY_BIN;
  const out = execFileSync('cargo', ['build', '--quiet', '-p', 'wxpay-cli', '--bin', 'wxpay', '--message-format=json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  for (const line of out.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line);
    if (msg.reason === 'compiler-artifact' && msg.executable && msg.target?.name === 'wxpay') return msg.executable;
  }
  throw new Error('cargo did not report the wxpay binary');
}

/** Starts the demo; resolves to { url, stop }. */
export async function startDemo() {
  const dataDir = mkdtempSync(join(tmpdir(), 'wxpay-e2e-'));
  const child = spawn(
    wxpayBinary(),
    ['demo', '--port', '0', '--data-dir', dataDir, '--www', join(root, 'www'), '--pkg', join(root, 'pkg'), '--retry-compression', '50'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`wxpay demo did not start in 30 s:\n${out}${log}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/wxpay demo: (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`wxpay demo exited (${code}):\n${out}${log}`)));
  });
  return {
    url,
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** For a test file: one demo and one browser for all its tests, stopped at the end. */
export function demoAndBrowser() {
  const ctx = {};
  before(async () => {
    ctx.demo = await startDemo();
    ctx.browser = await launch();
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.demo?.stop();
  });
  return ctx;
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

/** A fresh context (cookies, storage) with the given user agent; page errors fail loudly. */
export async function openPage(browser, { ua, viewport, isMobile = false }) {
  const context = await browser.newContext({ userAgent: ua, viewport, isMobile, hasTouch: isMobile, locale: 'zh-CN' });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

export const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

/** The wxpay-* events the shop page has seen since it loaded (see www/shop.js). */
export const events = (page) => page.evaluate(() => window.wxpayEvents.map((e) => ({ type: e.type, ...e.detail })));

/** Waits until the page has seen an event matching `pred` (polling, the page may navigate). */
export async function waitForEvent(page, pred, timeout = 10_000) {
  const until = Date.now() + timeout;
  for (;;) {
    const list = await events(page).catch(() => []);
    const hit = list.find(pred);
    if (hit) return hit;
    if (Date.now() > until) throw new Error(`no matching event in ${timeout} ms; saw ${JSON.stringify(list.map((e) => e.type + ':' + (e.state ?? e.status)))}`);
    await page.waitForTimeout(100);
  }
}

export const waitForState = (page, state, timeout) => waitForEvent(page, (e) => e.type === 'wxpay-state' && e.state === state, timeout);

/** Rasterises the element's QR SVG in the page and decodes it with jsQR. */
export async function decodeQr(page) {
  const img = await page.evaluate(async () => {
    const host = document.querySelector('wxpay-checkout');
    const svg = host.shadowRoot.querySelector('.wxpay-qr svg');
    const size = 400;
    const blob = new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' });
    const url = URL.createObjectURL(blob);
    const image = new Image(size, size);
    await new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = reject;
      image.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = size;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, size, size);
    ctx.drawImage(image, 0, 0, size, size);
    URL.revokeObjectURL(url);
    return Array.from(ctx.getImageData(0, 0, size, size).data);
  });
  const result = jsQR(Uint8ClampedArray.from(img), 400, 400);
  return result?.data ?? null;
}

/** The simulator's test hook: pay (or cancel/fail) an order by code_url, prepay_id or out_trade_no. */
export async function simPay(base, body) {
  const r = await fetch(`${base}/sim/api/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`sim pay ${r.status}: ${text}`);
  return JSON.parse(text);
}

export async function orderState(base, orderId) {
  const r = await fetch(`${base}/api/orders/${encodeURIComponent(orderId)}`);
  return (await r.json()).state;
}

/** Text inside the element's shadow root (status line, note, buttons). */
export const panelText = (page) => page.evaluate(() => document.querySelector('wxpay-checkout')?.shadowRoot?.textContent ?? '');

export const clickAction = (page, action) =>
  page.evaluate((a) => document.querySelector('wxpay-checkout').shadowRoot.querySelector(`button[data-action="${a}"]`).click(), action);
