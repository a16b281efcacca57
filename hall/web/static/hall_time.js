// Times people read are the hall's local time (its zone from the hall's config), never the browser PC's zone:
// a display PC left on UTC or a phone abroad still shows the hall's clock. The page's <html data-tz> holds it.
(function () {
  const zone = document.documentElement.dataset.tz || 'Asia/Shanghai';
  const locale = (document.documentElement.lang || 'zh-CN').startsWith('en') ? 'en-GB' : 'zh-CN';
  let offset = 0; // server time minus this PC's time, once a page learns the server's time
  window.hallTime = {
    zone,
    /** Tell the helper the server's current time (an ISO string), so a PC with a wrong clock shows the hall's. */
    sync(serverIso) { const t = Date.parse(serverIso); if (!Number.isNaN(t)) offset = t - Date.now(); },
    /** Now, as the server sees it. */
    now() { return new Date(Date.now() + offset); },
    /** Format a Date or ISO string in the hall's zone (Intl options, 24-hour clock). */
    format(when, options) {
      const at = when instanceof Date ? when : new Date(when);
      return new Intl.DateTimeFormat(locale, {timeZone: zone, hourCycle: 'h23', ...options}).format(at);
    },
    /** HH:MM:SS in the hall's zone. */
    clock(when) { return this.format(when || this.now(), {hour: '2-digit', minute: '2-digit', second: '2-digit'}); },
    /** HH:MM in the hall's zone. */
    hm(when) { return this.format(when, {hour: '2-digit', minute: '2-digit'}); },
    /** The hall's calendar day (YYYY-MM-DD) of a moment. */
    day(when) { return new Intl.DateTimeFormat('en-CA', {timeZone: zone}).format(when || this.now()); },
  };
})();
