// Announce calls so that the voice keeps up with the windows (issue 14 item 7).
// The server's offline WAVs are scheduled on one AudioContext clock, so the page knows when each piece of audio
// starts and ends from the real audio durations. Rules:
//  - a call on a quiet hall: chime, "请A001号到3号窗口办理", and the phrase again while nobody else waits;
//  - a call that arrives while others are being said joins that batch: no chime, the short phrase
//    "A001号，3号窗口" once; a repeat not yet started is dropped for it;
//  - a recall is announced again, unless that number is still waiting to be said.
// window.__voiceLog is the schedule (times in ms on the Date.now() clock), for tests and for the hall's checks.
const VOICE_GAP = 0.3;   // seconds of silence between pieces
const VOICE_LEAD = 0.05; // seconds from deciding to playing
window.__voiceLog = [];
let voiceCtx = null;
let voicePlan = [];      // scheduled pieces not yet finished: {kind, call, start, end, src, entry}
let voiceChain = Promise.resolve();
let voiceInFlight = 0;   // calls whose audio is still loading (they count as waiting)
let chimeBuffer = null;
let browserVoiceOnly = false;
let lastChimeEnd = -10;  // AudioContext time the last batch's chime ends

function voiceContext() {
  if (!voiceCtx) {
    voiceCtx = new (window.AudioContext || window.webkitAudioContext)();
    if (voiceCtx.state === 'suspended') askForVoice();
  }
  return voiceCtx;
}
function askForVoice() {
  const b = document.getElementById('enable-voice');
  if (b) { b.hidden = false; b.onclick = () => { b.hidden = true; voiceContext().resume(); }; }
}
async function loadAudio(url) {
  const r = await fetch(url);
  if (!r.ok) throw Object.assign(new Error(`${url}: ${r.status}`), {status: r.status});
  return voiceContext().decodeAudioData(await r.arrayBuffer());
}
function wallMs(t) { return Date.now() + (t - voiceCtx.currentTime) * 1000; }
function logPiece(kind, c, start, end) {
  const entry = {kind, number: c.number, window: c.window, recall: !!c.recall, received: c.receivedMs,
    start: Math.round(wallMs(start)), end: Math.round(wallMs(end))};
  window.__voiceLog.push(entry);
  if (window.__voiceLog.length > 300) window.__voiceLog.splice(0, 100);  // a display runs all day
  return entry;
}
function schedule(kind, c, buffer, start) {
  const src = voiceCtx.createBufferSource();
  src.buffer = buffer; src.connect(voiceCtx.destination); src.start(start);
  const piece = {kind, call: c, start, end: start + buffer.duration, src, entry: logPiece(kind, c, start, start + buffer.duration)};
  voicePlan.push(piece);
  return piece.end;
}
// Someone is waiting: repeats not yet started are dropped so that the new call is said sooner.
function dropRepeats(now) {
  voicePlan = voicePlan.filter(p => p.end > voiceCtx.currentTime);
  for (const p of voicePlan.filter(p => p.kind === 'repeat' && p.start > now)) { p.src.stop(); p.entry.skipped = true; }
  voicePlan = voicePlan.filter(p => !p.entry.skipped);
}
// A quiet hall: the chime starts at once, while the phrase is fetched; calls made during it join the batch.
function startBatch(c) {
  const now = voiceCtx.currentTime + VOICE_LEAD;
  dropRepeats(now);
  if (!voicePlan.length) lastChimeEnd = schedule('chime', c, chimeBuffer, now);
}
function placeCall(c, phrase, queued) {
  if (voiceCtx.state !== 'running') {  // sound not yet allowed: never save calls up for later
    window.__voiceLog.push({kind: 'muted', number: c.number, window: c.window, recall: !!c.recall, received: c.receivedMs});
    askForVoice();
    return;
  }
  const now = voiceCtx.currentTime + VOICE_LEAD;
  dropRepeats(now);
  const same = voicePlan.find(p => p.call.number === c.number && p.call.window === c.window && p.start > now);
  if (same) { logPiece('merged', c, same.start, same.start); return; }  // a recall of a number not yet said
  let t = voicePlan.length ? Math.max(now, ...voicePlan.map(p => p.end + VOICE_GAP)) : now;
  if (!voicePlan.length && chimeBuffer && now - lastChimeEnd > 1.5) {  // one chime a batch
    t = schedule('chime', c, chimeBuffer, t) + VOICE_GAP;
    lastChimeEnd = t;
  }
  t = schedule(queued ? 'short' : 'call', c, phrase, t) + VOICE_GAP;
  schedule('repeat', c, phrase, t);  // said again only if nobody arrives before it starts
}
function browserVoice(c, queued) {
  // espeak-ng missing on the server: the browser's zh-CN voice, same rules, start times logged as they happen.
  if (!('speechSynthesis' in window)) return;
  const voice = speechSynthesis.getVoices().find(v => /^zh(-|_)CN/i.test(v.lang));
  const u = new SpeechSynthesisUtterance(c.spoken);
  if (voice) u.voice = voice;
  u.lang = 'zh-CN'; u.rate = queued ? 1.1 : 0.9;
  u.onstart = () => window.__voiceLog.push({kind: queued ? 'short' : 'call', number: c.number, window: c.window,
    recall: !!c.recall, received: c.receivedMs, start: Date.now()});
  speechSynthesis.speak(u);
}
function announce(c) {
  c = {...c, receivedMs: Date.now()};
  let queued = voiceInFlight > 0 || (voiceCtx !== null && voicePlan.some(p => p.end > voiceCtx.currentTime && p.kind !== 'repeat'));
  const ready = voiceCtx !== null && voiceCtx.state === 'running' && chimeBuffer && !browserVoiceOnly;
  if (!queued && ready) startBatch(c);
  voiceInFlight += 1;
  const form = (short) => `${c.voice_url}?form=${short ? 'short' : 'once'}`;
  const phrase = browserVoiceOnly ? Promise.reject(new Error('no server voice')) : loadAudio(form(queued));
  phrase.catch(() => {});  // handled in order below
  voiceChain = voiceChain.then(async () => {
    try {
      let audio = await phrase;
      if (!queued && voiceInFlight > 1) { audio = await loadAudio(form(true)); queued = true; }  // others came during the chime
      placeCall(c, audio, queued);
    } catch (e) {
      if (e.status === 503) browserVoiceOnly = true;  // espeak-ng is not installed on the server
      browserVoice(c, queued);
    } finally {
      voiceInFlight -= 1;
    }
  });
}
loadAudio('/display/voice/chime.wav').then(b => { chimeBuffer = b; }).catch(() => {});
