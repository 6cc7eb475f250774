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
    409: "状态已变化，或当前状态下不能执行此操作", 423: "登录失败次数过多，账号已临时锁定",
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
                          "security": copy.deepcopy(PUBLIC if public else BEARER)}
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
    "AuditPage": {"type": "object", "properties": {"items": {"type": "array", "items": {"allOf": [
        {"$ref": "#/components/schemas/Event"}, {"type": "object", "properties": {"number": _STR}}]}},
        "cursor": _NSTR}},
    "CommunitySummary": {"type": "object", "properties": {"id": _STR, "name": _STR, "code": _STR,
                                                          "subdistrict_id": _STR}},
    "CommunityList": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/CommunitySummary"}}}},
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
        "login", "auth", "工作人员登录", {200: _ok("Session"), **_errors(400, 401, 423)}, public=True,
        body=_body("Credentials"))},
    "/api/v1/auth/logout": {"post": _op(
        "logout", "auth", "退出登录（此前签发的令牌全部作废）", {200: _ok("Ok"), **_errors(401)})},
    "/api/v1/auth/password": {"post": _op(
        "changePassword", "auth", "修改密码（返回新的会话，旧令牌作废）",
        {200: _ok("Session"), **_errors(400, 401, 403, 423)}, body=_body("PasswordChange"))},
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
    "/api/v1/audit": {"get": _op(
        "auditLog", "requests", "社区审计记录（只读）", {200: _ok("AuditPage"), **_errors(400, 401, 403, 404)},
        parameters=[COMMUNITY_Q, LIMIT_Q, CURSOR_Q])},

    # directory
    "/api/v1/communities": {"get": _op(
        "listCommunities", "directory", "我能看到的社区", {200: _ok("CommunityList"), **_errors(401)})},
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
            "text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}}},
         **_errors(400, 401, 403, 404)},
        parameters=[CANTEEN, DATE_Q, _query_param("meal", "餐次", {"type": "string", "enum": MEALS,
                                                                  "default": "lunch"}),
                    _query_param("format", "格式", {"type": "string", "enum": ["json", "csv", "html"],
                                                    "default": "json"})])},
    "/api/v1/canteens/{canteen_id}/deliveries/{number}/delivered": {"post": _op(
        "markDelivered", "canteens", "标记已送达（办结该送餐纸条）",
        {200: _ok("RequestDetail"), **_errors(400, 401, 403, 404)}, parameters=[CANTEEN, NUMBER])},
}

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
    "/api/v1/matrix": {"get": _op("listMatrix", "alliance", "联盟矩阵：全区政务微信和微博账号",
                                  {200: _ok(_LIST), **_errors(401)})},
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
        ("canteens", "社区食堂"), ("alliance", "联盟：矩阵、活动、建议、菜单、规则"))],
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
