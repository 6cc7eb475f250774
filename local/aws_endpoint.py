"""The laptop's AWS endpoint: moto's server, with every request handled one at a time, and (for `make run`)
its state kept on disk between runs.

DynamoDB applies each conditional write atomically; moto's in-memory backend does not take a lock, so
two threads can both pass the same condition. Serialising requests restores DynamoDB's guarantee, which
the platform relies on (exactly-once deliveries, the token lease, meal capacity), and which the race
tests check. Used by `make run` and by the tests' `moto_server` fixture.

State (`--state PATH`): moto keeps everything in memory. As moto's maintainers suggest (getmoto/moto#1069),
the backends of the services the platform uses (DynamoDB, SQS, SSM) are pickled to PATH: on a clean stop
(SIGTERM, Ctrl-C) and every `--checkpoint` seconds while requests come in, and restored at start. A crash
(kill -9, power loss) loses what happened after the last checkpoint. The file is local demo state, tied to
the installed moto version; `make reset` deletes it.

Counting and faults (laptop only, for `make simulate`, local/simulate/): every request is counted by
service and operation, with an estimate of the DynamoDB read and write units it consumed
(local/simulate/meter.py); `POST /__local/faults` switches on throttled, timed-out or slow DynamoDB
writes and failing SQS calls for a share of requests, and `POST /__local/sqs-expire` ends every message's
visibility timeout at once (the simulator compresses a day into minutes). Nothing of it exists on AWS.

    python -m local.aws_endpoint --port 5000 [--state .local/moto-state.pickle] [--checkpoint 15]
"""
from __future__ import annotations

import argparse
import copy
import inspect
import io
import os
import pickle
import signal
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

SERVICES = ("dynamodb", "sqs", "ssm")  # what the platform uses; the other backends are not kept
_RLOCK = type(threading.RLock())
_LOCK = type(threading.Lock())


class Serialized:
    """WSGI middleware: one request at a time, response body included."""

    def __init__(self, app):
        self._app = app
        self.lock = threading.Lock()
        self.requests = 0  # served since the last checkpoint

    def __call__(self, environ, start_response):
        with self.lock:
            self.requests += 1
            return list(self._app(environ, start_response))


# ---- state on disk -------------------------------------------------------------------------------

def _nested_tags(items):
    table = defaultdict(lambda: defaultdict(dict))
    table.update(items)
    return table


def _defaultdict_subclass(cls, factory, state, items):
    obj = cls.__new__(cls)
    defaultdict.__init__(obj, factory)
    obj.__dict__.update(state)
    obj.update(items)
    return obj


class _StatePickler(pickle.Pickler):
    """Pickles moto's backends: locks and conditions are made anew, defaultdicts with a lambda or a
    custom __init__ (SSM's tags and ParameterDict) are rebuilt from their items."""

    def reducer_override(self, obj):
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if isinstance(obj, _RLOCK):
            return threading.RLock, ()
        if isinstance(obj, _LOCK):
            return threading.Lock, ()
        if isinstance(obj, defaultdict):
            if type(obj) is not defaultdict:
                return _defaultdict_subclass, (type(obj), obj.default_factory, obj.__dict__, dict(obj))
            if getattr(obj.default_factory, "__name__", "") == "<lambda>":
                return _nested_tags, (dict(obj),)
        return NotImplemented


def snapshot() -> bytes:
    """The region backends of SERVICES, pickled ({service: {account: {region: backend}}})."""
    from moto import __version__
    from moto.backends import get_backend

    state = {svc: {account: dict(regions) for account, regions in get_backend(svc).items()} for svc in SERVICES}
    buffer = io.BytesIO()
    _StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump({"moto": __version__, "state": state})
    return buffer.getvalue()


def restore(data: bytes) -> int:
    """Put pickled backends back; returns how many region backends were restored."""
    from moto import __version__
    from moto.backends import get_backend

    saved = pickle.loads(data)  # noqa: S301 - our own file, written by snapshot() on this machine
    if saved.get("moto") != __version__:
        raise ValueError(f"saved by moto {saved.get('moto')}, this is moto {__version__}")
    count = 0
    for svc, accounts in saved["state"].items():
        backends = get_backend(svc)
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backends[account][region] = backend
                count += 1
    return count


def save(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ---- moto's SQS, linear again ----------------------------------------------------------------------

_SENDING = threading.local()


def linear_sqs_sends() -> None:
    """Make moto's SendMessage(Batch) cost the same whatever the queue's length.

    moto 5's `Queue.attributes` is a property that counts the queue's messages three times over
    (ApproximateNumberOfMessages, …Delayed, …NotVisible: each a pass over every message, each message's
    visibility computed through two datetime conversions), and `send_message` reads it for every
    message it adds, only to learn `ContentBasedDeduplication`. A send therefore costs O(queue length),
    and a scheduler filling a queue with n messages O(n²): 10,000 messages took minutes. While a send
    runs, the attributes it reads are the FIFO settings alone; and ReceiveMessage, which asked for all of
    them for every message it returned (to learn the retention period), reads that one. Everything else
    (GetQueueAttributes included) is moto's own. Idempotent.
    """
    from moto.core.utils import camelcase_to_underscores, unix_time
    from moto.sqs.models import Queue, SQSBackend

    if getattr(Queue, "_linear_sends", False):
        return
    full = Queue.attributes.fget

    def attributes(self):
        if not getattr(_SENDING, "on", False):
            return full(self)
        if not self.fifo_queue:
            return {}
        values = {name: getattr(self, camelcase_to_underscores(name)) for name in self.FIFO_ATTRIBUTES}
        return {name: str(v).lower() if isinstance(v, bool) else v for name, v in values.items()}

    def is_message_valid_based_on_retention_period(self, queue_name, message) -> bool:
        """moto's own, reading the one attribute it needs instead of all of them (for each message)."""
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    Queue.attributes = property(attributes)
    SQSBackend.send_message = _sending(SQSBackend.send_message)
    SQSBackend._validate_message = _sending(SQSBackend._validate_message)
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    Queue._linear_sends = True


def _sending(method):
    def wrapped(*args, **kwargs):
        outer = getattr(_SENDING, "on", False)
        _SENDING.on = True
        try:
            return method(*args, **kwargs)
        finally:
            _SENDING.on = outer
    return wrapped


# ---- the server ----------------------------------------------------------------------------------

class _KeepTables:
    """Stands in for the `copy` module inside moto's DynamoDB models: a Table is not deep-copied."""

    @staticmethod
    def deepcopy(obj, memo=None):
        from moto.dynamodb.models.table import Table

        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def transactions_copy_items_not_tables() -> None:
    """moto's TransactWriteItems deep-copies every table it touches, to roll back a cancelled
    transaction: each transaction costs time and memory in proportion to the whole table, and a day of
    the district (`make simulate`) slows to a crawl as the tables grow. Here the transaction keeps a copy
    of the items it names instead, and puts them back when it is cancelled; the endpoint serves one
    request at a time, so nothing else can change them meanwhile. DynamoDB's semantics are unchanged."""
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType

    if getattr(DynamoDBBackend.transact_write_items, "keeps_items", False):
        return
    original = DynamoDBBackend.transact_write_items
    models.copy = _KeepTables()

    def transact_write_items(self, transact_items):
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values())) if isinstance(entry, dict) and entry else {}
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue
            if "Item" in op:
                key = {a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a and a in op["Item"]}
            else:
                key = op.get("Key")
            if not key:
                continue
            try:
                current = self.get_item(table.name, key)
            except Exception:  # noqa: BLE001 - a malformed key: moto's own checks answer it below
                continue
            saved.append((table.name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            return original(self, transact_items)
        except Exception:
            for name, key, attributes in reversed(saved):
                table = self.tables[name]
                if attributes is not None:
                    table.put_item(attributes)
                    continue
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                table.delete_item(hash_key, range_key)
            raise

    transact_write_items.keeps_items = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items


# ---- moto's DynamoDB Query, by key --------------------------------------------------------------------

_QUERYING = threading.local()


def indexed_dynamodb_queries() -> None:
    """Make moto's Query read the items of the partition it asks for, not the whole table.

    moto 5's `Table.query` starts from `Table.all_items()` — every item of the table, sorted with
    Python-level DynamoType comparisons — and then keeps those of the asked partition: each Query costs
    O(table · log table), whether on the table's key or on an index. At 10,000 accounts a month's bulletin
    (a few queries per account against tables of 10⁵–10⁶ items) did not finish in 20 minutes. Here, while a
    Query runs, `all_items` answers the partition's items alone: on the table's key straight from moto's
    own `items[hash]`; on an index from a map (index → hash-key values → items) built on first use and
    thrown away by the next write to that table (every write path — PutItem, UpdateItem (which edits an
    item in place), DeleteItem, BatchWriteItem, TransactWriteItems — goes through the wrapped methods).
    moto's own code still checks every condition, sorts, pages and filters the candidates, so the
    answers are moto's own. Idempotent.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_indexed_queries", False):
        return
    all_items, query = Table.all_items, Table.query

    def candidates_or_all(self):
        candidates = getattr(_QUERYING, "candidates", {}).get(id(self))
        return all_items(self) if candidates is None else candidates

    signature = inspect.signature(query)

    def indexed_query(self, *args, **kwargs):
        asked = signature.bind(self, *args, **kwargs).arguments
        candidates = _partition(self, asked.get("hash_key"), asked.get("index_name"),
                                asked.get("hash_key_conditions"))
        if candidates is None:
            return query(self, *args, **kwargs)
        running = _QUERYING.__dict__.setdefault("candidates", {})
        running[id(self)] = candidates
        try:
            return query(self, *args, **kwargs)
        finally:
            running.pop(id(self), None)

    Table.all_items = candidates_or_all
    Table.query = indexed_query
    for name in ("put_item", "delete_item"):
        setattr(Table, name, _bumping(getattr(Table, name), _itself))
    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, _bumping(getattr(DynamoDBBackend, name), _named))
    DynamoDBBackend.transact_write_items = _bumping_transaction(DynamoDBBackend.transact_write_items)
    Table._indexed_queries = True


def _partition(table, hash_key, index_name, hash_key_conditions):
    """The items a Query on `hash_key` (or on the index's hash-key values) can return; None: moto's way."""
    if not index_name:
        if hash_key is None:
            return None
        found = table.items.get(hash_key) if hash_key in table.items else None
        if found is None:
            return []
        return list(found.values()) if table.range_key_attr else [found]
    if not hash_key_conditions:
        return None
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None:
        return None  # moto's own error for an unknown index
    names = tuple(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    asked = dict(hash_key_conditions)
    if set(asked) != set(names):
        return None
    cache = table.__dict__.setdefault("_index_maps", {})
    built = cache.get(index_name)
    if built is None or built[0] != table.__dict__.get("_writes", 0):
        by_hash: dict = {}
        for hash_set in table.items.values():
            for item in (hash_set.values() if table.range_key_attr else (hash_set,)):
                values = tuple(item.attrs.get(n) for n in names)
                if all(v is not None for v in values):
                    by_hash.setdefault(values, []).append(item)
        built = (table.__dict__.get("_writes", 0), by_hash)
        cache[index_name] = built
    return list(built[1].get(tuple(asked[n] for n in names), ()))


def _bump(table) -> None:
    if table is not None:
        table.__dict__["_writes"] = table.__dict__.get("_writes", 0) + 1


def _bumping(method, tables_of):
    """`method`, then a new write generation for each table `tables_of(self, *args, **kwargs)` names."""
    def wrapped(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            for table in tables_of(self, *args, **kwargs):
                _bump(table)
    return wrapped


def _itself(table, *_, **__):
    return (table,)


def _named(backend, table_name=None, *_, **__):
    return (backend.tables.get(table_name),)


def _bumping_transaction(method):
    def wrapped(self, transact_items, *args, **kwargs):
        try:
            return method(self, transact_items, *args, **kwargs)
        finally:
            for entry in transact_items if isinstance(transact_items, list) else ():
                for op in entry.values() if isinstance(entry, dict) else ():
                    if isinstance(op, dict) and isinstance(op.get("TableName"), str):
                        _bump(self.tables.get(op["TableName"]))
    for name in ("keeps_items",):
        if hasattr(method, name):
            setattr(wrapped, name, getattr(method, name))
    return wrapped


def expire_sqs_visibility() -> int:
    """Make every in-flight SQS message visible now (the simulator's compressed time); returns how many."""
    from moto.backends import get_backend

    count = 0
    for regions in get_backend("sqs").values():
        for backend in regions.values():
            for queue in backend.queues.values():
                for message in queue._messages:
                    if not message.visible:
                        message.visible_at = 0.0
                        count += 1
    return count


def make_server(host: str, port: int):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server as werkzeug_server

    from local.simulate.meter import Metered

    transactions_copy_items_not_tables()
    linear_sqs_sends()
    indexed_dynamodb_queries()
    serialized = Serialized(DomainDispatcherApplication(create_backend_app))
    app = Metered(serialized, expire=lambda: _under(serialized.lock, expire_sqs_visibility))
    server = werkzeug_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    # Closing must not wait for clients' keep-alive connections (botocore keeps them open): the threads of
    # requests are daemons, and a stop that joined them held the port until every client went away.
    server.block_on_close = False
    server.serialized = serialized  # type: ignore[attr-defined]
    return server


def _under(lock, fn):
    with lock:
        return fn()


def start_in_thread(host: str = "127.0.0.1", port: int = 0):
    """(server, url); `server.shutdown()` stops it."""
    server = make_server(host, port)
    threading.Thread(target=server.serve_forever, daemon=True, name="aws-endpoint").start()
    return server, f"http://{host}:{server.server_port}"


def checkpoint(server, path: Path, force: bool = False) -> bool:
    """Save the state if requests came in since the last save (or when forced), between two requests."""
    gate: Serialized = server.serialized
    with gate.lock:
        if not force and not gate.requests:
            return False
        data = snapshot()
        gate.requests = 0
    save(path, data)
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.aws_endpoint")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--state", help="keep the state in this file (restored at start, saved on stop)")
    parser.add_argument("--checkpoint", type=float, default=15.0, help="seconds between saves while in use")
    args = parser.parse_args(argv)
    state = Path(args.state) if args.state else None
    if state and state.exists():
        try:
            count = restore(state.read_bytes())
            print(f"aws endpoint: restored {count} backend(s) from {state}", flush=True)
        except Exception as exc:  # noqa: BLE001 - a stale or broken file must not stop the stack
            broken = state.with_name(state.name + ".unreadable")
            os.replace(state, broken)
            print(f"aws endpoint: could not restore {state} ({exc}); moved it to {broken}, starting empty",
                  file=sys.stderr, flush=True)
    server = make_server(args.host, args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    serving.start()
    next_save = time.monotonic() + args.checkpoint
    while not stop.wait(0.2):
        if state and time.monotonic() >= next_save:
            checkpoint(server, state)
            next_save = time.monotonic() + args.checkpoint
    server.shutdown()
    if state:
        checkpoint(server, state, force=True)
        print(f"aws endpoint: state saved to {state}", flush=True)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
