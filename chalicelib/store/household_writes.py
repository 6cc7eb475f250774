"""Writes of households and conversations, inside the caller's transaction."""
from __future__ import annotations

import json
from datetime import datetime

from chalicelib.domain.effects import DeleteProfile, EndConversation, SaveConversation, SaveProfile
from chalicelib.store.residents import Conversation, Profile, Resident

PROFILE_FIELDS = ("name", "address", "phone", "grid", "household_size", "mobility", "dietary_notes")


def write_household(tx, effect, now: datetime) -> None:

    if isinstance(effect, SaveConversation):
        tx.save(Conversation(f"{effect.account_id}#{effect.openid}", awaiting=effect.awaiting,
                             pending=json.dumps(effect.pending, ensure_ascii=False), expires_at=effect.expires_at),
                "conversation")
    elif isinstance(effect, EndConversation):
        tx.delete(Conversation(f"{effect.account_id}#{effect.openid}"), "conversation-end")
    elif isinstance(effect, SaveProfile):
        actions = [Profile.updated_at.set(now), Profile.created_at.set(Profile.created_at | now),
                   Profile.consent_at.set(Profile.consent_at | now)]
        if effect.community_id:
            actions.append(Profile.community_id.set(effect.community_id))
        for name in PROFILE_FIELDS:
            if name in effect.fields and effect.fields[name] not in (None, ""):
                actions.append(getattr(Profile, name).set(effect.fields[name]))
        tx.update(Profile(effect.profile_id), "profile", actions=actions)
        tx.update(Resident(effect.account_id, effect.openid), "resident-link", actions=[
            Resident.profile_id.set(effect.profile_id), Resident.relation.set(effect.relation),
            Resident.first_seen_at.set(Resident.first_seen_at | now)])
    elif isinstance(effect, DeleteProfile):
        tx.delete(Profile(effect.profile_id), "profile-delete")
        tx.update(Resident(effect.account_id, effect.openid), "resident-unlink",
                  actions=[Resident.profile_id.remove(), Resident.relation.remove()])
