"""/api/v1/admin: 系统管理 — items, windows, staff accounts, devices, notices, opening hours and rules (admin only).

Every change goes through hall.admin (validated, audited, caches dropped), so it takes effect without a
restart. Only the hall's admin may call these endpoints; the role is checked before the body is read.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from hall.admin import DEVICE_KINDS, NO_SHOW_MODES, Admin
from hall.api.blueprint import Blueprint
from hall.api.schemas import ItemOut, PasswordText, Strict, VisibleText
from hall.config import HANDLING_CLASSES, ROLES, WINDOW_KINDS, ConfigError, load_all
from hall.errors import Invalid
from hall.web.context import hall_id_for, services
from hall.web.security import current_actor, forget_principals, require_roles, sessions_changed

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="系统管理（管理员）")

CODE = validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$", error="只能用字母、数字、_ 和 -，最多40位")
NAME = validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$", error="只能用字母、数字、_ . -，最多64位")
TIME = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="时间格式为 HH:MM")
DATE = validate.Regexp(r"^\d{4}-\d{2}-\d{2}$", error="日期格式为 YYYY-MM-DD")
WINDOW_NO = ma.fields.Integer(allow_none=True, validate=validate.Range(1, 9999))


def _admin() -> Admin:
    svc = services()
    admin = current_app.extensions.get("hall.admin")
    if admin is None or admin.engine is not svc.engine:
        admin = Admin(svc.engine, svc.passwords)
        current_app.extensions["hall.admin"] = admin
    return admin


def _who() -> tuple[Any, int]:
    actor = current_actor()
    return actor, hall_id_for(actor)


# --- schemas ---------------------------------------------------------------------------------------
class AdminItemFields(Strict):
    """Fields of an item; on update only those given change."""

    name = ma.fields.String(validate=[validate.Length(1, 200), VisibleText()])
    category = ma.fields.String(validate=validate.Length(max=100))
    department = ma.fields.String(validate=validate.Length(1, 20))
    handling_class = ma.fields.String(validate=validate.OneOf(HANDLING_CLASSES))
    time_limit_days = ma.fields.Integer(validate=validate.Range(0, 365))
    service_minutes = ma.fields.Float(validate=validate.Range(0.5, 480))
    online = ma.fields.Boolean()
    materials = ma.fields.List(ma.fields.String(validate=validate.Length(1, 200)), validate=validate.Length(max=50))
    keywords = ma.fields.List(
        ma.fields.String(validate=validate.Length(1, 20)),  # blank entries are dropped, not refused
        validate=validate.Length(max=30),
        metadata={"description": "words citizens use (医保卡…), matched by the kiosk's search"},
    )
    queue = ma.fields.String(validate=validate.Length(1, 20))
    review_chain = ma.fields.Boolean()
    daily_quota = ma.fields.Integer(allow_none=True, validate=validate.Range(1, 100000))
    sort = ma.fields.Integer(validate=validate.Range(-100000, 100000))
    active = ma.fields.Boolean()


class AdminItemIn(AdminItemFields):
    """A new item: code, name, handling class and queue are required."""

    code = ma.fields.String(required=True, validate=CODE)
    name = ma.fields.String(required=True, validate=[validate.Length(1, 200), VisibleText()])
    handling_class = ma.fields.String(required=True, validate=validate.OneOf(HANDLING_CLASSES))
    queue = ma.fields.String(required=True, validate=validate.Length(1, 20))


class AdminItemOut(ItemOut):
    """An item as stored (the catalogue fields, plus the admin-only ones)."""

    sort = ma.fields.Integer()
    active = ma.fields.Boolean()


class AdminQueueOut(ma.Schema):
    """A queue an item or window may name."""

    code = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()


class AdminItemsOut(ma.Schema):
    """``{"items": […], "queues": […]}``."""

    items = ma.fields.List(ma.fields.Nested(AdminItemOut))
    queues = ma.fields.List(ma.fields.Nested(AdminQueueOut))


class AdminItemEnvelope(ma.Schema):
    """``{"item": …}``."""

    item = ma.fields.Nested(AdminItemOut)


class AdminWindowIn(Strict):
    """Name, kind and skills (queue codes in the window's order)."""

    name = ma.fields.String(validate=[validate.Length(1, 100), VisibleText()])
    kind = ma.fields.String(validate=validate.OneOf(WINDOW_KINDS))
    queues = ma.fields.List(ma.fields.String(validate=validate.Length(1, 20)), validate=validate.Length(1, 20))


class AdminWindowNew(Strict):
    """A new window: number (unique in the hall, 1–999), name, kind and skills."""

    number = ma.fields.Integer(required=True, validate=validate.Range(1, 999))
    name = ma.fields.String(required=True, validate=[validate.Length(1, 100), VisibleText()])
    kind = ma.fields.String(required=True, validate=validate.OneOf(WINDOW_KINDS))
    queues = ma.fields.List(
        ma.fields.String(validate=validate.Length(1, 20)), required=True, validate=validate.Length(1, 20)
    )


class AdminWindowOut(ma.Schema):
    """A window's configuration."""

    number = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.String()
    queues = ma.fields.List(ma.fields.String())


class AdminWindowsOut(ma.Schema):
    """``{"windows": […], "queues": […]}``."""

    windows = ma.fields.List(ma.fields.Nested(AdminWindowOut))
    queues = ma.fields.List(ma.fields.Nested(AdminQueueOut))


class AdminWindowEnvelope(ma.Schema):
    """``{"window": …}``."""

    window = ma.fields.Nested(AdminWindowOut)


class AdminUserFields(Strict):
    """Account fields an admin may change."""

    display_name = ma.fields.String(validate=[validate.Length(1, 100), VisibleText()])
    staff_no = ma.fields.String(allow_none=True, validate=validate.Length(max=32))
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    window = WINDOW_NO
    active = ma.fields.Boolean()


class AdminUserIn(AdminUserFields):
    """A new account with its first password."""

    username = ma.fields.String(required=True, validate=NAME)
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))
    password = ma.fields.String(required=True, load_only=True, validate=[validate.Length(8, 128), PasswordText()])


class AdminPasswordIn(Strict):
    """The new password (at least 8 characters)."""

    password = ma.fields.String(required=True, load_only=True, validate=[validate.Length(8, 128), PasswordText()])


class AdminUserOut(ma.Schema):
    """A staff account (never its hash)."""

    username = ma.fields.String()
    display_name = ma.fields.String()
    staff_no = ma.fields.String(allow_none=True)
    role = ma.fields.String()
    window = ma.fields.Integer(allow_none=True)
    active = ma.fields.Boolean()
    demo = ma.fields.Boolean()


class AdminUsersOut(ma.Schema):
    """``{"staff": […]}``."""

    staff = ma.fields.List(ma.fields.Nested(AdminUserOut))


class AdminUserEnvelope(ma.Schema):
    """``{"user": …}``."""

    user = ma.fields.Nested(AdminUserOut)


class AdminDeviceIn(Strict):
    """A new device; window devices (rater, led, pad, keypad) name their window."""

    name = ma.fields.String(required=True, validate=NAME)
    kind = ma.fields.String(required=True, validate=validate.OneOf(DEVICE_KINDS))
    window = WINDOW_NO
    config = ma.fields.Dict(
        load_default=dict,
        metadata={
            "description": "per kind (docs/devices.md): kiosk {printer: {…}}; printer {url, encoding, width_mm, qr, "
            "timeout}; led/pad/keypad {driver, url, address, …}; display and rater none. Unknown keys are refused; "
            "URLs only tcp://, usb://, serial:///dev/…, socket://, rfc2217:// or /dev/…, network hosts only "
            "from the hall TOML's allow-list (loopback, its own devices' hosts, [admin_devices] allowed_hosts)"
        },
    )


class AdminDeviceConfigIn(Strict):
    """A device's new ``config`` (the same rules as when it is registered)."""

    # Required: an empty body used to answer 200 and wipe the device's config.
    config = ma.fields.Dict(
        required=True, metadata={"description": AdminDeviceIn._declared_fields["config"].metadata["description"]}
    )


class AdminDeviceOut(ma.Schema):
    """A device (never its token)."""

    name = ma.fields.String()
    kind = ma.fields.String()
    window = ma.fields.Integer(allow_none=True)
    active = ma.fields.Boolean()
    status = ma.fields.String(allow_none=True)
    last_seen = ma.fields.String(allow_none=True)


class AdminDevicesOut(ma.Schema):
    """``{"devices": […]}``."""

    devices = ma.fields.List(ma.fields.Nested(AdminDeviceOut))


class AdminDeviceEnvelope(ma.Schema):
    """``{"device": …, "token": …}``: the token only when it was just made (shown once)."""

    device = ma.fields.Nested(AdminDeviceOut)
    token = ma.fields.String()


class AdminNoticesIn(Strict):
    """The hall display's notices (replaced as a whole) and optionally the public notice."""

    notices = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=200)), required=True, validate=validate.Length(max=20)
    )
    public_notice = ma.fields.String(validate=validate.Length(max=500), metadata={"multiline": True})


class AdminNoticesOut(ma.Schema):
    """``{"notices": […], "public_notice": …}``."""

    notices = ma.fields.List(ma.fields.String())
    public_notice = ma.fields.String()


SESSION = ma.fields.List(ma.fields.String(validate=TIME), validate=validate.Length(2, 2))
SESSIONS = ma.fields.List(SESSION, load_default=list, validate=validate.Length(max=4))


class AdminExtended(Strict):
    """延时服务: on ISO weekday (1 = Monday) the last session runs until ``until``."""

    weekday = ma.fields.Integer(required=True, validate=validate.Range(1, 7))
    until = ma.fields.String(required=True, validate=TIME)


class AdminHoursIn(Strict):
    """Opening hours: sessions per day type, extended days, local holiday / working-day overrides."""

    weekdays = ma.fields.List(SESSION, required=True, validate=validate.Length(max=4))
    saturday = SESSIONS
    sunday = SESSIONS
    extended = ma.fields.List(ma.fields.Nested(AdminExtended), load_default=list, validate=validate.Length(max=7))
    holidays = ma.fields.List(ma.fields.String(validate=DATE), load_default=list, validate=validate.Length(max=400))
    workdays = ma.fields.List(ma.fields.String(validate=DATE), load_default=list, validate=validate.Length(max=400))


class AdminHoursOut(ma.Schema):
    """The stored hours."""

    weekdays = ma.fields.List(ma.fields.List(ma.fields.String()))
    saturday = ma.fields.List(ma.fields.List(ma.fields.String()))
    sunday = ma.fields.List(ma.fields.List(ma.fields.String()))
    extended = ma.fields.List(ma.fields.Dict())
    holidays = ma.fields.List(ma.fields.String())
    workdays = ma.fields.List(ma.fields.String())


class AdminRoutingIn(Strict):
    """``[hall.settings.routing]``."""

    policy = ma.fields.String(validate=validate.OneOf(("hall", "pooled")))
    priority_weight = ma.fields.Integer(validate=validate.Range(0, 10))
    sla_minutes = ma.fields.Float(validate=validate.Range(0, 480))
    joint_fallback_minutes = ma.fields.Float(validate=validate.Range(0, 480))


class AdminTidalSettingsIn(Strict):
    """``[hall.settings.tidal]`` (minutes; peaks as [["09:00", "10:30"], …])."""

    open_above = ma.fields.Float(validate=validate.Range(1, 240))
    close_below = ma.fields.Float(validate=validate.Range(0, 240))
    calm_minutes = ma.fields.Float(validate=validate.Range(0, 240))
    stage_after_minutes = ma.fields.Float(validate=validate.Range(0, 240))  # before a second tidal window may open
    peaks = ma.fields.List(SESSION, validate=validate.Length(max=6))
    use_schedule = ma.fields.Boolean()
    use_load = ma.fields.Boolean()


class AdminNoShowIn(Strict):
    """``[hall.settings.no_show]``: 过号 recycles N places back, at most M times, or ends the ticket."""

    mode = ma.fields.String(validate=validate.OneOf(NO_SHOW_MODES))
    places_back = ma.fields.Integer(validate=validate.Range(0, 50))
    max_requeues = ma.fields.Integer(validate=validate.Range(0, 5))
    late_return = ma.fields.Boolean()


class AdminKioskIn(Strict):
    """``[hall.settings.kiosk]``: back to Chinese, normal mode and home after this long untouched (seconds)."""

    idle_seconds = ma.fields.Integer(validate=validate.Range(3, 600))
    idle_warning_seconds = ma.fields.Integer(validate=validate.Range(0, 60))  # the countdown before the reset


class AdminRulesIn(Strict):
    """Any of the sections; keys not given keep their values."""

    routing = ma.fields.Nested(AdminRoutingIn)
    tidal = ma.fields.Nested(AdminTidalSettingsIn)
    no_show = ma.fields.Nested(AdminNoShowIn)
    kiosk = ma.fields.Nested(AdminKioskIn)


class AdminRulesOut(ma.Schema):
    """The rules in effect."""

    routing = ma.fields.Dict()
    tidal = ma.fields.Dict()
    no_show = ma.fields.Dict()
    kiosk = ma.fields.Dict()


# --- items -----------------------------------------------------------------------------------------
@blp.route("/items", methods=["GET"])
@require_roles("admin")
@blp.response(200, AdminItemsOut)
def list_items() -> Any:
    """Every item (inactive ones too) and the queues items may go to."""
    _, hall_id = _who()
    return _admin().items(hall_id)


@blp.route("/items", methods=["POST"])
@require_roles("admin")
@blp.arguments(AdminItemIn)
@blp.response(201, AdminItemEnvelope)
def create_item(args: dict[str, Any]) -> Any:
    """Add an item; kiosks and the desk can issue it at once."""
    actor, hall_id = _who()
    return {"item": _admin().create_item(actor, hall_id, args)}


@blp.route("/items/<code>", methods=["PUT"])
@require_roles("admin")
@blp.arguments(AdminItemFields)
@blp.response(200, AdminItemEnvelope)
def update_item(args: dict[str, Any], code: str) -> Any:
    """Change the fields given."""
    actor, hall_id = _who()
    return {"item": _admin().update_item(actor, hall_id, code, args)}


@blp.route("/items/<code>/deactivate", methods=["POST"])
@require_roles("admin")
@blp.response(200, AdminItemEnvelope)
def deactivate_item(code: str) -> Any:
    """停办: take the item off the catalogue (history keeps it); ``PUT {"active": true}`` brings it back."""
    actor, hall_id = _who()
    return {"item": _admin().deactivate_item(actor, hall_id, code)}


# --- windows ---------------------------------------------------------------------------------------
@blp.route("/windows", methods=["GET"])
@require_roles("admin")
@blp.response(200, AdminWindowsOut)
def list_windows() -> Any:
    """Every window's name, kind and skills, and the hall's queues."""
    _, hall_id = _who()
    return _admin().windows(hall_id)


@blp.route("/windows", methods=["POST"])
@require_roles("admin")
@blp.arguments(AdminWindowNew)
@blp.response(201, AdminWindowEnvelope)
def create_window(args: dict[str, Any]) -> Any:
    """Add a window (closed until a clerk opens it); audited as ``admin.window.create``."""
    actor, hall_id = _who()
    return {"window": _admin().create_window(actor, hall_id, args)}


@blp.route("/windows/<int(max=9999):number>", methods=["PUT"])
@require_roles("admin")
@blp.arguments(AdminWindowIn)
@blp.response(200, AdminWindowEnvelope)
def update_window(args: dict[str, Any], number: int) -> Any:
    """Rename, change the kind or the skills; the next call-next at the window follows them."""
    actor, hall_id = _who()
    return {"window": _admin().update_window(actor, hall_id, number, args)}


# --- staff -----------------------------------------------------------------------------------------
@blp.route("/staff", methods=["GET"])
@require_roles("admin")
@blp.response(200, AdminUsersOut)
def list_staff() -> Any:
    """The hall's accounts (no password hashes)."""
    _, hall_id = _who()
    return {"staff": _admin().users(hall_id)}


@blp.route("/staff", methods=["POST"])
@require_roles("admin")
@blp.arguments(AdminUserIn)
@blp.response(201, AdminUserEnvelope)
def create_staff(args: dict[str, Any]) -> Any:
    """A new account (argon2 hash of its password)."""
    actor, hall_id = _who()
    return {"user": _admin().create_user(actor, hall_id, args)}


@blp.route("/staff/<name>", methods=["PUT"])
@require_roles("admin")
@blp.arguments(AdminUserFields)
@blp.response(200, AdminUserEnvelope)
def update_staff(args: dict[str, Any], name: str) -> Any:
    """Role, window, display name, staff number, active (deactivation ends its sessions)."""
    actor, hall_id = _who()
    user = _admin().update_user(actor, hall_id, name, args)
    sessions_changed()
    return {"user": user}


@blp.route("/staff/<name>/password", methods=["POST"])
@require_roles("admin")
@blp.arguments(AdminPasswordIn)
@blp.response(200, AdminUserEnvelope)
def reset_password(args: dict[str, Any], name: str) -> Any:
    """Set a new password (the old one fails at once, and the account's sessions end)."""
    actor, hall_id = _who()
    user = _admin().reset_password(actor, hall_id, name, args["password"])
    sessions_changed()
    return {"user": user}


# --- devices ---------------------------------------------------------------------------------------
@blp.route("/devices", methods=["GET"])
@require_roles("admin")
@blp.response(200, AdminDevicesOut)
def list_devices() -> Any:
    """Registered devices (no tokens)."""
    _, hall_id = _who()
    return {"devices": _admin().devices(hall_id)}


@blp.route("/devices", methods=["POST"])
@require_roles("admin")
@blp.arguments(AdminDeviceIn)
@blp.response(201, AdminDeviceEnvelope)
def create_device(args: dict[str, Any]) -> Any:
    """Register a device; the response carries its token, shown this once."""
    actor, hall_id = _who()
    config = _checked_config(hall_id, args["kind"], args["name"], args.get("window"), args["config"])
    device, token = _admin().create_device(actor, hall_id, {**args, "config": config})
    return {"device": device, "token": token}


@blp.route("/devices/<name>", methods=["PUT"])
@require_roles("admin")
@blp.arguments(AdminDeviceConfigIn)
@blp.response(200, AdminDeviceEnvelope)
def put_device_config(args: dict[str, Any], name: str) -> Any:
    """Replace a device's config (e.g. connect a printer registered earlier); audited with before and after."""
    actor, hall_id = _who()
    admin = _admin()
    kind, window = admin.device_kind(hall_id, name)
    config = _checked_config(hall_id, kind, name, window, args["config"])
    return {"device": admin.set_device_config(actor, hall_id, name, config)}


def _checked_config(hall_id: int, kind: str, name: str, window: int | None, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` as the device policy allows it from the web (devices/policy.py), else 422 with the key."""
    from devices.policy import RefusedConfig, check_config

    try:
        return check_config(kind, name, window, config, _device_hosts(hall_id))
    except RefusedConfig as exc:
        raise Invalid(f"请求内容有误：{exc.field}: {exc}", code=exc.code, details={exc.field: [str(exc)]}) from None


def _device_hosts(hall_id: int) -> Any:
    """The network hosts this hall's TOML allows for devices registered here (read now: no restart needed)."""
    from devices.policy import HostList, toml_hosts

    code = services().engine.reference(hall_id).code
    try:
        halls = load_all(current_app.config.get("HALL_CONFIG"))
    except ConfigError:  # the running hall was loaded; a broken edit since then allows loopback only
        return HostList()
    return next((toml_hosts(data) for data in halls if data["hall"]["code"] == code), HostList())


@blp.route("/devices/<name>/deactivate", methods=["POST"])
@require_roles("admin")
@blp.response(200, AdminDeviceEnvelope)
def deactivate_device(name: str) -> Any:
    """Its token is refused from now on."""
    actor, hall_id = _who()
    device = _admin().set_device_active(actor, hall_id, name, False)
    forget_principals()
    return {"device": device}


@blp.route("/devices/<name>/token", methods=["POST"])
@require_roles("admin")
@blp.response(200, AdminDeviceEnvelope)
def rotate_token(name: str) -> Any:
    """A new token (the old one stops at once), shown once; a deactivated device stays deactivated."""
    from hall import device_tokens

    actor, hall_id = _who()
    token = device_tokens.rotate(services().engine, actor, hall_id, name)
    device = next((d for d in _admin().devices(hall_id) if d["name"] == name), None)
    forget_principals()
    return {"device": device, "token": token}


@blp.route("/devices/<name>/activate", methods=["POST"])
@require_roles("admin")
@blp.response(200, AdminDeviceEnvelope)
def activate_device(name: str) -> Any:
    """Accept the device's token again (reactivation is its own audited step, never a side effect)."""
    actor, hall_id = _who()
    device = _admin().set_device_active(actor, hall_id, name, True)
    forget_principals()
    return {"device": device}


# --- notices, hours, rules -------------------------------------------------------------------------
@blp.route("/notices", methods=["GET"])
@require_roles("admin")
@blp.response(200, AdminNoticesOut)
def get_notices() -> Any:
    """The hall display's notices and the public notice."""
    _, hall_id = _who()
    return _admin().notices(hall_id)


@blp.route("/notices", methods=["PUT"])
@require_roles("admin")
@blp.arguments(AdminNoticesIn)
@blp.response(200, AdminNoticesOut)
def put_notices(args: dict[str, Any]) -> Any:
    """Replace the notices (the hall display shows them from its next refresh)."""
    actor, hall_id = _who()
    return _admin().set_notices(actor, hall_id, args["notices"], args.get("public_notice"))


@blp.route("/hours", methods=["GET"])
@require_roles("admin")
@blp.response(200, AdminHoursOut)
def get_hours() -> Any:
    """Opening hours as stored."""
    _, hall_id = _who()
    return _admin().hours(hall_id)


@blp.route("/hours", methods=["PUT"])
@require_roles("admin")
@blp.arguments(AdminHoursIn)
@blp.response(200, AdminHoursOut)
def put_hours(args: dict[str, Any]) -> Any:
    """Replace the opening hours; issuing, bookings and the daily jobs follow them at once."""
    actor, hall_id = _who()
    hours = _admin().set_hours(actor, hall_id, args)
    _resync_jobs(hall_id)
    return hours


@blp.route("/settings", methods=["GET"])
@require_roles("admin")
@blp.response(200, AdminRulesOut)
def get_rules() -> Any:
    """Routing, tidal, 过号 and kiosk rules in effect."""
    _, hall_id = _who()
    return _admin().rules(hall_id)


@blp.route("/settings", methods=["PUT"])
@require_roles("admin")
@blp.arguments(AdminRulesIn)
@blp.response(200, AdminRulesOut)
def put_rules(args: dict[str, Any]) -> Any:
    """Change some routing / tidal / 过号 / kiosk keys (the others keep their values)."""
    actor, hall_id = _who()
    return _admin().set_rules(actor, hall_id, args)


def _resync_jobs(hall_id: int) -> None:
    """Give the running scheduler (if this process runs it) the hall's new opening and closing times."""
    jobs = current_app.extensions.get("hall.scheduler")
    if jobs is None:
        return
    from hall import scheduler

    ref = services().engine.reference(hall_id)
    tidal = current_app.config.get("TIDAL_TICK_SECONDS", 60)
    fresh = scheduler.job_specs(ref.code, hall_id, ref.settings, ref.timezone, tidal_seconds=tidal)
    prefix = f"{ref.code}:"
    jobs.specs = [s for s in jobs.specs if not s.id.startswith(prefix)] + fresh
    if jobs.running:
        jobs.sync()
