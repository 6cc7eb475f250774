"""Load a district's data (`local/seed.json`, or `SEED_FILE`) into the laptop stack (tables and
queues are created first).

Every record is checked before anything is written, so a bad file stops with a message naming the
file, the record and the field, and leaves nothing half-loaded. Loading twice gives the same state.

    python -m local.seed [path]
    python -m local.seed --if-empty        # load only when the district is not there yet (make run)
"""
from __future__ import annotations

import base64
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from chalicelib.domain.canteen import serving_canteen
from chalicelib.domain.vocabulary import CANTEEN_KINDS, MEALS, ROLE_SCOPE, ROLES, TEAM_KINDS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = ROOT / "local" / "seed.json"
MATRIX_FILE = "seed.matrix.json"  # the alliance matrix, next to the seed file (optional)
# DEMO ONLY, laptop and tests: the console's JWT signing key ({SSM_PREFIX}/console/jwt_key). A deployed
# stage gets its own random SecureString (e.g. `python -c "import secrets; print(secrets.token_urlsafe(48))"`).
DEMO_JWT_KEY = "DEMO-ONLY-console-jwt-key-laptop-and-tests-never-deploy-0000000000"
# DEMO ONLY: the residents' H5 session key ({SSM_PREFIX}/h5/session_key), a key of its own.
DEMO_H5_KEY = "DEMO-ONLY-h5-session-key-laptop-and-tests-never-deploy-00000000000"
# Every demo key carries the marker a deployed stage refuses (chalicelib.auth.tokens.demo_or_weak).
UNUSABLE_PASSWORD_HASH = "!no-password-set"  # verifies nothing: an operator sets a real password


class SeedRefused(RuntimeError):
    """The seed would write demo material where it must never go."""


class SeedError(ValueError):
    """A seed record is missing a field or has a malformed one."""


# ---- field checks (data: the rules a record must meet) -------------------------------------------

Check = Callable[[Any], bool]
SLUG = (lambda v: isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9.-]{0,63}", v) is not None, "a lowercase slug")
TEXT = (lambda v: isinstance(v, str) and v.strip() != "", "non-empty text")
HHMM = (lambda v: isinstance(v, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v) is not None, "a time HH:MM")
INT0 = (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a whole number >= 0")
TEXTS = (lambda v: isinstance(v, list) and all(isinstance(x, str) and x for x in v), "a list of text")
OPT_SLUG = (lambda v: v is None or SLUG[0](v), "null or a lowercase slug")


def one_of(*values: str):
    return (lambda v: v in values, "one of " + ", ".join(values))


def pattern(regex: str, what: str):
    return (lambda v: isinstance(v, str) and re.fullmatch(regex, v) is not None, what)


def _aes_key(v: Any) -> bool:
    if not isinstance(v, str) or len(v) != 43:
        return False
    try:
        return len(base64.b64decode(v + "=", validate=True)) == 32
    except ValueError:
        return False


def _secrets(v: Any) -> bool:
    return (isinstance(v, dict) and pattern(r"[0-9a-f]{32}", "")[0](v.get("app_secret"))
            and pattern(r"[A-Za-z0-9]{3,32}", "")[0](v.get("token")) and _aes_key(v.get("encoding_aes_key")))


def _meals(v: Any) -> bool:
    return isinstance(v, dict) and bool(v) and all(
        k in MEALS and isinstance(m, dict) and HHMM[0](m.get("opens"))
        and HHMM[0](m.get("closes")) and INT0[0](m.get("delivery_capacity")) for k, m in v.items())


RULES: dict[str, dict[str, tuple[Check, str]]] = {
    "district": {"id": SLUG, "name": TEXT, "city": TEXT, "code": pattern(r"[A-Z]{2,3}", "2 or 3 capital letters")},
    "subdistricts": {"id": SLUG, "name": TEXT},
    "communities": {"id": SLUG, "name": TEXT, "subdistrict_id": SLUG,
                    "code": pattern(r"[A-Z]{2,3}", "2 or 3 capital letters"), "grids": TEXTS},
    "accounts": {"id": SLUG, "name": TEXT, "community_id": OPT_SLUG,
                 "type": one_of("subscription", "service"),
                 "appid": pattern(r"wx[0-9a-f]{16}", "wx and 16 hex digits"),
                 "original_id": pattern(r"gh_[0-9a-f]{12}", "gh_ and 12 hex digits"),
                 "encryption_mode": one_of("plain", "compatible", "safe"),
                 "demo_secrets": (_secrets, "{app_secret: 32 hex, token: 3-32 letters/digits, "
                                            "encoding_aes_key: 43 base64 characters}")},
    "departments": {"id": SLUG, "name": TEXT},
    "teams": {"id": SLUG, "community_id": SLUG,
              "kind": one_of(*TEAM_KINDS), "name": TEXT},
    "canteens": {"id": SLUG, "community_id": SLUG, "name": TEXT,
                 "kind": one_of(*CANTEEN_KINDS), "address": TEXT,
                 "meals": (_meals, "a map of breakfast/lunch/dinner to {opens, closes, delivery_capacity}"),
                 "order_cutoff": HHMM, "delivery_grids": TEXTS, "elder_subsidy_fen": INT0},
    "staff": {"username": SLUG, "display_name": TEXT,
              "role": one_of(*ROLES),
              "community_id": OPT_SLUG, "subdistrict_id": OPT_SLUG, "team_id": OPT_SLUG,
              "department_id": OPT_SLUG, "demo_password": TEXT},
    "partners": {"id": SLUG, "name": TEXT, "communities": TEXTS,
                 "demo_api_key": pattern(r"[A-Za-z0-9._-]{16,256}", "16 to 256 letters, digits, '.', '_' or '-'")},
}
def _menu_meals(v: Any) -> bool:
    return isinstance(v, dict) and all(
        meal in MEALS and isinstance(m, dict)
        and all(isinstance(x, dict) and TEXT[0](x.get("name")) and INT0[0](x.get("price_fen")) for x in
                m.get("dishes", []) + m.get("sets", [])) for meal, m in v.items())


def _weekly(v: Any) -> bool:
    return isinstance(v, dict) and set(v) <= {str(i) for i in range(7)} and all(_menu_meals(m) for m in v.values())


def _templates(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(spec, dict) and spec.get("kind") in ("template", "subscribe") and TEXT[0](spec.get("template_id"))
        and isinstance(spec.get("fields", {}), dict) for spec in v.values())


# Fields a record may leave out.
OPTIONAL: dict[str, dict[str, tuple[Check, str]]] = {
    "accounts": {"notify_templates": (_templates, "a map of purpose to {kind: template|subscribe, template_id, "
                                                  "fields}")},
    "canteens": {"menu_template": (TEXT[0], "the name of one of menu_templates")},
    # the staff member's bound WeChat (绑定微信, demo): the account they follow and their openid there
    "staff": {"wechat_account_id": (OPT_SLUG[0], "an account id"),
              "wechat_openid": (pattern(r"[A-Za-z0-9_-]{6,64}", "an openid")[0], "an openid")},
}
# Foreign keys: (collection, field) -> the collection whose ids it must name.
REFERENCES = {
    ("communities", "subdistrict_id"): "subdistricts",
    ("accounts", "community_id"): "communities",
    ("teams", "community_id"): "communities",
    ("canteens", "community_id"): "communities",
    ("staff", "community_id"): "communities",
    ("staff", "subdistrict_id"): "subdistricts",
    ("staff", "team_id"): "teams",
    ("staff", "department_id"): "departments",
}
# The scope field each role must carry (the others are derived or must be empty).
ROLE_FIELD = {role: (None if field == "district_id" else field) for role, field in ROLE_SCOPE.items()}


@dataclass
class Seed:
    path: Path
    data: dict[str, Any]
    matrix: list = field(default_factory=list)  # domain.matrix.MatrixEntry, from seed.matrix.json

    def records(self, collection: str) -> list[dict[str, Any]]:
        value = self.data[collection]
        return [value] if isinstance(value, dict) else value


def _where(path: Path, collection: str, index: int | None, record: Any) -> str:
    name = record.get("id") or record.get("username") if isinstance(record, dict) else None
    at = collection if index is None else f"{collection}[{index}]"
    return f"{path}: {at}" + (f" ({name})" if name else "")


def validate(path: Path, data: Any) -> Seed:
    """Check every record; raise SeedError naming file, record and field at the first problem."""
    if not isinstance(data, dict):
        raise SeedError(f"{path}: the top level must be a JSON object")
    for collection, fields in RULES.items():
        if collection not in data:
            raise SeedError(f"{path}: missing the '{collection}' section")
        value = data[collection]
        many = collection != "district"
        if many and not isinstance(value, list):
            raise SeedError(f"{path}: '{collection}' must be a list")
        records = value if many else [value]
        seen: set[str] = set()
        for i, record in enumerate(records):
            where = _where(path, collection, i if many else None, record)
            if not isinstance(record, dict):
                raise SeedError(f"{where}: a record must be a JSON object")
            for field, (check, what) in {**fields, **OPTIONAL.get(collection, {})}.items():
                if field not in record:
                    if field in OPTIONAL.get(collection, {}):
                        continue
                    raise SeedError(f"{where}: field '{field}' is missing")
                if not check(record[field]):
                    raise SeedError(f"{where}: field '{field}' must be {what}, got {record[field]!r:.60}")
            key = record.get("id", record.get("username"))
            if key in seen:
                raise SeedError(f"{where}: duplicate id {key!r}")
            seen.add(key)
    seed = Seed(path, data)
    _check_references(seed)
    return seed


def _check_references(seed: Seed) -> None:
    ids = {c: {r.get("id") for r in seed.records(c)} for c in RULES if c != "staff"}
    for (collection, field), target in REFERENCES.items():
        for i, record in enumerate(seed.records(collection)):
            value = record.get(field)
            if value is not None and value not in ids[target]:
                raise SeedError(f"{_where(seed.path, collection, i, record)}: field '{field}' names unknown "
                                f"{target[:-1]} {value!r}")
    codes = [c["code"] for c in seed.records("communities")] + [seed.data["district"]["code"]]
    if len(set(codes)) != len(codes):
        twice = sorted({c for c in codes if codes.count(c) > 1})
        raise SeedError(f"{seed.path}: communities and district: field 'code' must be unique, repeated: {twice}")
    grids = {c["id"]: set(c["grids"]) for c in seed.records("communities")}
    for i, canteen in enumerate(seed.records("canteens")):
        stray = set(canteen["delivery_grids"]) - grids[canteen["community_id"]]
        if stray:
            raise SeedError(f"{_where(seed.path, 'canteens', i, canteen)}: field 'delivery_grids' names grids "
                            f"outside its community: {sorted(stray)}")
    keys = [p["demo_api_key"] for p in seed.records("partners")]
    if len(set(keys)) != len(keys):
        raise SeedError(f"{seed.path}: partners: field 'demo_api_key' must be unique")
    for i, partner in enumerate(seed.records("partners")):
        stray = set(partner["communities"]) - ids["communities"]
        if stray:
            raise SeedError(f"{_where(seed.path, 'partners', i, partner)}: field 'communities' names unknown "
                            f"communities: {sorted(stray)}")
    templates = seed.data.get("menu_templates", {})
    if not isinstance(templates, dict) or not all(_weekly(t) for t in templates.values()):
        raise SeedError(f"{seed.path}: menu_templates: each must map weekday 0-6 (Monday 0) to meals of "
                        "{dishes: [{name, price_fen}], sets: […]}")
    for i, canteen in enumerate(seed.records("canteens")):
        if canteen.get("menu_template") and canteen["menu_template"] not in templates:
            raise SeedError(f"{_where(seed.path, 'canteens', i, canteen)}: field 'menu_template' names unknown "
                            f"template {canteen['menu_template']!r}")
    for i, user in enumerate(seed.records("staff")):
        needed = ROLE_FIELD[user["role"]]
        if needed and not user.get(needed):
            raise SeedError(f"{_where(seed.path, 'staff', i, user)}: field '{needed}' is required for role "
                            f"{user['role']}")


def read(path: str | os.PathLike | None = None) -> Seed:
    path = Path(path or os.environ.get("SEED_FILE") or DEFAULT_SEED)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{path}: cannot read the seed file ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SeedError(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    seed = validate(path, data)
    seed.matrix = read_matrix(path.parent / MATRIX_FILE, seed)
    return seed


def read_matrix(path: Path, seed: Seed) -> list:
    """The alliance matrix next to the seed (none if the file is absent), each entry checked by the
    same rules staff edits meet (`domain.matrix.entry_from_dict`)."""
    from chalicelib.domain.errors import BadRequest
    from chalicelib.domain.matrix import entry_from_dict

    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SeedError(f"{path}: cannot read the matrix ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("matrix"), list):
        raise SeedError(f"{path}: expected {{\"matrix\": [entries]}}")
    accounts = {a["id"] for a in seed.records("accounts")}
    entries, seen = [], set()
    for i, record in enumerate(data["matrix"]):
        where = _where(path, "matrix", i, record)
        try:
            entry = entry_from_dict(record)
        except BadRequest as exc:
            raise SeedError(f"{where}: {exc}") from exc
        if entry.entry_id in seen:
            raise SeedError(f"{where}: duplicate id {entry.entry_id!r}")
        if entry.account_id and entry.account_id not in accounts:
            raise SeedError(f"{where}: field 'account_id' names unknown account {entry.account_id!r}")
        seen.add(entry.entry_id)
        entries.append(entry)
    return entries


# ---- loading -------------------------------------------------------------------------------------

def load(seed: Seed, secret_store=None, demo_material: bool | None = None) -> dict[str, int]:
    """Write a validated seed: tables (batch puts, overwriting) and, on a laptop stage only, the demo
    material: account secrets and signing keys in SSM, staff passwords, partner api keys.

    On a deployed stage (`settings().deployed`) only the directory data is written: staff get no usable
    password (an existing one is kept), accounts and partners no secrets, and `demo_material=True` is
    refused with SeedRefused."""
    from chalicelib.config import settings
    from chalicelib.auth.passwords import hash_password, verify_password
    from chalicelib.secrets import AccountSecrets, secret_store as default_store
    from chalicelib.store.accounts import Account
    from chalicelib.store.canteens import Canteen
    from chalicelib.store.org import Community, Department, District, SubDistrict
    from chalicelib.store.staff import ROLE_SCOPE, StaffUser, scope_key
    from chalicelib.store.teams import Team

    deployed = settings().deployed
    if demo_material is None:
        demo_material = not deployed
    if demo_material and deployed:
        raise SeedRefused(f"stage {settings().stage!r} is deployed: demo keys, passwords and secrets are "
                          "never written there")
    district = seed.data["district"]
    d_id = district["id"]
    sub_of = {c["id"]: c["subdistrict_id"] for c in seed.records("communities")}
    community_of_team = {t["id"]: t["community_id"] for t in seed.records("teams")}
    items: list = [District(d_id, name=district["name"], city=district["city"], code=district["code"])]
    items += [SubDistrict(d_id, s["id"], name=s["name"]) for s in seed.records("subdistricts")]
    canteens_of: dict[str, list[tuple[str, str]]] = {}
    for c in seed.records("canteens"):
        canteens_of.setdefault(c["community_id"], []).append((c["id"], c["kind"]))
    items += [Community(c["id"], district_id=d_id, subdistrict_id=c["subdistrict_id"], name=c["name"],
                        code=c["code"], grids=c["grids"],
                        canteen_id=serving_canteen(canteens_of.get(c["id"], ())) or "")
              for c in seed.records("communities")]
    items += [Account(a["id"], district_id=d_id, community_id=a["community_id"], name=a["name"],
                      account_type=a["type"], appid=a["appid"], original_id=a["original_id"],
                      encryption_mode=a["encryption_mode"],
                      notify_templates=json.dumps(a.get("notify_templates", {}), ensure_ascii=False))
               for a in seed.records("accounts")]
    items += [Department(d_id, p["id"], name=p["name"]) for p in seed.records("departments")]
    items += [Team(t["community_id"], t["id"], kind=t["kind"], name=t["name"]) for t in seed.records("teams")]
    items += [Canteen(c["id"], community_id=c["community_id"], name=c["name"], kind=c["kind"],
                      address=c["address"], order_cutoff=c["order_cutoff"], delivery_grids=c["delivery_grids"],
                      elder_subsidy_fen=c["elder_subsidy_fen"],
                      meals=json.dumps(c["meals"], ensure_ascii=False)) for c in seed.records("canteens")]
    for u in seed.records("staff"):
        community = u.get("community_id") or community_of_team.get(u.get("team_id"))
        scope_field = ROLE_SCOPE[u["role"]]
        scope_id = d_id if scope_field == "district_id" else u[scope_field]
        try:
            existing = StaffUser.get(u["username"]).password_hash
        except StaffUser.DoesNotExist:
            existing = None
        if not demo_material:
            if existing is not None:
                continue  # a real user's password and state are left alone
            password_hash = UNUSABLE_PASSWORD_HASH
        elif existing is not None and verify_password(existing, u["demo_password"]):
            password_hash = existing
        else:
            password_hash = hash_password(u["demo_password"])
        items.append(StaffUser(
            u["username"], display_name=u["display_name"], role=u["role"],
            scope_key=scope_key(u["role"], scope_id), district_id=d_id,
            subdistrict_id=u.get("subdistrict_id") or sub_of.get(community), community_id=community,
            team_id=u.get("team_id"), department_id=u.get("department_id"),
            password_hash=password_hash, wechat_account_id=u.get("wechat_account_id"),
            wechat_openid=u.get("wechat_openid")))

    items += demo_menus(seed)
    counts: dict[str, int] = {}
    by_model: dict[type, list] = {}
    for item in items:
        by_model.setdefault(type(item), []).append(item)
    for model, batch_items in by_model.items():
        with model.batch_write() as batch:
            for item in batch_items:
                batch.save(item)
        counts[model.Meta.table_name] = len(batch_items)

    if not demo_material:
        return counts
    from chalicelib.store.partners import Partner, register_partner  # Open311 partners: only key hashes are stored

    for p in seed.records("partners"):
        register_partner(p["id"], p["name"], d_id, p["demo_api_key"], p["communities"])
    counts[Partner.Meta.table_name] = len(seed.records("partners"))

    store = secret_store or default_store()
    for a in seed.records("accounts"):
        s = a["demo_secrets"]
        store.put(a["id"], AccountSecrets(s["app_secret"], s["token"], s["encoding_aes_key"]))
    counts["ssm parameters"] = 3 * len(seed.records("accounts"))
    from chalicelib.auth.tokens import h5_key_store, signing_key_store  # demo signing keys (overwrites: idempotent)

    signing_key_store().put(DEMO_JWT_KEY)
    h5_key_store().put(DEMO_H5_KEY)
    counts["ssm parameters"] += 2
    if seed.matrix:
        # the alliance matrix: its compact index (the head; a large district's shards with batch writes)
        from chalicelib.store.matrix import MatrixItem, replace_all

        replace_all(d_id, seed.matrix, "seed")
        counts[MatrixItem.Meta.table_name + " entries"] = len(seed.matrix)
    activities = demo_activities(seed, d_id)
    for activity in activities:
        activity.save()
    counts["activities"] = len(activities)
    return counts


def demo_activities(seed: Seed, district_id: str) -> list:
    """The alliance file's demo activities (the district's 智能手机培训 for elders …), dated from today."""
    from datetime import datetime, time, timedelta

    from chalicelib.domain.activities import activity_scope
    from chalicelib.domain.dates import SHANGHAI
    from chalicelib.store.activities import Activity

    path = seed.path.parent / MATRIX_FILE
    if not path.exists():
        return []
    today = datetime.now(SHANGHAI).date()
    found = []
    for a in json.loads(path.read_text(encoding="utf-8")).get("activities", []):
        hh, mm = (int(x) for x in a["time"].split(":"))
        starts = datetime.combine(today + timedelta(days=a["day"]), time(hh, mm), tzinfo=SHANGHAI)
        found.append(Activity(a["id"], scope=activity_scope(district_id, a["community_id"]), district_id=district_id,
                              community_id=a["community_id"], title=a["title"], place=a["place"],
                              starts_at=starts, signup_deadline=starts - timedelta(hours=2),
                              capacity=a["capacity"], audience=a["audience"],
                              relatives_allowed=a["relatives_allowed"], description=a["description"],
                              created_by="seed"))
    return found


def demo_menus(seed: Seed, days: int = 7) -> list:
    """Published menus for the coming week (from today, Shanghai), from each canteen's weekly template."""
    from datetime import timedelta

    from chalicelib.domain.dates import SHANGHAI
    from chalicelib.store.canteens import Menu

    from chalicelib import clock

    today = clock.now().astimezone(SHANGHAI).date()  # the laptop's clock: LOCAL_CLOCK moves the demo week
    templates = seed.data.get("menu_templates", {})
    menus = []
    for canteen in seed.records("canteens"):
        weekly = templates.get(canteen.get("menu_template") or "")
        if not weekly:
            continue
        for offset in range(days):
            day = today + timedelta(days=offset)
            meals = {k: v for k, v in weekly.get(str(day.weekday()), {}).items() if k in canteen["meals"]}
            menus.append(Menu(canteen["id"], day.isoformat(), meals=json.dumps(meals, ensure_ascii=False),
                              published=True, updated_by="seed"))
    return menus


KEPT_STATE = "the kept state is loaded, the seed is not"


def has_district(seed: Seed) -> bool:
    """Whether the seed's district is already there (a restored state): one get."""
    from chalicelib.store.org import District

    try:
        District.get(seed.data["district"]["id"])
    except District.DoesNotExist:
        return False
    return True


def main(argv: list[str]) -> int:
    """Validate the seed, then create the tables and queues and load it.

    Only into stage `local`: any other stage is refused unless named with `--allow-stage <stage>`, and
    even then no demo key, password or secret is written to a deployed stage."""
    import argparse

    from chalicelib.config import settings
    from chalicelib.queues import create_queues
    from chalicelib.store.registry import create_tables

    parser = argparse.ArgumentParser(prog="python -m local.seed")
    parser.add_argument("path", nargs="?")
    parser.add_argument("--if-empty", action="store_true", help="load only when the district is not there yet")
    parser.add_argument("--allow-stage", help="load into this stage although it is not 'local' (directory "
                                              "data only on a deployed stage)")
    args = parser.parse_args(argv[1:])
    stage = settings().stage
    if stage != "local" and args.allow_stage != stage:
        print(f"seed: refusing to load into stage {stage!r}: the seed is for the laptop stack (STAGE=local). "
              f"Pass --allow-stage {stage} to load the directory data there; demo keys, passwords and "
              "secrets are never written to a deployed stage.", file=sys.stderr)
        return 3
    try:
        seed = read(args.path)
    except SeedError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 2
    made = create_tables()
    create_queues()
    if args.if_empty and has_district(seed):  # an earlier run's state was restored: load nothing
        print(f"seed: {KEPT_STATE}; tables and queues checked" + (f", created {', '.join(made)}" if made else ""))
        return 0
    counts = load(seed)
    demo = Path(os.environ.get("SEED_FILE") or DEFAULT_SEED).resolve() == DEFAULT_SEED.resolve()
    if demo or seed.data.get("grown_from_demo"):  # the demo, or a district grown from it (local/simulate)
        # the demo district's posts (local/seed.posts.json): laptop only
        from local.seed_posts import load_demo_posts

        counts.update({f"demo posts {state}": n for state, n in load_demo_posts().items()})
    if demo:  # the bulletin's demo months (after the demo posts), for the 66 accounts of the demo
        from local.seed_bulletin import load_demo_months

        counts.update(load_demo_months())
    print("seed: loaded " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
