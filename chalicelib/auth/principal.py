"""Who is calling: the `Principal` the staff authorizer hands to every protected route."""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from chalicelib.auth.errors import Unauthenticated
from chalicelib.domain.records import record
from chalicelib.store.staff import ROLES

SCOPE_FIELDS = ("district_id", "subdistrict_id", "community_id", "team_id", "department_id")


@record
class Principal:
    username: str
    display_name: str
    role: str  # a key of chalicelib.store.staff.ROLES
    district_id: str
    subdistrict_id: str | None = None
    community_id: str | None = None
    team_id: str | None = None
    department_id: str | None = None

    @classmethod
    def from_user(cls, user: Any) -> "Principal":
        """From a `StaffUser` (or anything with the same attributes)."""
        return cls(**{f.name: getattr(user, f.name, None) for f in fields(cls)})

    # API Gateway passes an authorizer's context as flat string values (null is refused), so None is "".
    def to_context(self) -> dict[str, str]:
        return {k: ("" if v is None else str(v)) for k, v in asdict(self).items()}

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> "Principal":
        values = {f.name: (context.get(f.name) or None) for f in fields(cls)}
        if not values["username"] or not values["role"]:
            raise Unauthenticated()
        values["display_name"] = values["display_name"] or ""
        values["district_id"] = values["district_id"] or ""
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """What the console shows: the user, the role's name and the scope."""

        return {"username": self.username, "display_name": self.display_name, "role": self.role,
                "role_name": ROLES.get(self.role, self.role),
                "scope": {name: getattr(self, name) for name in SCOPE_FIELDS}}


def current_principal(request: Any) -> Principal:
    """The principal of a request that went through `staff_authorizer`; `Unauthenticated` (401) otherwise.

    Chalice (API Gateway, `chalice local` and the test client alike) puts the authorizer's context, plus
    `principalId`, at `request.context["authorizer"]`.
    """
    context = getattr(request, "context", None) or {}
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    if not isinstance(authorizer, dict):
        raise Unauthenticated()
    principal = Principal.from_context(authorizer)
    if authorizer.get("principalId") not in (None, principal.username):
        raise Unauthenticated()
    return principal
