"""Marshmallow schemas: request validation and the OpenAPI document come from the same definitions."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

import marshmallow as ma
from marshmallow import validate

from hall.engine import PRIORITY_GROUPS

# Lone surrogates cannot be stored or sent as UTF-8 (a committed one made every later read of its list 500), and
# control characters and bidi overrides garble screens, slips and exports. \t, \r and \n only in multi-line text.
# Bidi marks (LRM, RLM, ALM) reorder what follows them just as well; line and paragraph separators (U+2028/9)
# break one-line fields (a name on a slip, a CSV cell, a JS string) as a newline would.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd"  # and U+FFFD: invalid UTF-8 in a URL
_BAD_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029{_BIDI}]")
_BAD_MULTILINE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")
TEXT_ERROR = "含有不允许的字符（控制字符或无效的Unicode）"
TEXT_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\ufffd]*$"
TEXT_PATTERN_MULTILINE = (
    "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\ufffd]*$"
)
# Characters that show nothing: a name made only of these (or of spaces) is a blank name on every screen.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_nothing(ch: str) -> bool:
    return ch.isspace() or ch in _BLANKS or unicodedata.category(ch) in ("Cf", "Cc", "Mn", "Me", "Zl", "Zp")


class VisibleText(validate.Validator):
    """Refuse a name or label that is empty, or only spaces and invisible characters (zero-width, BOM, …)."""

    def __call__(self, value: Any) -> Any:
        """Validate one name."""
        if isinstance(value, str) and all(_shows_nothing(ch) for ch in value):
            raise ma.ValidationError("不能为空，也不能只有空格或不可见字符")
        return value


class PasswordText(validate.Validator):
    """Refuse control, format (zero-width, bidi) and separator characters in a new password: nobody can type them."""

    def __call__(self, value: Any) -> Any:
        """Validate one password (never echoed)."""
        if isinstance(value, str) and any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in value):
            raise ma.ValidationError("密码不能含控制字符或不可见字符")
        return value


class CleanText(validate.Validator):
    """Refuse text with lone surrogates or control characters (tab and line breaks only when ``multiline``)."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline
        self._bad = _BAD_MULTILINE if multiline else _BAD_LINE

    def __call__(self, value: Any) -> Any:
        """Validate one string (or every string inside a dict/list value)."""
        if not _clean(value, self._bad):
            # Never echo the value: the error body itself must stay encodable.
            raise ma.ValidationError(TEXT_ERROR)
        return value


def is_clean_text(value: Any) -> bool:
    """Whether one-line text passes CleanText (for input that comes around the schemas: Socket.IO payloads)."""
    return _clean(value, _BAD_LINE)


def _clean(value: Any, bad: re.Pattern) -> bool:
    if isinstance(value, str):
        return bad.search(value) is None
    if isinstance(value, dict):
        return all(_clean(k, _BAD_LINE) and _clean(v, bad) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_clean(v, bad) for v in value)
    return True


def guard_text(field: ma.fields.Field) -> None:
    """Attach CleanText to a string field and to the strings inside lists, dicts and free-form values."""
    if isinstance(field, ma.fields.List):
        guard_text(field.inner)
    elif isinstance(field, ma.fields.Tuple):
        for inner in field.tuple_fields:
            guard_text(inner)
    elif isinstance(field, ma.fields.String | ma.fields.Mapping | ma.fields.Raw) and not any(
        isinstance(v, CleanText) for v in field.validators
    ):
        multiline = bool(field.metadata.get("multiline"))
        field.validators.append(CleanText(multiline=multiline))
        if isinstance(field, ma.fields.String) and "pattern" not in field.metadata:
            # Documented in the OpenAPI document too, so clients (and the API fuzzer) know what is refused.
            field.metadata = {**field.metadata, "pattern": TEXT_PATTERN_MULTILINE if multiline else TEXT_PATTERN}


class Input(ma.Schema):
    """Base of every request schema (body and query): each text field is checked once here by CleanText.

    Mark a free-text field that may hold line breaks with ``metadata={"multiline": True}``.
    """

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        """Guard the field's text as the schema binds it."""
        guard_text(field_obj)


class Strict(Input):
    """Unknown fields are an error, so typos do not pass silently."""

    class Meta:
        unknown = ma.RAISE


FIRST_DAY = date(2000, 1, 1)  # no hall has data before; earlier dates overflow SQLite's datetime arithmetic
LAST_DAY = date(2100, 12, 31)


def day_field(**kwargs: Any) -> ma.fields.Date:
    """A ``YYYY-MM-DD`` field bounded to FIRST_DAY … LAST_DAY (0001-01-01 or 9999-12-31 are a 422, not a 500)."""
    bound = validate.Range(min=FIRST_DAY, max=LAST_DAY, error="日期须在 {min} 至 {max} 之间")
    return ma.fields.Date(validate=bound, **kwargs)


class LoginIn(Strict):
    """Staff login."""

    username = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=256))


class UserOut(ma.Schema):
    """The logged-in staff member."""

    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.String()
    window = ma.fields.Integer(allow_none=True)
    hall = ma.fields.String()


class UserEnvelope(ma.Schema):
    """``{"user": …}``."""

    user = ma.fields.Nested(UserOut)
    csrf_token = ma.fields.String(metadata={"description": "send as header X-CSRFToken on POST/PUT/DELETE"})


class IssueIn(Strict):
    """Take a number."""

    items = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40)), required=True, validate=validate.Length(min=1, max=2)
    )
    priority = ma.fields.String(load_default=None, allow_none=True, validate=validate.OneOf(PRIORITY_GROUPS))
    id_number = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    channel = ma.fields.String(load_default="kiosk", validate=validate.OneOf(["kiosk", "guide"]))


class PriorityCheckIn(Strict):
    """A green-channel ID to check before the item is chosen."""

    priority = ma.fields.String(required=True, validate=validate.OneOf(PRIORITY_GROUPS))
    id_number = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))


class PriorityCheckOut(ma.Schema):
    """The ID passed: its masked form, and whether the group was verified by it (only 老年人 is)."""

    priority = ma.fields.String()
    id_masked = ma.fields.String()
    verified = ma.fields.Boolean()


class EtaOut(ma.Schema):
    """Estimated wait range in minutes."""

    low = ma.fields.Integer()
    high = ma.fields.Integer()


class TicketItemOut(ma.Schema):
    """办件: one item of a ticket."""

    code = ma.fields.String()
    name = ma.fields.String()
    department = ma.fields.String()
    status = ma.fields.String()
    handling_class = ma.fields.String()
    time_limit_days = ma.fields.Integer()
    materials = ma.fields.List(ma.fields.String())
    online = ma.fields.Boolean()
    rated = ma.fields.Boolean(metadata={"description": "a rating was given (only on a single ticket's view)"})


class TicketOut(ma.Schema):
    """A ticket as shown to citizens and staff (ID numbers masked)."""

    id = ma.fields.Integer()
    number = ma.fields.String()
    status = ma.fields.String()
    queue = ma.fields.String()
    priority = ma.fields.String(allow_none=True)
    joint = ma.fields.Boolean()
    channel = ma.fields.String()
    appointment = ma.fields.Boolean(metadata={"description": "a checked-in booking's ticket (shown with 预约)"})
    items = ma.fields.List(ma.fields.Nested(TicketItemOut))
    people_ahead = ma.fields.Integer(allow_none=True)
    eta_minutes = ma.fields.Nested(EtaOut, allow_none=True)
    issued_at = ma.fields.String()
    called_at = ma.fields.String(allow_none=True)
    window = ma.fields.Integer(allow_none=True)
    target_window = ma.fields.Integer(allow_none=True)
    first_window = ma.fields.Integer(allow_none=True)
    recalls = ma.fields.Integer()
    missing_materials = ma.fields.List(ma.fields.String())
    parked_until = ma.fields.String(allow_none=True)
    id_masked = ma.fields.String(allow_none=True)
    priority_verified = ma.fields.Boolean(
        allow_none=True,
        metadata={"description": "green channel checked at issue (elderly ID); false = 待核验 by the clerk"},
    )
    track_url = ma.fields.String()


class TicketEnvelope(ma.Schema):
    """``{"ticket": …}``."""

    ticket = ma.fields.Nested(TicketOut)


class TokenQuery(Input):
    """The tracking secret from ``track_url`` (citizens) — staff need none."""

    token = ma.fields.String(load_default=None)


class TokenIn(Strict):
    """A citizen acting on their own ticket proves it with the tracking secret."""

    token = ma.fields.String(load_default=None, allow_none=True)


class ItemOut(ma.Schema):
    """A catalogue item."""

    code = ma.fields.String()
    name = ma.fields.String()
    category = ma.fields.String()
    department = ma.fields.String()
    handling_class = ma.fields.String()
    time_limit_days = ma.fields.Integer()
    service_minutes = ma.fields.Float()
    online = ma.fields.Boolean()
    materials = ma.fields.List(ma.fields.String())
    queue = ma.fields.String()
    review_chain = ma.fields.Boolean()
    daily_quota = ma.fields.Integer(allow_none=True)
    quota_left = ma.fields.Integer(allow_none=True)
    keywords = ma.fields.List(ma.fields.String(), metadata={"description": "words citizens use for the item"})
    initials = ma.fields.List(
        ma.fields.String(), metadata={"description": "pinyin initials of the name, then of each keyword"}
    )


class ItemsEnvelope(ma.Schema):
    """``{"items": […]}``."""

    items = ma.fields.List(ma.fields.Nested(ItemOut))


class TransferIn(Strict):
    """Transfer to a window or to an item, placed first (with return) or last."""

    to_window = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=999))
    to_item = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=40))
    position = ma.fields.String(load_default="last", validate=validate.OneOf(["first", "last"]))


class ParkIn(Strict):
    """容缺受理: which materials are missing, and optionally how many days to bring them."""

    # No minimum here: an empty list gets the engine's own message (no_missing_materials, zh/en), not
    # marshmallow's "Length must be between 1 and 20."
    missing = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=200, error="所缺材料最多登记20项，每项不超过200字")),
        required=True,
        validate=validate.Length(max=20, error="所缺材料最多登记20项，每项不超过200字"),
    )
    days = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=60))


class ResumeIn(Strict):
    """Resume a parked ticket at this window (with ``ticket``), or a paused window (empty body)."""

    # Bounded like the URL ids: a larger number overflowed the database driver (500, found by fuzzing).
    ticket = ma.fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))


class ClerkOut(ma.Schema):
    """Clerk shown at the window (亮牌亮证)."""

    name = ma.fields.String()
    staff_no = ma.fields.String(allow_none=True)


class CurrentOut(ma.Schema):
    """The ticket at a window, in the load overview."""

    id = ma.fields.Integer()
    number = ma.fields.String()
    status = ma.fields.String()
    items = ma.fields.List(ma.fields.String())
    since = ma.fields.String(allow_none=True)


class WindowOut(ma.Schema):
    """A window's state."""

    number = ma.fields.Integer()
    name = ma.fields.String()
    kind = ma.fields.String()
    state = ma.fields.String()
    queues = ma.fields.List(ma.fields.String())
    staffed = ma.fields.Boolean(metadata={"description": "a clerk is signed in at the window (presence)"})
    available = ma.fields.Boolean(metadata={"description": "open and staffed: counts as open for routing and ETA"})
    pause_reason = ma.fields.String(allow_none=True, metadata={"description": "meal | meeting | away while paused"})
    clerk = ma.fields.Nested(ClerkOut, allow_none=True, metadata={"description": "the clerk signed in, else null"})
    current_ticket_id = ma.fields.Integer(allow_none=True)
    current = ma.fields.Nested(CurrentOut, allow_none=True)


class WindowEnvelope(ma.Schema):
    """``{"window": …}``."""

    window = ma.fields.Nested(WindowOut)


class QueueLoadOut(ma.Schema):
    """One queue in the load overview."""

    code = ma.fields.String()
    prefix = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()
    waiting = ma.fields.Integer()
    longest_wait_seconds = ma.fields.Integer()


class HallRef(ma.Schema):
    """Which hall."""

    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class LoadOut(ma.Schema):
    """Live load of a hall."""

    hall = ma.fields.Nested(HallRef)
    at = ma.fields.String()
    waiting = ma.fields.Integer()
    longest_wait_seconds = ma.fields.Integer()
    queues = ma.fields.List(ma.fields.Nested(QueueLoadOut))
    windows = ma.fields.List(ma.fields.Nested(WindowOut))
    parked = ma.fields.Integer()
    needs_staff = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "open tidal windows nobody is signed in at (请安排人员到岗)"}
    )


class WindowPriorityIn(Strict):
    """The clerk's check of a 待核验 green-channel number."""

    verified = ma.fields.Boolean(
        required=True,
        metadata={"description": "true: the document was shown (已核验); false: back to the normal queue"},
    )


class HallQuery(Input):
    """Optional hall code for staff who see several halls."""

    hall = ma.fields.String(load_default=None)


class WaitingOut(ma.Schema):
    """A ticket a window could call."""

    id = ma.fields.Integer()
    number = ma.fields.String()
    queue = ma.fields.String()
    priority = ma.fields.String(allow_none=True)
    joint = ma.fields.Boolean()
    appointment = ma.fields.Boolean()
    items = ma.fields.List(ma.fields.String())
    item_names = ma.fields.List(ma.fields.String())
    booked = ma.fields.Boolean(metadata={"description": "checked-in appointment (预约)"})
    queue_entered_at = ma.fields.String()
    waited_minutes = ma.fields.Integer()
    targeted = ma.fields.Boolean()
    requeued = ma.fields.Boolean(metadata={"description": "back in the queue after a 过号 (过号回队)"})


class CallOrderEnvelope(ma.Schema):
    """``{"tickets": […]}``: the window's next tickets in the order call-next would take them."""

    tickets = ma.fields.List(ma.fields.Nested(WaitingOut))


class CallOrderQuery(Input):
    """How many of the next tickets to list."""

    limit = ma.fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class CallTicketIn(Strict):
    """选呼: the waiting ticket to call."""

    ticket = ma.fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    number = ma.fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\s*[A-Za-z]{1,3}\d{1,4}\s*$", error="号码为字母加数字，如 A036"),
        metadata={"description": "today's number instead of the id (选呼 by number, e.g. A036)"},
    )

    @ma.validates_schema
    def _one_of(self, data: dict, **_: object) -> None:
        if (data.get("ticket") is None) == (data.get("number") is None):
            raise ma.ValidationError("ticket 与 number 二选一", "ticket")


class PauseIn(Strict):
    """Why the window pauses: 就餐 / 会议 / 临时离开."""

    reason = ma.fields.String(load_default=None, allow_none=True, validate=validate.OneOf(["meal", "meeting", "away"]))


class TodayOut(ma.Schema):
    """Today's completed tickets at this window and by its signed-in clerk."""

    window_completed = ma.fields.Integer()
    clerk_completed = ma.fields.Integer()


class CurrentTicketOut(TicketOut):
    """The ticket at the window, with when its current state began (the service timer)."""

    since = ma.fields.String(allow_none=True)
    first_called_at = ma.fields.String(allow_none=True, metadata={"description": "the first call (recalls keep it)"})
    service_started_at = ma.fields.String(allow_none=True, metadata={"description": "开始办理, while serving"})
    requeues = ma.fields.Integer(metadata={"description": "过号 requeues so far"})


class ParkedOut(ma.Schema):
    """A parked (容缺) ticket."""

    id = ma.fields.Integer()
    number = ma.fields.String()
    missing = ma.fields.List(ma.fields.String())
    first_window = ma.fields.Integer(allow_none=True)
    parked_until = ma.fields.String(allow_none=True, metadata={"description": "deadline for the materials"})


class NoShowRuleOut(ma.Schema):
    """The hall's 过号 rule: ``requeue`` moves ``places_back`` places back up to ``max_requeues`` times, then ends."""

    mode = ma.fields.String(allow_none=True)
    places_back = ma.fields.Integer()
    max_requeues = ma.fields.Integer()


class WindowDetailOut(WindowOut):
    """A window with its current ticket in full and its waiting list."""

    current = ma.fields.Nested(CurrentTicketOut, allow_none=True)
    waiting = ma.fields.List(
        ma.fields.Nested(WaitingOut), metadata={"description": "the next 20 in call order (the routing policy's)"}
    )
    waiting_total = ma.fields.Integer()
    today = ma.fields.Nested(TodayOut)
    recall_limit = ma.fields.Integer(metadata={"description": "重呼 allowed per call (then the console disables it)"})
    parked = ma.fields.List(ma.fields.Nested(ParkedOut))
    no_show = ma.fields.Nested(NoShowRuleOut)


class WindowDetailEnvelope(ma.Schema):
    """``{"window": …}`` with details."""

    window = ma.fields.Nested(WindowDetailOut)


class ResumeOut(ma.Schema):
    """``{"ticket": …}`` when a parked ticket resumed, ``{"window": …}`` when a paused window did."""

    ticket = ma.fields.Nested(TicketOut)
    window = ma.fields.Nested(WindowOut)


class HallStatusOut(ma.Schema):
    """Public hall status for kiosks: open now, today's hours, next opening."""

    hall = ma.fields.Nested(HallRef)
    open = ma.fields.Boolean()
    today = ma.fields.String()
    next_opening = ma.fields.String(allow_none=True)
    notice = ma.fields.String(allow_none=True)


class ReprintIn(Strict):
    """Reprint at the guide desk: optionally name the printer (default: the hall's guide-desk printer)."""

    printer = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


class PrintOut(ma.Schema):
    """What happened to the slip. The ticket stands either way; when not printed the kiosk shows it on screen."""

    printed = ma.fields.Boolean(required=True)
    status = ma.fields.String(metadata={"description": "ok, near_end, paper_out, offline, error or no_printer"})
    message = ma.fields.String()
    printer = ma.fields.String(allow_none=True)
    ticket = ma.fields.Nested(TicketOut)


class AlertOut(ma.Schema):
    """An alert for the duty leader or manager."""

    id = ma.fields.Integer()
    source = ma.fields.String()
    kind = ma.fields.String()
    level = ma.fields.String()
    message = ma.fields.String()
    details = ma.fields.Dict()
    raised_at = ma.fields.String()
    cleared_at = ma.fields.String(allow_none=True)
    category = ma.fields.String(metadata={"description": "rating (差评), service, device or system"})
    acknowledged_at = ma.fields.String(allow_none=True)
    acknowledged_by = ma.fields.String(allow_none=True)


class AlertsOut(ma.Schema):
    """``{"alerts": […], "counts": {category: open alerts}}``, most important first."""

    alerts = ma.fields.List(ma.fields.Nested(AlertOut))
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class AlertsQuery(Input):
    """``?all=1`` includes cleared alerts."""

    all = ma.fields.Boolean(load_default=False)
    hall = ma.fields.String(load_default=None)


class DeviceOut(ma.Schema):
    """A registered device and its last known health (never its token)."""

    name = ma.fields.String()
    kind = ma.fields.String()
    window = ma.fields.Integer(allow_none=True)
    active = ma.fields.Boolean()
    status = ma.fields.String(allow_none=True)
    status_at = ma.fields.String(allow_none=True)
    last_seen = ma.fields.String(allow_none=True)
    online = ma.fields.Boolean(metadata={"description": "made a request in the last 3 minutes"})
    label = ma.fields.String(metadata={"description": "the name people read, e.g. 1号窗口 评价器"})
    status_of = ma.fields.String(metadata={"description": "printer: a kiosk's status is its printer's; else device"})


class DevicesOut(ma.Schema):
    """``{"devices": […]}``."""

    devices = ma.fields.List(ma.fields.Nested(DeviceOut))


class TidalIn(Strict):
    """``{"mode": "open" | "closed" | "auto"}``."""

    mode = ma.fields.String(required=True, validate=validate.OneOf(["open", "closed", "auto"]))


class TidalWindowOut(ma.Schema):
    """One tidal window (a stage of the tidal rule)."""

    window = ma.fields.Integer()
    state = ma.fields.String(allow_none=True)
    open = ma.fields.Boolean()
    pending_close = ma.fields.Boolean()
    reason = ma.fields.String(allow_none=True)
    reason_text = ma.fields.String(allow_none=True, metadata={"description": "the reason in the page's language"})
    predicted_wait_minutes = ma.fields.Float(allow_none=True)
    rule_open = ma.fields.Boolean(
        allow_none=True, metadata={"description": "what the rule decided (the state may differ: opened by hand)"}
    )


class TidalOut(ma.Schema):
    """The first tidal window's state, the override, and every tidal window in stage order (``windows``)."""

    window = ma.fields.Integer(allow_none=True)
    state = ma.fields.String()
    open = ma.fields.Boolean()
    override = ma.fields.String(allow_none=True)
    pending_close = ma.fields.Boolean()
    reason = ma.fields.String(allow_none=True)
    reason_text = ma.fields.String(allow_none=True, metadata={"description": "the reason in the page's language"})
    predicted_wait_minutes = ma.fields.Float(allow_none=True)
    rule_open = ma.fields.Boolean(
        allow_none=True, metadata={"description": "what the rule decided (the state may differ: opened by hand)"}
    )
    windows = ma.fields.List(ma.fields.Nested(TidalWindowOut))
