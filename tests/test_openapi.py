"""The OpenAPI document and the app agree: the same routes, the same protection, a valid document; and
an anonymous caller gets 401 on every protected route, never on a public one."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from chalice.test import Client

from app import app
from chalicelib.openapi import DOCUMENT, operations

PREFIX = "/api/v1/"
SAFE = "xianggang-huayuan"
CANTEEN = "xianggang-huayuan-canteen"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def app_operations() -> dict[tuple[str, str], bool]:
    """(METHOD, path) -> protected, for every route of the app under /api/v1."""
    return {(method, path): entry.authorizer is not None
            for path, methods in app.routes.items() if path.startswith(PREFIX)
            for method, entry in methods.items()}


def doc_operations() -> dict[tuple[str, str], dict]:
    return {(method, path): op for method, path, op in operations(DOCUMENT)}


def test_the_document_names_exactly_the_routes_of_the_app():
    in_app, in_doc = set(app_operations()), set(doc_operations())
    assert in_app - in_doc == set(), f"routes missing from chalicelib/openapi.py: {sorted(in_app - in_doc)}"
    assert in_doc - in_app == set(), f"documented routes the app does not have: {sorted(in_doc - in_app)}"
    assert all(path.startswith(PREFIX) for _, path in in_doc)


def test_protection_in_the_document_matches_the_authorizer():
    ops = doc_operations()
    assert DOCUMENT["components"]["securitySchemes"]["bearer"] == {
        **DOCUMENT["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for key, protected in app_operations().items():
        security = ops[key].get("security")
        if protected:
            assert security == [{"bearer": []}], f"{key}: protected in the app, not bearer in the document"
        else:
            assert security == [], f"{key}: public in the app, needs security: [] in the document"
    public = {key for key, protected in app_operations().items() if not protected}
    assert public == {("POST", "/api/v1/auth/login"), ("GET", "/api/v1/canteens/{canteen_id}/menus"),
                      ("GET", "/api/v1/openapi.json")}


def test_every_operation_is_described_fully():
    seen_ids = set()
    for (method, path), op in doc_operations().items():
        where = f"{method} {path}"
        assert op["operationId"] not in seen_ids, where
        seen_ids.add(op["operationId"])
        assert op.get("summary") and op.get("responses"), where
        codes = {int(c) for c in op["responses"]}
        assert codes & {200, 201}, where
        assert codes <= {200, 201, 400, 401, 403, 404, 409, 429}, where
        if op["security"] != []:
            assert 401 in codes, f"{where}: a protected operation documents 401"
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), f"{where}: path parameters"
        if method in ("POST", "PUT") and path not in ("/api/v1/auth/logout",) and not path.endswith("/delivered"):
            assert "requestBody" in op, f"{where}: a JSON body is read"
    all_codes = {int(c) for _, _, op in operations(DOCUMENT) for c in op["responses"]}
    assert all_codes == {200, 201, 400, 401, 403, 404, 409, 429}


def test_the_document_is_valid_openapi_3():
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError  # noqa: F401

    assert DOCUMENT["openapi"] == "3.0.3"
    validate(json.loads(json.dumps(DOCUMENT)))  # raises on any error
    # every $ref resolves within the document
    text = json.dumps(DOCUMENT)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', text)):
        assert ref in DOCUMENT["components"]["schemas"], ref


def test_the_document_is_served_public_and_cacheable():
    with Client(app, stage_name="test") as client:
        answer = client.http.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "public" in answer.headers["Cache-Control"] and "max-age" in answer.headers["Cache-Control"]
    assert json.loads(answer.body) == json.loads(json.dumps(DOCUMENT))


# ---- anonymous callers ----------------------------------------------------------------------------

def _login(http, username: str) -> dict:
    answer = http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                       body=json.dumps({"username": username, "password": "Demo#2026"}))
    assert answer.status_code == 200, answer.body
    return {"Authorization": "Bearer " + json.loads(answer.body)["token"], "Content-Type": "application/json"}


def test_anonymous_callers_get_401_on_every_protected_route_and_not_on_public_ones(seed, morning):
    from chalicelib import clock
    from chalicelib.domain import dates

    with Client(app, stage_name="test") as client:
        http = client.http
        sw = _login(http, "sw.xianggang-huayuan")
        filed = http.post("/api/v1/requests", headers=sw,
                          body=json.dumps({"community_id": SAFE, "text": "明天中午送一份饭"}))
        assert filed.status_code == 201, filed.body
        number = json.loads(filed.body)["number"]
        day = (dates.local_date(clock.now()) + timedelta(days=1)).isoformat()
        values = {"number": number, "canteen_id": CANTEEN, "community_id": SAFE, "day": day,
                  "post_id": "P20261201-00000000",
                  "entry_id": "judge-zhangyu", "activity_id": "act-demo-phone-1", "suggestion_id": "JY-XG-1",
                  "account_id": SAFE, "consultation_id": "pc-1", "username": "sw.xianggang-huayuan", "month": "2026-11"}
        bodies = {"POST": json.dumps({"note": "x", "action": "accept", "category": "repairs"}),
                  "PUT": json.dumps({"meals": {}})}
        checked = 0
        for (method, template), protected in sorted(app_operations().items()):
            path = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)
            kwargs = {"body": bodies[method]} if method in bodies else {}
            for headers in ({"Content-Type": "application/json"},
                            {"Content-Type": "application/json", "Authorization": "Bearer not-a-token"}):
                if not protected and "Authorization" in headers:
                    continue
                answer = getattr(http, method.lower())(path, headers=headers, **kwargs)
                if protected:
                    assert answer.status_code == 401, f"{method} {path} {headers}: {answer.status_code}"
                    assert number.encode() not in (answer.body or b"")
                else:
                    assert answer.status_code != 401, f"{method} {path}: public route answered 401"
                checked += 1
        assert checked >= 2 * len(app_operations()) - 6
        # nothing was changed by the anonymous calls
        seen = json.loads(http.get(f"/api/v1/requests/{number}", headers=sw).body)
        assert seen["state"] == "submitted" and [e["action"] for e in seen["timeline"]] == ["file"]
