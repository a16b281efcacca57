// /manager: the live hall. Socket.IO /manager says when something changed ("load", "alert", "alert_cleared",
// "device", "rating", "tidal"); the page then re-reads the REST API, so it never holds state of its own
// that the server does not have. Timers tick between refreshes from the server's clock offset.
(function () {
  const {$, esc, api, flash, session} = window.HALL;
  const T = window.T, PRIORITY = window.PRIORITY, LEVELS = window.LEVELS, DEVICE_STATUS = window.DEVICE_STATUS;
  let overview = null, fetchedAt = 0, offset = 0, refreshing = false, again = false, chartTimer = null, me = null;
  let tidalStatus = null;
  const alerts = new Map(), charts = {}, fresh = new Set();
  // Most urgent first: a citizen's complaint (差评), then the service (waits, overload), then devices, then jobs.
  const CATEGORIES = ['rating', 'service', 'device', 'system'];
  const CAN_ACK = ['leader', 'manager'];

  Chart.defaults.font.family = '"Noto Sans SC", "WenQuanYi Micro Hei", sans-serif';
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  session((user) => { me = user; start(); });

  function start() {
    const socket = io('/manager', {transports: ['websocket']});
    socket.on('connect', () => { live(true); refreshAll(); });
    socket.on('disconnect', () => live(false));
    socket.on('connect_error', () => live(false));
    socket.on('load', () => { refresh(); chartsSoon(); });
    socket.on('alert', (a) => { fresh.add(a.alert_id); loadAlerts(); }); // the list says it in the page's language
    socket.on('alert_cleared', (a) => { alerts.delete(a.alert_id); renderAlerts(); });
    socket.on('device', loadDevices);
    socket.on('rating', loadSatisfaction);
    socket.on('tidal', loadTidal);
    socket.on('roster', loadDuty);
    document.querySelectorAll('[data-tidal]').forEach((b) => b.addEventListener('click', () => setTidal(b.dataset.tidal)));
    setInterval(tick, 1000);
    setInterval(refresh, 30000); // waits grow with time, not only with events
    setInterval(loadCharts, 120000);
    setInterval(loadAlerts, 60000); // alerts arrive live; this only repairs a missed message
  }

  function live(on) { const l = $('live'); l.textContent = on ? T.live : T.offline; l.className = 'live' + (on ? ' on' : ''); }
  function refreshAll() { refresh(); loadAlerts(); loadDevices(); loadTidal(); loadCharts(); loadSatisfaction(); loadDuty(); }
  async function guarded(fn) { try { await fn(); } catch (e) { if (e.status !== 401) console.warn(e); } } // 401: manager_common shows the login
  const mins = (s) => Math.floor(s / 60);
  const mmss = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  const since = () => (Date.now() - fetchedAt) / 1000;
  const zone = () => (overview && overview.timezone) || 'Asia/Shanghai';
  const note = (a, b) => T.note.replace('{a}', a).replace('{b}', b); // 甲（乙） / a (b)
  const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);

  // --- live load ----------------------------------------------------------------------------------------------
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    await guarded(async () => {
      overview = await api('GET', '/dashboard');
      fetchedAt = Date.now(); offset = Date.parse(overview.at) - fetchedAt;
      render();
    });
    refreshing = false;
    if (again) { again = false; refresh(); }
  }

  function render() {
    const o = overview, kpi = o.kpi;
    $('hall-name').textContent = o.hall.name;
    const open = o.windows.filter((w) => w.available ?? w.state === 'open'); // staffed open windows only
    const busy = o.windows.filter((w) => w.current && w.current.status === 'serving');
    setKpi('kpi-waiting', o.waiting);
    setKpi('kpi-serving', `${busy.length} / ${open.length}`);
    setKpi('kpi-parked', o.parked);
    const rows = [];
    for (const q of o.queues) {
      rows.push(`<tr class="q" data-queue="${esc(q.code)}"><td><b>${esc(q.name)}</b> <small>${esc(q.prefix)}</small></td>` +
        `<td class="n">${q.waiting}</td><td class="n" data-longest="${q.waiting ? q.longest_wait_seconds : ''}"></td>` +
        `<td class="n">${q.predicted_wait ? `${q.predicted_wait.low}–${q.predicted_wait.high} ${T.min}` : esc(T.no_window)}</td></tr>`);
      if (q.classes.some((c) => c.priority)) {
        for (const c of q.classes) {
          rows.push(`<tr class="cls"><td>${esc(c.priority ? PRIORITY[c.priority] || c.priority : T.normal)}</td>` +
            `<td class="n">${c.waiting}</td><td class="n" data-longest="${c.longest_wait_seconds}"></td><td></td></tr>`);
        }
      }
    }
    $('queues').tBodies[0].innerHTML = rows.join('');
    $('windows').innerHTML = o.windows.map(windowCard).join('');
    // up to 16 windows fit on the wall screen without scrolling: more columns and smaller tiles as windows grow
    $('windows').dataset.count = o.windows.length > 12 ? 'many' : o.windows.length > 8 ? 'more' : 'few';
    if (tidalStatus) renderTidal(tidalStatus);
    tick();
  }

  function windowCard(w) {
    const c = w.current, clerk = w.clerk ? `${esc(w.clerk.name)} ${esc(w.clerk.staff_no || '')}` : esc(T.no_clerk);
    // Open but nobody signed in: it serves no one; an open tidal window in that state asks for staff.
    const unstaffed = w.state === 'open' && w.staffed === false, ask = unstaffed && w.kind === 'tidal';
    const idle = unstaffed ? (ask ? T.needs_staff : T.unstaffed) : w.state === 'open' ? T.free : '';
    const status = c ? (c.status === 'serving' ? T.serving : c.status === 'called' ? T.called : T[c.status] || c.status) : idle;
    const cls = ['win', w.state, unstaffed ? 'unstaffed' : '', ask ? 'needs-staff' : '', c && c.status === 'serving' ? c.service : ''].join(' ');
    return `<div class="${cls}" data-window="${w.number}"><div class="head"><span class="no" title="${esc(w.name)}">${w.number} ${esc(w.name)}</span>` +
      `<span class="st">${esc(T[w.state] || w.state)}</span></div><div class="clerk">${clerk}</div>` +
      `<div class="ticket">${c ? esc(c.number) : '—'}</div>` +
      `<div class="items">${c ? esc(status + ' · ' + c.item_names.join(' + ')) : esc(status)}</div>` +
      (c ? `<div class="timer" data-since="${Date.parse(c.since || overview.at)}" data-expected="${c.expected_minutes || ''}"` +
        ` data-serving="${c.status === 'serving' ? 1 : 0}"></div><div class="bar"><i></i></div>` : '') + '</div>';
  }

  function setKpi(id, value, tone) {
    const k = $(id); k.querySelector('.v').textContent = value ?? '—';
    k.className = 'kpi' + (tone ? ' ' + tone : '');
  }

  function tick() {
    const now = Date.now() + offset;
    $('clock').textContent = new Date(now).toLocaleTimeString('zh-CN', {hour12: false, timeZone: zone()});
    if (!overview) return;
    const grown = since(), limit = overview.kpi.wait_alert_minutes;
    document.querySelectorAll('[data-longest]').forEach((td) => {
      if (td.dataset.longest === '') { td.textContent = '—'; return; }
      const s = Number(td.dataset.longest) + grown;
      td.textContent = `${mins(s)} ${T.min}`; td.classList.toggle('long', s / 60 >= limit);
    });
    const longest = overview.waiting ? overview.longest_wait_seconds + grown : 0;
    setKpi('kpi-longest', overview.waiting ? mins(longest) : 0, longest / 60 >= limit ? 'bad' : longest / 60 >= limit / 2 ? 'warn' : '');
    document.querySelectorAll('.timer').forEach((el) => {
      const s = Math.max(0, (now - Number(el.dataset.since)) / 1000), exp = Number(el.dataset.expected || 0);
      const serving = el.dataset.serving === '1';
      el.textContent = serving && exp ? `${mmss(s)} / ${exp} ${T.min}` : mmss(s);
      const bar = el.nextElementSibling.firstElementChild;
      bar.style.width = serving && exp ? `${Math.min(100, (s / 60 / exp) * 100)}%` : '0';
      if (serving && exp) {
        const card = el.closest('.win'), m = s / 60;
        card.classList.toggle('far', m > exp * overview.kpi.overrun_factor);
        card.classList.toggle('over', m > exp && m <= exp * overview.kpi.overrun_factor);
      }
    });
  }

  // --- alerts -----------------------------------------------------------------------------------------------------
  async function loadAlerts() {
    await guarded(async () => {
      const data = await api('GET', '/hall/alerts');
      alerts.clear();
      for (const a of data.alerts) alerts.set(a.id, a);
      renderAlerts();
    });
  }
  const rank = (a) => [a.acknowledged_at ? 1 : 0, Math.max(0, CATEGORIES.indexOf(a.category || 'system')), -Date.parse(a.raised_at), -a.id];
  function byRank(a, b) { const x = rank(a), y = rank(b); for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i]; return 0; }
  const hhmm = (at) => new Date(at).toLocaleTimeString('zh-CN', {hour12: false, hour: '2-digit', minute: '2-digit', timeZone: zone()});
  function renderAlerts() {
    const list = [...alerts.values()].sort(byRank), canAck = me && CAN_ACK.includes(me.role);
    $('alerts').innerHTML = list.length ? list.map((a) => {
      const cls = [a.level, a.category, fresh.has(a.id) ? 'new' : '', a.acknowledged_at ? 'acked' : ''].join(' ');
      // a device alarm says since when; the technical cause (serial port errors …) is only a tooltip
      const when = a.category === 'device' ? T.since.replace('{t}', hhmm(a.raised_at)) : hhmm(a.raised_at);
      const seen = a.acknowledged_at ? `<small class="ack-by">${esc(T.acked_by.replace('{who}', a.acknowledged_by || ''))}</small>` : '';
      const button = canAck && !a.acknowledged_at ? `<button class="ack" data-ack="${a.id}">${esc(T.ack)}</button>` : '';
      return `<li class="${esc(cls)}" data-kind="${esc(a.kind)}" data-category="${esc(a.category || 'system')}" data-id="${a.id}"` +
        ` title="${esc((a.details && a.details.detail) || '')}"><span class="msg">${esc(a.message)}</span>` +
        `<time>${esc(when)}</time>${seen}${button}</li>`;
    }).join('') : `<li class="none">${esc(T.none)}</li>`;
    const counts = {};
    for (const a of list) counts[a.category || 'system'] = (counts[a.category || 'system'] || 0) + 1;
    $('alert-count').innerHTML = CATEGORIES.filter((c) => counts[c]).map((c) =>
      `<span class="count ${c}" data-count="${c}">${esc(T['cat_' + c])} ${counts[c]}</span>`).join('');
    fresh.clear();
    document.querySelectorAll('[data-ack]').forEach((b) => b.addEventListener('click', () => acknowledge(Number(b.dataset.ack))));
  }
  async function acknowledge(id) {
    try {
      const a = await api('POST', `/hall/alerts/${id}/ack`);
      alerts.set(a.id, a); renderAlerts(); flash(T.acked, true);
    } catch (e) { if (e.status !== 401) flash(e.message); }
  }

  // --- devices and the tidal window ---------------------------------------------------------------------------------
  async function loadDevices() {
    await guarded(async () => {
      const {devices} = await api('GET', '/hall/devices');
      $('devices').innerHTML = devices.map((d) => `<li data-device="${esc(d.name)}" title="${esc(d.name)}">` +
        `<span class="dot ${esc(deviceDot(d))}"></span>${esc(d.label || d.name)} <small>${esc(deviceState(d))}</small></li>`).join('');
      const bad = devices.filter((d) => d.status && d.status !== 'ok').length;
      $('device-count').textContent = bad ? `${bad} ${T.devices_bad}` : '';
    });
  }
  // A device with a health check shows its status; an HTTP device (rating tablet) its requests: online, or when
  // it was last seen (hall time), or never connected.
  function deviceState(d) {
    // a kiosk's status is its printer's: the kiosk itself is online by its own requests
    if (d.status_of === 'printer') {
      const self = d.online ? T.online : d.last_seen ? `${T.last_seen} ${hhmm(d.last_seen)}` : T.never_seen;
      return d.status && d.status !== 'ok' ? `${self} · ${T.printer} ${DEVICE_STATUS[d.status] || d.status}` : self;
    }
    if (d.status) return DEVICE_STATUS[d.status] || d.status;
    if (d.online) return T.online;
    if (d.last_seen) return `${T.last_seen} ${new Date(d.last_seen).toLocaleTimeString('zh-CN', {hour12: false, hour: '2-digit', minute: '2-digit', timeZone: zone()})}`;
    return T.never_seen;
  }
  function deviceDot(d) {
    if (d.status_of === 'printer') return d.status && d.status !== 'ok' ? d.status : d.online ? 'ok' : d.last_seen ? 'offline' : '';
    return d.status || (d.online ? 'ok' : d.last_seen ? 'offline' : '');
  }
  function renderTidal(t) {
    tidalStatus = t;
    // Every tidal window in stage order (a hall may open a second one when the first is not enough).
    const stages = (t.windows && t.windows.length) ? t.windows : [t];
    const staffed = (n) => { const w = overview && overview.windows.find((x) => x.number === n); return !w || w.staffed !== false; };
    $('tidal-window').textContent = stages.map((w) => w.window).filter(Boolean).join(T.sep);
    $('tidal-state').innerHTML = stages.map((w) => {
      let text = w.open ? T.tidal_open : T.tidal_closed;
      if (w.pending_close) text = note(text, T.pending_close);
      const name = stages.length < 2 ? '' : `${T.window_no.replace('{n}', w.window)} `;
      return `<span class="tidal-stage" data-stage="${esc(w.window)}">${esc(name + text)}</span>`;
    }).join(' · ');
    // Each stage's reason beside its own state; when the window's state is not what the rule decided (opened or
    // closed by hand at the counter), say so instead of a reason that contradicts the state.
    const lines = [t.override ? T['override_' + t.override] : T.auto];
    for (const w of stages) {
      const name = stages.length < 2 ? '' : `${T.window_no.replace('{n}', w.window)}${T.colon}`;
      let why = w.reason_text || '';
      if (!t.override && w.rule_open !== null && w.rule_open !== undefined && w.rule_open !== w.open) {
        why = why ? note(w.open ? T.rule_would_close : T.rule_would_open, why) : (w.open ? T.rule_would_close : T.rule_would_open);
      }
      if (why) lines.push(name + why);
    }
    $('tidal-reason').innerHTML = lines.map((l) => `<div>${esc(l)}</div>`).join('') +
      stages.filter((w) => w.open && !staffed(w.window)).map((w) =>
        `<div class="needs-staff" data-needs-staff="${esc(w.window)}">${esc(T.window_no.replace('{n}', w.window) + T.colon + T.needs_staff)}</div>`).join('');
    document.querySelectorAll('[data-tidal]').forEach((b) => b.setAttribute('aria-pressed', String((t.override || 'auto') === b.dataset.tidal)));
  }
  // --- today's duty roster (值班领导, 值班窗口, 咨询引导) ------------------------------------------------------------
  async function loadDuty() {
    await guarded(async () => {
      const d = await api('GET', '/roster/today');
      const who = (p) => (p ? esc(p.name) : T.duty_none);
      const guides = (d.guides || []).map(who).join(T.sep) || T.duty_none;
      $('duty').innerHTML = `<div>${esc(T.duty_leader + T.colon)}<b id="duty-leader">${who(d.leader)}</b></div>` +
        `<div>${esc(T.duty_clerk + T.colon)}${who(d.clerk)}</div><div>${esc(T.duty_guides + T.colon)}${guides}</div>`;
    });
  }
  async function loadTidal() { await guarded(async () => renderTidal(await api('GET', '/hall/tidal'))); }
  async function setTidal(mode) {
    try { renderTidal(await api('POST', '/hall/tidal', {mode})); flash(T.tidal_done, true); } catch (e) { if (e.status !== 401) flash(e.message); }
  }

  // --- charts -----------------------------------------------------------------------------------------------------
  function chartsSoon() { clearTimeout(chartTimer); chartTimer = setTimeout(loadCharts, 3000); }
  function draw(id, config) {
    if (charts[id]) { charts[id].data = config.data; charts[id].update('none'); return; }
    charts[id] = new Chart($(id), config);
  }
  async function loadCharts() {
    await guarded(async () => {
      const [hourly, perWindow] = await Promise.all([api('GET', '/reports/hourly'), api('GET', '/reports?period=day&by=window')]);
      draw('chart-arrivals', {type: 'bar', data: {labels: hourly.hours, datasets: [
        {label: T.today, data: hourly.today.arrivals, backgroundColor: '#1565c0', order: 2},
        {label: T.baseline, data: hourly.baseline.arrivals, type: 'line', borderColor: '#90a4ae', backgroundColor: '#90a4ae', order: 1}]},
        options: {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}});
      draw('chart-wait', {type: 'line', data: {labels: hourly.hours, datasets: [
        {label: T.today, data: hourly.today.mean_wait, borderColor: '#c62828', backgroundColor: '#c62828', spanGaps: true},
        {label: T.baseline, data: hourly.baseline.mean_wait, borderColor: '#90a4ae', backgroundColor: '#90a4ae', borderDash: [6, 4], spanGaps: true}]},
        options: {scales: {y: {beginAtZero: true}}}});
      const rows = perWindow.rows.filter((r) => r.key !== null);
      draw('chart-windows', {type: 'bar', data: {labels: rows.map((r) => String(r.key)), datasets: [
        {label: T.tickets, data: rows.map((r) => r.figures.tickets), backgroundColor: '#2e7d32'}]},
        options: {plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}});
      setKpi('kpi-tickets', perWindow.total.figures.tickets);
    });
  }
  async function loadSatisfaction() {
    await guarded(async () => {
      const s = await api('GET', '/ratings/summary');
      const keys = ['5', '4', '3', '2', '1'];
      draw('chart-satisfaction', {type: 'doughnut', data: {labels: keys.map((k) => LEVELS[k]), datasets: [
        {data: keys.map((k) => s.levels[k] || 0), backgroundColor: ['#2e7d32', '#7cb342', '#fbc02d', '#ef6c00', '#c62828']}]},
        options: {plugins: {legend: {position: 'right'}}}});
      $('rating-count').textContent = `${s.count} ${T.ratings}`;
      setKpi('kpi-good', pct(s.good_rate), s.good_rate !== null && s.good_rate < 0.9 ? 'warn' : '');
    });
  }
})();
