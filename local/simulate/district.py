"""The simulated district's residents and what they say during the day (intents), drawn from a seed.

Every intent that files something carries a marker of its own (a building and unit number) so that the
simulator can find the request it made — and count a second one.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import random
import shutil
import string
from dataclasses import dataclass, field
from pathlib import Path

ISSUES = ["楼道灯坏了", "下水道堵了", "小区路灯不亮", "楼下垃圾好几天没人清理", "暖气不热", "电梯坏了",
          "单元门禁坏了", "楼顶漏水", "家门口的井盖松了", "自行车棚的顶棚破了"]
PLEAS = ["能否派人来看看？", "请帮忙处理一下。", "能不能尽快派人维修？", "麻烦社区帮忙联系维修。"]
SEARCHES = ["法官", "找香港", "微博", "学校", "消费维权", "找八大关"]
MENU_QUESTIONS = ["明天食堂有什么菜", "今天中午吃什么", "後天有沒有餃子", "周三的菜单"]
SUGGESTIONS = ["建议小区多装几个休息座椅", "建议社区周末开放阅览室", "我建议在小区门口加装减速带",
               "建议社区组织一次防诈骗讲座"]
STREETS = ["香港中路", "南京路", "湛山路", "江苏路", "太平路", "闽江路", "宁夏路", "东海西路"]

# kind -> what the platform must do with it: "request" (a numbered 便民纸条), "reply" (an answer now or a
# follow-up later), "none" (nothing is expected: an unsubscribe)
EXPECT = {"subscribe": "reply", "unsubscribe": "none", "help": "reply", "search": "reply", "menu": "reply",
          "file": "request", "meal": "request", "address": "reply", "relative_register": "reply",
          "my_requests": "reply", "rate": "reply", "cancel": "reply", "activities": "reply",
          "signup": "reply", "relative_signup": "reply", "suggestion": "reply"}


@dataclass
class Resident:
    index: int
    openid: str
    account_id: str
    community_id: str | None
    traditional: bool
    voice: bool
    elder: bool
    relative: bool
    new_follower: bool
    leaves: bool


@dataclass
class Intent:
    """One thing a resident says (one WeChat message or event), and what became of it."""
    id: int
    resident: Resident
    kind: str
    phase: str
    text: str = ""
    event: str = ""
    voice: bool = False
    marker: str = ""
    refers_to: int | None = None  # rate / cancel: the intent whose request it names
    # once | retry (delivered again, in turn) | burst (copies at the same moment) | slow (WeChat gives up
    # waiting while the platform is still at work, and delivers it again)
    delivery: str = "once"
    copies: int = 1
    answers: list = field(default_factory=list)  # (status, text or None, milliseconds)
    numbers: set = field(default_factory=set)  # request numbers named in the replies
    sent_at: float = 0.0  # the platform's clock when the first copy went
    error: str = ""

    @property
    def expects(self) -> str:
        return EXPECT[self.kind]


def traditional(text: str) -> str:
    import zhconv

    return zhconv.convert(text, "zh-hant")


def residents(seed, count: int, rng: random.Random) -> list[Resident]:
    accounts = seed.records("accounts")
    canteen_communities = {c["community_id"] for c in seed.records("canteens")}
    people = []
    for i in range(count):
        account = accounts[i % len(accounts)] if i < len(accounts) else rng.choice(accounts)
        community = account.get("community_id")
        elder = bool(community in canteen_communities and rng.random() < 0.35)
        people.append(Resident(i, f"o-sim-{i:06d}", account["id"], community, traditional=rng.random() < 0.1,
                               voice=rng.random() < 0.1, elder=elder,
                               relative=bool(community in canteen_communities and not elder and rng.random() < 0.15),
                               new_follower=rng.random() < 0.1, leaves=rng.random() < 0.03))
    return people


class Script:
    """Draws the day's intents, phase by phase."""

    def __init__(self, people: list[Resident], rng: random.Random, activities: dict[str, int]):
        self.people = people
        self.rng = rng
        self.intents: list[Intent] = []
        self.activities = activities  # account_id -> activities it lists (demo data)

    def add(self, resident: Resident, kind: str, phase: str, text: str = "", **kw) -> Intent:
        rng = self.rng
        roll = rng.random()
        delivery, copies = ("burst", rng.choice((2, 3))) if roll < 0.08 else \
            ("retry", rng.choice((2, 3))) if roll < 0.2 else ("slow", 2) if roll < 0.25 else ("once", 1)
        voice = bool(resident.voice and text and kind in ("file", "meal", "menu", "help", "suggestion"))
        if resident.traditional and text and kind in ("file", "meal", "menu", "help", "suggestion", "search"):
            text = traditional(text)
        intent = Intent(len(self.intents), resident, kind, phase, text=text, voice=voice, delivery=delivery,
                        copies=copies, **kw)
        self.intents.append(intent)
        return intent

    def marker(self, r: Resident) -> str:
        return f"{r.index % 97 + 1}号楼{r.index // 97 % 9 + 1}单元{r.index}室"

    def filing(self, r: Resident, phase: str) -> Intent:
        m = self.marker(r) + f"-{len(self.intents)}"
        text = f"{self.rng.choice(ISSUES)}（{m}），{self.rng.choice(PLEAS)}"
        return self.add(r, "file", phase, text, marker=m)

    def meal(self, r: Resident, phase: str, day: str = "明天") -> Intent:
        m = self.marker(r) + f"-{len(self.intents)}"
        who = "我母亲" if r.relative else "我们老两口" if self.rng.random() < 0.5 else "我"
        text = f"{who}身体不便，社区能否{day}中午派人送饭？（{m}）"
        return self.add(r, "meal", phase, text, marker=m)

    def morning(self) -> None:
        rng = self.rng
        for r in self.people:
            if r.new_follower:
                self.add(r, "subscribe", "morning", event="subscribe")
            if r.relative:
                self.add(r, "relative_register", "morning",
                         f"帮老人登记 地址 {rng.choice(STREETS)}{r.index % 200 + 1}号{r.index % 6 + 1}单元")
            if r.elder and rng.random() < 0.5:
                self.add(r, "address", "morning", f"地址 {rng.choice(STREETS)}{r.index % 200 + 1}号")
            if (r.elder or r.relative) and rng.random() < 0.7:
                self.meal(r, "morning", "明天" if rng.random() < 0.7 else "今天")
            roll = rng.random()
            if roll < 0.35:
                self.filing(r, "morning")
            elif roll < 0.5:
                self.add(r, "search", "morning", rng.choice(SEARCHES))
            elif roll < 0.6:
                self.add(r, "menu", "morning", rng.choice(MENU_QUESTIONS))
            elif roll < 0.68:
                self.add(r, "help", "morning", "你好")

    def midday(self, numbered: dict[int, str]) -> None:
        """After the staff's first round: ratings, cancellations, activities, suggestions, searches."""
        rng = self.rng
        filed = {i.id: i for i in self.intents if i.kind in ("file", "meal")}
        for r in self.people:
            mine = [i for i in filed.values() if i.resident is r and i.id in numbered]
            for intent in mine:
                roll = rng.random()
                if roll < 0.12:
                    self.add(r, "cancel", "midday", f"取消 {numbered[intent.id]}", refers_to=intent.id)
                elif roll < 0.3:
                    self.add(r, "my_requests", "midday", "我的纸条")
            if rng.random() < 0.12:
                self.add(r, "activities", "midday", "活动")
                if self.activities.get(r.account_id):
                    self.add(r, "signup", "midday", f"报名 {rng.randint(1, self.activities[r.account_id])}")
            if r.relative and self.activities.get(r.account_id) and rng.random() < 0.3:
                self.add(r, "relative_signup", "midday", f"帮老人报名 1 张大爷{r.index}")
            if rng.random() < 0.06:
                m = self.marker(r) + f"-{len(self.intents)}"
                self.add(r, "suggestion", "midday", f"{rng.choice(SUGGESTIONS)}（{m}）", marker=m)
            if rng.random() < 0.08:
                self.add(r, "search", "midday", rng.choice(SEARCHES))

    def afternoon(self, done: dict[int, str]) -> None:
        rng = self.rng
        for r in self.people:
            for intent_id, number in done.items():
                intent = self.intents[intent_id]
                if intent.resident is r and rng.random() < 0.5:
                    stars = rng.choice((5, 5, 4, 3))
                    self.add(r, "rate", "afternoon", f"评价 {number} {stars} {'很满意' if stars > 3 else '还行'}",
                             refers_to=intent_id)
            if rng.random() < 0.12:
                self.filing(r, "afternoon")

    def evening(self) -> None:
        rng = self.rng
        for r in self.people:
            if (r.elder or r.relative) and rng.random() < 0.25:
                self.meal(r, "evening")  # after the canteen's 20:00 cut-off: filed, flagged 逾时
            if r.leaves:
                self.add(r, "unsubscribe", "evening", event="unsubscribe")


def scaled_seed(source, accounts: int, folder) -> Path:
    """A district of `accounts` accounts: the demo seed's, plus communities (with their teams and accounts)
    cloned from its own, each with its own code, appid and demo keys (laptop only). Returns the file."""
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    used = {c["code"] for c in data["communities"]}
    codes = ("".join(p) for p in itertools.product(string.ascii_uppercase, repeat=3) if "".join(p) not in used)
    templates = [c for c in data["communities"]]
    by_community = {}
    for team in data["teams"]:
        by_community.setdefault(team["community_id"], []).append(team)
    account_of = {a["community_id"]: a for a in data["accounts"] if a.get("community_id")}
    for n in range(max(0, accounts - len(data["accounts"]))):
        base = templates[n % len(templates)]
        cid = f"sim-{n:05d}"
        code = next(codes)
        data["communities"].append({**base, "id": cid, "name": f"模拟社区{n}", "code": code,
                                    "grids": [f"{code}-0{g}" for g in range(1, 4)]})
        for team in by_community.get(base["id"], []):
            data["teams"].append({**team, "id": team["id"].replace(base["id"], cid, 1), "community_id": cid})
        digest = hashlib.sha256(cid.encode()).hexdigest()
        aes = (hashlib.sha256(b"aes" + cid.encode()).hexdigest() + digest)[:43]
        template = account_of.get(base["id"]) or data["accounts"][1]
        data["accounts"].append({**template, "id": cid, "name": f"模拟社区{n}", "community_id": cid,
                                 "appid": "wx" + digest[:16], "original_id": "gh_" + digest[16:28],
                                 "encryption_mode": "safe",
                                 "demo_secrets": {"app_secret": digest[28:60], "token": "demo" + digest[:12],
                                                  "encoding_aes_key": aes}})
    data["grown_from_demo"] = True  # local.seed loads the demo's posts and bulletin months into it too
    path = folder / "seed.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    shutil.copyfile(Path(source).parent / "seed.matrix.json", folder / "seed.matrix.json")
    return path
