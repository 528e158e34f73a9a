// thankyou.mjs drives Debian's Chromium through playwright-core over a shop's
// thank-you page with the tsunagu widget, and reports what the page showed.
// It judges nothing: the Go tests (infra/testkit/browser) assert.
//
// It launches Chromium once and serves runs until its stdin closes. Each
// line on stdin is one run, {"id": 1, "config": {...}}:
//
//   {"url": "http://127.0.0.1:1234/thankyou.html?order=1001",
//    "scenario": "happy" | "failing" | "optin",
//    "container": "#tsunagu-thankyou",
//    "screenshot": "/abs/path.png",          (optional)
//    "viewport": {"width": 1024, "height": 800},
//    "step_timeout_ms": 60000}
//
// and each line on stdout answers one, {"id": 1, "result": {...}} or
// {"id": 1, "error": "..."}, in the order runs finish; the first line,
// {"ready": true}, says Chromium is up. Runs go on at the same time, each in
// its own browser context (no cache, cookies or storage shared).
//
// Every scenario loads the page and waits until the widget has either
// rendered or given up (its "[tsunagu]" console.debug line). Images are held
// back until the widget's first render has been painted, so that the layout
// shift they cause, if any, is measured apart from the widget's insertion.
// Then: "happy" copies the coupon code and clicks the first recommendation,
// "optin" ticks the opt-in and submits it, "failing" does nothing more.
//
// Nothing waits for a fixed time: every wait is for a condition, and
// step_timeout_ms only bounds each step so that a hang fails the run.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

// playwright-core is installed, pinned, in infra/local (npm ci).
const require = createRequire(new URL('../local/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
// The closed network here refuses Chromium's background connections; these
// flags stop it from trying. playwright adds --headless for headless: true.
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// A host-page style that would restyle the widget if it leaked through the
// shadow boundary: selectors for what the widget uses, and inherited
// properties set on the container itself. No widget style uses these values.
const PROBE_CSS = `
  h2, p, a, span, ul, li, img, code, button, label, input, section, div, time {
    outline: 7px dotted rgb(255, 0, 0) !important;
    background-color: rgb(255, 0, 0) !important;
  }
  CONTAINER { color: rgb(255, 0, 0) !important; letter-spacing: 9px !important;
              font-style: italic !important; text-transform: uppercase !important; }`;

// Computed properties of host-page elements compared before and after the
// widget renders: any change means the widget's CSS leaked out.
const HOST_PROPS = ['color', 'font-family', 'font-size', 'margin-top', 'padding-left', 'border-radius', 'background-color', 'outline-style', 'letter-spacing'];

async function main() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const send = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');
  const running = new Set();
  send({ ready: true });
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    const { id, config } = JSON.parse(line);
    const done = runIsolated(browser, config)
      .then((result) => send({ id, result }), (err) => send({ id, error: String(err && err.stack || err) }))
      .finally(() => running.delete(done));
    running.add(done);
  }
  await Promise.all(running);
  await browser.close();
}

// runIsolated plays one run in a fresh browser context.
async function runIsolated(browser, cfg) {
  for (const k of ['url', 'scenario', 'container', 'step_timeout_ms']) {
    if (!cfg[k]) throw new Error(`config: ${k} is required`);
  }
  if (!['happy', 'failing', 'optin'].includes(cfg.scenario)) throw new Error(`config: unknown scenario ${cfg.scenario}`);
  const context = await browser.newContext({ viewport: cfg.viewport || { width: 1024, height: 800 } });
  try {
    context.setDefaultTimeout(cfg.step_timeout_ms);
    const page = await context.newPage();
    return await run(context, page, cfg);
  } finally {
    await context.close();
  }
}

// The clipboard is the browser's, shared by every context: one run at a
// time writes and reads it.
let clipboardTurn = Promise.resolve();
function withClipboard(fn) {
  const turn = clipboardTurn.then(fn);
  clipboardTurn = turn.catch(() => {});
  return turn;
}

async function run(context, page, cfg) {
  const origin = new URL(cfg.url).origin;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });

  const out = {
    scenario: cfg.scenario,
    settled: '',
    debug: [],
    console: [],
    // Uncaught exceptions and unhandled rejections, as the browser reports
    // them: the page's own listeners never see a cross-origin script's.
    page_errors: [],
  };
  let gaveUp;
  const gaveUpP = new Promise((resolve) => { gaveUp = resolve; });
  page.on('console', (m) => {
    const entry = { type: m.type(), text: m.text(), url: m.location().url || '' };
    out.console.push(entry);
    if (entry.type === 'debug' && entry.text.startsWith('[tsunagu]')) {
      out.debug.push(entry.text);
      gaveUp();
    }
  });
  page.on('pageerror', (e) => out.page_errors.push(String(e && (e.stack || e.message) || e)));
  const releaseImages = await holdImages(context, page);
  await page.addInitScript(installProbes, { container: cfg.container, props: HOST_PROPS });

  await page.goto(cfg.url, { waitUntil: 'domcontentloaded' });

  const rootSel = `${cfg.container} [data-testid="thankyou"]`;
  const rendered = page.locator(rootSel).waitFor({ state: 'attached' })
    .then(() => 'rendered', () => 'timeout');
  out.settled = await Promise.race([rendered, gaveUpP.then(() => 'gave_up')]);

  // Let the first render be painted and its layout shift recorded, then
  // note the time: shifts after it happened once the widget was in place.
  await frames(page);
  out.render_mark_ms = await page.evaluate(() => performance.now());
  out.height_before_images = await hostHeight(page, cfg.container);
  await releaseImages();
  if (out.settled === 'rendered') {
    await page.locator(cfg.container).scrollIntoViewIfNeeded();
    await page.waitForFunction((sel) => {
      const root = document.querySelector(sel).shadowRoot;
      return [...root.querySelectorAll('img')].every((img) => img.complete);
    }, cfg.container);
    await frames(page);
  }
  out.height_after_images = await hostHeight(page, cfg.container);
  out.widget = await page.evaluate(describeWidget, cfg.container);
  out.host_style_changes = await page.evaluate(() => window.__tsunaguProbe.hostChanges());

  if (cfg.screenshot) {
    await page.screenshot({ path: cfg.screenshot, fullPage: true });
    out.screenshot = cfg.screenshot;
  }
  if (out.settled === 'rendered') out.style_leaks = await probeLeaks(page, cfg.container);

  if (cfg.scenario === 'happy' && out.settled === 'rendered') {
    out.copy = await copyCoupon(page, cfg.container);
    out.navigation = await clickFirstRecommendation(page, cfg.container);
  }
  if (cfg.scenario === 'optin' && out.settled === 'rendered') {
    out.optin = await submitOptin(page, cfg.container);
  }

  // Shifts are read from the page last; after a navigation they come from
  // the new page, so the ones taken just before leaving count instead.
  if (!out.navigation) {
    await frames(page);
    out.layout_shifts = await page.evaluate(() => window.__tsunaguProbe.take());
  } else {
    out.layout_shifts = out.navigation.shifts_before;
    delete out.navigation.shifts_before;
  }
  return out;
}

// holdImages pauses every image request until the returned function is
// called. It uses the DevTools Fetch domain for images only: playwright's own
// page.route would intercept everything and answer CORS preflights itself,
// hiding the very requests the tests check.
async function holdImages(context, page) {
  const cdp = await context.newCDPSession(page);
  const paused = [];
  let held = true;
  const resume = (requestId) => cdp.send('Fetch.continueRequest', { requestId }).catch(() => {});
  cdp.on('Fetch.requestPaused', (e) => (held ? paused.push(e.requestId) : resume(e.requestId)));
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*', resourceType: 'Image', requestStage: 'Request' }] });
  return async () => {
    held = false;
    await Promise.all(paused.splice(0).map(resume));
  };
}

// installProbes runs in the page before any of its scripts: a layout-shift
// observer and a snapshot of host-page styles taken at DOMContentLoaded,
// before the widget can render.
function installProbes({ container, props }) {
  const probe = { shifts: [], before: null };
  window.__tsunaguProbe = probe;
  const record = (list) => {
    for (const e of list) {
      const sources = e.sources || [];
      probe.shifts.push({
        value: e.value,
        start_ms: e.startTime,
        had_recent_input: e.hadRecentInput,
        sources: sources.map((s) => (s.node ? nodeName(s.node) : '?')),
        by_widget: sources.length === 0 || sources.some((s) => movedByWidget(s.node)),
      });
    }
  };
  // movedByWidget tells whether the widget can have moved a shifted node:
  // the widget's own nodes, and what follows its container in the page's
  // flow. A node before the container (the shop's header, its logo) moves
  // for the page's own reasons. The browser names no node inside a shadow
  // root (nor a removed one): an unnamed node counts as the widget's.
  function movedByWidget(node) {
    if (!node) return true;
    const c = document.querySelector(container);
    if (!c) return false; // shifted before the container was even parsed
    while (node.getRootNode() instanceof ShadowRoot) node = node.getRootNode().host;
    return node === c || !!(c.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING);
  }
  const obs = new PerformanceObserver((list) => record(list.getEntries()));
  obs.observe({ type: 'layout-shift', buffered: true });

  // Host elements the widget's own CSS would hit if it leaked: its selectors.
  const hostSample = () => ['h1', 'h2', 'p', 'a', 'button', 'code', 'ul', 'li', 'section', 'label', 'input', 'time']
    .map((tag) => [...document.getElementsByTagName(tag)].find((n) => !n.closest(container)))
    .filter(Boolean);
  const snapshot = () => hostSample().map((n) => {
    const cs = getComputedStyle(n);
    return [nodeName(n), props.map((p) => cs.getPropertyValue(p))];
  });
  document.addEventListener('DOMContentLoaded', () => { probe.before = snapshot(); });
  probe.hostChanges = () => {
    const after = snapshot();
    const changes = [];
    (probe.before || []).forEach(([name, vals], i) => {
      const now = after[i] && after[i][1];
      props.forEach((p, j) => {
        if (now && now[j] !== vals[j]) changes.push(`${name} ${p}: ${vals[j]} -> ${now[j]}`);
      });
    });
    return changes;
  };
  probe.take = () => {
    record(obs.takeRecords());
    return probe.shifts;
  };
  function nodeName(n) {
    if (!n.tagName) return n.nodeName;
    return n.tagName.toLowerCase() + (n.id ? `#${n.id}` : '') + (n.dataset && n.dataset.testid ? `[${n.dataset.testid}]` : '');
  }
}

// describeWidget reports what the widget's container holds.
function describeWidget(sel) {
  const host = document.querySelector(sel);
  const w = {
    container_found: !!host,
    shadow_root: !!(host && host.shadowRoot),
    light_dom_nodes: host ? host.childNodes.length : 0,
    blocks: [],
    recommendations: [],
    coupon_code: '',
  };
  const root = host && host.shadowRoot;
  if (!root) return w;
  const text = (n) => (n ? n.textContent.trim() : '');
  const box = (n) => {
    const r = n.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  };
  for (const b of root.querySelectorAll('[data-testid="thankyou"] > [data-testid]')) {
    w.blocks.push({
      id: b.dataset.testid,
      text: b.innerText,
      links: [...b.querySelectorAll('a')].map((a) => ({ text: text(a), href: a.href, target: a.target })),
      buttons: [...b.querySelectorAll('button')].map(text),
      box: box(b),
    });
  }
  for (const r of root.querySelectorAll('[data-testid="recommendation"]')) {
    const img = r.querySelector('img');
    w.recommendations.push({
      name: text(r.querySelector('[data-testid="recommendation-name"]')),
      price: text(r.querySelector('[data-testid="recommendation-price"]')),
      href: r.href || '',
      image: img ? {
        alt: img.alt,
        width_attr: img.getAttribute('width') || '',
        height_attr: img.getAttribute('height') || '',
        loaded: img.complete && img.naturalWidth > 0,
      } : null,
      box: box(r),
    });
  }
  w.coupon_code = text(root.querySelector('[data-testid="coupon-code"]'));
  return w;
}

// probeLeaks adds the probe style to the host page and lists every widget
// element whose computed style shows it; then removes the probe again.
async function probeLeaks(page, container) {
  return page.evaluate(({ css, sel }) => {
    const style = document.createElement('style');
    style.textContent = css.replaceAll('CONTAINER', sel);
    document.head.appendChild(style);
    const leaks = [];
    try {
      for (const n of document.querySelector(sel).shadowRoot.querySelectorAll('*')) {
        if (n.tagName === 'STYLE') continue;
        const cs = getComputedStyle(n);
        const hits = [];
        if (cs.outlineStyle === 'dotted' && cs.outlineColor === 'rgb(255, 0, 0)') hits.push('outline');
        if (cs.backgroundColor === 'rgb(255, 0, 0)') hits.push('background-color');
        if (cs.color === 'rgb(255, 0, 0)') hits.push('color');
        if (cs.letterSpacing === '9px') hits.push('letter-spacing');
        if (cs.fontStyle === 'italic') hits.push('font-style');
        if (cs.textTransform === 'uppercase') hits.push('text-transform');
        if (hits.length) leaks.push(`${n.tagName.toLowerCase()}${n.className ? '.' + n.className : ''}: ${hits.join(', ')}`);
      }
    } finally {
      style.remove();
    }
    return leaks;
  }, { css: PROBE_CSS, sel: container });
}

async function copyCoupon(page, container) {
  const btn = page.locator(`${container} [data-testid="coupon-copy"]`);
  if (!(await btn.count())) return null;
  const before = (await btn.textContent()).trim();
  return withClipboard(async () => {
    await btn.click();
    // Done when the button says something else or a note appears.
    await page.waitForFunction(({ sel, before }) => {
      const c = document.querySelector(sel).shadowRoot.querySelector('[data-testid="coupon"]');
      return c.querySelector('[data-testid="coupon-copy"]').textContent.trim() !== before || c.querySelector('[role="status"]').textContent !== '';
    }, { sel: container, before });
    return page.evaluate(async (sel) => {
      const c = document.querySelector(sel).shadowRoot.querySelector('[data-testid="coupon"]');
      let clipboard = null;
      try { clipboard = await navigator.clipboard.readText(); } catch (e) { /* unreadable: stays null */ }
      return {
        button: c.querySelector('[data-testid="coupon-copy"]').textContent.trim(),
        note: c.querySelector('[role="status"]').textContent,
        clipboard,
      };
    }, container);
  });
}

async function clickFirstRecommendation(page, container) {
  const link = page.locator(`${container} [data-testid="recommendation"]`).first();
  if (!(await link.count())) return null;
  // What was measured on the thank-you page, before it is left.
  await frames(page);
  const shifts = await page.evaluate(() => window.__tsunaguProbe.take());
  const from = page.url();
  await Promise.all([
    page.waitForURL((u) => u.href !== from, { waitUntil: 'domcontentloaded' }),
    link.click(),
  ]);
  return {
    url: page.url(),
    heading: ((await page.locator('h1').first().textContent()) || '').trim(),
    shifts_before: shifts,
  };
}

async function submitOptin(page, container) {
  const block = page.locator(`${container} [data-testid="optin"]`);
  if (!(await block.count())) return null;
  await block.locator('input[type="checkbox"]').check();
  await block.locator('[data-testid="optin-submit"]').click();
  const status = block.locator('[data-testid="optin-status"]');
  await page.waitForFunction((sel) => {
    const s = document.querySelector(sel).shadowRoot.querySelector('[data-testid="optin-status"]');
    return s && s.textContent !== '';
  }, container);
  return {
    status: ((await status.textContent()) || '').trim(),
    submit_present: (await block.locator('[data-testid="optin-submit"]').count()) > 0,
    checkbox_present: (await block.locator('input[type="checkbox"]').count()) > 0,
  };
}

async function hostHeight(page, container) {
  return page.evaluate((sel) => {
    const host = document.querySelector(sel);
    return host ? host.getBoundingClientRect().height : -1;
  }, container);
}

// frames waits for two animation frames: one painted after whatever changed.
async function frames(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

main().catch((err) => {
  process.stderr.write(`thankyou.mjs: ${err && err.stack || err}\n`);
  process.exitCode = 1;
});
