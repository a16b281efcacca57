// The touch kiosk: categories → item (materials, time limit, 掌上办) → optional second item (一件事) →
// number; 绿色通道 with an optional ID; closed screen outside hours. No framework: it must run on old kiosk
// browsers, offline, for years.
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
  const state = { items: [], chosen: [], priority: null, idNumber: '', elderly: localStorage.getItem('kioskElderly') === '1',
                  speak: localStorage.getItem('kioskSpeak') === '1', screen: 'home', page: 0, category: null, last: null };

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
  let idleTimer = null;
  function idleMs() { return (state.screen === 'done' ? 20000 : 45000) * (state.elderly ? 2 : 1); }
  function touch() {
    clearTimeout(idleTimer);
    if (state.screen !== 'home' && state.screen !== 'closed' && state.screen !== 'unregistered') idleTimer = setTimeout(reset, idleMs());
  }
  function show(name) {
    for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== name;
    state.screen = name;
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
    if (state.priority) parts.push(T.priority + '：' + groupName(state.priority));
    if (state.chosen.length) parts.push(fmt(T.chosen, { name: state.chosen.map((i) => i.name).join(' + ') }));
    $('banner').textContent = parts.join('　'); $('banner').hidden = !parts.length;
  }
  function groupName(g) { const b = document.querySelector(`[data-group="${g}"]`); return b ? b.textContent : g; }
  function reset() {
    state.chosen = []; state.priority = null; state.idNumber = ''; state.category = null; $('q').value = '';
    $('results').hidden = true; $('categories').hidden = false; banner(); show('home'); say(T.say_home);
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
  $('q').addEventListener('input', () => {
    const q = $('q').value.trim();
    touch();
    if (!q) { $('results').hidden = true; $('categories').hidden = false; return; }
    const found = state.items.filter((i) => i.name.includes(q) || i.category.includes(q) || i.code.toLowerCase() === q.toLowerCase());
    $('results').replaceChildren(...(found.length ? found.slice(0, perPage()).map(itemButton) : [el('p', 'hint', T.no_match)]));
    $('results').hidden = false; $('categories').hidden = true;
  });

  // --- one item: 一次性告知 -----------------------------------------------------------------------
  let current = null;
  function openItem(item) {
    current = item;
    $('d-title').textContent = item.name;
    $('d-chosen').hidden = !state.chosen.length;
    $('d-chosen').textContent = state.chosen.length ? `${T.joint}：${state.chosen[0].name} + ${item.name}` : '';
    $('d-limit').textContent = item.time_limit_days ? fmt(T.limit_days, { n: item.time_limit_days }) : T.limit_now;
    $('d-materials').replaceChildren(...(item.materials || []).map((m) => el('li', '', m)));
    const online = item.online && K.portal;
    $('d-online').hidden = !online;
    if (online) $('d-online-qr').src = '/kiosk/online.svg';
    const out = item.quota_left === 0;
    $('d-quota').hidden = !(out || item.quota_left != null);
    $('d-quota').textContent = out ? T.quota_out : (item.quota_left != null ? fmt(T.quota_left, { n: item.quota_left }) : '');
    $('take').disabled = out;
    $('add').hidden = state.chosen.length > 0; // at most two items on one number
    show('detail');
    say(item.name + '。' + (item.materials || []).join('，'));
  }
  $('add').onclick = () => { state.chosen = [current]; banner(); state.category = null; state.page = 0; listCategory(); };
  $('take').onclick = () => take([...state.chosen, current]);

  // --- 绿色通道 -----------------------------------------------------------------------------------
  $('priority').onclick = () => show('groups');
  for (const b of document.querySelectorAll('[data-group]')) {
    b.onclick = () => {
      state.priority = b.dataset.group; banner();
      if (state.priority === 'elderly') { state.idNumber = ''; $('id-value').textContent = ''; $('id-error').hidden = true; show('idpad'); }
      else show('home');
    };
  }
  for (const k of document.querySelectorAll('.key')) {
    k.onclick = () => {
      const key = k.dataset.key;
      if (key === '⌫') state.idNumber = state.idNumber.slice(0, -1);
      else if (state.idNumber.length < 18) state.idNumber += key;
      $('id-value').textContent = state.idNumber; $('id-error').hidden = true; touch();
    };
  }
  $('id-ok').onclick = () => {
    if (state.idNumber.length !== 18) { $('id-error').textContent = T.id_bad; $('id-error').hidden = false; say(T.id_bad); return; }
    show('home');
  };
  $('id-skip').onclick = () => { state.idNumber = ''; show('home'); };

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
      $('b-error').textContent = err.message || T.error; $('b-error').hidden = false; say(err.message || T.error);
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
        $('id-error').textContent = err.message || T.id_bad; $('id-error').hidden = false; show('idpad'); say(err.message || T.id_bad);
      } else toast(err.message || T.error);
      if (err.code === 'quota_reached') loadItems();
    } finally { busy = false; }
  }

  async function done(ticket) {
    state.last = ticket;
    $('r-number').textContent = ticket.number;
    $('r-items').textContent = (ticket.joint ? T.joint + '：' : '') + ticket.items.map((i) => i.name).join(' + ')
      + (ticket.priority ? `（${T.priority}）` : '');
    const eta = ticket.eta_minutes;
    $('r-ahead').textContent = fmt(T.ahead, { n: ticket.people_ahead }) + (eta ? '，' + fmt(T.eta, eta) : '');
    const token = ticket.track_url.split('/t/').pop();
    $('r-qr').src = `/t/${encodeURIComponent(token)}/qr.svg`;
    $('r-print').textContent = T.printing; $('r-print').className = 'printstate';
    document.body.classList.remove('noprint');
    show('done');
    say(fmt(T.say_done, { n: ticket.number.split('').join(' ') }));
    let outcome;
    try { outcome = (await api('POST', `/api/v1/tickets/${ticket.id}/print`)).data; } catch (e) { outcome = null; }
    if (state.last !== ticket) return;
    if (outcome && outcome.printed) { $('r-print').textContent = outcome.message || T.printed; $('r-print').className = 'printstate ok'; }
    else {
      // Printer dead or missing: the number stands; the citizen keeps it by photo or the QR.
      $('r-print').textContent = (outcome && outcome.message) || T.photo; $('r-print').className = 'printstate fallback';
      document.body.classList.add('noprint');
      say(T.photo);
    }
    touch();
  }
  $('finish').onclick = reset;
  for (const b of document.querySelectorAll('.back')) {
    b.onclick = () => {
      if (state.screen === 'detail' && state.category) listCategory();
      else if (state.screen === 'idpad') show('groups');
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
  $('elderly').onclick = () => { state.elderly = !state.elderly; localStorage.setItem('kioskElderly', state.elderly ? '1' : '0'); applyModes();
    if (state.screen === 'category') listCategory(); say(T.say_home); };
  $('speak').onclick = () => { state.speak = !state.speak; localStorage.setItem('kioskSpeak', state.speak ? '1' : '0'); applyModes(); say(T.say_home); };
  document.addEventListener('pointerdown', touch);

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
  async function loadItems() {
    try {
      const r = await api('GET', '/api/v1/items');
      if (r.ok) { state.items = r.data.items; categories(); }
    } catch (e) { /* keep the last catalogue */ }
  }

  applyModes();
  if (!TOKEN) { show('unregistered'); return; }
  loadItems().then(checkOpen);
  setInterval(checkOpen, 60000);
  setInterval(loadItems, 120000); // quotas and catalogue changes
  show('home');
})();
