// The built npm package, imported by name exactly as a user would (`cargo xtask test node`
// installs `npm pack pkg/` as node_modules/wxpay-checkout first), in Node without a DOM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';

import * as api from 'wxpay-checkout';
import { detectEnvironment, choosePayMode, renderQrSvg, mountQr } from 'wxpay-checkout';

const require = createRequire(import.meta.url);
const manifest = require('wxpay-checkout/package.json');
const declarations = readFileSync(new URL('./index.d.ts', import.meta.resolve('wxpay-checkout')), 'utf8');
const table = readFileSync(new URL('../data/user-agents.tsv', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [client, platform, mobile, version, mode, note, ua] = line.split('\t');
    return { env: { client, platform, mobile: mobile === 'true', wechatVersion: version === '-' ? null : version }, mode, note, ua };
  });

test('the manifest is a publishable ES module package', () => {
  assert.equal(manifest.name, 'wxpay-checkout');
  assert.match(manifest.version, /^\d+\.\d+\.\d+/);
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.exports['.'].types, './index.d.ts');
  for (const file of manifest.files) {
    const url = new URL(`./${file}`, import.meta.resolve('wxpay-checkout'));
    // A listed directory must exist and hold files.
    if (file.endsWith('/')) assert.ok(readdirSync(url, { recursive: true }).length > 0, file);
    else assert.doesNotThrow(() => readFileSync(url), file);
  }
});

test('every runtime export is declared in index.d.ts, and nothing more', () => {
  const declared = [...declarations.matchAll(/^export function (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(Object.keys(api).sort(), declared);
  assert.ok(!('default' in api) && !('initSync' in api), 'init helpers stay private');
});

test('in Node with no argument: a desktop browser, Native pay', () => {
  assert.deepEqual(detectEnvironment(), { client: 'browser', platform: 'other', mobile: false, wechatVersion: null });
  assert.equal(choosePayMode(), 'native');
  assert.equal(choosePayMode(null), 'native');
});

test(`detection and mode over ${table.length} real user agents`, () => {
  assert.ok(table.length >= 30);
  for (const row of table) {
    const env = detectEnvironment(row.ua);
    assert.deepEqual(env, row.env, row.note);
    assert.equal(choosePayMode(row.ua), row.mode, row.note);
    assert.equal(choosePayMode(env), row.mode, `${row.note} (via the environment object)`);
    assert.equal(choosePayMode(JSON.parse(JSON.stringify(env))), row.mode, 'a serialised environment works too');
  }
});

test('bad arguments throw Errors that say what to pass', () => {
  assert.throws(() => detectEnvironment(42), { name: 'Error', message: 'detectEnvironment expects a user-agent string or nothing, got number' });
  assert.throws(() => choosePayMode({ client: 'weixin', platform: 'ios', mobile: true }), /environment\.client must be "wechat", "wecom"/);
  assert.throws(() => choosePayMode({ client: 'wechat', platform: 'ios' }), /environment\.mobile must be true or false/);
  assert.throws(() => choosePayMode(true), /choosePayMode expects a user-agent string, an environment object or nothing, got boolean/);
});

test('renderQrSvg: one path, viewBox, crisp edges, title, options applied', () => {
  const svg = renderQrSvg('weixin://wxpay/bizpayurl?pr=AbCdEf1', { margin: 2, ecLevel: 'H', dark: '#123456', light: 'white', size: 300, title: 'Pay <now>' });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="300" height="300" viewBox="0 0 (\d+) \1" shape-rendering="crispEdges">/);
  assert.equal(svg.match(/<path /g).length, 1);
  assert.match(svg, /<title>Pay &lt;now&gt;<\/title>/);
  assert.match(svg, /<rect width="\d+" height="\d+" fill="white"\/><path fill="#123456" d="M2 2h7v1h-7z/);
  assert.ok(svg.endsWith('"/></svg>'));
  // Higher error correction needs a bigger code for the same text.
  const side = (s) => Number(s.match(/viewBox="0 0 (\d+)/)[1]);
  assert.ok(side(renderQrSvg('weixin://wxpay/bizpayurl?pr=AbCdEf1', { ecLevel: 'H', margin: 0 })) > side(renderQrSvg('weixin://wxpay/bizpayurl?pr=AbCdEf1', { ecLevel: 'L', margin: 0 })));
  assert.equal(renderQrSvg('x', {}), renderQrSvg('x'), 'empty options are the defaults');
});

test('renderQrSvg: bad input throws Errors that say what to fix', () => {
  assert.throws(() => renderQrSvg(''), { name: 'Error', message: /QR text is empty/ });
  assert.throws(() => renderQrSvg('x'.repeat(2332)), /2332 bytes, more than a QR code holds at error correction level M \(at most 2331 bytes\)/);
  assert.throws(() => renderQrSvg('x', { ecLevel: 'X' }), /ecLevel must be "L", "M", "Q" or "H", got "X"/);
  assert.throws(() => renderQrSvg('x', { eclevel: 'H' }), /unknown QR option "eclevel"/);
  assert.throws(() => renderQrSvg('x', { margin: -1 }), /margin must be a whole number/);
  assert.throws(() => renderQrSvg('x', { size: 0 }), /size must be 1..=10000 pixels, got 0/);
  assert.throws(() => renderQrSvg('x', { dark: '"><script>' }), /dark must be a CSS colour/);
  assert.throws(() => renderQrSvg(undefined), /renderQrSvg expects the code_url string to encode, got undefined/);
});

test('mountQr is exported and refuses a non-element (Node has no DOM)', () => {
  assert.throws(() => mountQr({}, 'weixin://wxpay/bizpayurl?pr=AbCdEf1'), /mountQr expects a DOM Element/);
});
