"""Offline Mandarin call announcements rendered with espeak-ng (no internet, no online TTS).

Measured on espeak-ng 1.51: ``-v cmn`` given Hanzi falls back to English phonemes for most characters
(``请A零零一号`` comes out as English letter names), while ``-v cmn-latn-pinyin`` given tone-numbered pinyin
speaks correct Mandarin (~3.8 s for one call, 22050 Hz mono 16-bit). So the fixed call phrase is converted to
pinyin here; the vocabulary is tiny (请 … 号 到 … 号窗口 办理 and digits). Ticket digits are read one by one
(A零零一), window numbers as numbers (12 → 十二).
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import wave
from pathlib import Path
from typing import Any

DIGITS_HANZI = "零一二三四五六七八九"
DIGITS_PINYIN = ["ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"]


class VoiceUnavailable(RuntimeError):
    """espeak-ng is not installed: displays fall back to the browser's own speech."""


def announcement(number: str, window: int | str) -> str:
    """The displayed text: 请A001号到3号窗口办理."""
    return f"请{number}号到{window}号窗口办理"


def number_hanzi(n: int) -> str:
    """1..99 as spoken: 3 → 三, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九."""
    if not 0 < n < 100:
        return "".join(DIGITS_HANZI[int(d)] for d in str(n))
    tens, ones = divmod(n, 10)
    if tens == 0:
        return DIGITS_HANZI[ones]
    return ("" if tens == 1 else DIGITS_HANZI[tens]) + "十" + (DIGITS_HANZI[ones] if ones else "")


def spoken(number: str, window: int | str) -> str:
    """The text to speak: 请A零零一号到三号窗口办理."""
    digits = "".join(DIGITS_HANZI[int(c)] if c.isdigit() else c for c in number)
    return f"请{digits}号到{number_hanzi(int(window))}号窗口办理"


def _number_pinyin(n: int) -> list[str]:
    if not 0 < n < 100:
        return [DIGITS_PINYIN[int(d)] for d in str(n)]
    tens, ones = divmod(n, 10)
    out = [] if tens == 0 else ([] if tens == 1 else [DIGITS_PINYIN[tens]]) + ["shi2"]
    if ones or tens == 0:
        out.append(DIGITS_PINYIN[ones])
    return out


def pinyin(number: str, window: int | str, *, short: bool = False) -> str:
    """The call phrase in tone-numbered pinyin for ``espeak-ng -v cmn-latn-pinyin``.

    ``short`` is the form said for a call queued behind another: "A零零一号，三号窗口" (no 请 … 到 … 办理).
    """
    parts = [] if short else ["qing3"]
    for c in number:
        parts.append(DIGITS_PINYIN[int(c)] if c.isdigit() else c.upper())
    if short:
        return " ".join([*parts, "hao4,", *_number_pinyin(int(window)), "hao4", "chuang1", "kou3"])
    parts += ["hao4", "dao4", *_number_pinyin(int(window)), "hao4", "chuang1", "kou3", "ban4", "li3"]
    return " ".join(parts)


def _trim(frames: bytes, rate: int, threshold: int = 300, keep: float = 0.05) -> bytes:
    """Cut espeak-ng's leading and trailing silence (16-bit mono), keeping ``keep`` seconds of room either side.

    espeak-ng pads each phrase with ~0.3 s of silence at both ends; in a batch of calls that silence adds up.
    """
    count = len(frames) // 2
    samples = struct.unpack(f"<{count}h", frames[: count * 2])
    loud = [i for i, v in enumerate(samples) if abs(v) > threshold]
    if not loud:
        return frames
    margin = int(rate * keep)
    first, last = max(0, loud[0] - margin), min(count, loud[-1] + margin)
    return frames[first * 2 : last * 2]


def _wav_seconds(path: Path) -> float:
    """The playing time of a WAV file."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _chime(rate: int, seconds: float = 0.9) -> bytes:
    """A soft two-tone ding-dong (16-bit mono PCM)."""
    frames = bytearray()
    half = int(rate * seconds / 2)
    for tone in (880.0, 660.0):
        for i in range(half):
            envelope = math.exp(-4.0 * i / half)
            frames += struct.pack("<h", int(9000 * envelope * math.sin(2 * math.pi * tone * i / rate)))
    return bytes(frames)


class VoiceRenderer:
    """Renders and caches WAV announcements: chime, then the call said ``repeat`` times.

    ``render(..., repeat=1, chime=False)`` is the phrase alone and ``render_chime()`` the chime alone: the hall
    display composes those itself so that queued calls share one chime and are said once (display/static/voice.js).
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        espeak: str | None = None,
        voice: str = "cmn-latn-pinyin",
        repeat: int = 2,
        chime: bool = True,
        rate: int = 160,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.espeak = espeak if espeak is not None else shutil.which("espeak-ng")
        self.voice = voice
        self.repeat = repeat
        self.chime = chime
        # 160 words a minute: the full phrase takes 4.0 s (4.6 s at 140), so a call that arrives while another
        # is being said waits at most one phrase, under the hall's 5 s (measured, docs/devices.md "Voice").
        self.rate = rate
        self._lock = threading.Lock()
        self.renders = 0  # espeak runs, for tests and metrics

    @property
    def available(self) -> bool:
        """True when espeak-ng can be run."""
        return bool(self.espeak) and Path(self.espeak).exists()

    def render_chime(self) -> Path:
        """The chime alone as a WAV (no espeak-ng needed), at the rate espeak-ng speaks."""
        target = self.cache_dir / "chime-22050.wav"
        if not target.exists():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self.cache_dir) as tmp:
                out = Path(tmp) / "chime.wav"
                with wave.open(str(out), "wb") as dst:
                    dst.setnchannels(1)
                    dst.setsampwidth(2)
                    dst.setframerate(22050)
                    dst.writeframes(_chime(22050))
                os.replace(out, target)
        return target

    def render(
        self,
        number: str,
        window: int | str,
        *,
        repeat: int | None = None,
        chime: bool | None = None,
        short: bool = False,
    ) -> Path:
        """The WAV file for a call (cached per phrase); ``repeat``/``chime``/``short`` override the defaults."""
        if not self.available:
            raise VoiceUnavailable("espeak-ng not found: displays use the browser voice only")
        repeat = self.repeat if repeat is None else repeat
        chime = self.chime if chime is None else chime
        text = pinyin(number, window, short=short)
        key = hashlib.sha256(f"{self.voice}|{self.rate}|{text}|{repeat}|{chime}|trim".encode()).hexdigest()[:32]
        target = self.cache_dir / f"{key}.wav"
        if target.exists():
            return target
        with self._lock:
            if target.exists():
                return target
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self.cache_dir) as tmp:
                speech = Path(tmp) / "speech.wav"
                subprocess.run(
                    [self.espeak, "-v", self.voice, "-s", str(self.rate), "-w", str(speech), text],
                    check=True,
                    capture_output=True,
                    timeout=30,
                )
                self.renders += 1
                with wave.open(str(speech), "rb") as src:
                    params = src.getparams()
                    voice_frames = src.readframes(src.getnframes())
                mono16 = params.sampwidth == 2 and params.nchannels == 1
                if mono16:
                    voice_frames = _trim(voice_frames, params.framerate)
                pause = b"\x00" * int(params.framerate * 0.6) * params.sampwidth * params.nchannels
                body = pause.join([voice_frames] * repeat)
                if chime and mono16:
                    body = _chime(params.framerate) + pause + body
                out = Path(tmp) / "out.wav"
                with wave.open(str(out), "wb") as dst:
                    dst.setparams(params)
                    dst.writeframes(body)
                os.replace(out, target)  # atomic: readers never see half a file
        return target

    def render_bytes(self, number: str, window: int | str) -> bytes:
        """The WAV bytes for a call."""
        return self.render(number, window).read_bytes()

    def seconds(self, number: str, window: int | str, **variant: Any) -> float:
        """How long a call's announcement plays (``variant``: the ``render`` options)."""
        return _wav_seconds(self.render(number, window, **variant))
