// wxpay-checkout for Node (the "node" export condition): initialises the WebAssembly
// synchronously from the file next to this one, with no top-level await, so both
// `import … from 'wxpay-checkout'` (Node >= 20) and `require('wxpay-checkout')` (Node 20.19+,
// 22.12+, which load ES modules synchronously) work. Browsers and bundlers use index.js.
import { readFileSync } from 'node:fs';
import { initSync, setPanel } from './wxpay_checkout.js';
import { register, Panel } from './checkout.js';

initSync({ module: readFileSync(new URL('./wxpay_checkout_bg.wasm', import.meta.url)) });
setPanel(Panel);
// A no-op without custom elements; a DOM shim that has them gets <wxpay-checkout> as browsers do.
register();

// The public API: keep this list, index.js and index.d.ts in step (tests/node checks them).
export { detectEnvironment, choosePayMode, renderQrSvg, mountQr, checkout } from './wxpay_checkout.js';
