"""The message router: a handler table in the manner of WeRoBot, driven by each account's rules.

    @router.action("help")
    def help_(ctx): return Decision(Reply(text=...))

`decide` normalises the text, finds the first rule that matches (`chalicelib.domain.rules`), and calls
that rule's action. Actions are plain functions of a `Context` returning a `Decision`: the reply and
the effects (records to write, messages to send) that the chat service commits exactly once.

Actions register where they are defined; `chalicelib.domain.handlers` imports every such module once
and is what callers use (`handlers.ROUTER`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

from chalicelib.domain.effects import Decision
from chalicelib.domain.messages import Inbound
from chalicelib.domain.ports import AccountView, Ports
from chalicelib.domain.records import record
from chalicelib.domain.rules import DEFAULT_RULES, SYSTEM_RULES, Rule
from chalicelib.domain.text import normalise


@record
class Context:
    message: Inbound
    account: AccountView
    text: str  # normalised
    params: dict[str, Any]
    ports: Ports
    now: datetime


Action = Callable[[Context], Decision]


class Router:
    """The handler table: action name → function. Rules (data) name the actions."""

    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}

    def action(self, name: str) -> Callable[[Action], Action]:
        def register(fn: Action) -> Action:
            if name in self._actions:
                raise ValueError(f"action {name!r} registered twice")
            self._actions[name] = fn
            return fn
        return register

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self._actions)

    def decide(self, message: Inbound, account: AccountView, ports: Ports, now: datetime,
               rules: Iterable[Rule] = DEFAULT_RULES) -> Decision:
        """The first rule that matches and names a known action answers. A rule naming an action this
        version lacks is passed over (rules are validated when saved, so only an old stored rule can),
        so the message still reaches the rules after it: a resident's need is never swallowed."""
        text = normalise(message.text)
        for rule in (*SYSTEM_RULES, *rules):
            captured = rule.matches(message, text)
            if captured is None:
                continue
            action = self._actions.get(rule.action)
            if action is None:
                continue
            return action(Context(message, account, text, {**rule.params, **captured}, ports, now))
        return Decision()

    def missing(self, rules: Iterable[Rule]) -> list[str]:
        """The action names `rules` use that are not in the table (a test and the rule editor ask)."""
        return sorted({r.action for r in rules} - set(self._actions))


router = Router()
