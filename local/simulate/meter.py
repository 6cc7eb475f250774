"""Counting and faults at the laptop's AWS endpoint (local/aws_endpoint.py), for `make simulate`.

Every request that reaches the moto server is counted by service and operation (DynamoDB, SQS, SSM), and
each DynamoDB request's read and write units are estimated from what went over the wire (DynamoDB's own
rules: a read unit per 4 KB read, half of it for an eventually consistent read, a write unit per 1 KB
written, twice both inside a transaction; item sizes as DynamoDB counts them, names plus values; an
UpdateItem counts its key and new values, at least one unit, where DynamoDB counts the larger of the item
before and after: an under-estimate for large items; writes to indexes are not counted). `GET /__local/counts` answers the totals (`?reset=1` starts again).

Faults (`POST /__local/faults` with {"seed", "ddb_throttle", "ddb_timeout", "ddb_slow", "sqs_error",
"timeout_s", "slow_s"}: shares of requests, 0 by default): a DynamoDB write refused with
ProvisionedThroughputExceededException; a DynamoDB write answered only after `timeout_s` (past the
platform's read deadline, so the client has given up; the write is applied late, as a real time-out may
be); a DynamoDB request answered after `slow_s`; an SQS request failing with a 500 InternalError. The
injected faults are counted (`GET /__local/faults`). Laptop only: this module is never deployed.
"""
from __future__ import annotations

import io
import json
import math
import random
import threading
import time
from collections import Counter
from urllib.parse import parse_qs

DDB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DDB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
POLLING = {"ReceiveMessage", "GetQueueAttributes", "GetQueueUrl"}  # pumps polling, the simulator watching


def _value_size(value: dict) -> int:
    """DynamoDB's size of one typed value (docs: "Item sizes and formats")."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = len(v.lstrip("-").replace(".", "").lstrip("0")) or 1
        return (digits + 1) // 2 + 1
    if kind == "B":
        return len(v) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(x) for k, x in v.items())
    return 0


def _size(item) -> int:
    """An item's (or a key's, or a set of values') size as DynamoDB counts it: names plus values."""
    if not item:
        return 0
    try:
        return sum(len(k.encode()) + _value_size(v) for k, v in item.items())
    except (AttributeError, ValueError, TypeError):
        return len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode())


def _read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def _write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def capacity(op: str, request: dict, response: dict) -> tuple[float, float]:
    """(read units, write units) a DynamoDB request consumed, estimated."""
    consistent = bool(request.get("ConsistentRead"))
    if op == "GetItem":
        return _read_units(_size(response.get("Item")), consistent), 0.0
    if op in ("Query", "Scan"):
        return _read_units(sum(_size(i) for i in response.get("Items", [])), consistent), 0.0
    if op == "BatchGetItem":
        items = [i for rows in response.get("Responses", {}).values() for i in rows]
        return sum(_read_units(_size(i), consistent) for i in items) or 0.5, 0.0
    if op == "TransactGetItems":
        return sum(2 * _read_units(_size(r.get("Item")), True) for r in response.get("Responses", [])) or 2.0, 0.0
    if op == "PutItem":
        return 0.0, _write_units(_size(request.get("Item")))
    if op == "UpdateItem":
        return 0.0, _write_units(_size(request.get("Key")) + _size(request.get("ExpressionAttributeValues")))
    if op == "DeleteItem":
        return 0.0, 1.0
    if op == "BatchWriteItem":
        rows = [r for reqs in request.get("RequestItems", {}).values() for r in reqs]
        return 0.0, sum(_write_units(_size((r.get("PutRequest") or {}).get("Item"))) for r in rows)
    if op == "TransactWriteItems":
        total = 0.0
        for item in request.get("TransactItems", []):
            (kind, spec), = item.items()
            size = _size(spec.get("Item")) if kind == "Put" else _size(spec.get("Key")) + _size(
                spec.get("ExpressionAttributeValues"))
            total += 2 * _write_units(size)
        return 0.0, total
    return 0.0, 0.0


class Faults:
    def __init__(self) -> None:
        self.config: dict = {}
        self.rng = random.Random(0)
        self.injected: Counter = Counter()
        self.lock = threading.Lock()

    def set(self, config: dict) -> None:
        with self.lock:
            self.config = {k: v for k, v in config.items() if k != "seed"}
            self.rng = random.Random(config.get("seed", 0))

    def draw(self, service: str, op: str) -> str | None:
        with self.lock:
            c = self.config
            if not c:
                return None
            roll = self.rng.random()
            if service == "dynamodb" and op in DDB_WRITES:
                for kind in ("ddb_throttle", "ddb_timeout"):
                    share = float(c.get(kind, 0))
                    if roll < share:
                        self.injected[kind] += 1
                        return kind
                    roll -= share
            if service == "dynamodb" and roll < float(c.get("ddb_slow", 0)):
                self.injected["ddb_slow"] += 1
                return "ddb_slow"
            if service == "sqs" and roll < float(c.get("sqs_error", 0)):
                self.injected["sqs_error"] += 1
                return "sqs_error"
        return None


class Metered:
    """WSGI middleware outside the serialising one: counts, estimates units, injects faults."""

    def __init__(self, app, expire=None) -> None:
        self.app = app
        self.expire = expire
        self.faults = Faults()
        self.lock = threading.Lock()
        self.calls: Counter = Counter()
        self.units = {"rru": 0.0, "wru": 0.0}
        self.units_by_op: Counter = Counter()
        self.in_flight = 0  # requests being served (or held by a fault) now
        self.last_work = time.monotonic()  # the last request that was not polling or watching the queues

    def _json(self, start_response, payload, status="200 OK"):
        body = json.dumps(payload).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def control(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0) or 0)
        if path == "/__local/counts":
            with self.lock:
                answer = {"calls": dict(self.calls), "units": dict(self.units),
                          "units_by_op": dict(self.units_by_op), "in_flight": self.in_flight,
                          "idle_s": time.monotonic() - self.last_work}
                if "reset=1" in environ.get("QUERY_STRING", ""):
                    self.calls.clear()
                    self.units_by_op.clear()
                    self.units = {"rru": 0.0, "wru": 0.0}
            return self._json(start_response, answer)
        if path == "/__local/faults":
            if method == "POST":
                self.faults.set(json.loads(raw or b"{}"))
            return self._json(start_response, {"config": self.faults.config, "injected": dict(self.faults.injected)})
        if path == "/__local/sqs-expire" and method == "POST" and self.expire:
            return self._json(start_response, {"expired": self.expire()})
        return self._json(start_response, {"error": "not found"}, "404 Not Found")

    @staticmethod
    def identify(environ, raw: bytes) -> tuple[str, str]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            prefix, _, op = target.partition(".")
            service = "dynamodb" if prefix.startswith("DynamoDB") else "sqs" if prefix.startswith("AmazonSQS") \
                else "ssm" if prefix.startswith("AmazonSSM") else prefix.lower()
            return service, op
        action = parse_qs(raw.decode("utf-8", "replace")).get("Action", [""])[0] or \
            parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
        return ("sqs" if action else "other"), action or environ.get("PATH_INFO", "")

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/__local/"):
            return self.control(environ, start_response)
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0) or 0)
        environ["wsgi.input"] = io.BytesIO(raw)
        service, op = self.identify(environ, raw)
        with self.lock:
            self.in_flight += 1
            if op not in POLLING:
                self.last_work = time.monotonic()
        try:
            return self.serve(environ, start_response, raw, service, op)
        finally:
            with self.lock:
                self.in_flight -= 1
                if op not in POLLING:
                    self.last_work = time.monotonic()

    def serve(self, environ, start_response, raw: bytes, service: str, op: str):
        fault = self.faults.draw(service, op)
        if fault == "ddb_throttle":
            with self.lock:
                self.calls[f"{service}.{op}"] += 1
                self.calls["faulted"] += 1
            return self._json(start_response, {
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "The level of configured provisioned throughput for the table was exceeded (injected)"},
                "400 Bad Request")
        if fault == "sqs_error":
            with self.lock:
                self.calls[f"{service}.{op}"] += 1
                self.calls["faulted"] += 1
            return self._json(start_response, {"__type": "InternalError", "message": "injected"},
                              "500 Internal Server Error")
        if fault == "ddb_timeout":
            time.sleep(float(self.faults.config.get("timeout_s", 2.5)))
        elif fault == "ddb_slow":
            time.sleep(float(self.faults.config.get("slow_s", 1.0)))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        rru = wru = 0.0
        if service == "dynamodb" and (op in DDB_READS or op in DDB_WRITES):
            try:
                request = json.loads(raw or b"{}")
                response = json.loads(b"".join(chunks) or b"{}") if op in DDB_READS else {}
                rru, wru = capacity(op, request, response)
            except (ValueError, TypeError, AttributeError):
                pass
        with self.lock:
            self.calls[f"{service}.{op}"] += 1
            self.units["rru"] += rru
            self.units["wru"] += wru
            self.units_by_op[op] += rru + wru
        return chunks
