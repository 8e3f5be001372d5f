// wxpay-checkout entry module: initialises the WebAssembly on import, so callers just write
// `import { choosePayMode } from 'wxpay-checkout'` — in a bundler (Vite, webpack 5) with no
// plugin, in a plain <script type="module">, and in Node >= 20 for server-side rendering.
//
// Browsers and bundlers: `new URL('./…_bg.wasm', import.meta.url)` is the pattern bundlers
// recognise to emit the .wasm as an asset, and browsers fetch + stream-compile it.
// Node cannot fetch file: URLs, so there the bytes are read from disk. The `node:` import is
// built from a variable and marked ignore so bundlers neither resolve nor polyfill it.
import init from './wxpay_checkout.js';

const wasmUrl = new URL('./wxpay_checkout_bg.wasm', import.meta.url);
const inNode = typeof process === 'object' && process !== null && !!process.versions?.node;

if (inNode) {
  const fsModule = 'node:fs/promises';
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fsModule);
  await init({ module_or_path: await readFile(wasmUrl) });
} else {
  await init({ module_or_path: wasmUrl });
}

// The public API: named re-exports only, so wasm-bindgen's init helpers stay private.
// Keep this list, index.d.ts and src/js/ in step (tests/node checks the first two agree).
export { detectEnvironment, choosePayMode, renderQrSvg, mountQr } from './wxpay_checkout.js';
