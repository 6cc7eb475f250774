"""District staff at work through the platform's JSON API (the console's API), as a person would: a 5xx
or a 429 is tried again after a pause (and counted), a 4xx is an answer."""
from __future__ import annotations

import time
from collections import Counter

import requests

DEMO_PASSWORD = "Demo#2026"  # the laptop seed's demo password (laptop only)
CHECKLIST = ["source", "privacy", "politics", "ads"]


class StaffClient:
    def __init__(self, base: str, username: str):
        self.base = base
        self.username = username
        self.session = requests.Session()
        self.session.trust_env = False
        self.retries: Counter = Counter()
        self.token = ""
        self.requests = 0  # HTTP requests made (Lambda invocations behind API Gateway)
        self.ms = 0.0

    def login(self) -> None:
        answer = self.call("POST", "/api/v1/auth/login", {"username": self.username, "password": DEMO_PASSWORD},
                           auth=False)
        self.token = answer["token"]

    def call(self, method: str, path: str, body: dict | None = None, params: dict | None = None,
             auth: bool = True, tries: int = 8) -> dict:
        for attempt in range(tries):
            headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
            started = time.perf_counter()
            try:
                self.requests += 1
                answer = self.session.request(method, self.base + path, json=body, params=params,
                                              headers=headers, timeout=30)
                self.ms += (time.perf_counter() - started) * 1000
            except requests.RequestException:
                self.retries["connection"] += 1
                time.sleep(0.5 * (attempt + 1))
                continue
            if answer.status_code == 401 and auth and attempt < tries - 1:
                self.login()
                continue
            if answer.status_code >= 500 or answer.status_code == 429:
                self.retries[str(answer.status_code)] += 1
                time.sleep(0.3 * (attempt + 1))
                continue
            data = answer.json() if answer.content else {}
            if answer.status_code >= 400:
                return {"_status": answer.status_code, **(data if isinstance(data, dict) else {})}
            return data
        raise RuntimeError(f"{method} {path}: no answer after {tries} tries")

    def all_requests(self, community: str) -> list[dict]:
        items, cursor = [], None
        while True:
            page = self.call("GET", "/api/v1/requests", params={"community": community, "limit": 100,
                                                                **({"cursor": cursor} if cursor else {})})
            items += page.get("items", [])
            cursor = page.get("cursor")
            if not cursor:
                return items
