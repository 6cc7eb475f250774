"""The big libraries (chalice, botocore, PynamoDB), loaded first and then frozen for the container's life (冻结).

`app.py` imports this module before any other module of the platform. What these libraries build while they
load (some 30,000 objects the collector tracks) lives as long as the Lambda container. Python's garbage
collector would walk all of it again in each full collection — several while the platform's own ~150 modules
load, and more during requests — although none of it can become garbage: about 50 million instructions of a cold start
(bench/import_time.py), a fifth of what the platform's own import costs. `gc.freeze()` moves the objects that
exist now to the permanent generation, which collections skip; everything created later is collected as usual.

The same holds for what the platform's own modules build while `app.py` imports them (classes, tables,
routes): the collector stays off until `loaded()`, which `app.py` calls once its imports are done, freezing
those too (~29 million instructions fewer; bench/import_time.py).
"""
from __future__ import annotations

import gc

import botocore.session  # noqa: F401 - loaded here, before the freeze
import chalice.app  # noqa: F401
import pynamodb.models  # noqa: F401

gc.freeze()
gc.disable()  # until `loaded()`: the platform's modules allocate only objects that live as long as the container


def loaded() -> None:
    """The platform is imported: freeze what it built and collect as usual from now on."""
    gc.freeze()
    gc.enable()
