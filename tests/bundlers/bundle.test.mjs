// Issue 2's promise to bundler users, checked: `import { choosePayMode } from 'wxpay-checkout'`
// works in Vite and webpack 5 with no plugin, no loader and no init() call. Each bundler builds a
// tiny app around the installed package (`cargo xtask test bundlers` installs `npm pack pkg/`
// as node_modules/wxpay-checkout first) with its default configuration; the output is served
// from 127.0.0.1 and run in headless Chromium, and the page must have fetched the wasm the
// bundler emitted, computed real results with it and registered <wxpay-checkout>.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build as viteBuild, createLogger } from 'vite';
import webpack from 'webpack';

import { UA, launch } from '../e2e/harness.mjs';

const pkgDir = dirname(fileURLToPath(import.meta.resolve('wxpay-checkout/package.json')));
const wasmBytes = readFileSync(join(pkgDir, 'wxpay_checkout_bg.wasm'));
const CODE_URL = 'weixin://wxpay/bizpayurl?pr=abc';

// The whole app a bundler user writes: import by name, call, nothing else. The page's own user
// agent is WeChat on iOS (set on the browser context), so choosePayMode() with no argument must
// read navigator.userAgent and answer 'jsapi' too.
const MAIN_JS = `import { detectEnvironment, choosePayMode, renderQrSvg } from 'wxpay-checkout';

const element = customElements.get('wxpay-checkout');
window.__result = {
  environment: detectEnvironment(${JSON.stringify(UA.wechatIos)}),
  wechatIos: choosePayMode(${JSON.stringify(UA.wechatIos)}),
  desktop: choosePayMode(${JSON.stringify(UA.desktop)}),
  ownUserAgent: choosePayMode(),
  svg: renderQrSvg(${JSON.stringify(CODE_URL)}),
  element: element !== undefined && element.prototype instanceof HTMLElement,
  upgraded: element !== undefined && document.createElement('wxpay-checkout') instanceof element,
};
`;

// No favicon request (a 404 would be a console error that is not the package's).
const page = (script) =>
  `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>bundler check</title></head>` +
  `<body>${script}</body></html>\n`;

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};

let browser;
const scratch = [];
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/**
 * A temp project: package.json, index.html, main.js and the package copied in as `npm install`
 * would. Its own package.json also keeps the bundlers from taking a stray package.json in a
 * parent directory for the project's.
 */
function makeApp(name, html) {
  const app = mkdtempSync(join(tmpdir(), `wxpay-bundler-${name}-`));
  scratch.push(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `bundler-check-${name}`, private: true, type: 'module' }));
  writeFileSync(join(app, 'main.js'), MAIN_JS);
  writeFileSync(join(app, 'index.html'), html);
  cpSync(pkgDir, join(app, 'node_modules', 'wxpay-checkout'), { recursive: true });
  return app;
}

/** Vite's programmatic build with no config file; the entry is index.html. */
async function buildWithVite() {
  const app = makeApp('vite', page('<script type="module" src="/main.js"></script>'));
  const warnings = [];
  const logger = createLogger('warn');
  logger.warn = (msg) => warnings.push(msg);
  logger.warnOnce = (msg) => warnings.push(msg);
  await viteBuild({ root: app, configFile: false, logLevel: 'warn', customLogger: logger, build: { outDir: 'dist' } });
  return { dist: join(app, 'dist'), warnings };
}

/** webpack 5 with its defaults: only entry, output and production mode; no loader, no plugin. */
async function buildWithWebpack() {
  const app = makeApp('webpack', 'unused: webpack has no HTML entry');
  const dist = join(app, 'dist');
  const stats = await new Promise((resolve, reject) => {
    const compiler = webpack({ context: app, entry: './main.js', output: { path: dist, filename: 'main.js' }, mode: 'production' });
    compiler.run((err, stats) => compiler.close(() => (err ? reject(err) : resolve(stats))));
  });
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  assert.ok(!stats.hasErrors(), `webpack failed:\n${info.errors.map((e) => e.message).join('\n')}`);
  // webpack 5 has no HTML entry; the page is the user's own, loading the bundle as a classic script.
  writeFileSync(join(dist, 'index.html'), page('<script src="main.js"></script>'));
  return { dist, warnings: info.warnings.map((w) => w.message) };
}

/** A static server for `dir` on 127.0.0.1; records every request and its status. */
async function serve(dir) {
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(dir, path.endsWith('/') ? path + 'index.html' : path));
    let body = null;
    if (file.startsWith(dir + sep)) {
      try {
        body = readFileSync(file);
      } catch {}
    }
    requests.push({ path, status: body ? 200 : 404 });
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Every file of the output with its raw and gzip size, for the log. */
function sizes(dist) {
  return readdirSync(dist, { recursive: true })
    .map((f) => join(dist, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => {
      const bytes = readFileSync(f);
      return `${relative(dist, f)} ${bytes.length} B (gzip ${gzipSync(bytes, { level: 9 }).length})`;
    });
}

/** Opens the app as WeChat on iOS would and returns what main.js wrote, with what the page logged. */
async function runInBrowser(url) {
  const context = await browser.newContext({ userAgent: UA.wechatIos });
  try {
    const tab = await context.newPage();
    const problems = [];
    tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    tab.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    const responses = [];
    tab.on('response', (r) => responses.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] }));
    await tab.goto(url + '/');
    const result = await tab
      .waitForFunction(() => window.__result, null, { timeout: 15_000 })
      .then((h) => h.jsonValue())
      .catch((e) => {
        throw new Error(`main.js never set window.__result (${e.message.split('\n')[0]}); the page logged:\n${problems.join('\n') || '(nothing)'}`);
      });
    return { result, problems, responses };
  } finally {
    await context.close();
  }
}

for (const [name, bundle] of [
  ['vite', buildWithVite],
  ['webpack', buildWithWebpack],
]) {
  test(`${name}: the package initialises its wasm itself in a default build`, { timeout: 120_000 }, async (t) => {
    const started = Date.now();
    const { dist, warnings } = await bundle();
    t.diagnostic(`${name} build ${Date.now() - started} ms`);
    for (const line of sizes(dist)) t.diagnostic(`${name} ${line}`);
    for (const w of warnings) t.diagnostic(`${name} warning: ${w}`);

    const emitted = readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.wasm'));
    assert.equal(emitted.length, 1, `${name} should emit the wasm once, emitted ${JSON.stringify(emitted)}`);
    assert.ok(readFileSync(join(dist, emitted[0])).equals(wasmBytes), 'the emitted wasm is the package wasm, unchanged');

    const server = await serve(dist);
    try {
      const { result, problems, responses } = await runInBrowser(server.url);

      const wasm = responses.filter((r) => new URL(r.url).pathname.endsWith('.wasm'));
      assert.deepEqual(
        wasm.map((r) => ({ path: new URL(r.url).pathname, status: r.status, type: r.type })),
        [{ path: '/' + emitted[0].split(sep).join('/'), status: 200, type: 'application/wasm' }],
        'the page fetched the emitted wasm asset, once',
      );
      assert.deepEqual(server.requests.filter((r) => r.status !== 200), [], 'every request the page made was served');

      assert.deepEqual(result.environment, { client: 'wechat', platform: 'ios', mobile: true, wechatVersion: '8.0.49' });
      assert.equal(result.wechatIos, 'jsapi');
      assert.equal(result.desktop, 'native');
      assert.equal(result.ownUserAgent, 'jsapi', "choosePayMode() with no argument reads the page's navigator.userAgent");
      assert.ok(result.svg.startsWith('<svg'), `renderQrSvg returned ${result.svg.slice(0, 60)}`);
      assert.match(result.svg, /<path fill="[^"]+" d="M/);
      assert.equal(result.element, true, 'importing the package registers <wxpay-checkout>');
      assert.equal(result.upgraded, true, 'document.createElement makes a <wxpay-checkout> of the registered class');
      assert.deepEqual(problems, [], 'the page logged no errors or warnings');
    } finally {
      await server.close();
    }
    t.diagnostic(`${name} build + browser ${Date.now() - started} ms`);
  });
}
