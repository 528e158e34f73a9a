// report.mjs opens one page (the tsunagu report, a self-contained HTML
// file) in Debian's Chromium through playwright-core and reports what a
// test needs to judge it: console errors, uncaught exceptions, every
// request beyond the page itself, whether the page scrolls sideways, and
// the size and drawn shapes of each chart (svg.chart). It judges nothing:
// the Go tests (infra/testkit/browser, InspectPage) assert.
//
// It reads one config on stdin,
//
//   {"url": "file:///abs/report.html", "viewport": {"width": 375, "height": 740},
//    "screenshot": "/abs/path.png" (optional), "step_timeout_ms": 60000,
//    "steps": [{"click": "css"}, {"fill": "css", "value": "..."}, {"submit": "css"}, {"wait": "css"}] (optional)}
//
// Steps run after the page loads, as a person would; a submit waits for
// the page it leads to, and the page is judged after the last step.
//
// prints one result as JSON on stdout and exits. Nothing waits for a fixed
// time: the page has no script, so "load" is the end of its rendering.
import { createRequire } from 'node:module';
import { text } from 'node:stream/consumers';

const require = createRequire(new URL('../local/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function main() {
  const cfg = JSON.parse(await text(process.stdin));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  try {
    const context = await browser.newContext({ viewport: cfg.viewport });
    context.setDefaultTimeout(cfg.step_timeout_ms);
    const page = await context.newPage();
    const out = { console: [], page_errors: [], requests: [] };
    page.on('console', (m) => out.console.push({ type: m.type(), text: m.text(), url: m.location().url || '' }));
    page.on('pageerror', (e) => out.page_errors.push(String(e && (e.stack || e.message) || e)));
    const origin = new URL(cfg.url).origin;
    page.on('request', (r) => {
      if (r.url() !== cfg.url && (origin === 'null' || new URL(r.url()).origin !== origin)) out.requests.push(r.url());
    });
    const first = await page.goto(cfg.url, { waitUntil: 'load' });
    out.status = first ? first.status() : 0;
    for (const step of cfg.steps || []) {
      if (step.click) await page.click(step.click);
      if (step.wait) await page.waitForSelector(step.wait);
      if (step.fill) await page.fill(step.fill, step.value || '');
      if (step.submit) {
        const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(step.submit)]);
        out.status = resp ? resp.status() : 0;
      }
    }
    Object.assign(out, await page.evaluate(() => {
      const doc = document.documentElement;
      const charts = [...document.querySelectorAll('svg.chart')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const shapes = [...svg.querySelectorAll('rect, circle, line, path')].filter((s) => {
          const b = s.getBoundingClientRect();
          return b.width > 0 || b.height > 0;
        });
        const section = svg.closest('section');
        return { section: section ? section.dataset.testid || '' : '', width: box.width, height: box.height, shapes: shapes.length };
      });
      const sections = [...document.querySelectorAll('section[data-testid]')].map((s) => s.dataset.testid);
      return { scroll_width: doc.scrollWidth, client_width: doc.clientWidth, charts, sections, title: document.title, text: document.body.innerText };
    }));
    if (cfg.screenshot) await page.screenshot({ path: cfg.screenshot, fullPage: true });
    process.stdout.write(JSON.stringify(out) + '\n');
    await context.close();
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
