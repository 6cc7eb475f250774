"""The one list of tables (models) of the platform."""
from __future__ import annotations

from chalicelib.store.accounts import Account
from chalicelib.store.alliance_settings import AllianceSetting
from chalicelib.store.bulletins import Bulletin, BulletinAppeal, BulletinPart
from chalicelib.store.community_months import CommunityMonth
from chalicelib.store.activities import Activity, Signup
from chalicelib.store.canteens import Canteen, Menu
from chalicelib.store.consultations import Consultation, ConsultationAnswer
from chalicelib.store.counters import Counter
from chalicelib.store.inbox import CallbackStamp, Delivery
from chalicelib.store.matrix import MatrixItem, MatrixPart
from chalicelib.store.org import Community, Department, District, SubDistrict
from chalicelib.store.outbox import OutboxMessage
from chalicelib.store.partners import Partner
from chalicelib.store.policies import RequestPolicy
from chalicelib.store.posts import PostDay, PostHistory, PostItem, PublishingPolicy, StaffNotice
from chalicelib.store.requests import HelpRequest, RequestContact, RequestEvent, RequestGuard
from chalicelib.store.residents import Conversation, Profile, Resident
from chalicelib.store.rules import RuleSet
from chalicelib.store.staff import StaffEvent, StaffUser
from chalicelib.store.staff_alerts import BindCode, StaffAlert
from chalicelib.store.suggestions import Suggestion
from chalicelib.store.stats import AccountDailyStats
from chalicelib.store.teams import Team
from chalicelib.store.tokens import AccessToken

ALL_MODELS = (
    District, SubDistrict, Community, Account, Department, Team, Canteen, Resident, Profile, StaffUser,
    AccessToken, AccountDailyStats, Delivery, OutboxMessage, RuleSet, Counter, HelpRequest, RequestEvent,
    RequestGuard, RequestContact, RequestPolicy, Menu, Conversation, Partner, CallbackStamp,
    PostItem, PostHistory, PostDay, PublishingPolicy, StaffNotice,  # publishing
    MatrixItem, Activity, Signup, Suggestion, AllianceSetting, Consultation, ConsultationAnswer,
    StaffEvent, BindCode, StaffAlert,  # staff operations
    CommunityMonth, Bulletin, BulletinPart, BulletinAppeal,  # the monthly bulletin
    MatrixPart,  # the matrix's entries and shards at scale
)


def create_tables(wait: bool = True) -> list[str]:
    """Create every missing table (laptop stack and tests; a deployed stack gets them from the template)."""
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=wait)
            created.append(model.Meta.table_name)
    return created



def connect_all() -> None:
    """Give every model its connection, all sharing the container's one DynamoDB client (store/base.py):
    for Lambda's init phase (`bootstrap.warm_up`). Makes the client; sends nothing."""
    for model in ALL_MODELS:
        model._get_connection().connection.client  # noqa: B018 - built on first access
