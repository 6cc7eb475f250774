"""The OpenAPI 3.0.3 description of the staff and public JSON API under `/api/v1`, built once at import.

Served by `chalicelib.routes.openapi` at `GET /api/v1/openapi.json`. `tests/test_openapi.py` checks that
it names exactly the routes of `app.routes` under `/api/v1` (same `{param}` names), that every route
behind the staff authorizer carries `security: [{bearer: []}]` and every public one `security: []`, and
that it validates as OpenAPI 3.0. Add a route to a blueprint: add it here too, or that test fails.

Identifiers are English; summaries are for staff and partners, in Chinese.
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

from chalicelib.domain import vocabulary

OPENAPI_VERSION = "3.0.3"
BEARER = [{"bearer": []}]
PUBLIC: list = []

# ---- reusable pieces -------------------------------------------------------------------------------

_STATUS_TEXT = {
    200: "成功", 201: "已创建", 400: "请求有误（字段缺失、格式错误、未知的类别或状态等）",
    401: "未登录，或令牌无效、过期、已注销", 403: "没有权限执行此操作", 404: "不存在，或不在您的管辖范围内（二者不作区分）",
    409: "状态已变化，或当前状态下不能执行此操作", 429: "登录尝试过于频繁，请稍后再试",
}


def _error(status: int) -> dict[str, Any]:
    return {"description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(schema_ref: str | dict, status: int = 200, description: str | None = None) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{schema_ref}"} if isinstance(schema_ref, str) else schema_ref
    return {"description": description or _STATUS_TEXT[status],
            "content": {"application/json": {"schema": schema}}}


def _path_param(name: str, description: str, example: str | None = None, fmt: str | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if fmt:
        schema["format"] = fmt
    param = {"name": name, "in": "path", "required": True, "description": description, "schema": schema}
    if example:
        param["example"] = example
    return param


def _query_param(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _body(schema_ref: str, description: str | None = None) -> dict[str, Any]:
    body = {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}
    if description:
        body["description"] = description
    return body


def _op(operation_id: str, tag: str, summary: str, responses: dict[int, dict], *, public: bool = False,
        parameters: list | None = None, body: dict | None = None, description: str | None = None) -> dict:
    op: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": summary,
                          "security": [{k: list(v) for k, v in s.items()} for s in (PUBLIC if public else BEARER)]}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = body
    op["responses"] = {str(status): response for status, response in sorted(responses.items())}
    return op


def _errors(*statuses: int) -> dict[int, dict]:
    return {s: _error(s) for s in statuses}


NUMBER = _path_param("number", "便民纸条编号", "XG-20260601-0001")
CANTEEN = _path_param("canteen_id", "食堂编号", "xianggang-huayuan-canteen")
COMMUNITY = _path_param("community_id", "社区编号", "xianggang-huayuan")
COMMUNITY_Q = _query_param("community", "社区编号；只管一个社区的用户可省略")
LIMIT_Q = _query_param("limit", "每页条数（1–100）", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20})
CURSOR_Q = _query_param("cursor", "上一页返回的 cursor，原样传回")
DATE_Q = _query_param("date", "日期 YYYY-MM-DD（上海时间）", {"type": "string", "format": "date"})

STATES = list(vocabulary.STATES)
CATEGORIES = list(vocabulary.CATEGORIES)
MEALS = list(vocabulary.MEALS)
ROLES = list(vocabulary.ROLES)

_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "description": "稳定的英文错误代码", "example": "not_found"},
        "message": {"type": "string", "description": "给工作人员看的中文说明"}}},
    "Credentials": {"type": "object", "required": ["username", "password"], "properties": {
        "username": {"type": "string", "minLength": 1}, "password": {"type": "string", "minLength": 1,
                                                                      "format": "password"}}},
    "PasswordChange": {"type": "object", "required": ["old_password", "new_password"], "properties": {
        "old_password": {"type": "string", "format": "password"},
        "new_password": {"type": "string", "format": "password"}}},
    "User": {"type": "object", "properties": {
        "username": _STR, "display_name": _STR, "role": {"type": "string", "enum": ROLES},
        "role_name": _STR, "scope": {"type": "object", "properties": {
            k: _NSTR for k in ("district_id", "subdistrict_id", "community_id", "team_id", "department_id")}}}},
    "Session": {"type": "object", "required": ["token"], "properties": {
        "token": {"type": "string", "description": "JWT；放在 Authorization: Bearer 头里"},
        "token_type": {"type": "string", "example": "Bearer"}, "expires_at": {"type": "string", "format": "date-time"},
        "expires_in": {"type": "integer"}, "user": {"$ref": "#/components/schemas/User"}}},
    "Me": {"type": "object", "properties": {"user": {"$ref": "#/components/schemas/User"}}},
    "Ok": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
    "Contact": {"type": "object", "properties": {"name": _NSTR, "phone": _NSTR, "address": _NSTR},
                "description": "为该纸条服务的人看到完整信息，其余只见打码后的电话和地址"},
    "Request": {"type": "object", "properties": {
        "number": _STR, "state": {"type": "string", "enum": STATES}, "state_name": _STR,
        "category": {"type": "string", "enum": CATEGORIES}, "category_name": _STR,
        "community_id": _NSTR, "team_id": _NSTR, "department_id": _NSTR, "grid": _NSTR, "channel": _STR,
        "text": _STR, "details": {"type": "object", "additionalProperties": True},
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
        "due_at": {"type": "string", "format": "date-time", "nullable": True}, "escalation": {"type": "integer"},
        "rating": {"type": "integer", "nullable": True}, "rating_comment": _NSTR, "has_wechat": {"type": "boolean"},
        "contact": {"$ref": "#/components/schemas/Contact"}}},
    "Event": {"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"}, "action": _STR, "actor": _NSTR, "actor_kind": _NSTR,
        "actor_role": _NSTR, "from_state": _NSTR, "to_state": _NSTR, "note": _NSTR,
        "fields": {"type": "object", "additionalProperties": True}}},
    "RequestDetail": {"allOf": [{"$ref": "#/components/schemas/Request"}, {"type": "object", "properties": {
        "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
        "actions": {"type": "array", "items": _STR, "description": "当前状态下可执行的动作"}}}]},
    "RequestPage": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Request"}}, "cursor": _NSTR}},
    "RequestList": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Request"}}}},
    "NewRequest": {"type": "object", "required": ["community_id", "text"], "properties": {
        "community_id": _STR, "text": {"type": "string", "description": "居民的原话"},
        "category": {"type": "string", "enum": CATEGORIES, "description": "省略时按关键词自动分类"},
        "grid": _STR, "contact": {"type": "object", "properties": {"name": _STR, "phone": _STR, "address": _STR}}}},
    "Transition": {"type": "object", "required": ["action"], "properties": {
        "action": {"type": "string", "enum": ["accept", "assign", "start", "complete", "reject", "cancel", "reopen"]},
        "note": _STR, "team_id": {"type": "string", "description": "assign：指定服务队"},
        "department_id": {"type": "string", "description": "assign：指定对接部门"}}},
    "Recategorise": {"type": "object", "required": ["category"], "properties": {
        "category": {"type": "string", "enum": CATEGORIES}, "note": _STR}},
    "Note": {"type": "object", "required": ["note"], "properties": {"note": {"type": "string", "minLength": 1}}},
    "SenderBlock": {"type": "object", "required": ["number", "reason"], "properties": {
        "number": {"type": "string", "description": "显示滥用的便民纸条编号（居民在微信或网页上提交的）"},
        "reason": {"type": "string", "maxLength": 200, "description": "原因（记入审计）"}}},
    "SenderBlockResult": {"type": "object", "properties": {"number": _STR, "blocked": {"type": "boolean"}}},
    "AuditPage": {"type": "object", "properties": {"items": {"type": "array", "items": {"allOf": [
        {"$ref": "#/components/schemas/Event"}, {"type": "object", "properties": {"number": _STR}}]}},
        "cursor": _NSTR}},
    "CommunitySummary": {"type": "object", "properties": {"id": _STR, "name": _STR, "code": _STR,
                                                          "subdistrict_id": _STR}},
    "CommunityList": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/CommunitySummary"}}, "cursor": _NSTR}},
    "Community": {"allOf": [{"$ref": "#/components/schemas/CommunitySummary"}, {"type": "object", "properties": {
        "grids": {"type": "array", "items": _STR},
        "account": {"type": "object", "nullable": True, "properties": {
            "id": _STR, "name": _STR, "type": _STR, "encryption_mode": _STR}},
        "teams": {"type": "array", "items": {"type": "object", "properties": {
            "id": _STR, "kind": _STR, "kind_name": _STR, "name": _STR}}},
        "canteens": {"type": "array", "items": {"type": "object", "properties": {"id": _STR, "name": _STR,
                                                                                "kind": _STR}}},
        "staff": {"type": "array", "description": "仅有 staff.view 权限的角色可见", "items": {
            "type": "object", "properties": {"username": _STR, "display_name": _STR, "role": _STR,
                                             "role_name": _STR}}}}}]},
    "RequestCounts": {"type": "object", "properties": {"community_id": _STR, "counts": {
        "type": "object", "additionalProperties": {"type": "integer"}}}},
    "Dish": {"type": "object", "required": ["name", "price_fen"], "properties": {
        "name": {"type": "string", "maxLength": 30}, "price_fen": {"type": "integer", "minimum": 0, "maximum": 100000},
        "marks": {"type": "array", "items": _STR}}},
    "MealSet": {"type": "object", "required": ["name", "price_fen"], "properties": {
        "name": _STR, "price_fen": {"type": "integer"}, "dishes": {"type": "array", "items": _STR}}},
    "Meals": {"type": "object", "description": "按餐次（breakfast、lunch、dinner）", "additionalProperties": {
        "type": "object", "properties": {"dishes": {"type": "array", "items": {"$ref": "#/components/schemas/Dish"}},
                                         "sets": {"type": "array", "items": {"$ref": "#/components/schemas/MealSet"}}}}},
    "PublicMenus": {"type": "object", "properties": {
        "canteen": {"type": "object", "properties": {
            "id": _STR, "name": _STR, "community_id": _STR, "elder_subsidy_fen": {"type": "integer"},
            "hours": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                "opens": _STR, "closes": _STR}}}}},
        "menus": {"type": "array", "items": {"type": "object", "properties": {
            "date": {"type": "string", "format": "date"}, "published": {"type": "boolean"},
            "meals": {"$ref": "#/components/schemas/Meals"}}}}}},
    "MenuInput": {"type": "object", "required": ["meals"], "properties": {
        "meals": {"$ref": "#/components/schemas/Meals"}, "published": {"type": "boolean", "default": False}}},
    "Menu": {"type": "object", "properties": {"date": {"type": "string", "format": "date"},
                                              "published": {"type": "boolean"},
                                              "meals": {"$ref": "#/components/schemas/Meals"}}},
    "CopyWeek": {"type": "object", "required": ["from", "to"], "properties": {
        "from": {"type": "string", "format": "date", "description": "源周内的任一天"},
        "to": {"type": "string", "format": "date", "description": "目标周内的任一天"},
        "publish": {"type": "boolean", "default": False}}},
    "CopyWeekResult": {"type": "object", "properties": {
        "copied": {"type": "array", "items": {"type": "string", "format": "date"}}, "published": {"type": "boolean"}}},
    "Delivery": {"type": "object", "properties": {
        "number": _STR, "state": _STR, "state_name": _STR, "portions": {"type": "integer"},
        "dishes": {"type": "array", "items": _STR}, "name": _NSTR, "phone": _NSTR, "address": _NSTR, "grid": _NSTR,
        "note": _STR}},
    "DeliveryList": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}}}},
}

# ---- the paths -------------------------------------------------------------------------------------

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/openapi.json": {"get": _op(
        "getOpenApi", "meta", "本接口文档（OpenAPI 3.0.3）", {200: _ok({"type": "object"})}, public=True)},

    # auth
    "/api/v1/auth/login": {"post": _op(
        "login", "auth", "工作人员登录", {200: _ok("Session"), **_errors(400, 401, 429)}, public=True,
        body=_body("Credentials"))},
    "/api/v1/auth/logout": {"post": _op(
        "logout", "auth", "退出登录（此前签发的令牌全部作废）", {200: _ok("Ok"), **_errors(401)})},
    "/api/v1/auth/password": {"post": _op(
        "changePassword", "auth", "修改密码（返回新的会话，旧令牌作废）",
        {200: _ok("Session"), **_errors(400, 401, 403)}, body=_body("PasswordChange"))},
    "/api/v1/auth/me": {"get": _op("me", "auth", "当前登录用户及其管辖范围", {200: _ok("Me"), **_errors(401)})},

    # 便民纸条
    "/api/v1/requests": {
        "get": _op("listRequests", "requests", "便民纸条列表（新的在前）",
                   {200: _ok("RequestPage"), **_errors(400, 401, 404)},
                   parameters=[COMMUNITY_Q, _query_param("state", "状态", {"type": "string", "enum": STATES}),
                               _query_param("category", "类别", {"type": "string", "enum": CATEGORIES}),
                               _query_param("team", "服务队编号"), LIMIT_Q, CURSOR_Q]),
        "post": _op("fileRequest", "requests", "代居民登记便民纸条（电话、上门）",
                    {201: _ok("RequestDetail", 201), **_errors(400, 401, 403, 404)}, body=_body("NewRequest")),
    },
    "/api/v1/requests/overdue": {"get": _op(
        "overdueRequests", "requests", "超时未办结的便民纸条", {200: _ok("RequestList"), **_errors(400, 401, 404)},
        parameters=[COMMUNITY_Q])},
    "/api/v1/requests/{number}": {"get": _op(
        "viewRequest", "requests", "查看便民纸条及其办理经过", {200: _ok("RequestDetail"), **_errors(401, 404)},
        parameters=[NUMBER])},
    "/api/v1/requests/{number}/transitions": {"post": _op(
        "transitionRequest", "requests", "变更状态（受理、派单、开始、办结、不予受理、取消、重新办理）",
        {200: _ok("RequestDetail"), **_errors(400, 401, 403, 404, 409)}, parameters=[NUMBER],
        body=_body("Transition"))},
    "/api/v1/requests/{number}/category": {"post": _op(
        "recategoriseRequest", "requests", "更改类别（尚未派单的按新类别重新分派）",
        {200: _ok("RequestDetail"), **_errors(400, 401, 403, 404)}, parameters=[NUMBER],
        body=_body("Recategorise"))},
    "/api/v1/requests/{number}/notes": {"post": _op(
        "noteRequest", "requests", "添加内部备注", {200: _ok("RequestDetail"), **_errors(400, 401, 403, 404)},
        parameters=[NUMBER], body=_body("Note"))},
    "/api/v1/residents/block": {"post": _op(
        "blockSender", "residents", "屏蔽某张纸条的发送者：此后其便民纸条一律不受理（记入审计）",
        {200: _ok("SenderBlockResult"), **_errors(400, 401, 403, 404)}, body=_body("SenderBlock"))},
    "/api/v1/residents/unblock": {"post": _op(
        "unblockSender", "residents", "解除对某张纸条发送者的屏蔽（记入审计）",
        {200: _ok("SenderBlockResult"), **_errors(400, 401, 403, 404)}, body=_body("SenderBlock"))},
    "/api/v1/audit": {"get": _op(
        "auditLog", "requests", "社区审计记录（只读）", {200: _ok("AuditPage"), **_errors(400, 401, 403, 404)},
        parameters=[COMMUNITY_Q, LIMIT_Q, CURSOR_Q])},

    # directory
    "/api/v1/communities": {"get": _op(
        "listCommunities", "directory", "我能看到的社区（按编号分页）", {200: _ok("CommunityList"), **_errors(400, 401)},
        parameters=[_query_param("limit", "每页条数（1–100）", {"type": "integer", "minimum": 1, "maximum": 100,
                                                          "default": 100}), CURSOR_Q])},
    "/api/v1/communities/{community_id}": {"get": _op(
        "getCommunity", "directory", "社区详情：公众号、服务队、食堂（及工作人员）",
        {200: _ok("Community"), **_errors(401, 404)}, parameters=[COMMUNITY])},
    "/api/v1/communities/{community_id}/request-counts": {"get": _op(
        "requestCounts", "requests", "社区便民纸条各状态数量", {200: _ok("RequestCounts"), **_errors(401, 404)},
        parameters=[COMMUNITY])},

    # canteens
    "/api/v1/canteens/{canteen_id}/menus": {"get": _op(
        "publicMenus", "canteens", "食堂菜单（公开，可缓存五分钟）", {200: _ok("PublicMenus"), **_errors(400, 404)},
        public=True, parameters=[CANTEEN, _query_param("date", "某一天（省略为今天起七天）",
                                                       {"type": "string", "format": "date"})])},
    "/api/v1/canteens/{canteen_id}/menus/{day}": {"put": _op(
        "saveMenu", "canteens", "编辑某天菜单（可同时发布）", {200: _ok("Menu"), **_errors(400, 401, 403, 404)},
        parameters=[CANTEEN, _path_param("day", "日期 YYYY-MM-DD", "2026-06-01", "date")], body=_body("MenuInput"))},
    "/api/v1/canteens/{canteen_id}/menus/copy-week": {"post": _op(
        "copyWeek", "canteens", "复制一周菜单到另一周", {200: _ok("CopyWeekResult"), **_errors(400, 401, 403, 404)},
        parameters=[CANTEEN], body=_body("CopyWeek"))},
    "/api/v1/canteens/{canteen_id}/deliveries": {"get": _op(
        "deliveries", "canteens", "送餐单（JSON、CSV 或可打印的网页）",
        {200: {"description": _STATUS_TEXT[200], "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/DeliveryList"}},
            "text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}}}},
         **_errors(400, 401, 403, 404)},
        parameters=[CANTEEN, DATE_Q, _query_param("meal", "餐次", {"type": "string", "enum": MEALS,
                                                                  "default": "lunch"}),
                    _query_param("format", "格式", {"type": "string", "enum": ["json", "csv", "xlsx", "html"],
                                                    "default": "json"})])},
    "/api/v1/canteens/{canteen_id}/deliveries/{number}/delivered": {"post": _op(
        "markDelivered", "canteens", "标记已送达（办结该送餐纸条）",
        {200: _ok("RequestDetail"), **_errors(400, 401, 403, 404)}, parameters=[CANTEEN, NUMBER])},
}

# ---- publishing (信息发布) ---------------------------------------------------------------------------

POST_ID = _path_param("post_id", "稿件编号", "P20261201-1a2b3c4d")
_ARTICLE = {"type": "object", "required": ["title", "content"], "properties": {
    "title": {"type": "string", "description": "不超过64字节（汉字按2字节计）"}, "author": _STR,
    "digest": {"type": "string", "maxLength": 120}, "content": {"type": "string", "description": "HTML，少于2万字符、小于1MB；图片须先上传到微信"},
    "cover_media_id": _STR, "cover_url": _STR, "content_source_url": _STR, "comments_open": {"type": "boolean"}}}
SCHEMAS.update({
    "PostInput": {"type": "object", "properties": {
        "community_id": _STR, "topic": _STR, "planned_day": {"type": "string", "format": "date"},
        "slot": {"type": "string", "enum": ["08:00", "12:00", "18:00"]},
        "expires_on": {"type": "string", "format": "date", "nullable": True},
        "articles": {"type": "array", "maxItems": 8, "items": _ARTICLE},
        "version": {"type": "integer", "description": "编辑时传回读到的 version（乐观锁）"}}},
    "Post": {"type": "object", "properties": {
        "post_id": _STR, "community_id": _STR, "topic": _STR, "planned_day": {"type": "string", "format": "date"},
        "slot": _STR, "state": {"type": "string", "enum": ["topic", "draft", "first_review", "second_review",
                                                           "scheduled", "sent", "failed"]},
        "state_label": _STR, "revision": {"type": "integer"}, "version": {"type": "integer"},
        "articles": {"type": "array", "items": _ARTICLE}, "actions": {"type": "array", "items": _STR},
        "findings": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "diff": {"type": "array", "items": _STR, "description": "自上次审核以来的改动（unified diff）"},
        "history": {"type": "array", "items": {"type": "object", "additionalProperties": True}}}},
    "PostStep": {"type": "object", "required": ["action"], "properties": {
        "action": {"type": "string", "enum": ["start", "submit", "approve", "send_back", "withdraw"]},
        "comment": {"type": "string", "description": "退回时必填"},
        "checklist": {"type": "array", "items": _STR, "description": "二审勾选的政策关清单项"}}},
    "PostHistory": {"type": "object", "additionalProperties": True},
    "PostCalendar": {"type": "object", "properties": {"community_id": _STR, "month": _STR, "post_time": _STR, "days": {
        "type": "array", "items": {"type": "object", "additionalProperties": True}}}},
    "PostTime": {"type": "object", "required": ["time"], "properties": {
        "time": {"type": "string", "pattern": "^([01][0-9]|2[0-2]):(00|30)$", "example": "08:00",
                 "description": "每日发布时间（北京时间，06:00–22:00 的整点或半点）"},
        "community_id": _STR, "post_time": _STR}},
    "ReviewQueue": {"type": "object", "properties": {
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "items": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "notices": {"type": "array", "items": {"type": "object", "additionalProperties": True}}}},
    "CheckPolicy": {"type": "object", "additionalProperties": True, "description":
                    "banned_words, sensitive_words, wrong_phrases, link_whitelist, checklist, levels"},
    "CheckResult": {"type": "object", "properties": {"findings": {"type": "array", "items": {
        "type": "object", "additionalProperties": True}}}},
    "ImageUpload": {"type": "object", "required": ["kind", "data_base64"], "properties": {
        "community_id": _STR, "kind": {"type": "string", "enum": ["body", "cover"]}, "data_base64": _STR}},
    "UploadedImage": {"type": "object", "properties": {"kind": _STR, "url": _STR, "media_id": _STR}},
})
PATHS.update({
    "/api/v1/posts": {"post": _op("proposePost", "publishing", "提出选题或新建稿件",
                                  {201: _ok("Post", 201), **_errors(400, 401, 403, 404)}, body=_body("PostInput"))},
    "/api/v1/posts/{post_id}": {
        "get": _op("viewPost", "publishing", "查看稿件：检查结果、自上次审核的改动、历史",
                   {200: _ok("Post"), **_errors(401, 404)}, parameters=[POST_ID]),
        "put": _op("editPost", "publishing", "修改稿件（每次修改都是一个版本；审核中锁定；批准后修改须重新一审）",
                   {200: _ok("Post"), **_errors(400, 401, 403, 404, 409)}, parameters=[POST_ID],
                   body=_body("PostInput"))},
    "/api/v1/posts/{post_id}/steps": {"post": _op(
        "postStep", "publishing", "流程操作：开始编写、提交、通过、退回、撤回",
        {200: _ok("Post"), **_errors(400, 401, 403, 404, 409)}, parameters=[POST_ID], body=_body("PostStep"))},
    "/api/v1/posts/{post_id}/history": {"get": _op(
        "postHistory", "publishing", "稿件的全部版本和审核记录", {200: _ok("PostHistory"), **_errors(401, 404)},
        parameters=[POST_ID])},
    "/api/v1/communities/{community_id}/post-calendar": {"get": _op(
        "postCalendar", "publishing", "社区的发布日历（计划、已批准、已发送、缺失）",
        {200: _ok("PostCalendar"), **_errors(400, 401, 403, 404)},
        parameters=[COMMUNITY, _query_param("month", "月份 YYYY-MM（省略为本月）")])},
    "/api/v1/communities/{community_id}/post-time": {"put": _op(
        "setPostTime", "publishing", "设置社区公众号的每日发布时间（社区主任或区里）",
        {200: _ok("PostTime"), **_errors(400, 401, 403, 404)}, parameters=[COMMUNITY], body=_body("PostTime"))},
    "/api/v1/publishing/queue": {"get": _op(
        "reviewQueue", "publishing", "我的待办：待审稿件及数量、通知", {200: _ok("ReviewQueue"), **_errors(401)})},
    "/api/v1/publishing/policy": {
        "get": _op("getCheckPolicy", "publishing", "本区的三关检查规则", {200: _ok("CheckPolicy"), **_errors(401, 403)}),
        "put": _op("saveCheckPolicy", "publishing", "修改本区的禁用词、敏感词、链接白名单和政策关清单",
                   {200: _ok("CheckPolicy"), **_errors(400, 401, 403)}, body=_body("CheckPolicy"))},
    "/api/v1/publishing/check": {"post": _op(
        "checkArticles", "publishing", "文字关检查（不保存）", {200: _ok("CheckResult"), **_errors(400, 401, 403, 404)},
        body=_body("PostInput"))},
    "/api/v1/publishing/images": {"post": _op(
        "uploadImage", "publishing", "上传文章图片到微信（正文图片或封面）",
        {201: _ok("UploadedImage", 201), **_errors(400, 401, 403, 404)}, body=_body("ImageUpload"))},
})


# ---- the alliance: matrix, activities, suggestions, menus, links, rules --------------------------------

SCHEMAS.update({
    "AllianceObject": {"type": "object", "additionalProperties": True,
                       "description": "字段见 README 的 “The alliance” 一节"},
    "AllianceList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": {"type": "object", "additionalProperties": True}}},
        "additionalProperties": True},
})
_OBJ, _LIST = "AllianceObject", "AllianceList"
ENTRY = _path_param("entry_id", "矩阵账号编号", "judge-zhangyu")
ACTIVITY = _path_param("activity_id", "活动编号", "act-demo-phone-1")
SUGGESTION = _path_param("suggestion_id", "建议编号", "JY-XG-20261130-001")
ACCOUNT = _path_param("account_id", "公众号编号（district 为全区默认规则）", "xianggang-huayuan")
PATHS.update({
    "/api/v1/matrix": {"get": _op("listMatrix", "alliance", "联盟矩阵：全区政务微信和微博账号（社区很多时分页或查找）",
                                  {200: _ok(_LIST), **_errors(400, 401)},
                                  parameters=[_query_param("q", "查找（社区很多时由服务器查找）"), CURSOR_Q])},
    "/api/v1/matrix/{entry_id}": {
        "put": _op("saveMatrixEntry", "alliance", "添加或修改矩阵账号（区管理员）",
                   {200: _ok(_OBJ), **_errors(400, 401, 403, 409)}, parameters=[ENTRY], body=_body(_OBJ)),
        "delete": _op("deleteMatrixEntry", "alliance", "删除矩阵账号（区管理员）",
                      {200: _ok(_OBJ), **_errors(401, 403, 404, 409)}, parameters=[ENTRY])},
    "/api/v1/activities": {
        "get": _op("listActivities", "alliance", "社区活动列表", {200: _ok(_LIST), **_errors(401, 403, 404)},
                   parameters=[COMMUNITY_Q]),
        "post": _op("createActivity", "alliance", "发布社区活动", {201: _ok(_OBJ, 201), **_errors(400, 401, 403, 404)},
                    body=_body(_OBJ))},
    "/api/v1/activities/{activity_id}/signups": {"get": _op(
        "activitySignups", "alliance", "报名名单（JSON 或 CSV 导出）",
        {200: {"description": _STATUS_TEXT[200], "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{_LIST}"}},
            "text/csv": {"schema": {"type": "string"}}}}, **_errors(401, 403, 404)},
        parameters=[ACTIVITY, _query_param("format", "格式", {"type": "string", "enum": ["json", "csv"]})])},
    "/api/v1/activities/{activity_id}/attendance": {"post": _op(
        "markAttendance", "alliance", "签到（标记到场或未到）", {200: _ok(_OBJ), **_errors(400, 401, 403, 404, 409)},
        parameters=[ACTIVITY], body=_body(_OBJ))},
    "/api/v1/suggestions": {"get": _op(
        "suggestionQueue", "alliance", "居民意见建议（主任答复）", {200: _ok(_LIST), **_errors(400, 401, 403, 404)},
        parameters=[COMMUNITY_Q, _query_param("state", "状态", {"type": "string", "enum": ["open", "answered"]})])},
    "/api/v1/suggestions/counts": {"get": _op(
        "suggestionCounts", "alliance", "某月建议数和答复数（月报用）", {200: _ok(_OBJ), **_errors(400, 401, 403, 404)},
        parameters=[COMMUNITY_Q, _query_param("month", "月份 YYYY-MM")])},
    "/api/v1/suggestions/{suggestion_id}/answer": {"post": _op(
        "answerSuggestion", "alliance", "答复建议（答复发给居民）", {200: _ok(_OBJ), **_errors(400, 401, 403, 404, 409)},
        parameters=[SUGGESTION], body=_body(_OBJ))},
    "/api/v1/menus": {"get": _op("viewMenus", "alliance", "菜单模板和社区的调整", {200: _ok(_OBJ), **_errors(401, 403, 404)},
                                 parameters=[COMMUNITY_Q])},
    "/api/v1/menus/template": {"put": _op(
        "saveMenuTemplate", "alliance", "修改全区菜单模板（先按微信的限制检查）", {200: _ok(_OBJ), **_errors(400, 401, 403)},
        body=_body(_OBJ))},
    "/api/v1/menus/communities/{community_id}": {"put": _op(
        "saveMenuOverride", "alliance", "修改社区的菜单调整（先按微信的限制检查）",
        {200: _ok(_OBJ), **_errors(400, 401, 403, 404)}, parameters=[COMMUNITY], body=_body(_OBJ))},
    "/api/v1/convenience-links": {"put": _op(
        "saveConvenienceLinks", "alliance", "设置便民服务链接（在线读报按日期生成）", {200: _ok(_OBJ), **_errors(400, 401, 403)},
        body=_body(_OBJ))},
    "/api/v1/rules/{account_id}": {
        "get": _op("viewRules", "alliance", "关键词规则", {200: _ok(_OBJ), **_errors(401, 403, 404)}, parameters=[ACCOUNT]),
        "put": _op("saveRules", "alliance", "保存关键词规则（检查动作和正则表达式）",
                   {200: _ok(_OBJ), **_errors(400, 401, 403, 404)}, parameters=[ACCOUNT], body=_body(_OBJ)),
        "delete": _op("resetRules", "alliance", "恢复默认规则", {200: _ok(_OBJ), **_errors(401, 403, 404)},
                      parameters=[ACCOUNT])},
    "/api/v1/consultations": {
        "get": _op("listConsultations", "alliance", "公共政策讨论列表", {200: _ok(_LIST), **_errors(401, 403, 404)},
                   parameters=[COMMUNITY_Q]),
        "post": _op("openConsultation", "alliance", "发起公共政策讨论（问题、选项或自由填写、起止时间）",
                    {201: _ok(_OBJ, 201), **_errors(400, 401, 403, 404)}, body=_body(_OBJ))},
    "/api/v1/consultations/{consultation_id}/results": {"get": _op(
        "consultationResults", "alliance", "讨论结果", {200: _ok(_OBJ), **_errors(401, 403, 404)},
        parameters=[_path_param("consultation_id", "讨论编号", "pc-0123456789")])},
    "/api/v1/rules/{account_id}/try": {"post": _op(
        "tryRules", "alliance", "试一条消息：哪条规则回答", {200: _ok(_OBJ), **_errors(400, 401, 403, 404)},
        parameters=[ACCOUNT], body=_body(_OBJ))},
})


# ---- the monthly bulletin (月通报), its rules, the district overview ------------------------------------

_INT = {"type": "integer"}
SCHEMAS.update({
    "BulletinRow": {"type": "object", "required": [
        "account_id", "community_id", "subdistrict_id", "posts_sent", "days_missed", "requests_filed",
        "requests_completed"], "properties": {
        "account_id": _STR, "community_id": _STR, "community_name": _STR, "subdistrict_id": _STR,
        "subdistrict_name": _STR, "posts_sent": _INT, "days_missed": _INT, "followers_end": _INT,
        "followers_growth": _INT, "reads_total": _INT, "reads_per_post": {"type": "number"}, "headline_reads": _INT,
        "requests_filed": _INT, "requests_completed": _INT, "requests_completed_on_time": _INT,
        "median_hours_to_complete": {"type": "number", "nullable": True},
        "satisfaction": {"type": "number", "nullable": True}, "meals_delivered": _INT,
        "index": {"type": "number"}, "index_computation": _STR, "rank_district": _INT, "rank_subdistrict": _INT,
        "rank_change": {"type": "integer", "nullable": True},
        "deductions": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "points": {"type": "number"}, "final_points": {"type": "number"}}, "additionalProperties": True},
    "Bulletin": {"type": "object", "required": ["month", "status", "version", "rows"], "properties": {
        "month": {"type": "string", "example": "2026-11"}, "status": {"type": "string", "enum": ["draft", "issued"]},
        "version": _INT, "latest_version": _INT, "rows": {"type": "array", "items": {"$ref": "#/components/schemas/BulletinRow"}},
        "subdistricts": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "rules": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "index_formula": {"type": "object", "nullable": True, "additionalProperties": True},
        "versions": {"type": "array", "items": {"type": "object", "additionalProperties": True}}},
        "additionalProperties": True},
    "BulletinResult": {"type": "object", "additionalProperties": True,
                       "description": "month, status, version, and for issue: notified {written, recipients, not_bound}"},
    "Empty": {"type": "object", "additionalProperties": False, "description": "无需内容（可为 {}）"},
    "BulletinCorrection": {"type": "object", "required": ["reason"], "properties": {"reason": _STR}},
    "BulletinAppeal": {"type": "object", "required": ["line_id", "reason"], "properties": {
        "line_id": {"type": "string", "example": "jiangsu-lu:missed-days"}, "reason": _STR}},
    "BulletinDecision": {"type": "object", "required": ["line_id", "decision"], "properties": {
        "line_id": _STR, "decision": {"type": "string", "enum": ["accept", "reject"]}, "note": _STR,
        "points": {"type": "number", "description": "采纳后的扣分（默认 0）"}}},
    "AppealRecord": {"type": "object", "additionalProperties": True,
                     "description": "state (pending/accepted/rejected), reason, decision, trail"},
    "BulletinRules": {"type": "object", "required": ["rules"], "properties": {
        "rules": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "index": {"type": "object", "nullable": True, "additionalProperties": True}}, "additionalProperties": True},
    "Overview": {"type": "object", "required": ["rows"], "properties": {
        "day": _STR, "month": _STR, "cursor": _NSTR, "limit": _INT,
        "rows": {"type": "array", "items": {"type": "object", "additionalProperties": True}}},
        "additionalProperties": True},
})
MONTH = _path_param("month", "月份 YYYY-MM", "2026-11")
PATHS.update({
    "/api/v1/bulletins/{month}": {"get": _op(
        "getBulletin", "bulletin", "月通报（管辖范围内的社区；最新版本或 ?version=n）",
        {200: _ok("Bulletin"), **_errors(400, 401, 403, 404)},
        parameters=[MONTH, _query_param("version", "版本号（省略为最新）", {"type": "integer", "minimum": 1})])},
    "/api/v1/bulletins/{month}/issue": {"post": _op(
        "issueBulletin", "bulletin", "发布草稿：此后不可修改，并通过微信通知各社区主任和街道审核人",
        {200: _ok("BulletinResult"), **_errors(400, 401, 403, 404, 409)}, parameters=[MONTH], body=_body("Empty"))},
    "/api/v1/bulletins/{month}/build": {"post": _op(
        "buildBulletin", "bulletin", "按最新数据生成（或重新生成）草稿；已发布的月份不变",
        {200: _ok("BulletinResult"), **_errors(400, 401, 403)}, parameters=[MONTH], body=_body("Empty"))},
    "/api/v1/bulletins/{month}/corrections": {"post": _op(
        "correctBulletin", "bulletin", "更正已发布的通报：生成新版本草稿，列出改动",
        {201: _ok("BulletinResult", 201), **_errors(400, 401, 403, 404, 409)}, parameters=[MONTH],
        body=_body("BulletinCorrection"))},
    "/api/v1/bulletins/{month}/appeals": {"post": _op(
        "appealDeduction", "bulletin", "街道对一条扣分提出申诉", {201: _ok("AppealRecord", 201),
                                                               **_errors(400, 401, 403, 404, 409)},
        parameters=[MONTH], body=_body("BulletinAppeal"))},
    "/api/v1/bulletins/{month}/decisions": {"post": _op(
        "decideAppeal", "bulletin", "区里对申诉作出决定（采纳或驳回）", {200: _ok("AppealRecord"),
                                                                 **_errors(400, 401, 403, 404, 409)},
        parameters=[MONTH], body=_body("BulletinDecision"))},
    "/api/v1/bulletins/{month}/export": {"get": _op(
        "exportBulletin", "bulletin", "下载月通报（CSV，UTF-8 带 BOM；或 XLSX）",
        {200: {"description": _STATUS_TEXT[200], "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}}}}, **_errors(400, 401, 403, 404)},
        parameters=[MONTH, _query_param("format", "csv 或 xlsx", {"type": "string", "enum": ["csv", "xlsx"],
                                                                  "default": "csv"})])},
    "/api/v1/bulletin-rules": {
        "get": _op("getBulletinRules", "bulletin", "扣分规则和综合指数公式", {200: _ok("BulletinRules"),
                                                                           **_errors(401, 403)}),
        "put": _op("saveBulletinRules", "bulletin", "修改扣分规则和综合指数公式（区管理员）",
                   {200: _ok("BulletinRules"), **_errors(400, 401, 403)}, body=_body("BulletinRules"))},
    "/api/v1/overview": {"get": _op(
        "districtOverview", "bulletin", "全区总览：管辖范围内各社区的纸条、今日发稿和本月数据（分页）",
        {200: _ok("Overview"), **_errors(400, 401, 403, 404)},
        parameters=[LIMIT_Q, CURSOR_Q, _query_param("subdistrict", "街道编号（区管理员可选）")])},
})

DOCUMENT: dict[str, Any] = {
    "openapi": OPENAPI_VERSION,
    "info": {
        "title": "社区微信联盟服务平台 API",
        "version": "1",
        "description": "工作台与公开接口。除登录和公开菜单外，均需在 Authorization 头中携带登录得到的 Bearer 令牌。"
                       "超出管辖范围的对象一律答 404，与不存在的对象无法区分。",
        "license": {"name": "open source"},
    },
    "servers": [{"url": "/"}],
    "tags": [{"name": n, "description": d} for n, d in (
        ("meta", "接口文档"), ("auth", "登录与会话"), ("requests", "便民纸条"), ("directory", "社区目录"),
        ("canteens", "社区食堂"), ("residents", "居民（发送者屏蔽）"), ("publishing", "信息发布与审核"),
        ("alliance", "联盟：矩阵、活动、建议、菜单、规则"), ("bulletin", "月通报、绩效考核与全区总览"))],
    "security": copy.deepcopy(BEARER),
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                       "description": "POST /api/v1/auth/login 得到的令牌"}},
        "schemas": SCHEMAS,
    },
}


def operations(document: dict[str, Any] | None = None):
    """(METHOD, path, operation) for every operation of the document."""
    for path, item in (document or DOCUMENT)["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                yield method.upper(), path, operation


@lru_cache(maxsize=1)
def document_json() -> str:
    """The document serialised once per container."""
    return json.dumps(DOCUMENT, ensure_ascii=False, separators=(",", ":"))


# ---- staff operations: people, teams, one's WeChat alerts, the filing form's suggestion -------------

SCHEMAS["NewRequest"]["properties"].update({
    "via": {"type": "string", "enum": ["phone", "walk_in", "grid_visit"],
            "description": "工作台表单：电话、上门、网格走访；留电话或地址时需 consent=true"},
    "consent": {"type": "boolean", "description": "居民同意留下电话和地址"},
    "resident_request": {"type": "string", "nullable": True,
                         "description": "居民以前在微信里提交的纸条编号：这次也通过微信告知居民"},
    "meal": {"type": "object", "nullable": True, "required": ["day", "meal"], "properties": {
        "day": {"type": "string", "format": "date"}, "meal": {"type": "string", "enum": MEALS},
        "portions": {"type": "integer", "minimum": 1, "maximum": 20}}, "description": "送餐：日期和餐次"},
})
SCHEMAS.update({
    "StaffObject": {"type": "object", "additionalProperties": True,
                    "description": "账号：username、display_name、label（孙晓雨（社工））、role、范围、active、"
                                   "must_change_password、locked、wechat_bound；新建和重置密码时另有 one_time_password"},
    "StaffList": {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/StaffObject"}}},
        "additionalProperties": True},
    "NewStaff": {"type": "object", "required": ["username", "display_name", "role"], "properties": {
        "username": _STR, "display_name": _STR, "role": {"type": "string", "enum": ROLES},
        "community_id": _NSTR, "subdistrict_id": _NSTR, "team_id": _NSTR, "department_id": _NSTR}},
    "StaffAction": {"type": "object", "required": ["action"], "properties": {
        "action": {"type": "string", "enum": ["deactivate", "reactivate", "reset_password", "unlock", "change_role"]},
        "role": {"type": "string", "enum": ROLES}, "community_id": _NSTR, "team_id": _NSTR, "subdistrict_id": _NSTR,
        "department_id": _NSTR}},
    "NewTeam": {"type": "object", "required": ["name", "kind"], "properties": {
        "name": _STR, "kind": {"type": "string", "enum": list(vocabulary.TEAM_KINDS)}}},
    "MyAlerts": {"type": "object", "additionalProperties": True,
                 "description": "bound、account_id、alert_kinds、kinds（可选的提醒类型）、accounts（可绑定的公众号）、notices"},
    "AlertKinds": {"type": "object", "required": ["alert_kinds"], "properties": {
        "alert_kinds": {"type": "array", "items": {
            "type": "string", "description": "new_request、assigned、escalation、review、bulletin"}}}},
    "BindingCode": {"type": "object", "required": ["code", "message", "expires_at"], "properties": {
        "code": _STR, "message": {"type": "string", "description": "在公众号里发送的文字：绑定 <code>"},
        "expires_at": {"type": "string", "format": "date-time"},
        "accounts": {"type": "array", "items": {"type": "object", "additionalProperties": True}}}},
    "Empty": {"type": "object", "properties": {}},
    "SuggestRequest": {"type": "object", "required": ["community_id", "text"], "properties": {
        "community_id": _STR, "text": _STR}},
    "Suggestion": {"type": "object", "additionalProperties": True,
                   "description": "category、category_name、team、meal（送餐：day、meal、portions）"},
})
USERNAME_P = _path_param("username", "账号", "sw.xianggang-huayuan")
PATHS.update({
    "/api/v1/staff": {
        "get": _op("listStaff", "staff", "我管理的账号（社区的，或区管理员不带 community 时：区、街道、部门的）",
                   {200: _ok("StaffList"), **_errors(401, 403, 404)}, parameters=[COMMUNITY_Q]),
        "post": _op("createStaff", "staff", "新建账号（一次性密码，首次登录必须修改）",
                    {201: _ok("StaffObject", 201), **_errors(400, 401, 403, 404, 409)}, body=_body("NewStaff"))},
    "/api/v1/staff/{username}": {"get": _op(
        "viewStaff", "staff", "一个账号及其变更记录", {200: _ok("StaffObject"), **_errors(401, 403, 404)},
        parameters=[USERNAME_P])},
    "/api/v1/staff/{username}/actions": {"post": _op(
        "staffAction", "staff", "停用、恢复、重置密码、解锁、改角色（均有记录；不能管理自己）",
        {200: _ok("StaffObject"), **_errors(400, 401, 403, 404, 409)}, parameters=[USERNAME_P],
        body=_body("StaffAction"))},
    "/api/v1/communities/{community_id}/teams": {"post": _op(
        "createTeam", "staff", "新建服务队", {201: _ok("AllianceObject", 201), **_errors(400, 401, 403, 404, 409)},
        parameters=[COMMUNITY], body=_body("NewTeam"))},
    "/api/v1/me/alerts": {
        "get": _op("myAlerts", "staff", "我的微信提醒：绑定状态、提醒内容、通知",
                   {200: _ok("MyAlerts"), **_errors(401, 404)}),
        "put": _op("setAlertKinds", "staff", "选择要接收的提醒", {200: _ok("MyAlerts"), **_errors(400, 401, 404)},
                   body=_body("AlertKinds"))},
    "/api/v1/me/alerts/code": {"post": _op(
        "bindingCode", "staff", "获取一次性绑定码（10 分钟内在公众号发送“绑定 绑定码”）",
        {201: _ok("BindingCode", 201), **_errors(400, 401, 404)},
        body={"required": False, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Empty"}}}})},
    "/api/v1/me/alerts/binding": {"delete": _op(
        "unbindWeChat", "staff", "解除微信绑定（一键）", {200: _ok("MyAlerts"), **_errors(401, 404)})},
    "/api/v1/requests/suggestion": {"post": _op(
        "suggestCategory", "requests", "代居民登记前：按文字建议类别（与微信里一样）和送餐日期餐次",
        {200: _ok("Suggestion"), **_errors(400, 401, 403, 404)}, body=_body("SuggestRequest"))},
})
DOCUMENT["tags"].append({"name": "staff", "description": "人员与账号、服务队、我的微信提醒"})
