// Shared by /manager and /manager/reports: REST calls with the session cookie (and its CSRF token when the
// server hands one out), login, the supervisor check and logout. Strings come from the page's window.T.
(function () {
  const SUPERVISORS = ['leader', 'manager', 'admin'];
  const $ = (id) => document.getElementById(id);
  let csrf = null, expired = false;
  // Escapes for text and for attribute values alike (innerHTML of a text node leaves " and ' as they are).
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  async function api(method, path, body) {
    const headers = {'Content-Type': 'application/json'};
    if (csrf) headers['X-CSRFToken'] = csrf;
    const r = await fetch('/api/v1' + path, {method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body)});
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    // The session ended elsewhere (logged out, account deactivated, password changed): back to the login form
    // with a plain sentence, not the next call's "资源不存在" or a generic error.
    if (r.status === 401 && !path.startsWith('/auth/')) sessionEnded();
    if (!r.ok) { const e = new Error((data.error && data.error.message) || r.statusText); e.status = r.status; throw e; }
    return data;
  }
  function flash(msg, ok) {
    const a = $('flash'); if (!a) return;
    a.textContent = msg; a.className = 'flash ' + (ok ? 'ok' : 'err'); a.hidden = false;
    clearTimeout(flash.t); flash.t = setTimeout(() => { a.hidden = true; }, ok ? 1500 : 6000);
  }
  function sessionEnded() {
    if (expired) return;
    expired = true; csrf = null;
    show('login');
    const login = $('login');
    let note = $('session-ended');
    if (!note) { note = document.createElement('p'); note.id = 'session-ended'; note.className = 'session-ended'; note.setAttribute('role', 'alert'); login.querySelector('form').before(note); }
    note.textContent = (window.T && window.T.session_ended) || '登录已失效，请重新登录';
    const a = $('flash'); if (a) a.hidden = true;
  }
  function show(which) {
    for (const id of ['login', 'forbidden', 'app']) { const el = $(id); if (el) el.hidden = id !== which; }
  }
  // Resolves with the logged-in supervisor; shows the login form or the "not allowed" screen otherwise.
  function session(onReady) {
    async function begin() {
      let who;
      try { who = await api('GET', '/auth/me'); } catch (e) { show('login'); return; }
      csrf = who.csrf_token || null;
      if (!SUPERVISORS.includes(who.user.role)) { show('forbidden'); $('forbidden-who').textContent = who.user.display_name; return; }
      show('app');
      $('who').textContent = `${who.user.display_name}（${who.user.username}）`;
      onReady(who.user);
    }
    $('login-form').onsubmit = async (e) => {
      e.preventDefault(); const f = new FormData(e.target);
      try {
        const r = await api('POST', '/auth/login', {username: f.get('username'), password: f.get('password')});
        if (expired) { location.reload(); return; } // the page starts afresh under the new session
        csrf = r.csrf_token || null; begin();
      }
      catch (err) { flash(err.message); }
    };
    document.querySelectorAll('[data-logout]').forEach((b) => b.addEventListener('click', async () => {
      try { await api('POST', '/auth/logout'); } finally { location.reload(); }
    }));
    begin();
  }
  window.HALL = {$, esc, api, flash, session};
})();
