"""Staff authentication and authorisation.

    from chalicelib.auth import staff_authorizer, current_principal, require, NotFound

* `staff_authorizer`: the Chalice authorizer for console routes (`authorizer=staff_authorizer`);
* `current_principal(request) -> Principal`: who is calling;
* `require(principal, action, obj=None)`: allow or raise `NotFound` (out of scope) / `Forbidden`;
  `communities_in_scope`, `can_see_request`, `can`, `ROLE_ACTIONS` (scope.py);
* login, logout and password change: `service.py`; tokens: `tokens.py`.
"""
from chalicelib.auth import scope, tokens
from chalicelib.auth.authorizer import staff_authorizer
from chalicelib.auth.errors import (
    AuthError,
    BadRequest,
    Forbidden,
    InvalidCredentials,
    Locked,
    NotFound,
    Unauthenticated,
    WeakPassword,
    WrongPassword,
)
from chalicelib.auth.principal import Principal, current_principal
from chalicelib.auth.scope import (
    ACTIONS,
    ROLE_ACTIONS,
    can,
    can_see_request,
    communities_in_scope,
    require,
    transition_action,
)


def reset_caches() -> None:
    """Forget what this container cached (signing key, sub-district communities): tests."""

    tokens.reset()
    scope.SUBDISTRICT_CACHE.clear()


__all__ = [
    "ACTIONS", "AuthError", "BadRequest", "Forbidden", "InvalidCredentials", "Locked", "NotFound", "Principal",
    "ROLE_ACTIONS", "Unauthenticated", "WeakPassword", "WrongPassword", "can", "can_see_request",
    "communities_in_scope", "current_principal", "require", "reset_caches", "staff_authorizer", "transition_action",
]
