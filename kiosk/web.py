"""The touch kiosk page and the QR codes it shows (blueprint ``kiosk``)."""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, abort, current_app, render_template
from flask_babel import get_locale

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static", static_url_path="/kiosk/static")


def qr_svg(data: str) -> Response:
    """An SVG QR code (drawn on the server: the hall has no internet and the kiosk needs no QR library)."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    resp = Response(buf.getvalue(), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@bp.get("/kiosk")
def kiosk() -> Any:
    """The kiosk app. Opened once as ``/kiosk?device=<token>``; the token is then kept in the browser."""
    from hall.engine import merged_settings
    from hall.web.context import hall_id_for

    svc = current_app.extensions["hall"]
    settings = svc.config["hall"].get("settings", {})
    kiosk_settings = merged_settings(svc.engine.reference(hall_id_for(None)).settings)["kiosk"]
    idle = max(3, int(kiosk_settings.get("idle_seconds") or 60))
    return render_template(
        "kiosk.html",
        hall_code=svc.hall_code,
        hall_name=svc.config["hall"]["name"],
        online_portal=settings.get("online_portal"),
        lang=str(get_locale() or "zh_CN"),
        idle_seconds=idle,
        idle_warning_seconds=min(idle - 1, max(0, int(kiosk_settings.get("idle_warning_seconds") or 0))),
    )


@bp.get("/t/<token>/qr.svg")
def track_qr(token: str) -> Any:
    """The QR of a ticket's phone tracking page (only for a real ticket's secret)."""
    from hall.errors import NotFound

    svc = current_app.extensions["hall"]
    try:
        svc.engine.ticket_by_token(token)
    except NotFound:
        abort(404)
    from hall.errors import HallError
    from hall.web.origins import public_base

    try:
        base = public_base()  # never a Host header a client made up (docs/security.md)
    except HallError:
        abort(400)
    return qr_svg(f"{base}/t/{token}")


@bp.get("/kiosk/online.svg")
def online_qr() -> Any:
    """The QR of the hall's online service portal (掌上办), when configured."""
    svc = current_app.extensions["hall"]
    portal = svc.config["hall"].get("settings", {}).get("online_portal")
    if not portal:
        abort(404)
    return qr_svg(portal)
