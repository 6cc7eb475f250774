"""Structured logs: one JSON object a line, with the request id, account id and job name.

Entry points bind the context (`bind(request_id=..., account_id=...)`); every record logged while it is
bound carries those fields. Personal data never goes in: callers log ids and masked values only
(`domain.masking`), and `redact` drops any key that looks like a secret.
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator


_CONTEXT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("log_context", default={})
_SECRET_WORDS = ("secret", "token", "password", "aes_key", "encoding_aes_key", "authorization")
LOGGER_NAME = "alliance"


def redact(fields: dict[str, Any]) -> dict[str, Any]:
    """Replace values whose key names a secret with '***'."""
    return {k: ("***" if any(w in k.lower() for w in _SECRET_WORDS) else v) for k, v in fields.items()}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_CONTEXT.get())
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(redact(extra))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is now (Lambda ships stdout to CloudWatch; tests capture it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value):
        pass


def configure(level: str = "INFO") -> logging.Logger:
    """Install the JSON formatter on the platform's logger (idempotent)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
    return logger


def get_logger(name: str = "") -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add fields (request_id, account_id, job …) to every log record inside the block."""
    token = _CONTEXT.set({**_CONTEXT.get(), **redact({k: v for k, v in fields.items() if v is not None})})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def event(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log a message with structured fields."""
    logger.log(level, message, extra={"fields": fields})


def request_context_middleware(event: Any, get_response: Any) -> Any:
    """Chalice middleware ('all'): bind the request id (API Gateway's, or Lambda's) to every log line."""
    context = getattr(event, "context", None)
    if isinstance(context, dict):  # an HTTP request: API Gateway's request context
        request_id = context.get("requestId")
    else:  # a schedule or queue event: the Lambda context object
        request_id = getattr(getattr(event, "context", None), "aws_request_id", None) or getattr(
            getattr(event, "lambda_context", None), "aws_request_id", None)
    with bind(request_id=request_id):
        return get_response(event)
