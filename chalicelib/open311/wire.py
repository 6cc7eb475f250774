"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) for 便民纸条: plain rules, no I/O.

What partner systems (the 12345 hotline, the grid system …) see: the service list (one service per
category of `chalicelib.domain.requests.CATEGORIES`), service definitions, a request in Open311's
shape, the spec's error list, and JSON or XML bodies. Parsing of what they send (a new request, a
search) is here too, each problem an `Open311Error` with the HTTP status the spec names.

Mapping: jurisdiction_id = a community id; service_code = a category; service_request_id = the public
request number (XG-20261127-0042); status is "open" for the open states, else "closed", and
status_notes the state's Chinese name. Times are ISO 8601 in Beijing time (+08:00).
"""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any, Mapping

from chalicelib.domain.dates import SHANGHAI, shanghai_iso
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record
from chalicelib.domain.requests import CATEGORIES, OPEN_STATES, STATE_NAMES, Policy, parse_number
from chalicelib.domain.text import xml_safe

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-27T00:00:00+08:00"  # bump when services, fields or behaviour change
CONTACT = "社区微信联盟服务平台（便民纸条 Open311 接口）。接入与问题请联系区平台管理员。"
KEY_SERVICE = "api_key 由区平台管理员为合作系统（如12345热线、网格化管理系统）发放，一个系统一个密钥。"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_DESCRIPTION = 4000  # the spec's limit on a request's description
MAX_IDS = 100  # service_request_id values in one search
SEARCH_WINDOW = timedelta(days=90)  # the spec's default (and here: largest) span of a search

# The service group and a short description of each category, for partners' pick lists.
SERVICE_INFO = {
    "meal_delivery": ("生活服务", "社区食堂、长者助餐点的饭菜送上门"),
    "repairs": ("生活服务", "水电、门锁、楼道照明等维修"),
    "cleaning": ("生活服务", "楼道和公共区域的打扫、垃圾清理"),
    "care_visit": ("关爱照料", "独居、行动不便居民的探访、陪护、陪诊"),
    "consultation": ("咨询服务", "社保、医保、证明等政策咨询和办理指引"),
    "legal": ("咨询服务", "法律咨询、邻里纠纷调解"),
    "consumer_complaint": ("权益保障", "消费纠纷、退款、假货等维权"),
    "psychological": ("关爱照料", "焦虑、失眠、情绪困扰的心理疏导"),
    "suggestion": ("意见建议", "对社区工作的意见和建议"),
    "other": ("其他", "其他需要社区帮忙的事"),
}
# Optional attributes of every service (attribute[grid]=XG-01 when filing).
ATTRIBUTES = (
    {"variable": True, "code": "grid", "datatype": "string", "required": False,
     "datatype_description": "网格编号，如 XG-01", "order": 1,
     "description": "网格：事发或居民所在的网格（可不填）"},
)
GRID = lazy_re(r"[A-Za-z0-9_-]{1,32}")
PHONE = lazy_re(r"[0-9+\- ()]{3,32}")
SLUG = lazy_re(r"[a-z0-9][a-z0-9.-]{0,63}")


class Open311Error(Exception):
    """A problem to answer with the spec's error list: `[{"code": status, "description": …}]`."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def errors_body(status: int, description: str) -> list[dict[str, Any]]:
    return [{"code": status, "description": description}]


def split_format(resource: str) -> tuple[str, str]:
    """`requests.json` -> ("requests", "json"); an unknown or missing format is a 404."""
    name, dot, fmt = resource.rpartition(".")
    if not dot or fmt not in FORMATS or not name:
        raise Open311Error(404, f"未知的资源或格式：{clean(resource)[:80]}（支持 .json 和 .xml）")
    return name, fmt


def format_hint(*path_values: str) -> str:
    """The format an error should be answered in: the path's suffix when it names one, else JSON."""
    for value in path_values:
        if isinstance(value, str) and value.endswith(".xml"):
            return "xml"
    return "json"


# ---- discovery and services ----------------------------------------------------------------------

def discovery(base_url: str, endpoint_type: str = "production") -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": CONTACT,
        "key_service": KEY_SERVICE,
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base_url,
            "changeset": CHANGESET,
            "type": endpoint_type,
            "formats": ["application/json", "text/xml"],
        }],
    }


def service_list(policy: Policy) -> list[dict[str, Any]]:
    """One realtime service per category, with the policy's keywords and expected hours."""
    services = []
    for code, name in CATEGORIES.items():
        group, text = SERVICE_INFO.get(code, ("其他", name))
        hours = policy.hours.get(code, policy.hours.get("other", 48))
        services.append({
            "service_code": code,
            "service_name": name,
            "description": f"{text}。一般 {hours} 小时内办结。",
            "metadata": bool(ATTRIBUTES),
            "type": "realtime",
            "keywords": ",".join(policy.keywords.get(code, ())),
            "group": group,
        })
    return services


def service_definition(code: str) -> dict[str, Any]:
    if code not in CATEGORIES:
        raise Open311Error(404, f"没有这个服务：{clean(code)[:64]}")
    return {"service_code": code, "attributes": [dict(a) for a in ATTRIBUTES]}


# ---- requests as Open311 shows them --------------------------------------------------------------

def status_of(state: str) -> str:
    return "open" if state in OPEN_STATES else "closed"


def local_time(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def filed_notice(number: str, agency: str | None, due: datetime | None) -> str:
    parts = [f"已收到，纸条编号 {number}。"]
    if agency:
        parts.append(f"已转{agency}办理。")
    if due:
        parts.append(f"预计 {local_time(due)} 前办结。")
    return "".join(parts)


def request_dict(r: Any, *, agency: str | None, address: str | None, private: bool) -> dict[str, Any]:
    """A stored request (number, state, category, text, created_at, updated_at, due_at) in Open311's
    shape. Without `private` (no key, or a partner not serving that community) the resident's words and
    the address are left out; a phone or a name is never shown."""
    is_open = r.state in OPEN_STATES
    notice = f"预计 {local_time(r.due_at)} 前办结" if is_open and r.due_at else None
    return {
        "service_request_id": r.number,
        "status": status_of(r.state),
        "status_notes": STATE_NAMES.get(r.state, r.state),
        "service_name": CATEGORIES.get(r.category, r.category),
        "service_code": r.category,
        "description": r.text if private else None,
        "agency_responsible": agency,
        "service_notice": notice,
        "requested_datetime": shanghai_iso(r.created_at),
        "updated_datetime": shanghai_iso(r.updated_at),
        "expected_datetime": shanghai_iso(r.due_at) if r.due_at else None,
        "address": (address or None) if private else None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def created_dict(number: str, notice: str) -> dict[str, Any]:
    return {"service_request_id": number, "service_notice": notice, "account_id": None}


# ---- what partners send --------------------------------------------------------------------------

def clean(value: str) -> str:
    """Text without the characters XML cannot carry (control characters, lone surrogates)."""
    return xml_safe(value)


def flatten(body: Mapping[str, Any]) -> dict[str, str]:
    """A JSON body as form fields: `{"attribute": {"grid": "XG-01"}}` -> `attribute[grid]`; numbers as
    text. Anything else that is not text is a 400."""
    fields: dict[str, str] = {}
    for key, value in body.items():
        if key == "attribute" and isinstance(value, dict):
            for code, item in value.items():
                fields[f"attribute[{code}]"] = _text(f"attribute[{code}]", item)
        elif value is not None:
            fields[str(key)] = _text(str(key), value)
    return fields


def _text(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Open311Error(400, f"参数 {clean(name)[:64]} 应为文字或数字")
    return value if isinstance(value, str) else repr(value)


@record
class Submission:
    jurisdiction_id: str
    service_code: str
    description: str
    contact: dict[str, str]
    grid: str | None = None


def required(fields: Mapping[str, str], name: str, what: str) -> str:
    value = clean(fields.get(name) or "").strip()
    if not value:
        raise Open311Error(400, f"缺少参数 {name}（{what}）")
    return value


def jurisdiction(fields: Mapping[str, str]) -> str:
    """The jurisdiction_id as given (required: this endpoint serves many communities)."""
    value = required(fields, "jurisdiction_id", "社区编号")
    if not SLUG.fullmatch(value):
        raise Open311Error(404, f"没有这个社区：{value[:64]}")
    return value


def parse_submission(fields: Mapping[str, str]) -> Submission:
    """POST requests: check every field; 400 for a missing or malformed one, 404 for an unknown
    service. Email, device_id, account_id and media_url are accepted and not kept."""
    community = jurisdiction(fields)
    code = required(fields, "service_code", "服务类别")
    if code not in CATEGORIES:
        raise Open311Error(404, f"没有这个服务：{code[:64]}")
    description = required(fields, "description", "居民反映的事项")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description 最多 {MAX_DESCRIPTION} 字")
    address = clean(fields.get("address_string") or "").strip()
    if len(address) > 500:
        raise Open311Error(400, "address_string 最多 500 字")
    location = _location(fields.get("lat"), fields.get("long"))
    if location:
        address = f"{address}（坐标 {location}）" if address else f"坐标 {location}"
    phone = clean(fields.get("phone") or "").strip()
    if phone and not PHONE.fullmatch(phone):
        raise Open311Error(400, "phone 格式不正确")
    name = _name(clean(fields.get("first_name") or "").strip(), clean(fields.get("last_name") or "").strip())
    if len(name) > 64:
        raise Open311Error(400, "first_name 和 last_name 合计最多 64 字")
    grid = clean(fields.get("attribute[grid]") or "").strip() or None
    if grid and not GRID.fullmatch(grid):
        raise Open311Error(400, "attribute[grid] 应为网格编号，如 XG-01")
    contact = {k: v for k, v in (("name", name), ("phone", phone), ("address", address)) if v}
    return Submission(community, code, description, contact, grid)


def _name(first: str, last: str) -> str:
    """A Chinese name is 姓 then 名 with no space; others "first last"."""
    if any("\u3400" <= ch <= "\u9fff" for ch in first + last):  # a CJK ideograph (cheaper than a regex class)
        return last + first
    return f"{first} {last}".strip()


def _location(lat: str | None, long: str | None) -> str | None:
    lat, long = (lat or "").strip(), (long or "").strip()
    if not lat and not long:
        return None
    try:
        y, x = float(lat), float(long)
    except ValueError:
        raise Open311Error(400, "lat 和 long 应同时提供，且为数字（WGS84）") from None
    if not (math.isfinite(y) and math.isfinite(x) and -90 <= y <= 90 and -180 <= x <= 180):
        raise Open311Error(400, "lat 应在 -90 到 90 之间，long 应在 -180 到 180 之间")
    return f"{y:.6f},{x:.6f}"


# ---- searching -----------------------------------------------------------------------------------

@record
class Search:
    """GET requests: by numbers (everything else ignored, as the spec says), or by the filters within
    a window of at most 90 days, newest first."""

    numbers: tuple[str, ...]
    codes: frozenset[str]
    statuses: frozenset[str]
    start: datetime
    end: datetime
    page_token: str | None = None

    def matches(self, r: Any) -> bool:
        return ((not self.codes or r.category in self.codes)
                and (not self.statuses or status_of(r.state) in self.statuses)
                and self.start <= r.created_at <= self.end)


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_datetime(value: str, name: str) -> datetime:
    """W3C / ISO 8601 (2026-11-27T08:00:00Z, …+08:00, or a day); without a zone: Beijing time."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Open311Error(400, f"{name} 应为 ISO 8601 时间，如 2026-11-27T08:00:00+08:00") from None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def parse_search(params: Mapping[str, str], now: datetime) -> Search:
    numbers: list[str] = []
    for raw in _csv(params.get("service_request_id")):
        number = parse_number(raw)
        if number is None:
            raise Open311Error(400, f"service_request_id 无效：{clean(raw)[:64]}")
        if number not in numbers:
            numbers.append(number)
    if len(numbers) > MAX_IDS:
        raise Open311Error(400, f"service_request_id 一次最多 {MAX_IDS} 个")
    codes = _csv(params.get("service_code"))
    unknown = [c for c in codes if c not in CATEGORIES]
    if unknown:
        raise Open311Error(400, f"service_code 无效：{clean(unknown[0])[:64]}")
    statuses = _csv(params.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status 只能是 open 或 closed")
    start = parse_datetime(params["start_date"], "start_date") if params.get("start_date") else None
    end = parse_datetime(params["end_date"], "end_date") if params.get("end_date") else None
    if start is None and end is None:
        start, end = now - SEARCH_WINDOW, now
    elif start is None:
        start = end - SEARCH_WINDOW
    elif end is None:
        end = start + SEARCH_WINDOW
    if end < start:
        raise Open311Error(400, "end_date 不能早于 start_date")
    if end - start > SEARCH_WINDOW:
        raise Open311Error(400, "start_date 到 end_date 最长 90 天")
    return Search(tuple(numbers), frozenset(codes), frozenset(statuses), start, end,
                  params.get("page_token") or None)


# ---- bodies --------------------------------------------------------------------------------------

# In XML each list is an element holding one element per item, named here.
XML_ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
             "formats": "format", "attributes": "attribute", "values": "value"}


def render(root: str, data: Any, fmt: str) -> tuple[str, str]:
    """(body, content type). `root` names the XML root: discovery, services, service_definition,
    service_requests or errors; JSON is the data as it is."""
    if fmt == "xml":
        return to_xml(root, data), FORMATS["xml"]
    return json.dumps(data, ensure_ascii=False), FORMATS["json"]


def to_xml(root: str, data: Any) -> str:
    element = ET.Element(root)
    _fill(element, root, data)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")


def _fill(element: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, (list, tuple)):
        item_tag = XML_ITEMS[tag]
        for item in value:
            _fill(ET.SubElement(element, item_tag), item_tag, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), key, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = clean(str(value))
