/*
 * tsunagu thank-you widget.
 *
 * The shop embeds, on its order confirmation page:
 *
 *   <div id="tsunagu-thankyou"></div>
 *   <script src="https://API/thankyou/widget.js" data-api="https://API"
 *           data-order-id="1001" data-sig="..." async></script>
 *
 * (data-target may name another container selector.) The widget fetches
 * GET {api}/thankyou/{orderId}?sig={sig} and renders, inside a shadow root on
 * the container, the recommended products, a next-order coupon, the
 * customer's points (what this order earns, the balance, rewards to exchange
 * for a coupon: POST {api}/thankyou/{orderId}/points), their referral link,
 * a LINE invitation and a newsletter opt-in, hiding whatever the answer
 * leaves out.
 *
 * It must never hurt the shop's page: on a slow or failing API it renders
 * nothing, throws nothing (at most a console.debug) and leaves the container
 * empty, so nothing moves. All data goes into the DOM through textContent and
 * attributes, never as HTML, and only http(s) URLs become links or images.
 *
 * Shops may theme it with two CSS custom properties on the container (they
 * cross the shadow boundary): --tsunagu-accent (a colour) and --tsunagu-font.
 */
(function () {
  'use strict';

  var TIMEOUT_MS = 3000;

  // Read synchronously: currentScript is only set while this file runs.
  var script = document.currentScript || findScript();

  var TEXT = {
    recommendations: 'おすすめ商品',
    coupon: '次回のお買い物で使えるクーポン',
    copy: 'コピー',
    copied: 'コピーしました',
    copyManually: 'コードを選択しました。コピーしてお使いください',
    line: 'LINE 友だち追加',
    lineLead: 'LINEで新商品やクーポンのお知らせを受け取れます。',
    lineAdd: '友だち追加',
    lineLink: 'LINEアカウントと連携',
    optin: 'お知らせの受け取り',
    optinButton: '登録する',
    optinSending: '送信中…',
    optinDone: 'ご登録ありがとうございます。お知らせをお送りします。',
    optinFailed: '登録できませんでした。時間をおいてもう一度お試しください。',
    points: 'ポイント',
    thisOrder: 'このご注文で獲得予定',
    balance: 'ご利用いただけるポイント',
    rank: '会員ランク',
    pendingNote: '獲得予定のポイントは、返品期間が過ぎると使えるようになります。',
    exchange: '交換する',
    exchanging: '交換中…',
    exchanged: 'クーポンに交換しました',
    notEnough: 'ポイントが足りません',
    exchangeFailed: '交換できませんでした。時間をおいてもう一度お試しください。',
    referral: 'お友だちに紹介',
    referralLead: '下のリンクからお友だちが初めてお買い物されると、',
    referralCopy: 'リンクをコピー'
  };

  var CSS = [
    // all: initial stops the shop's inherited styles (colour, font, letter
    // spacing...) at the widget's root; everything below is the widget's own.
    '.tsn{all:initial;display:block;box-sizing:border-box;margin:24px 0;',
    'font-family:var(--tsunagu-font,-apple-system,BlinkMacSystemFont,"Hiragino Sans","Hiragino Kaku Gothic ProN","Noto Sans JP",Meiryo,sans-serif);',
    'font-size:15px;line-height:1.6;color:#2b2b2b;text-align:left;-webkit-text-size-adjust:100%}',
    '.tsn *,.tsn *::before,.tsn *::after{box-sizing:border-box}',
    '.blk{margin:0 0 20px;padding:20px;border:1px solid #e3e0da;border-radius:10px;background:#fff}',
    '.blk:last-child{margin-bottom:0}',
    'h2{margin:0 0 14px;font-size:17px;font-weight:700;line-height:1.4;color:#2b2b2b}',
    'p{margin:0 0 10px}',
    'a{color:var(--tsunagu-accent,#1f6f4a)}',
    ':focus-visible{outline:3px solid #2f6fde;outline-offset:2px}',
    // Recommendations: a grid of cards, one column on narrow screens.
    '.recs{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:16px;margin:0;padding:0;list-style:none}',
    '.card{display:block;height:100%;color:inherit;text-decoration:none;border-radius:8px}',
    '.card:hover .nm{text-decoration:underline}',
    // width/height attributes plus aspect-ratio reserve the image box before it loads.
    '.card img{display:block;width:100%;height:auto;aspect-ratio:1/1;object-fit:cover;border-radius:6px;background:#f3f1ec}',
    '.nm{display:block;margin:8px 0 2px;font-size:14px;line-height:1.45}',
    '.pr{display:block;font-weight:700}',
    '@media (max-width:480px){.recs{grid-template-columns:1fr}',
    '.card{display:grid;grid-template-columns:88px 1fr;gap:12px;align-items:center}',
    '.nm{margin-top:0}}',
    // Coupon.
    '.cpn{border:2px dashed var(--tsunagu-accent,#1f6f4a)}',
    '.cname{font-weight:700}',
    '.disc{margin:0 0 4px;font-size:26px;font-weight:800;line-height:1.2;color:var(--tsunagu-accent,#1f6f4a)}',
    '.cond{margin:0;font-size:14px;color:#555}',
    '.code{display:flex;flex-wrap:wrap;align-items:center;gap:10px;margin:14px 0 0}',
    'code{padding:8px 12px;border-radius:6px;background:#f3f1ec;font:700 17px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;',
    'letter-spacing:.05em;-webkit-user-select:all;user-select:all;word-break:break-all}',
    '.note{flex-basis:100%;margin:0;font-size:13px;color:#555}',
    // Buttons and button-like links.
    'button,.btn{display:inline-block;min-width:96px;margin:0;padding:9px 18px;border:0;border-radius:999px;',
    'font-family:inherit;font-size:15px;font-weight:700;line-height:1.4;text-align:center;text-decoration:none;cursor:pointer;',
    'color:#fff;background:var(--tsunagu-accent,#1f6f4a)}',
    'button[disabled]{cursor:default;opacity:.5}',
    '.line{background:#06c755}',
    '.sub{display:inline-block;margin-left:16px;font-size:14px}',
    // Opt-in.
    'label{display:flex;gap:10px;align-items:flex-start;margin:0 0 12px;cursor:pointer}',
    'input{flex:none;width:20px;height:20px;margin:2px 0 0;accent-color:var(--tsunagu-accent,#1f6f4a)}',
    '.st{margin:10px 0 0;font-size:14px}',
    '.st:empty{display:none}',
    // Points.
    '.bal{margin:0 0 4px;font-size:26px;font-weight:800;line-height:1.2;color:var(--tsunagu-accent,#1f6f4a)}',
    '.rws{margin:12px 0 0;padding:0;list-style:none}',
    '.rw{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px;padding:10px 0;border-top:1px solid #e3e0da}',
    '.rw .st{flex-basis:100%;margin:0}',
    '.ref{word-break:break-all}'
  ].join('');

  start();

  // start runs the widget; every failure ends in a debug line, never a throw.
  function start() {
    try {
      var cfg = readConfig(script);
      if (!cfg) return;
      Promise.all([load(cfg), domReady()])
        .then(function (r) { render(cfg, r[0]); })
        .catch(function (err) { debug('not shown', err); });
    } catch (err) {
      debug('not shown', err);
    }
  }

  // findScript finds this script's tag when document.currentScript is not
  // set (some loaders and old browsers): the last one loading widget.js.
  function findScript() {
    var all = document.querySelectorAll('script[src*="/thankyou/widget.js"]');
    return all.length ? all[all.length - 1] : null;
  }

  function readConfig(el) {
    if (!el) return fail('script tag not found');
    var d = el.dataset;
    if (!d.api || !d.orderId || !d.sig) return fail('data-api, data-order-id and data-sig are required');
    return {
      api: d.api.replace(/\/+$/, ''),
      orderId: d.orderId,
      sig: d.sig,
      target: d.target || '#tsunagu-thankyou'
    };
  }

  function fail(msg) {
    debug(msg);
    return null;
  }

  function debug(msg, detail) {
    try {
      console.debug('[tsunagu] thank-you widget: ' + msg, detail === undefined ? '' : detail);
    } catch (e) { /* no console: nothing to say */ }
  }

  // fetchJSON fetches a URL with a deadline covering the whole answer, body
  // included, and resolves to its parsed JSON; anything but a 200 rejects.
  // An answer past the deadline is refused even where it cannot be aborted:
  // showing it late would move the page under the buyer's eyes.
  function fetchJSON(url, init) {
    var late = false;
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = setTimeout(function () {
      late = true;
      if (ctl) ctl.abort();
    }, TIMEOUT_MS);
    init.signal = ctl ? ctl.signal : undefined;
    init.credentials = 'omit';
    init.referrerPolicy = 'no-referrer';
    return fetch(url, init)
      .then(function (res) {
        if (res.status !== 200) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (body) {
        clearTimeout(timer);
        if (late) throw new Error('answer after ' + TIMEOUT_MS + ' ms');
        return body;
      }, function (err) {
        clearTimeout(timer);
        throw err;
      });
  }

  function load(cfg) {
    var url = cfg.api + '/thankyou/' + encodeURIComponent(cfg.orderId) + '?sig=' + encodeURIComponent(cfg.sig);
    return fetchJSON(url, { headers: { Accept: 'application/json' } });
  }

  function domReady() {
    return new Promise(function (resolve) {
      if (document.readyState !== 'loading') resolve();
      else document.addEventListener('DOMContentLoaded', function () { resolve(); }, { once: true });
    });
  }

  function render(cfg, data) {
    if (!data || typeof data !== 'object') return debug('malformed answer');
    var blocks = [recommendations(data.recommendations), coupon(data.coupon), points(data.points),
      referral(data.referral), line(data.line), optin(data.optin)].filter(Boolean);
    if (!blocks.length) return debug('nothing to show');

    var host = document.querySelector(cfg.target);
    if (!host) return debug('container not found: ' + cfg.target);
    if (host.shadowRoot || typeof host.attachShadow !== 'function') return debug('container cannot host the widget');

    // Build everything first and attach it in one go: a single insertion.
    var root = el('div', 'tsn');
    testid(root, 'thankyou');
    blocks.forEach(function (b) { root.appendChild(b); });
    var style = document.createElement('style');
    style.textContent = CSS;
    var shadow = host.attachShadow({ mode: 'open' });
    shadow.appendChild(style);
    shadow.appendChild(root);
  }

  // --- blocks; each returns null when its data is absent or unusable ---

  function recommendations(items) {
    if (!Array.isArray(items)) return null;
    var list = el('ul', 'recs');
    items.forEach(function (it) {
      var href = it && safeURL(it.url);
      if (!href || !str(it.name)) return;
      var a = el('a', 'card');
      a.href = href;
      testid(a, 'recommendation');
      var src = safeURL(it.image_url);
      if (src) {
        var img = document.createElement('img');
        img.src = src;
        img.alt = it.name;
        img.width = 160;
        img.height = 160;
        img.loading = 'lazy';
        img.decoding = 'async';
        a.appendChild(img);
      }
      var body = el('span');
      body.appendChild(testid(el('span', 'nm', it.name), 'recommendation-name'));
      if (str(it.price_label)) body.appendChild(testid(el('span', 'pr', it.price_label), 'recommendation-price'));
      a.appendChild(body);
      var li = el('li');
      li.appendChild(a);
      list.appendChild(li);
    });
    if (!list.children.length) return null;
    var s = section('recommendations', TEXT.recommendations);
    s.appendChild(list);
    return s;
  }

  function coupon(c) {
    if (!c || !str(c.code)) return null;
    var s = section('coupon', TEXT.coupon);
    s.classList.add('cpn');
    if (str(c.name)) s.appendChild(el('p', 'cname', c.name));
    if (str(c.discount)) s.appendChild(el('p', 'disc', c.discount));
    if (str(c.min_order_label)) s.appendChild(el('p', 'cond', c.min_order_label));
    if (str(c.expires_label)) {
      var t = el('time', '', c.expires_label);
      if (str(c.expires_at)) t.dateTime = c.expires_at;
      var p = el('p', 'cond');
      p.appendChild(t);
      s.appendChild(p);
    }

    var row = el('div', 'code');
    var code = el('code', '', c.code);
    testid(code, 'coupon-code');
    var btn = el('button', '', TEXT.copy);
    btn.type = 'button';
    testid(btn, 'coupon-copy');
    var note = el('p', 'note');
    note.setAttribute('role', 'status');
    btn.addEventListener('click', function () {
      copy(c.code).then(function () {
        btn.textContent = TEXT.copied;
      }, function () {
        // No clipboard access: select the code so the buyer can copy it.
        selectText(code);
        note.textContent = TEXT.copyManually;
      }).catch(function (err) { debug('copy failed', err); });
    });
    row.appendChild(code);
    row.appendChild(btn);
    row.appendChild(note);
    s.appendChild(row);
    return s;
  }

  // points shows what the order earns, the balance and the rewards; a
  // reward the balance covers can be exchanged for a coupon here.
  function points(p) {
    if (!p || typeof p.balance !== 'number' || typeof p.this_order !== 'number') return null;
    var s = section('points', TEXT.points);
    if (p.this_order > 0) s.appendChild(testid(el('p', '', TEXT.thisOrder + ' ' + num(p.this_order) + ' pt'), 'points-this-order'));
    s.appendChild(el('p', 'cond', TEXT.balance));
    var bal = testid(el('p', 'bal', num(p.balance) + ' pt'), 'points-balance');
    s.appendChild(bal);
    if (str(p.expires_label) && p.expiring > 0) s.appendChild(el('p', 'cond', num(p.expiring) + ' pt ' + p.expires_label));
    if (p.pending > 0) s.appendChild(el('p', 'note', TEXT.pendingNote));
    // The member rank spot: shown only when the answer carries a rank.
    if (p.rank && str(p.rank.name)) {
      var rank = TEXT.rank + ' ' + p.rank.name;
      if (str(p.rank.next) && str(p.rank.next_label)) rank += ' ・ ' + p.rank.next + 'まで' + p.rank.next_label;
      s.appendChild(testid(el('p', 'cond', rank), 'points-rank'));
    }
    var url = safeURL(p.redeem_url);
    var list = el('ul', 'rws');
    (Array.isArray(p.rewards) ? p.rewards : []).forEach(function (r) {
      if (!r || !str(r.id) || !str(r.name) || typeof r.points !== 'number') return;
      var li = testid(el('li', 'rw'), 'reward');
      var text = el('span');
      text.appendChild(el('span', 'cname', r.name));
      text.appendChild(el('span', 'note', ' ' + num(r.points) + ' pt' + (str(r.label) ? ' ・ ' + r.label : '')));
      li.appendChild(text);
      var status = el('p', 'st');
      status.setAttribute('role', 'status');
      if (url) {
        var btn = testid(el('button', '', r.affordable ? TEXT.exchange : TEXT.notEnough), 'reward-exchange');
        btn.type = 'button';
        btn.disabled = r.affordable !== true;
        var request = requestID();
        btn.addEventListener('click', function () {
          btn.disabled = true;
          btn.textContent = TEXT.exchanging;
          status.textContent = '';
          fetchJSON(url, {
            method: 'POST',
            headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
            body: JSON.stringify({ reward: r.id, request: request })
          }).then(function (res) {
            btn.textContent = TEXT.exchanged;
            if (res && typeof res.balance === 'number') bal.textContent = num(res.balance) + ' pt';
            var c = coupon(res && res.coupon);
            if (c) li.replaceChildren(c);
          }, function (err) {
            debug('exchange failed', err);
            btn.textContent = TEXT.exchange;
            btn.disabled = false;
            status.textContent = TEXT.exchangeFailed;
          }).catch(function (err) { debug('exchange display failed', err); });
        });
        li.appendChild(btn);
      }
      li.appendChild(status);
      list.appendChild(li);
    });
    if (list.children.length) s.appendChild(list);
    return s;
  }

  // referral shows the customer's own referral link, with a copy button.
  function referral(r) {
    var link = r && safeURL(r.link);
    if (!link) return null;
    var s = section('referral', TEXT.referral);
    if (str(r.offer)) s.appendChild(el('p', '', TEXT.referralLead + r.offer + '。'));
    var a = testid(el('a', 'ref', link), 'referral-link');
    a.href = link;
    a.target = '_blank';
    a.rel = 'noopener';
    var p = el('p');
    p.appendChild(a);
    s.appendChild(p);
    var btn = el('button', '', TEXT.referralCopy);
    btn.type = 'button';
    btn.addEventListener('click', function () {
      copy(link).then(function () { btn.textContent = TEXT.copied; }, function () { selectText(a); })
        .catch(function (err) { debug('copy failed', err); });
    });
    s.appendChild(btn);
    return s;
  }

  function line(l) {
    var add = l && safeURL(l.add_friend_url);
    if (!add) return null;
    var s = section('line', TEXT.line);
    s.appendChild(el('p', '', TEXT.lineLead));
    var a = el('a', 'btn line', TEXT.lineAdd);
    a.href = add;
    a.target = '_blank';
    a.rel = 'noopener';
    s.appendChild(a);
    var link = safeURL(l.link_url);
    if (link) {
      var b = el('a', 'sub', TEXT.lineLink);
      b.href = link;
      b.target = '_blank';
      b.rel = 'noopener';
      testid(b, 'line-link');
      s.appendChild(b);
    }
    return s;
  }

  function optin(o) {
    var url = o && o.offered === true && safeURL(o.url);
    if (!url || !str(o.text)) return null;
    var s = section('optin', TEXT.optin);
    var label = el('label');
    var box = document.createElement('input');
    box.type = 'checkbox';
    label.appendChild(box);
    label.appendChild(el('span', '', o.text));
    var btn = el('button', '', TEXT.optinButton);
    btn.type = 'button';
    btn.disabled = true;
    testid(btn, 'optin-submit');
    var status = el('p', 'st');
    status.setAttribute('role', 'status');
    testid(status, 'optin-status');

    box.addEventListener('change', function () { btn.disabled = !box.checked; });
    btn.addEventListener('click', function () {
      btn.disabled = true;
      btn.textContent = TEXT.optinSending;
      status.textContent = '';
      // text/plain keeps this a CORS "simple request": no preflight.
      fetchJSON(url, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ consent: true })
      }).then(function () {
        // Keep the block's height so nothing below it moves.
        s.style.minHeight = s.offsetHeight + 'px';
        s.replaceChildren(el('h2', '', TEXT.optin), status);
        status.textContent = TEXT.optinDone;
      }, function (err) {
        debug('opt-in failed', err);
        btn.textContent = TEXT.optinButton;
        btn.disabled = !box.checked;
        status.textContent = TEXT.optinFailed;
      }).catch(function (err) { debug('opt-in display failed', err); });
    });

    s.appendChild(label);
    s.appendChild(btn);
    s.appendChild(status);
    return s;
  }

  // --- helpers ---

  // section is a block: a titled <section> labelled by its heading.
  function section(id, title) {
    var s = el('section', 'blk');
    testid(s, id);
    var h = el('h2', '', title);
    h.id = 'tsn-' + id;
    s.setAttribute('aria-labelledby', h.id);
    s.appendChild(h);
    return s;
  }

  // testid marks an element with the stable data-testid the browser tests use.
  function testid(e, id) {
    e.setAttribute('data-testid', id);
    return e;
  }

  // el creates an element with a class and text; text is never parsed as HTML.
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // num writes a count with digit grouping: 1,250.
  function num(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  // requestID names one exchange, the same for its retries.
  function requestID() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    return 'r-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
  }

  function str(v) {
    return typeof v === 'string' && v !== '';
  }

  // safeURL returns the absolute form of an http(s) URL, or '' for anything
  // else (javascript:, data:, garbage), so data cannot become script.
  function safeURL(v) {
    if (!str(v)) return '';
    try {
      var u = new URL(v, location.href);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : '';
    } catch (e) {
      return '';
    }
  }

  // copy puts text on the clipboard; it never throws, it rejects.
  function copy(text) {
    return Promise.resolve().then(function () {
      if (navigator.clipboard && typeof navigator.clipboard.writeText === 'function') {
        return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
      }
      return legacyCopy(text);
    });
  }

  // legacyCopy copies through a hidden textarea and execCommand, for browsers
  // without the Clipboard API (or that refuse it, e.g. in an insecure page).
  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.cssText = 'position:fixed;top:0;left:0;opacity:0';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { /* unsupported */ }
      document.body.removeChild(ta);
      if (ok) resolve(); else reject(new Error('copy refused'));
    });
  }

  function selectText(node) {
    var sel = window.getSelection && window.getSelection();
    if (sel) sel.selectAllChildren(node);
  }
})();
