// The touch kiosk: categories → item (materials, time limit, 掌上办) → optional second item (一件事) →
// number; 绿色通道: group first, the elderly ID checked before the item (跳过 → 待核验 at the window); search by
// name, keyword or pinyin initials on an on-screen keyboard; closed screen outside hours. After K.idle seconds
// untouched (with a countdown) it goes back to Chinese, normal mode and the home screen: one citizen's choices
// never carry over to the next. No framework: it must run on old kiosk browsers, offline, for years.
(() => {
  'use strict';
  const K = window.KIOSK, T = K.T;
  const $ = (id) => document.getElementById(id);
  const fmt = (s, vals) => s.replace(/\{(\w+)\}/g, (_, k) => vals[k]);
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };

  // The device token comes once in the URL, then lives in this browser only (not in history or bookmarks).
  const params = new URLSearchParams(location.search);
  if (params.get('device')) {
    localStorage.setItem('kioskToken', params.get('device'));
    params.delete('device');
    history.replaceState(null, '', location.pathname + (params.toString() ? '?' + params : ''));
  }
  const TOKEN = localStorage.getItem('kioskToken');
  // Large text and voice are one citizen's choices: kept across the language switch (a page load) in this tab's
  // session storage only, and cleared by the idle reset. Older versions kept them in localStorage: drop those.
  localStorage.removeItem('kioskElderly'); localStorage.removeItem('kioskSpeak');
  const state = { items: [], chosen: [], priority: null, idNumber: '', elderly: sessionStorage.getItem('kioskElderly') === '1',
                  speak: sessionStorage.getItem('kioskSpeak') === '1', screen: 'home', page: 0, category: null, last: null,
                  returnTo: null, refused: {}, canPrint: true };

  async function api(method, url, body) {
    const headers = { 'Accept': 'application/json' };
    if (TOKEN) headers.Authorization = 'Bearer ' + TOKEN;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { ok: r.ok, status: r.status, data };
  }

  // --- screens, idle timeout, voice -------------------------------------------------------------
  // Anything the next citizen must not inherit: a screen other than home, English, large text, voice, a search.
  function dirty() {
    return (state.screen !== 'home' && state.screen !== 'closed' && state.screen !== 'unregistered') || K.lang === 'en'
      || state.elderly || state.speak || !!state.priority || state.chosen.length > 0 || $('q').value !== '';
  }
  let idleTimer = null, countdown = null;
  // The done screen shows the number and its tracking QR (the ticket's secret): it clears sooner.
  // Without a slip the number stays longer (to be written down or remembered), still cleared for the next citizen.
  function idleSeconds() {
    if (state.screen !== 'done') return K.idle;
    return document.body.classList.contains('noprint') ? Math.min(K.idle, 60) : Math.min(K.idle, 30);
  }
  function touch() {
    clearTimeout(idleTimer); clearInterval(countdown); $('idle').hidden = true;
    if (!dirty() || !TOKEN) return;
    const warn = Math.min(K.idleWarning, idleSeconds() - 1);
    idleTimer = setTimeout(() => {
      let left = warn;
      const tick = () => { if (left <= 0) { clearInterval(countdown); resetAll(); return; }
        $('idle-n').textContent = fmt(T.idle_in, { n: left }); left -= 1; };
      $('idle').hidden = false; tick(); countdown = setInterval(tick, 1000);
    }, (idleSeconds() - warn) * 1000);
  }
  function moreCue() {
    for (const b of document.querySelectorAll('.screen > .body')) {
      const more = !b.closest('.screen').hidden && b.scrollTop + b.clientHeight < b.scrollHeight - 4;
      b.classList.toggle('more', more); b.closest('.screen').classList.toggle('more', more);
    }
  }
  for (const b of document.querySelectorAll('.screen > .body')) b.addEventListener('scroll', moreCue, { passive: true });
  for (const b of document.querySelectorAll('.screen > .bar')) b.dataset.more = T.more;
  window.addEventListener('resize', moreCue);
  $('r-qr').addEventListener('load', moreCue); $('d-online-qr').addEventListener('load', moreCue); // heights change
  function show(name) {
    for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== name;
    state.screen = name;
    const body = document.querySelector(`#${name} > .body`); if (body) body.scrollTop = 0;
    moreCue();
    touch();
  }
  function say(text) {
    if (!(state.speak || state.elderly) || !('speechSynthesis' in window)) return;
    const voice = speechSynthesis.getVoices().find((v) => v.lang && v.lang.replace('_', '-').toLowerCase().startsWith('zh'));
    if (!voice) return; // no Chinese voice on this machine: stay silent rather than read Hanzi in English
    speechSynthesis.cancel();
    const u = new SpeechSynthesisUtterance(text); u.voice = voice; u.lang = voice.lang; u.rate = state.elderly ? 0.8 : 1;
    speechSynthesis.speak(u);
  }
  let toastTimer = null;
  function toast(text) {
    $('toast').textContent = text; $('toast').hidden = false;
    clearTimeout(toastTimer); toastTimer = setTimeout(() => { $('toast').hidden = true; }, state.elderly ? 8000 : 5000);
    say(text);
  }
  function banner() {
    const parts = [];
    const en = K.lang === 'en', colon = en ? ': ' : '：';
    if (state.priority) parts.push(T.priority + colon + groupName(state.priority) + (state.skipped ? (en ? ' (' + T.unverified + ')' : '（' + T.unverified + '）') : ''));
    if (state.chosen.length) parts.push(fmt(T.chosen, { name: state.chosen.map((i) => i.name).join(' + ') }));
    $('banner').textContent = parts.join('　'); $('banner').hidden = !parts.length;
  }
  function groupName(g) { const b = document.querySelector(`[data-group="${g}"]`); return b ? b.textContent : g; }
  function reset() {
    state.chosen = []; state.priority = null; state.idNumber = ''; state.skipped = false; state.category = null; state.returnTo = null;
    state.refused = {}; current = null;
    $('q').value = ''; keyboard(false); $('q-clear').hidden = true;
    $('results').hidden = true; $('categories').hidden = false; banner(); show('home'); say(T.say_home);
  }
  // The idle reset: also back to Chinese (a page load; it sets the language cookie) and normal mode.
  function resetAll() {
    state.elderly = false; state.speak = false; sessionStorage.removeItem('kioskElderly'); sessionStorage.removeItem('kioskSpeak');
    if ('speechSynthesis' in window) speechSynthesis.cancel();
    if (K.lang === 'en') { location.replace(location.pathname + '?lang=zh_CN'); return; }
    applyModes(); reset();
  }

  // --- catalogue ------------------------------------------------------------------------------
  const perPage = () => (state.elderly ? 4 : 8);
  function itemButton(item) {
    const b = el('button', 'big item');
    b.append(el('span', 'name', item.name));
    const sub = item.quota_left === 0 ? T.quota_out : (item.time_limit_days ? fmt(T.limit_days, { n: item.time_limit_days }) : T.limit_now);
    b.append(el('small', '', sub));
    b.dataset.code = item.code;
    const other = state.chosen[0];
    if (other && (other.department === item.department || other.code === item.code)) b.disabled = true;
    b.onclick = () => openItem(item);
    return b;
  }
  function categories() {
    const box = $('categories'); box.replaceChildren();
    const cats = [...new Set(state.items.map((i) => i.category))];
    for (const c of cats) {
      const b = el('button', 'big cat', c);
      b.onclick = () => { state.category = c; state.page = 0; listCategory(); };
      box.append(b);
    }
  }
  function pool() {
    const first = state.chosen[0];
    return state.items.filter((i) => (!state.category || i.category === state.category) && (!first || i.department !== first.department));
  }
  function listCategory() {
    const items = pool(), n = perPage(), pages = Math.max(1, Math.ceil(items.length / n));
    state.page = Math.min(state.page, pages - 1);
    $('cat-title').textContent = state.chosen.length ? T.pick_second : (state.category || T.all);
    $('cat-items').replaceChildren(...items.slice(state.page * n, state.page * n + n).map(itemButton));
    $('pager').hidden = pages < 2;
    $('page').textContent = fmt(T.page, { a: state.page + 1, b: pages });
    show('category');
  }
  $('prev').onclick = () => { state.page = Math.max(0, state.page - 1); listCategory(); };
  $('next').onclick = () => { state.page += 1; listCategory(); };
  // Search: Chinese text against names, categories and keywords (医保卡 finds 社会保障卡补换); letters against
  // the pinyin initials of names and keywords (YBK, SBK), which the server computes.
  function matches(q) {
    const latin = /^[a-z0-9]+$/.test(q);
    const score = (i) => {
      if (i.code.toLowerCase() === q) return 1;
      if (latin) { const hit = (i.initials || []).findIndex((s) => s.includes(q)); return hit < 0 ? 0 : (hit === 0 ? 2 : 3); }
      if (i.name.includes(q)) return 1;
      if ((i.keywords || []).some((k) => k.includes(q) || q.includes(k))) return 2;
      return i.category.includes(q) ? 3 : 0;
    };
    return state.items.map((i) => [score(i), i]).filter(([s]) => s > 0).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  }
  function search() {
    const q = $('q').value.trim().toLowerCase();
    $('q-clear').hidden = !q;
    if (!q) { $('results').hidden = true; $('categories').hidden = false; moreCue(); return; }
    const found = matches(q);
    $('results').replaceChildren(...(found.length ? found.slice(0, perPage()).map(itemButton) : [el('p', 'hint', T.no_match)]));
    $('results').hidden = false; $('categories').hidden = true; moreCue();
  }
  $('q').addEventListener('input', () => { touch(); search(); });
  // While the keyboard is open the printer note steps aside: the results need the room (it is back on closing).
  function keyboard(open) { $('keyboard').hidden = !open; $('home').classList.toggle('kb', open); moreCue(); }
  $('q').addEventListener('focus', () => keyboard(true));
  for (const k of document.querySelectorAll('[data-letter]')) {
    k.onclick = () => {
      const v = $('q').value;
      $('q').value = k.dataset.letter === '⌫' ? v.slice(0, -1) : v + k.dataset.letter.toLowerCase();
      search();
    };
  }
  $('kb-close').onclick = () => { keyboard(false); $('q').blur(); };
  $('q-clear').onclick = () => { $('q').value = ''; search(); };

  // --- one item: 一次性告知 -----------------------------------------------------------------------
  let current = null; // the item whose 一次性告知 is open (kept through an ID correction)
  function openItem(item) {
    current = item;
    $('d-title').textContent = item.name;
    $('d-chosen').hidden = !state.chosen.length;
    $('d-chosen').textContent = state.chosen.length ? `${T.joint}${K.lang === 'en' ? ': ' : '：'}${state.chosen[0].name} + ${item.name}` : '';
    $('d-limit').textContent = item.time_limit_days ? fmt(T.limit_days, { n: item.time_limit_days }) : T.limit_now;
    // 一件事: both items' materials, each under its name (一次性告知 means everything at once).
    const list = (it) => { const ol = el('ol', 'materials'); ol.replaceChildren(...(it.materials || []).map((m) => el('li', '', m))); return ol; };
    if (state.chosen.length) {
      $('d-materials').replaceChildren(...[...state.chosen, item].map((it) => {
        const g = el('div', 'mgroup'); g.append(el('h4', '', it.name), list(it)); return g;
      }));
    } else $('d-materials').replaceChildren(list(item));
    const online = item.online && K.portal;
    $('d-online').hidden = !online;
    if (online) $('d-online-qr').src = '/kiosk/online.svg';
    const out = item.quota_left === 0;
    $('d-quota').hidden = !(out || item.quota_left != null);
    $('d-quota').textContent = out ? T.quota_out : (item.quota_left != null ? fmt(T.quota_left, { n: item.quota_left }) : '');
    $('take').disabled = out;
    $('add').hidden = state.chosen.length > 0; // at most two items on one number
    $('d-priority').hidden = !!state.priority;
    show('detail');
    say([...state.chosen, item].map((it) => it.name + '。' + (it.materials || []).join('，')).join('。'));
  }
  $('add').onclick = () => { state.chosen = [current]; banner(); state.category = null; state.page = 0; listCategory(); };
  $('take').onclick = () => take([...state.chosen, current]);

  // --- 绿色通道: the group, then (老年人) the ID checked by the server, then the item -----------------------
  $('priority').onclick = () => { state.returnTo = null; show('groups'); };
  // From an item's page: the green channel, then straight back to that item (it is kept).
  $('d-priority').onclick = () => { state.returnTo = 'detail'; show('groups'); };
  // Only the first and last 4 digits are ever on screen, as the hint promises (also while typing).
  function maskId(s) { return s.length <= 8 ? s.slice(0, 4) + '•'.repeat(Math.max(0, s.length - 4)) : s.slice(0, 4) + '•'.repeat(s.length - 8) + s.slice(-4); }
  let typed = ''; // the digits on the pad; state.idNumber is set only once the server accepted them
  function showId() { $('id-value').textContent = maskId(typed); $('id-count').textContent = fmt(T.id_count, { n: typed.length }); }
  // After a refusal (under 65) 跳过 is gone for this group until the next citizen: a refused number must not
  // turn into a green-channel number 待核验; only 改取普通号 (the item is kept) or 返回 remain.
  const idTitle = $('id-title').textContent;
  function skipOffered() {
    const no = !!state.refused[state.priority]; $('id-skip').hidden = no; $('id-skip-hint').hidden = no;
    $('id-title').textContent = no ? $('id-title').dataset.refused : idTitle; // no "（可跳过）" once it is not
  }
  function idError(text, refused) {
    if (refused) state.refused[state.priority] = true;
    $('id-error').textContent = text; $('id-error').hidden = false; $('id-normal').hidden = !state.refused[state.priority];
    skipOffered(); say(text);
  }
  function openIdPad(error, refused) {
    typed = ''; showId(); $('id-error').hidden = true; $('id-normal').hidden = !state.refused[state.priority];
    skipOffered();
    if (error) idError(error, refused);
    else if (state.refused[state.priority]) idError(joinSentences(T.not_elderly, T.not_elderly_hint), false);
    show('idpad');
  }
  // After the green-channel step: back to the item being taken (kept through a correction), else to the items.
  function afterPriority() { banner(); if (state.returnTo === 'detail' && current) openItem(current); else show('home'); state.returnTo = null; }
  for (const b of document.querySelectorAll('[data-group]')) {
    b.onclick = () => {
      state.priority = b.dataset.group; state.idNumber = ''; state.skipped = false; banner();
      if (state.priority === 'elderly') openIdPad(); else afterPriority();
    };
  }
  for (const k of document.querySelectorAll('.key')) {
    k.onclick = () => {
      const key = k.dataset.key;
      if (key === '⌫') typed = typed.slice(0, -1);
      else if (typed.length < 18) typed += key;
      showId(); $('id-error').hidden = true; touch();
    };
  }
  let checking = false;
  $('id-ok').onclick = async () => {
    if (typed.length !== 18) { idError(T.id_bad, false); return; }
    if (checking) return;
    checking = true;
    try {
      let r;
      try { r = await api('POST', '/api/v1/tickets/priority-check', { priority: state.priority, id_number: typed }); } catch (e) { toast(T.offline); return; }
      if (r.ok) { state.idNumber = typed; afterPriority(); return; }
      const err = (r.data && r.data.error) || {};
      // The server's reasons are Chinese: in English say it with the page's own words.
      const why = K.lang === 'en' ? (err.code === 'not_elderly' ? T.not_elderly : T.id_bad) : err.message;
      // Refused (under 65): stay, say why, and offer a normal number instead of sending the citizen home.
      if (err.code === 'not_elderly') idError(joinSentences(why, T.not_elderly_hint), true);
      else if (r.status === 422) idError(why || T.id_bad, false);
      else toast(err.message || T.error);
    } finally { checking = false; }
  };
  // 跳过 (no ID with them): a green-channel number marked 待核验; the clerk checks the ID at the window.
  $('id-skip').onclick = () => {
    if (state.refused[state.priority]) return; // never after a refusal (the button is hidden too)
    state.idNumber = ''; state.skipped = true; afterPriority();
  };
  // Two sentences: the server's reason may lack its full stop.
  function joinSentences(a, b) {
    if (!a) return b;
    const en = K.lang === 'en', end = /[。.!?！？]$/.test(a) ? '' : (en ? '.' : '。');
    return a + end + (en ? ' ' : '') + b;
  }
  $('id-normal').onclick = () => { state.priority = null; state.idNumber = ''; state.skipped = false; afterPriority(); };

  let busy = false; // a double tap must never take two numbers

  // --- 预约签到 ------------------------------------------------------------------------------------------
  let code = '';
  $('booking').onclick = () => { code = ''; $('b-value').textContent = ''; $('b-error').hidden = true; show('checkin'); };
  for (const k of document.querySelectorAll('.bkey')) {
    k.onclick = () => {
      const key = k.dataset.key;
      if (key === '⌫') code = code.slice(0, -1); else if (key && code.length < 6) code += key;
      $('b-value').textContent = code; $('b-error').hidden = true; touch();
    };
  }
  $('b-ok').onclick = async () => {
    if (code.length !== 6) { $('b-error').textContent = T.code_short; $('b-error').hidden = false; return; }
    if (busy) return;
    busy = true;
    try {
      let r;
      try { r = await api('POST', `/api/v1/appointments/${code}/check-in`); } catch (e) { toast(T.offline); return; }
      if (r.status === 201) { done(r.data.ticket); return; }
      const err = (r.data && r.data.error) || {};
      // "未到签到时间" carries the time: the server leaves such texts in Chinese, so word it here.
      const msg = err.code === 'too_early' && err.details && err.details.from ? fmt(T.too_early, { t: err.details.from }) : (err.message || T.error);
      $('b-error').textContent = msg; $('b-error').hidden = false; say(msg);
    } finally { busy = false; }
  };

  // --- taking the number ---------------------------------------------------------------------------
  async function take(items) {
    if (busy) return; // a double tap must not take two numbers
    busy = true;
    try {
      const body = { items: items.map((i) => i.code), channel: 'kiosk' };
      if (state.priority) body.priority = state.priority;
      if (state.idNumber) body.id_number = state.idNumber;
      let r;
      try { r = await api('POST', '/api/v1/tickets', body); } catch (e) { toast(T.offline); return; }
      if (r.status === 201) { done(r.data.ticket); return; }
      const err = (r.data && r.data.error) || {};
      if (r.status === 429) toast(err.message || T.busy);
      else if (err.code === 'hall_closed') { toast(err.message); checkOpen(); }
      else if (r.status === 422 && state.idNumber && /^id_|elderly/.test(err.code || '')) {
        state.idNumber = ''; state.returnTo = 'detail';
        openIdPad(err.code === 'not_elderly' ? joinSentences(K.lang === 'en' ? T.not_elderly : err.message, T.not_elderly_hint) : (err.message || T.id_bad), err.code === 'not_elderly');
      } else toast(err.message || T.error);
      if (err.code === 'quota_reached') loadItems();
    } finally { busy = false; }
  }

  async function done(ticket) {
    state.last = ticket;
    $('r-number').textContent = ticket.number;
    const en = K.lang === 'en';
    $('r-items').textContent = (ticket.joint ? T.joint + (en ? ': ' : '：') : '') + ticket.items.map((i) => i.name).join(' + ')
      + (ticket.priority ? (en ? ` (${T.priority})` : `（${T.priority}）`) : '');
    // The choices led to this number: the "已选" banner must not hang over it (nor over the next citizen).
    state.chosen = []; state.priority = null; state.idNumber = ''; state.skipped = false; current = null; banner();
    $('r-verify').hidden = !(ticket.priority && ticket.priority_verified === false);
    const eta = ticket.eta_minutes;
    $('r-ahead').textContent = fmt(T.ahead, { n: ticket.people_ahead }) + (eta ? (K.lang === 'en' ? ', ' : '，') + fmt(T.eta, eta) : '');
    const token = ticket.track_url.split('/t/').pop();
    $('r-qr').src = `/t/${encodeURIComponent(token)}/qr.svg`;
    $('r-print').textContent = T.printing; $('r-print').className = 'printstate';
    document.body.classList.remove('noprint');
    // Known to be down: say at once how to keep the number (no waiting for a print that cannot come).
    $('r-keep').hidden = state.canPrint;
    if (!state.canPrint) document.body.classList.add('noprint');
    show('done');
    say(fmt(T.say_done, { n: ticket.number.split('').join(' ') }));
    let outcome;
    try { outcome = (await api('POST', `/api/v1/tickets/${ticket.id}/print`)).data; } catch (e) { outcome = null; }
    if (state.last !== ticket) return;
    if (outcome && outcome.printed) {
      $('r-print').textContent = outcome.message || T.printed; $('r-print').className = 'printstate ok';
      $('r-keep').hidden = true; document.body.classList.remove('noprint'); setPrinter(true);
    } else {
      // Printer dead or missing: the number stands. Not everyone has a phone to photograph it or scan the QR:
      // the number large, "remember it", and the guide desk reprints the slip by its number.
      $('r-print').textContent = (outcome && outcome.message) || T.photo; $('r-print').className = 'printstate fallback';
      $('r-keep').hidden = false;
      document.body.classList.add('noprint');
      say(T.remember + ' ' + ticket.number.split('').join(' ') + '。' + T.reprint);
      setPrinter(false);
    }
    touch();
  }
  $('finish').onclick = reset;
  for (const b of document.querySelectorAll('.back')) {
    b.onclick = () => {
      if (state.screen === 'detail' && state.category) listCategory();
      else if (state.screen === 'idpad') { state.priority = null; state.idNumber = ''; state.skipped = false; banner(); show('groups'); }
      else if (state.screen === 'groups' && state.returnTo === 'detail' && current) { state.returnTo = null; openItem(current); }
      else if (state.screen === 'checkin') show('home');
      else { if (state.screen === 'category' && state.chosen.length) state.chosen = []; banner(); show('home'); }
    };
  }

  // --- modes ------------------------------------------------------------------------------------------
  function applyModes() {
    document.body.classList.toggle('elderly', state.elderly);
    $('elderly').setAttribute('aria-pressed', String(state.elderly));
    $('speak').setAttribute('aria-pressed', String(state.speak));
  }
  $('elderly').onclick = () => { state.elderly = !state.elderly; sessionStorage.setItem('kioskElderly', state.elderly ? '1' : '0'); applyModes();
    if (state.screen === 'category') listCategory(); if ($('q').value) search(); moreCue(); say(T.say_home); touch(); };
  $('speak').onclick = () => { state.speak = !state.speak; sessionStorage.setItem('kioskSpeak', state.speak ? '1' : '0'); applyModes(); say(T.say_home); touch(); };
  // The language link reloads the page: keep this citizen's large text and voice for it (reset clears them).
  document.addEventListener('pointerdown', touch);
  document.addEventListener('keydown', touch);
  $('idle-stay').onclick = touch;

  // --- opening hours and catalogue ------------------------------------------------------------------
  async function checkOpen() {
    let r;
    try { r = await api('GET', '/api/v1/hall/status'); } catch (e) { return; }
    if (!r.ok) return;
    const s = r.data;
    if (!s.open) {
      $('c-today').textContent = s.today === '休息' ? T.closed_today : fmt(T.open_hours, { h: s.today });
      $('c-next').textContent = s.next_opening ? fmt(T.next_open, { t: hallTime.format(s.next_opening, { month: 'long', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit' }) }) : '';
      $('c-notice').textContent = s.notice || '';
      show('closed');
    } else if (state.screen === 'closed') reset();
  }
  // The kiosk's own printer (the server polls it): warn on the home screen before anyone takes a number.
  function setPrinter(ok) { state.canPrint = ok; $('printer-banner').hidden = ok; moreCue(); }
  async function checkPrinter() {
    let r;
    try { r = await api('GET', '/api/v1/hall/devices/mine'); } catch (e) { return; }
    if (r.ok && r.data) setPrinter(r.data.can_print !== false);
  }
  async function loadItems() {
    try {
      const r = await api('GET', '/api/v1/items');
      if (r.ok) { state.items = r.data.items; categories(); moreCue(); }
    } catch (e) { /* keep the last catalogue */ }
  }

  applyModes();
  if (!TOKEN) { show('unregistered'); return; }
  loadItems().then(checkOpen); checkPrinter();
  setInterval(checkPrinter, 30000);
  setInterval(checkOpen, 60000);
  setInterval(loadItems, 120000); // quotas and catalogue changes
  show('home');
})();
