"""The laptop's AWS endpoint: moto's server, with every request handled one at a time.

DynamoDB applies each conditional write atomically; moto's in-memory backend does not take a lock, so
two threads can both pass the same condition. Serialising requests restores DynamoDB's guarantee, which
the platform relies on (exactly-once deliveries, the token lease, meal capacity), and which the race
tests check. Used by `make run` and by the tests' `moto_server` fixture.

    python -m local.aws_endpoint --port 5000
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading


class Serialized:
    """WSGI middleware: one request at a time, response body included."""

    def __init__(self, app):
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            return list(self._app(environ, start_response))


def make_server(host: str, port: int):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server as werkzeug_server

    app = Serialized(DomainDispatcherApplication(create_backend_app))
    return werkzeug_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)


def start_in_thread(host: str = "127.0.0.1", port: int = 0):
    """(server, url); `server.shutdown()` stops it."""
    server = make_server(host, port)
    threading.Thread(target=server.serve_forever, daemon=True, name="aws-endpoint").start()
    return server, f"http://{host}:{server.server_port}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.aws_endpoint")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
