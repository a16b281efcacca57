"""Hall display, counter display and the voice endpoint (blueprint ``display``)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import get_locale

from display.voice import VoiceRenderer, VoiceUnavailable

log = logging.getLogger(__name__)
bp = Blueprint(
    "display", __name__, template_folder="templates", static_folder="static", static_url_path="/display/static"
)
NUMBER = re.compile(r"^[A-Z]{1,2}\d{1,5}$")


def _hall_code() -> str:
    """The hall a screen shows: ``?hall=<code>`` in a city running several halls, else the server's default."""
    from hall.web.context import hall_id_for

    svc = current_app.extensions["hall"]
    return svc.engine.reference(hall_id_for(None)).code


def renderer() -> VoiceRenderer:
    """One renderer per app, caching under the instance folder."""
    app = current_app._get_current_object()
    if "hall.voice" not in app.extensions:
        r = VoiceRenderer(Path(app.config["INSTANCE_DIR"]) / "voice-cache")
        if not r.available:
            log.warning("espeak-ng not found: displays will use the browser voice only")
        app.extensions["hall.voice"] = r
    return app.extensions["hall.voice"]


@bp.get("/display/hall")
def hall_display() -> Any:
    """The big hall screen: recent calls, waiting counts, windows, notices."""
    return render_template("hall_display.html", hall_code=_hall_code())


@bp.get("/display/window/<int(max=9999):number>")
def window_display(number: int) -> Any:
    """The counter display over one window (亮牌亮证); an unknown window gets a clear 404 page, not a blank one."""
    from hall.web.context import hall_id_for

    svc = current_app.extensions["hall"]
    if number not in svc.engine.reference(hall_id_for(None)).window_names:
        return render_template("window_missing.html", number=number), 404
    return render_template("window_display.html", hall_code=_hall_code(), number=number)


@bp.get("/rate/window/<int(max=9999):number>")
def rate_window(number: int) -> Any:
    """The window's rating tablet (评价器): offers the 办件 just completed at this window. ``?device=<token>`` once."""
    return render_template("rate_window.html", hall_code=_hall_code(), number=number)


@bp.get("/t/<token>")
def track(token: str) -> Any:
    """The citizen's phone page from the ticket's QR: position, ETA, and "请到N号窗口" when called."""
    from hall.errors import NotFound

    svc = current_app.extensions["hall"]
    try:
        ticket = svc.engine.ticket_by_token(token)
    except NotFound:
        return render_template("track_missing.html"), 404
    ref = svc.engine.reference(ticket["hall_id"])
    lang = str(get_locale() or "zh_CN")
    return render_template("track.html", ticket=ticket, token=token, hall_code=ref.code, hall_name=ref.name, lang=lang)


# ?form= of a call's WAV: the whole announcement (default), the phrase said once, or the short queued form.
VOICE_FORMS = {
    "full": {},
    "once": {"repeat": 1, "chime": False},
    "short": {"repeat": 1, "chime": False, "short": True},
}


def _wav(path: Path) -> Response:
    response = Response(path.read_bytes(), mimetype="audio/wav")
    response.cache_control.max_age = 86400  # a phrase's audio never changes
    return response


@bp.get("/display/voice/chime.wav")
def voice_chime() -> Any:
    """The chime alone: the hall display plays it once before a batch of calls."""
    return _wav(renderer().render_chime())


@bp.get("/display/voice/<number>/<int(max=999):window>.wav")
def voice(number: str, window: int) -> Any:
    """The call as a WAV, rendered offline and cached: ``?form=full`` (chime + said twice), ``once`` or ``short``."""
    if not NUMBER.match(number) or window < 1:
        return jsonify({"error": {"code": "not_found", "message": "无效的号码或窗口"}}), 404
    form = request.args.get("form", "full")
    if form not in VOICE_FORMS:
        return jsonify({"error": {"code": "bad_request", "message": "form 只能是 full、once 或 short"}}), 400
    try:
        path = renderer().render(number, window, **VOICE_FORMS[form])
    except VoiceUnavailable as exc:
        return jsonify({"error": {"code": "voice_unavailable", "message": str(exc)}}), 503
    return _wav(path)
