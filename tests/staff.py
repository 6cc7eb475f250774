"""Signing in as demo staff in tests (the demo seed's password, laptop and tests only)."""
from __future__ import annotations

import json

DEMO_PASSWORD = "Demo#2026"


def login(http, username: str) -> dict:
    """Headers of a signed-in staff member for the Chalice test client's `http`."""
    answer = http.post("/api/v1/auth/login", headers={"Content-Type": "application/json"},
                       body=json.dumps({"username": username, "password": DEMO_PASSWORD}))
    return {"Authorization": "Bearer " + json.loads(answer.body)["token"], "Content-Type": "application/json"}
