// The package's Node entry (node.js, the "node" export condition): it initialises the wasm
// synchronously, so `require('wxpay-checkout')` works where Node loads ES modules
// synchronously (20.19+, 22.12+) as well as `import`, and both give the same module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import * as imported from 'wxpay-checkout';

const require = createRequire(import.meta.url);

test('require() loads the package without top-level await, the same API as import', () => {
  const required = require('wxpay-checkout');
  assert.deepEqual(Object.keys(required).filter((k) => k !== '__esModule' && k !== 'module.exports').sort(), Object.keys(imported).sort());
  assert.equal(required.choosePayMode('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'), 'h5');
  assert.match(required.renderQrSvg('weixin://wxpay/bizpayurl?pr=AbCdEf1'), /^<svg /);
  // One module instance: what require() returns is what import gave.
  assert.equal(required.renderQrSvg, imported.renderQrSvg);
});

test('Node resolves the package to its synchronous entry; browsers and bundlers to index.js', () => {
  const manifest = require('wxpay-checkout/package.json');
  assert.equal(manifest.exports['.'].node, './node.js');
  assert.equal(manifest.exports['.'].default, './index.js');
  assert.match(import.meta.resolve('wxpay-checkout'), /\/node\.js$/);
  assert.ok(manifest.files.includes('node.js'));
});

test('checkout() runs in Node with a custom backend and no DOM', async () => {
  const calls = [];
  const outcome = await imported.checkout({
    orderId: 'ord_node',
    mode: 'native',
    polling: { interval: 100, longPoll: 0, jitter: 0 },
    backend: {
      pay: async (orderId, request) => {
        calls.push(['pay', orderId, request.mode]);
        return { code_url: 'weixin://wxpay/bizpayurl?pr=node', expires_at: new Date(Date.now() + 60_000).toISOString() };
      },
      status: async (orderId) => {
        calls.push(['status', orderId]);
        return { state: 'SUCCESS', transaction_id: '4200000009' };
      },
    },
  });
  assert.equal(outcome.status, 'paid');
  assert.equal(outcome.detail.transactionId, '4200000009');
  assert.deepEqual(calls, [['pay', 'ord_node', 'native'], ['status', 'ord_node']]);
});
