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


def pinyin(number: str, window: int | str) -> str:
    """The call phrase in tone-numbered pinyin for ``espeak-ng -v cmn-latn-pinyin``."""
    parts = ["qing3"]
    for c in number:
        parts.append(DIGITS_PINYIN[int(c)] if c.isdigit() else c.upper())
    parts += ["hao4", "dao4", *_number_pinyin(int(window)), "hao4", "chuang1", "kou3", "ban4", "li3"]
    return " ".join(parts)


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
    """Renders and caches WAV announcements: chime, then the call said ``repeat`` times."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        espeak: str | None = None,
        voice: str = "cmn-latn-pinyin",
        repeat: int = 2,
        chime: bool = True,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.espeak = espeak if espeak is not None else shutil.which("espeak-ng")
        self.voice = voice
        self.repeat = repeat
        self.chime = chime
        self._lock = threading.Lock()
        self.renders = 0  # espeak runs, for tests and metrics

    @property
    def available(self) -> bool:
        """True when espeak-ng can be run."""
        return bool(self.espeak) and Path(self.espeak).exists()

    def render(self, number: str, window: int | str) -> Path:
        """The WAV file for a call (cached per phrase)."""
        if not self.available:
            raise VoiceUnavailable("espeak-ng not found: displays use the browser voice only")
        text = pinyin(number, window)
        key = hashlib.sha256(f"{self.voice}|{text}|{self.repeat}|{self.chime}".encode()).hexdigest()[:32]
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
                    [self.espeak, "-v", self.voice, "-s", "140", "-w", str(speech), text],
                    check=True,
                    capture_output=True,
                    timeout=30,
                )
                self.renders += 1
                with wave.open(str(speech), "rb") as src:
                    params = src.getparams()
                    voice_frames = src.readframes(src.getnframes())
                pause = b"\x00" * int(params.framerate * 0.6) * params.sampwidth * params.nchannels
                body = pause.join([voice_frames] * self.repeat)
                if self.chime and params.sampwidth == 2 and params.nchannels == 1:
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
