// wxpay-checkout entry module: initialises the WebAssembly on import, so callers just write
// `import { choosePayMode } from 'wxpay-checkout'` — in a bundler (Vite, webpack 5) with no
// plugin, in a plain <script type="module">, and in Node >= 20 for server-side rendering.
//
// Browsers and bundlers: `new URL('./…_bg.wasm', import.meta.url)` is the pattern bundlers
// recognise to emit the .wasm as an asset, and browsers fetch + stream-compile it.
// Node cannot fetch file: URLs, so there the bytes are read from disk. The `node:` import is
// built from a variable and marked ignore so bundlers neither resolve nor polyfill it.
import init from './wxpay_checkout.js';
// The driver around the wasm run, the panel and the element. Static imports are evaluated
// before the top-level await below, so checkout.js touches no wasm until it is called.
import { register } from './checkout.js';

// Vite's dev server pre-bundles dependencies into node_modules/.vite/deps/ without their
// assets, so there the file is found where the package itself is still served. That URL is
// built from variables so bundlers, which rewrite only `new URL('literal', import.meta.url)`,
// neither emit nor warn about this dev-only path.
const here = import.meta.url;
const inViteDeps = here.includes('/node_modules/.vite/');
const viteDevPath = '../../wxpay-checkout/wxpay_checkout_bg.wasm';
const wasmUrl = inViteDeps ? new URL(viteDevPath, here) : new URL('./wxpay_checkout_bg.wasm', import.meta.url);
const inNode = typeof process === 'object' && process !== null && !!process.versions?.node;

if (inNode) {
  const fsModule = 'node:fs/promises';
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fsModule);
  await init({ module_or_path: await readFile(wasmUrl) });
} else {
  await init({ module_or_path: wasmUrl });
}

// Importing registers <wxpay-checkout>. Only now: elements already in the page upgrade (and
// start their run) the moment the name is defined, so the wasm must be ready first.
register();

// The public API: named re-exports only, so wasm-bindgen's init helpers stay private.
// Keep this list, index.d.ts and src/js/ in step (tests/node checks the first two agree).
export { detectEnvironment, choosePayMode, renderQrSvg, mountQr } from './wxpay_checkout.js';
export { checkout } from './checkout.js';
