"""Error messages in the request's language, chosen by the error's stable code.

The engine raises Chinese messages with details filled in ("3号窗口当前没有号码"); an English page must not show
them. The code says what went wrong, so an English request gets the code's English text here. Chinese requests
keep the engine's detailed message. A code without an entry keeps its message (and shows up in the page tests).
"""

from __future__ import annotations

from flask_babel import get_locale, gettext


def N_(text: str) -> str:  # noqa: N802 - the gettext marker pybabel extracts by default
    """Mark a text for translation; it is translated when an error is answered."""
    return text


TEXTS = {
    "already_printed": N_("该号票已打印，补打请到导办台"),
    "already_rated": N_("该事项已评价，不能重复评价"),
    "bad_booking_code": N_("预约号为6位数字"),
    "bad_credentials": N_("用户名或密码错误"),
    "bad_days": N_("补齐材料期限应为1到60天"),
    "bad_phone": N_("手机号码应为11位数字"),
    "bad_position": N_("排队位置只能是队首或队尾"),
    "bad_score": N_("评价等级应为1–5"),
    "bad_slot": N_("该时段不在办公时间内或不是有效的预约时段"),
    "bad_token": N_("号码凭证无效"),
    "bad_transfer": N_("请指定转办的目标窗口或目标事项（二选一）"),
    "booking_mismatch": N_("身份证号码与预约不符"),
    "booking_not_found": N_("预约不存在，请核对预约号（签到只限预约当天）"),
    "concurrent_update": N_("该号码刚被其他窗口处理，请刷新后重试"),
    "database_unavailable": N_("数据库暂时不可用，请稍后重试"),
    "demo_account_disabled": N_("演示账号在生产环境中已禁用"),
    "forbidden": N_("无权进行此操作"),
    "forbidden_role": N_("无权进行此操作"),
    "hall_closed": N_("大厅当前不在办公时间"),
    "hall_not_found": N_("大厅不存在"),
    "id_daily_limit": N_("同一身份证当天取号次数已达上限"),
    "invalid_transition": N_("该号码当前状态不能进行此操作"),
    "invalid_window_transition": N_("窗口当前状态不能进行此操作"),
    "no_current_ticket": N_("本窗口当前没有号码"),
    "no_items": N_("请至少选择一个事项"),
    "no_late_return": N_("该号码不能再次恢复，请重新取号"),
    "no_missing_materials": N_("容缺受理须登记所缺材料"),
    "no_printer": N_("大厅未配置导办台打印机"),
    "not_elderly": N_("根据身份证号码，年龄未满65周岁，不能走老年人绿色通道"),
    "nothing_to_rate": N_("本窗口暂无可评价的业务"),
    "one_booking_per_day": N_("同一身份证每天只能预约一次"),
    "other_hall": N_("无权操作其他大厅"),
    "other_window": N_("只能评价本窗口办理的业务"),
    "printer_not_found": N_("打印机不存在"),
    "quota_reached": N_("该事项今日号源已取完，请明日再来或预约办理"),
    "rating_closed": N_("该业务已超过评价期限"),
    "recall_limit": N_("重呼次数已达上限，请办理过号"),
    "same_department": N_("两个事项须属于不同部门才能合并为一件事联办"),
    "same_window": N_("不能转办到本窗口"),
    "slot_full": N_("该时段已约满，请选择其他时段"),
    "slot_past": N_("不能预约已经过去的时段"),
    "target_closed": N_("目标窗口已关闭，不能转办到该窗口，请选择开放的窗口"),
    "target_unstaffed": N_("目标窗口无人签到，转过去的群众无人叫号，请选择有人在岗的窗口"),
    "ticket_ended": N_("号码已结束，不能打印"),
    "ticket_not_found": N_("号码不存在"),
    "ticket_not_today": N_("只能打印当天的号码"),
    "too_many_items": N_("一个号码最多办理两个事项"),
    "unauthenticated": N_("请先登录"),
    "unknown_item": N_("事项不存在"),
    "window_busy": N_("请先处理当前号码"),
    "window_not_found": N_("窗口不存在"),
    "wrong_window": N_("您只能操作本人所在的窗口"),
    # sec-fix
    "device_url_refused": N_("不允许的设备地址类型（打印机只可用 tcp://、usb://、serial:///dev/…）"),
    "device_host_refused": N_("该主机不在允许的设备主机列表中（由运维在大厅配置文件中设置）"),
    "device_port_refused": N_("该端口不是打印机端口（由运维在大厅配置文件中设置）"),
    "bad_device_config": N_("设备设置有误，请对照设备说明检查"),
    "untrusted_host": N_("请求地址不受信任"),
    "not_your_queue": N_("只能取消本窗口队列的号码；其他号码请群众到咨询引导台或由值班领导取消"),
    "not_priority": N_("当前号码不是绿色通道号码"),
    "window_taken": N_("该窗口已有工作人员签到，请其签退后（或签到超时后）再签到"),
}

translate = gettext  # a variable in gettext() would be extracted as text


def localized(code: str, message: str) -> str:
    """The message to answer: the code's English text on an English request, else the engine's message."""
    if code in TEXTS and str(get_locale() or "zh_CN").startswith("en"):
        return translate(TEXTS[code])
    return message
