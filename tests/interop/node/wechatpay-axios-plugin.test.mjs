// Interop: the npm SDK `wechatpay-axios-plugin` (TheNorthMemory's, widely used) pointed at
// `wxpay demo` in its default public-key mode. Its response verifier refuses any 2xx answer
// without all four Wechatpay-* headers, with a timestamp off by more than 5 minutes, an unknown
// serial or a signature that does not verify; the notification is checked with its Rsa and
// decrypted with its AES-GCM. Run by `cargo xtask test interop` (WXPAY_BIN = the wxpay binary).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { X509Certificate } from 'node:crypto';
import { Wechatpay, Rsa, Aes, Formatter } from 'wechatpay-axios-plugin';

const MCHID = '1900000109';
const APPID = 'wxd678efh567hg6787';

async function startDemo() {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-interop-node-'));
  const child = spawn(process.env.WXPAY_BIN, ['demo', '--port', '0', '--data-dir', dir, '--retry-compression', '100'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const lines = createInterface({ input: child.stdout });
  const banner = [];
  for await (const line of lines) {
    banner.push(line);
    if (banner.length === 5) break;
  }
  const url = banner[0].replace('wxpay demo: ', '').replace(/\/$/, '');
  const keyId = banner.find((l) => l.trim().startsWith('platform key')).trim().split(/\s+/)[2];
  const secrets = Object.fromEntries(
    readFileSync(join(dir, 'demo-secrets.toml'), 'utf8').split('\n')
      .map((l) => l.match(/^(\w+) = "(.*)"$/)).filter(Boolean).map((m) => [m[1], m[2]]),
  );
  const keys = join(dir, 'keys');
  return {
    url,
    keyId,
    apiv3Key: secrets.apiv3_key,
    merchantKey: readFileSync(join(keys, 'merchant_key.pem'), 'utf8'),
    merchantSerial: new X509Certificate(readFileSync(join(keys, 'merchant_cert.pem'))).serialNumber,
    platformKey: readFileSync(join(keys, 'platform_pub_key.pem'), 'utf8'),
    stop() { child.kill(); rmSync(dir, { recursive: true, force: true }); },
  };
}

const demo = await startDemo();
const received = [];
const notifyServer = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => { received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() }); res.writeHead(204).end(); });
});
await new Promise((resolve) => notifyServer.listen(0, '127.0.0.1', resolve));
const notifyUrl = `http://127.0.0.1:${notifyServer.address().port}/notify`;
after(() => { notifyServer.close(); demo.stop(); });

const wxpay = new Wechatpay({
  mchid: MCHID,
  serial: demo.merchantSerial,
  privateKey: demo.merchantKey,
  certs: { [demo.keyId]: demo.platformKey },
  baseURL: `${demo.url}/`,
});

const outTradeNo = (tag) => `node${tag}${Date.now() % 1e9}`;

test('native order, query and close: every answer verified by the SDK', async () => {
  const no = outTradeNo('n');
  const order = await wxpay.v3.pay.transactions.native.post({
    appid: APPID, mchid: MCHID, description: 'Oolong', out_trade_no: no, notify_url: notifyUrl, amount: { total: 1288 },
  });
  assert.equal(order.status, 200);
  assert.match(order.data.code_url, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
  const query = await wxpay.v3.pay.transactions.outTradeNo._out_trade_no_.get({ out_trade_no: no, params: { mchid: MCHID } });
  assert.deepEqual([query.data.trade_state, query.data.trade_state_desc], ['NOTPAY', '订单未支付']);
  const close = await wxpay.v3.pay.transactions.outTradeNo._out_trade_no_.close.post({ mchid: MCHID }, { out_trade_no: no });
  assert.equal(close.status, 204);
});

test('a refused order is a WeChat error the SDK surfaces', async () => {
  await assert.rejects(
    wxpay.v3.pay.transactions.native.post({ appid: APPID, mchid: MCHID, description: 'x', out_trade_no: 'short', notify_url: notifyUrl, amount: { total: 1 } }),
    (err) => err.response?.status === 400 && err.response.data.code === 'PARAM_ERROR',
  );
});

test('a paid order\'s notification verifies and decrypts with the SDK\'s primitives', async () => {
  const no = outTradeNo('p');
  const order = await wxpay.v3.pay.transactions.native.post({
    appid: APPID, mchid: MCHID, description: 'Longjing', out_trade_no: no, notify_url: notifyUrl, amount: { total: 2300 },
  });
  const before = received.length;
  const paid = await fetch(`${demo.url}/sim/api/pay`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code_url: order.data.code_url }),
  });
  assert.equal(paid.status, 200);
  for (let i = 0; i < 300 && received.length === before; i++) await new Promise((r) => setTimeout(r, 50));
  const { headers, body } = received.at(-1);
  assert.equal(headers['wechatpay-serial'], demo.keyId);
  assert.equal(headers['wechatpay-signature-type'], 'WECHATPAY2-SHA256-RSA2048');
  assert.ok(Math.abs(Formatter.timestamp() - Number(headers['wechatpay-timestamp'])) < 300);
  const message = Formatter.response(headers['wechatpay-timestamp'], headers['wechatpay-nonce'], body);
  assert.ok(Rsa.verify(message, headers['wechatpay-signature'], demo.platformKey), 'signature verifies');
  assert.ok(!Rsa.verify(message.replace('"id"', '"Id"'), headers['wechatpay-signature'], demo.platformKey));
  const { resource } = JSON.parse(body);
  const tx = JSON.parse(Aes.AesGcm.decrypt(resource.ciphertext, demo.apiv3Key, resource.nonce, resource.associated_data));
  assert.deepEqual([tx.out_trade_no, tx.trade_state, tx.amount.total], [no, 'SUCCESS', 2300]);
});
