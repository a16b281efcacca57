"""REST API /api/v1 (flask-smorest): validation, OpenAPI document and one error shape for everything."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_to_bytes

import marshmallow as ma
from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from flask_smorest import Api
from sqlalchemy.exc import DataError, OperationalError, StatementError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from hall.api.error_texts import localized
from hall.errors import HallError

log = logging.getLogger(__name__)


class ErrorBody(ma.Schema):
    """Inner error object."""

    code = ma.fields.String(required=True, metadata={"description": "machine-readable code"})
    message = ma.fields.String(required=True, metadata={"description": "human message (Chinese first)"})
    details = ma.fields.Dict(metadata={"description": "field errors or extra context"})


class ErrorSchema(ma.Schema):
    """Every 4xx/5xx body: ``{"error": {"code", "message", "details"}}``."""

    error = ma.fields.Nested(ErrorBody, required=True)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many",
    500: "internal_error",
}
_HTTP_MESSAGES = {
    400: "请求格式错误",
    401: "请先登录",
    403: "无权执行此操作",
    404: "资源不存在",
    405: "不支持的请求方法",
    409: "状态冲突",
    413: "请求过大",
    415: "请使用 JSON 格式",
    422: "请求内容有误",
    429: "请求过于频繁",
    500: "服务器内部错误",
}


class SafeJSONProvider(DefaultJSONProvider):
    """JSON with Chinese as UTF-8, except that text which cannot be UTF-8 (a lone surrogate) is sent escaped.

    Input is checked by the schemas (CleanText); this is for anything stored before that check or reaching a
    response another way, so that no read or error body can fail to encode.
    """

    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize; fall back to ASCII escapes when the text would not encode as UTF-8."""
        text = super().dumps(obj, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            kwargs["ensure_ascii"] = True
            text = super().dumps(obj, **kwargs)
        return text


class SafeResponse(Response):
    """A response whose text body always encodes: a character UTF-8 cannot carry (a lone surrogate in text
    stored before the schema check) becomes "?" on a page instead of turning the page into a 500."""

    def set_data(self, value: bytes | str) -> None:
        """Encode text as UTF-8, replacing what cannot be encoded."""
        if isinstance(value, str):
            try:
                value = value.encode()
            except UnicodeEncodeError:
                value = value.encode("utf-8", "replace")
        super().set_data(value)


def error_response(status: int, code: str, message: str, details: dict | None = None) -> Any:
    """Build the standard JSON error response."""
    body: dict[str, Any] = {"code": code, "message": localized(code, message)}
    if details:
        body["details"] = details
    return jsonify({"error": body}), status


class HallApi(Api):
    """flask-smorest Api with the project's error envelope."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        """JSON errors under /api (and for JSON clients); plain HTTP errors for pages."""
        if not request.path.startswith("/api/"):
            return error
        data = getattr(error, "data", None) or {}
        details = data.get("errors") or data.get("messages")
        status = error.code or 500
        message = data.get("message") or _HTTP_MESSAGES.get(status, error.name)
        if status == 422 and details:
            message = "请求内容有误：" + "; ".join(_flatten(details))
        return error_response(status, _HTTP_CODES.get(status, "error"), message, details)


def _flatten(details: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(details, dict):
        for key, value in details.items():
            name = "" if key in ("json", "query", "form") else str(key)
            out.extend(_flatten(value, f"{prefix}.{name}".strip(".") if name else prefix))
    elif isinstance(details, list):
        for value in details:
            out.extend(_flatten(value, prefix))
    else:
        out.append(f"{prefix}: {details}" if prefix else str(details))
    return out


api = HallApi()


class BoundedJSONProvider(SafeJSONProvider):
    """The safe JSON, with the API's nesting bound on ``request.get_json`` too (a ValueError there is a 400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse like Flask, refusing bodies nested deeper than MAX_JSON_DEPTH."""
        from hall.api.blueprint import load_json

        return load_json(s)


def init_app(app: Flask) -> None:
    """Register the API blueprints, the OpenAPI document and the error handlers."""
    bounded = BoundedJSONProvider(app)
    for setting in ("ensure_ascii", "sort_keys", "compact", "mimetype"):  # as init_config set them
        setattr(bounded, setting, getattr(app.json, setting))
    app.json = bounded
    app.config.setdefault("API_TITLE", "hall API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app, spec_kwargs={"info": {"description": "医保服务大厅排队叫号系统接口（见 docs/api.md）"}})
    api.spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    api.spec.components.security_scheme("device", {"type": "http", "scheme": "bearer"})

    from hall.api import appointments, auth, city, hall_routes, ratings, reports, reviews, tickets, windows

    for module in (auth, tickets, windows, hall_routes, appointments, ratings, reports, city, reviews):
        api.register_blueprint(module.blp)
    from hall.api import operations  # 值班安排, day reports, the daily jobs' ledger

    api.register_blueprint(operations.blp)
    from hall.api import admin  # 系统管理 /api/v1/admin (admin role)

    api.register_blueprint(admin.blp)

    @app.before_request
    def _query_is_utf8() -> Any:
        # Werkzeug keeps an invalid escape such as %FF as the literal text "%FF", so a filter quietly matched
        # nothing (200 with an empty list). A query string that is not UTF-8 is a bad request.
        if not request.path.startswith("/api/"):
            return None
        raw = request.query_string
        if b"%" in raw:
            try:
                unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return error_response(422, "invalid", "请求内容有误：查询参数不是有效的 UTF-8 文本")
        return None

    @app.after_request
    def _api_options(response: Any) -> Any:
        # Flask answers OPTIONS itself with 200 and an empty text/html body; the API has no CORS, so say only
        # which methods exist: 204 with its Allow header and no body.
        if request.method == "OPTIONS" and request.path.startswith("/api/") and response.status_code == 200:
            response.status_code = 204
            response.set_data(b"")
            response.headers.pop("Content-Type", None)
        return response

    @app.errorhandler(HallError)
    def _hall_error(exc: HallError) -> Any:
        # A fixed message has its English in messages.po (``?lang=en``); one with values in it stays Chinese.
        message = gettext(exc.message) if exc.message else exc.message  # gettext("") is the catalogue header
        return error_response(exc.status, exc.code, message, exc.details)

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> Any:
        return error_response(409, "concurrent_update", "该号码刚被其他窗口处理，请刷新后重试")

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(exc: Exception) -> Any:
        # A number the database cannot store (SQLite: OverflowError, PostgreSQL: DataError). Schemas bound
        # ids; this keeps one that slips through a 422 instead of a 500 (API fuzzing found such fields).
        log.warning("value out of range on %s %s: %s", request.method, request.path, exc.__class__.__name__)
        return error_response(422, "invalid", "请求内容有误：数值超出范围")

    @app.errorhandler(StatementError)
    def _bad_parameter(exc: StatementError) -> Any:
        # SQLAlchemy wraps an error raised while binding a parameter (a date whose arithmetic overflows, an
        # integer too large for the driver); the schemas bound such values, this keeps a miss a 422, not a 500.
        if isinstance(exc.orig, OverflowError):  # a ValueError (naive datetime) is our bug: it stays a 500
            return _out_of_range(exc)
        return _unexpected(exc)

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError) -> Any:
        # JSON bodies are depth-bounded when parsed (hall.api.blueprint); this is the net behind it.
        log.warning("recursion too deep on %s %s", request.method, request.path)
        return error_response(400, "bad_request", "请求格式错误：嵌套层数过多")

    @app.errorhandler(OperationalError)
    def _db_down(exc: OperationalError) -> Any:
        log.error("database error: %s", exc.__class__.__name__)
        return error_response(503, "database_unavailable", "数据库暂时不可用，请稍后重试")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return exc
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "服务器内部错误，已记录日志")
