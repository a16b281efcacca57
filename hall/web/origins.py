"""Which host names and browser origins are the hall's own.

Two things must not follow whatever a client writes in its headers: the tracking link printed on a slip
(``track_url``, from ``HALL_PUBLIC_URL`` or a trusted ``Host``) and the browsers allowed to open a Socket.IO
connection with a staff cookie (the ``Origin`` check). docs/security.md describes both.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.sansio.utils import host_is_trusted

from hall.errors import HallError


def split_list(value: str | None) -> tuple[str, ...]:
    """A comma- or space-separated environment value as a tuple of non-empty entries."""
    return tuple(v for v in (value or "").replace(",", " ").split() if v)


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL (lower case), or None when it has no scheme and host."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _host_name(host: str) -> str:
    """The name or address in a ``Host`` value, without the port and IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def trusted_host(host: str, config: Mapping[str, Any]) -> bool:
    """Whether a request's ``Host`` may be used in the links the hall prints.

    With ``HALL_TRUSTED_HOSTS`` set (Flask's ``TRUSTED_HOSTS``: every request with another ``Host`` is refused
    with 400 before it reaches a view) only those names are trusted. Without it: the loopback and private
    (intranet) addresses and ``localhost`` — a hall is reached by its intranet address — but never a DNS name
    a client made up.
    """
    listed = config.get("TRUSTED_HOSTS")
    if listed:
        return host_is_trusted(host, listed)
    name = _host_name(host)
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def own_port(host: str, environ: Mapping[str, Any], config: Mapping[str, Any]) -> bool:
    """Whether ``host`` names the port this server listens on (or no port, when it listens on the default one).

    Without ``HALL_TRUSTED_HOSTS`` any loopback or private address is trusted, so a client could otherwise pick
    any port (``Host: 127.0.0.1:6666``) for the link printed on a slip. Behind a reverse proxy
    (``HALL_PROXY_HOPS``) the server's port is not the public one: set ``HALL_PUBLIC_URL`` there.
    """
    if config.get("TRUSTED_HOSTS") or int(config.get("PROXY_HOPS") or 0) > 0:
        return True
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    default = "443" if scheme == "https" else "80"
    name = host.strip()
    if name.startswith("["):
        port = name.split("]", 1)[1].lstrip(":") if "]" in name else ""
    else:
        port = name.rsplit(":", 1)[1] if name.count(":") == 1 else ""
    return (port or default) == str(environ.get("SERVER_PORT") or default)


def public_base() -> str:
    """The base of tracking links: ``HALL_PUBLIC_URL``, else this request's own trusted host (else 400)."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    if not trusted_host(request.host, current_app.config) or not own_port(
        request.host, request.environ, current_app.config
    ):
        # The client is told only that its address is refused; the settings that fix it are for the log.
        current_app.logger.warning(
            "untrusted Host %r (server port %s): set HALL_PUBLIC_URL or HALL_TRUSTED_HOSTS",
            request.host[:100],
            request.environ.get("SERVER_PORT"),
        )
        raise HallError("请求地址不受信任", code="untrusted_host")  # 400: the request itself is wrong
    return f"{request.scheme}://{request.host}"


def public_base_if_trusted() -> str | None:
    """The tracking-link base, or None when the request's host is not trusted (answers that may omit the link)."""
    try:
        return public_base()
    except HallError:
        return None


def allowed_origins(config: Mapping[str, Any]) -> frozenset[str]:
    """The configured origins browsers may connect from: ``HALL_PUBLIC_URL`` and ``HALL_ALLOWED_ORIGINS``."""
    urls = [config.get("PUBLIC_URL") or "", *(config.get("ALLOWED_ORIGINS") or ())]
    return frozenset(o for o in map(_origin_of, urls) if o)


def socket_origin_check(config: Mapping[str, Any]) -> Any:
    """Engine.IO's ``cors_allowed_origins`` callable: same origin as the request, or a configured one.

    A client without an ``Origin`` header (devices, the Python client) is not a browser acting for someone
    else, and Engine.IO lets it through before calling this.
    """

    def allowed(origin: str | None, environ: Mapping[str, Any]) -> bool:
        if not origin:
            return True
        origin = origin.lower()
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}".lower()
        return origin == own or origin in allowed_origins(config)

    return allowed
