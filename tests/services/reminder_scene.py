"""A campaign whose reviewers are behind by different amounts, for progress and reminders.

expert1 张三 (e-mail): 3 assigned, 1 submitted, 1 draft — 2 missing
expert2 李四 (an address the test SMTP server refuses): 3 assigned, none saved — 3 missing
expert3 王五 (no e-mail): 3 assigned, 2 submitted — 1 missing
media1 赵六 (e-mail): 2 assigned, declared a conflict on one, submitted the other — done
expert4 (deactivated): 3 assigned, none saved — left out
"""

from __future__ import annotations

from sqlmodel import select

from scoring.services.accounts import set_active
from scoring.services.review import declare_conflict
from scoring.services.sheets import save_own_sheet
from scoring.storage.models import Account, Campaign, Entry
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry

EXPERT = {"innovation": 48, "impact": 30.5}
MEDIA = {"story": 80}
DEADLINE = "2020-11-20"
REFUSED = "lisi@refused.example"
PEOPLE = {
    "expert1": ("张三", "zhangsan@example.org"),
    "expert2": ("李四", REFUSED),
    "expert3": ("王五", ""),
    "media1": ("赵六", "zhaoliu@example.org"),
    "expert4": ("钱七", "qianqi@example.org"),
}


def build(database) -> dict:
    """Build the scene through the real use cases; returns slugs, ids and actors."""

    def setup(session):
        campaign = make_campaign(session, review_closes_on=DEADLINE)
        entries = [make_entry(session, campaign, f"R-{i}") for i in (1, 2, 3)]
        accounts = {}
        for username, (name, email) in PEOPLE.items():
            account = make_account(session, username, username[:-1])
            account.display_name, account.email = name, email
            session.add(account)
            accounts[username] = account
        session.flush()
        for username, account in accounts.items():
            for entry in entries[:2] if username == "media1" else entries:
                assigned(session, entry, account)
        organiser = make_account(session, "boss", "organiser")
        return {
            "campaign": campaign.slug,
            "ids": [e.id for e in entries],
            "actors": {u: actor_of(a) for u, a in accounts.items()},
            "organiser": actor_of(organiser),
        }

    scene = database.write(setup)
    ids, actors = scene["ids"], scene["actors"]

    def save(username, entry_id, submit, points=EXPERT):
        database.write(
            lambda s: save_own_sheet(
                s,
                actors[username],
                entry_id=entry_id,
                points=points,
                comment="",
                submit=submit,
                expected_version=None,
            )
        )

    save("expert1", ids[0], True)
    save("expert1", ids[1], False)
    save("expert3", ids[0], True)
    save("expert3", ids[1], True)
    database.write(
        lambda s: declare_conflict(s, actors["media1"], campaign_of(s, scene), "R-2", "同单位")
    )
    save("media1", ids[0], True, MEDIA)
    database.write(lambda s: set_active(s, ORGANISER, "expert4", False))
    return scene


def campaign_of(session, scene) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == scene["campaign"])).one()


def account(session, username: str) -> Account:
    return session.exec(select(Account).where(Account.username == username)).one()


def entry_codes(session, scene) -> list[str]:
    return [session.get(Entry, i).code for i in scene["ids"]]
