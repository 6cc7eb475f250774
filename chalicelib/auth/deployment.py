"""Refusing to serve a deployed stage with demo or weak keys (上线检查).

On a deployed stage (`settings().deployed`), the console's JWT key and the residents' H5 session key must
be in SSM, at least 32 bytes, and not a published demo key (local/seed.py's carry a marker). Otherwise
every route answers 503 and `/health` fails with the reasons, after one CRITICAL log line per check. The
check is cached per container; the keys' own stores cache SSM's answers, so it costs no extra call.
"""
from __future__ import annotations

import logging

from chalice import Response

from chalicelib import log
from chalicelib.auth.tokens import SigningKeyMissing, demo_or_weak, h5_key_store, signing_key_store
from chalicelib.cache import ContainerCache
from chalicelib.config import settings

CHECK_CACHE = ContainerCache(60, max_entries=1, miss_seconds=60)
LOG = log.get_logger("deployment")
REFUSED_BODY = '{"code": "misconfigured", "message": "服务配置有误，暂不可用"}'


def problems() -> tuple[str, ...]:
    """Why this stage must not serve (empty when it may); always empty on a laptop stage."""
    if not settings().deployed:
        return ()
    return CHECK_CACHE.get("keys", _check)


def _check() -> tuple[str, ...]:

    found = []
    for name, store in (("console JWT key", signing_key_store()), ("H5 session key", h5_key_store())):
        try:
            key = store.get()
        except SigningKeyMissing as exc:
            found.append(f"{name}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - SSM unreachable or denied: refuse, and say so
            found.append(f"{name}: cannot be read ({type(exc).__name__})")
            continue
        if demo_or_weak(key):
            found.append(f"{name} is a demo key or shorter than 32 bytes")
    if found:
        log.event(LOG, "refusing to serve stage %s: %s" % (settings().stage, "; ".join(found)), logging.CRITICAL)
    return tuple(found)


def refuse_unsafe_stage(event, get_response):
    """Chalice middleware ('http'): 503 for every route while `problems()`; /health says why."""
    if event.path != "/health" and problems():

        return Response(body=REFUSED_BODY, status_code=503,
                        headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"})
    return get_response(event)
