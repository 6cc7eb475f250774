"""The handler table, loaded: every module that registers chat actions, imported once.

A new module of actions is added to the import below; `tests/test_router.py` proves that every action the
default rules and the seed's rules name is registered.
"""
from __future__ import annotations

from chalicelib.domain import (  # noqa: F401 - they register actions
    actions,
    activities,
    canteen_actions,
    consultations,
    convenience,
    matrix,
    request_actions,
    staff_actions,
    suggestions,
)
from chalicelib.domain.router import router

ROUTER = router
