// QR encoding speed: the built package's renderQrSvg (Rust's `qrcode` crate + our SVG writer,
// compiled to wasm) against the npm encoders `qrcode` and `lean-qr`, in one Node run so the
// ratios hold on a noisy machine. Each encoder turns the same WeChat Pay code_urls into an SVG
// string at error correction level M; rounds alternate between encoders.
//
//   cargo xtask build && (cd tests/bench && npm ci && node qr.mjs)
//
// Reads ../../pkg (the built package, imported through its Node entry). To measure a change,
// keep a copy of the package built before it and name it: QR_BASELINE=/tmp/pkg-before node qr.mjs
// adds that build's renderQrSvg to the same interleaved rounds.
import QRCode from 'qrcode';
import { generate, correction } from 'lean-qr';
import { toSvgSource } from 'lean-qr/extras/svg';

const { renderQrSvg } = await import(new URL('../../pkg/node.js', import.meta.url));
const baseline = process.env.QR_BASELINE
  ? (await import(new URL('node.js', new URL(`${process.env.QR_BASELINE}/`, 'file:///')))).renderQrSvg
  : null;

// Code URLs as WeChat hands them out: `weixin://wxpay/bizpayurl?pr=` + 7 letters/digits.
const texts = Array.from({ length: 200 }, (_, i) => `weixin://wxpay/bizpayurl?pr=${(0x5f3759df * (i + 1)).toString(36).slice(0, 7).padEnd(7, 'x')}`);

const encoders = {
  'wxpay-checkout renderQrSvg (wasm)': (t) => renderQrSvg(t, { ecLevel: 'M' }),
  'qrcode (npm) toString svg': (t) => {
    let out;
    QRCode.toString(t, { type: 'svg', errorCorrectionLevel: 'M' }, (e, s) => {
      if (e) throw e;
      out = s;
    });
    return out;
  },
  'lean-qr generate + toSvgSource': (t) => toSvgSource(generate(t, { minCorrectionLevel: correction.M, maxCorrectionLevel: correction.M })),
};
if (baseline) encoders['baseline renderQrSvg (QR_BASELINE)'] = (t) => baseline(t, { ecLevel: 'M' });

// Every encoder must produce an SVG for every text before it is timed.
for (const [name, encode] of Object.entries(encoders)) {
  for (const t of texts) if (!String(encode(t)).includes('<svg')) throw new Error(`${name} did not produce an SVG`);
}

const ROUNDS = 15;
const times = Object.fromEntries(Object.keys(encoders).map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, encode] of Object.entries(encoders)) {
    const start = process.hrtime.bigint();
    for (const t of texts) encode(t);
    times[name].push(Number(process.hrtime.bigint() - start) / 1000 / texts.length);
  }
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const ours = median(times['wxpay-checkout renderQrSvg (wasm)']);
console.log(`QR → SVG, level M, ${texts.length} code_urls × ${ROUNDS} rounds, median µs per code (Node ${process.version})`);
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(`  ${name.padEnd(36)} ${m.toFixed(1).padStart(7)} µs   ${(m / ours).toFixed(2)}× ours`);
}
