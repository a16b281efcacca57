// /manager/reports: the form asks GET /api/v1/reports and shows the cells the API computed (the exports are
// written from the same report, so the screen and the CSV/XLSX files show the same numbers).
(function () {
  const {$, esc, api, flash, session} = window.HALL;
  const T = window.T, HINTS = window.HINTS;
  const form = $('report-form');

  session(() => {
    const p = new URLSearchParams(location.search);
    for (const name of ['period', 'date', 'by']) if (p.get(name)) form.elements[name].value = p.get(name);
    form.onsubmit = (e) => { e.preventDefault(); load(); };
    form.elements.period.onchange = load;
    form.elements.by.onchange = load;
    load();
  });

  function query() {
    const q = new URLSearchParams();
    for (const name of ['period', 'date', 'by']) if (form.elements[name].value) q.set(name, form.elements[name].value);
    return q;
  }

  async function load() {
    const q = query();
    history.replaceState(null, '', '?' + q.toString());
    for (const fmt of ['csv', 'xlsx']) {
      const e = new URLSearchParams(q); e.set('format', fmt);
      $('export-' + fmt).href = '/api/v1/reports/export?' + e.toString();
    }
    $('report-meta').textContent = T.loading;
    let r;
    try { r = await api('GET', '/reports?' + q.toString()); } catch (err) { if (err.status !== 401) flash(err.message); return; } // 401: manager_common shows the login
    if (!form.elements.date.value) form.elements.date.value = r.to === r.from ? r.from : '';
    $('report-meta').textContent = `${r.hall.name} · ${T.period} ${r.from}${r.to !== r.from ? ' – ' + r.to : ''} · ${T.generated} ${r.generated_at.slice(0, 16).replace('T', ' ')}`;
    const table = $('report');
    table.tHead.innerHTML = `<tr><th>${esc(T.key)}</th><th>${esc(T.name)}</th>` +
      r.columns.map((c) => `<th class="n" data-col="${c.key}" title="${esc(HINTS[c.key] || '')}">${esc(c.label)}</th>`).join('') + '</tr>';
    const row = (x, total) => `<tr data-key="${esc(x.key === null ? '' : String(x.key))}"${total ? ' class="total"' : ''}>` +
      `<td>${esc(total ? '' : x.key_text ?? (x.key === null ? '' : String(x.key)))}</td><td>${esc(total ? T.total : x.label)}</td>` +
      x.cells.map((cell, i) => `<td class="n" data-col="${r.columns[i].key}">${esc(cell)}</td>`).join('') + '</tr>';
    table.tBodies[0].innerHTML = r.rows.map((x) => row(x, false)).join('');
    table.tFoot.innerHTML = r.by === 'hall' ? '' : row(r.total, true);
    // what each figure means, on the page (the column headers carry the same text as a tooltip)
    $('definitions-list').innerHTML = r.columns.filter((c) => HINTS[c.key]).map((c) =>
      `<div><dt>${esc(c.label)}</dt><dd>${esc(HINTS[c.key])}</dd></div>`).join('');
  }
})();
