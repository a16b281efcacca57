// Announce calls: a chime, then the call twice. Browser zh-CN voice first, the server's offline WAV otherwise.
const voiceQueue = [];
let speaking = false;
function zhVoice() {
  if (!('speechSynthesis' in window)) return null;
  return speechSynthesis.getVoices().find(v => /^zh(-|_)CN/i.test(v.lang)) || null;
}
function chime() {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    [880, 660].forEach((f, i) => {
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = f; o.connect(g); g.connect(ctx.destination);
      const t = ctx.currentTime + i * 0.45;
      g.gain.setValueAtTime(0.3, t); g.gain.exponentialRampToValueAtTime(0.001, t + 0.4);
      o.start(t); o.stop(t + 0.45);
    });
  } catch (e) { /* no audio device */ }
}
function playNext() {
  if (speaking || !voiceQueue.length) return;
  speaking = true;
  const c = voiceQueue.shift();
  const done = () => { speaking = false; setTimeout(playNext, 300); };
  const voice = zhVoice();
  if (voice) {
    chime();
    let left = 2;
    const say = () => {
      const u = new SpeechSynthesisUtterance(c.spoken);
      u.voice = voice; u.lang = 'zh-CN'; u.rate = 0.9;
      u.onend = () => (--left > 0 ? setTimeout(say, 500) : done());
      u.onerror = done;
      speechSynthesis.speak(u);
    };
    setTimeout(say, 900);
  } else {
    const audio = new Audio(c.voice_url);  // chime included, said twice
    audio.onended = done; audio.onerror = done;
    audio.play().catch(() => {
      const b = document.getElementById('enable-voice');
      if (b) { b.hidden = false; b.onclick = () => { b.hidden = true; audio.play(); }; }
      done();
    });
  }
}
function announce(c) { voiceQueue.push(c); playNext(); }
