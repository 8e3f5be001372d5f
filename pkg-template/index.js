// wxpay-checkout entry module: initialises the WebAssembly on import, so callers just write
// `import { choosePayMode } from 'wxpay-checkout'` — in a bundler (Vite, webpack 5) with no
// plugin, and in a plain <script type="module">. Node resolves the package to node.js instead
// (the "node" export condition), which initialises synchronously so require() works too.
//
// Browsers and bundlers: `new URL('./…_bg.wasm', import.meta.url)` is the pattern bundlers
// recognise to emit the .wasm as an asset, and browsers fetch + stream-compile it.
// Node cannot fetch file: URLs, so there the bytes are read from disk. The `node:` import is
// built from a variable and marked ignore so bundlers neither resolve nor polyfill it.
import init, { setPanel } from './wxpay_checkout.js';
// The panel and the element class (presentation only). Static imports are evaluated before
// the top-level await below, so checkout.js touches no wasm until it is called.
import { register, Panel } from './checkout.js';

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

// The class Rust draws checkout panels with. Then importing registers <wxpay-checkout>, only
// now: elements already in the page upgrade (and start their run) the moment the name is
// defined, so the wasm must be ready first.
setPanel(Panel);
register();

// The public API: named re-exports only, so wasm-bindgen's init helpers stay private.
// Keep this list, index.d.ts and src/js/ in step (tests/node checks the first two agree).
export { detectEnvironment, choosePayMode, renderQrSvg, mountQr, checkout } from './wxpay_checkout.js';
