"""Call phrasing and the offline espeak-ng WAV renderer."""

from __future__ import annotations

import shutil
import wave

import pytest

from display.voice import VoiceRenderer, VoiceUnavailable, announcement, number_hanzi, pinyin, spoken
from tests.conftest import require


def test_texts() -> None:
    assert announcement("A001", 3) == "请A001号到3号窗口办理"
    assert spoken("A001", 3) == "请A零零一号到三号窗口办理"
    assert spoken("J105", 12) == "请J一零五号到十二号窗口办理"
    assert [number_hanzi(n) for n in (1, 10, 12, 20, 21, 99)] == ["一", "十", "十二", "二十", "二十一", "九十九"]
    assert pinyin("L012", 7) == "qing3 L ling2 yi1 er4 hao4 dao4 qi1 hao4 chuang1 kou3 ban4 li3"
    assert "er4 shi2 hao4" in pinyin("A1", 20) and "shi2 er4 hao4" in pinyin("A1", 12)


def test_missing_espeak_is_a_clear_error(tmp_path) -> None:
    r = VoiceRenderer(tmp_path, espeak="/nonexistent/espeak-ng")
    assert not r.available
    with pytest.raises(VoiceUnavailable):
        r.render("A001", 3)


def test_render_is_a_plausible_wav_and_cached(tmp_path) -> None:
    require(shutil.which("espeak-ng") is not None, "espeak-ng not installed")
    r = VoiceRenderer(tmp_path)
    path = r.render("A001", 3)
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        seconds = w.getnframes() / w.getframerate()
    assert 4 < seconds < 15  # chime + the call said twice
    assert path.read_bytes()[:4] == b"RIFF" and path.read_bytes()[8:12] == b"WAVE"
    again = r.render("A001", 3)
    assert again == path and r.renders == 1
    assert r.render("A002", 3) != path and r.renders == 2


def test_the_queued_form_is_short() -> None:
    assert pinyin("L012", 7, short=True) == "L ling2 yi1 er4 hao4, qi1 hao4 chuang1 kou3"


def test_pieces_for_the_display_to_compose(tmp_path) -> None:
    require(shutil.which("espeak-ng") is not None, "espeak-ng not installed")
    r = VoiceRenderer(tmp_path)
    full, once = r.seconds("B002", 2), r.seconds("B002", 2, repeat=1, chime=False)
    short = r.seconds("B002", 2, repeat=1, chime=False, short=True)
    # espeak-ng's padding is trimmed: the phrase once is about 4 s (it was 4.9 s), the short form about 3 s
    assert 3 < once < 4.5 and 2 < short < once and full < 10.5
    with wave.open(str(r.render_chime())) as w:
        assert w.getframerate() == 22050 and 0.5 < w.getnframes() / w.getframerate() < 1
