"""Vocabularies and the handler table, each defined once and checked where they are used."""
from __future__ import annotations

import json
import re
from pathlib import Path

from chalicelib.domain import vocabulary
from chalicelib.domain.handlers import ROUTER
from chalicelib.domain.rules import DEFAULT_RULES, rules_from_json
from chalicelib.openapi import DOCUMENT
from chalicelib.routes.console import vocabulary_js

ROOT = Path(__file__).resolve().parent.parent


def test_every_action_the_default_and_seeded_rules_name_is_registered():
    assert ROUTER.missing(DEFAULT_RULES) == []
    seed = json.loads((ROOT / "local" / "seed.json").read_text(encoding="utf-8"))
    for account in seed["accounts"]:
        if account.get("rules"):
            assert ROUTER.missing(rules_from_json(json.dumps(account["rules"]))) == [], account["id"]


def _enums(node, found):
    if isinstance(node, dict):
        if "enum" in node:
            found.append(node["enum"])
        for value in node.values():
            _enums(value, found)
    elif isinstance(node, list):
        for value in node:
            _enums(value, found)
    return found


def test_the_openapi_enums_are_the_domain_vocabularies():
    enums = [sorted(e) for e in _enums(DOCUMENT, []) if isinstance(e, list) and e and isinstance(e[0], str)]
    for name in ("STATES", "CATEGORIES", "MEALS", "ROLES"):
        assert sorted(getattr(vocabulary, name)) in enums, f"OpenAPI lacks the {name} enum"
    known = {tuple(sorted(getattr(vocabulary, n))) for n in ("STATES", "CATEGORIES", "MEALS", "ROLES")}
    for enum in enums:  # an enum of one of these kinds is exactly the vocabulary, not a copy gone stale
        if set(enum) & set(vocabulary.STATES) or set(enum) & set(vocabulary.CATEGORIES):
            assert tuple(enum) in known, enum


def test_the_console_reads_the_vocabularies_from_the_platform():
    served = json.loads(vocabulary_js().split("=", 1)[1].rstrip().rstrip(";"))
    assert served["states"] == vocabulary.STATES and served["categories"] == vocabulary.CATEGORIES
    assert served["flags"] == vocabulary.FLAGS and served["roles"] == vocabulary.ROLES
    app_js = (ROOT / "chalicelib" / "console" / "app.js").read_text(encoding="utf-8")
    for words in (vocabulary.STATES, vocabulary.CATEGORIES, vocabulary.ROLES, vocabulary.MEALS, vocabulary.FLAGS):
        copied = [k for k, w in words.items() if re.search(rf'\b{re.escape(k)}\s*:\s*["\']{re.escape(w)}["\']', app_js)]
        assert not copied, f"app.js keeps its own copy of {copied}"


def test_the_seed_validator_reads_the_vocabularies():
    from local import seed

    assert seed.RULES["staff"]["role"][1] == "one of " + ", ".join(vocabulary.ROLES)
    assert seed.RULES["teams"]["kind"][1] == "one of " + ", ".join(vocabulary.TEAM_KINDS)
