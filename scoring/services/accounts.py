"""Accounts: passwords, roles, activation, and the login lockout kept in the database.

The lockout is counted in the ``account`` row, not in memory, so that a restart or a second
app server does not hand an attacker five fresh attempts.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

import bcrypt
from sqlmodel import Session, col, func, select

from scoring.errors import NotFound, ValidationFailed
from scoring.permissions import ORGANISER, Actor, can_change_own_password, can_manage_accounts
from scoring.services import audit
from scoring.services.guard import authorise
from scoring.storage.models import ROLES, Account, Assignment, Campaign, Entry, ScoreSheet, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,39}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt's own limit; bcrypt 5 raises beyond it


def validate_password(password: str) -> None:
    """Refuse passwords bcrypt would reject or that are too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed("error.password_too_short", minimum=MIN_PASSWORD_LENGTH)
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationFailed("error.password_too_long", maximum=MAX_PASSWORD_BYTES)


def hash_password(password: str) -> str:
    """A bcrypt hash of a valid password."""
    validate_password(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def generate_password() -> str:
    """An initial password that is easy to read out and hard to guess (no 0/O, 1/l)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def validate_username(username: str) -> str:
    """Usernames are lower case (the login form lower-cases what is typed)."""
    name = username.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise ValidationFailed("error.bad_username", username=username)
    return name


def find_account(session: Session, username: str) -> Account | None:
    """The account with this username, active or not."""
    return session.exec(select(Account).where(Account.username == username.lower())).first()


def actor_for(session: Session, username: str | None) -> Actor | None:
    """The actor for a logged-in username, re-read on every request; None when deactivated."""
    if not username:
        return None
    account = find_account(session, username)
    if account is None or not account.active:
        return None
    return Actor(username=account.username, role=account.role, account_id=account.id)


def is_locked(account: Account, now: datetime | None = None) -> bool:
    """True while a lockout after too many failed logins runs."""
    return account.locked_until is not None and account.locked_until > (now or utcnow())


def login_credentials(session: Session, now: datetime | None = None) -> dict:
    """The credentials dict streamlit-authenticator expects, built from active accounts.

    A locked account is given the maximum failed count, so the login widget refuses it
    before even checking the password.
    """
    now = now or utcnow()
    users = {}
    for account in session.exec(select(Account).where(Account.active == True)):  # noqa: E712
        users[account.username] = {
            "email": account.email,
            "first_name": account.display_name,
            "last_name": "",
            "password": account.password_hash,
            "roles": [account.role],
            "failed_login_attempts": MAX_FAILED_LOGINS if is_locked(account, now) else 0,
        }
    return {"usernames": users}


def record_failed_login(session: Session, username: str, now: datetime | None = None) -> bool:
    """Count a failed password for ``username``; returns True when the account is now locked.

    Read-then-write: run it inside ``Database.write`` so that concurrent failures all count.
    """
    now = now or utcnow()
    account = find_account(session, username)
    if account is None:
        return False
    if is_locked(account, now):
        return True
    account.failed_logins += 1
    locked = account.failed_logins >= MAX_FAILED_LOGINS
    if locked:
        account.locked_until = now + LOCKOUT
        account.failed_logins = 0
        audit.record(
            session,
            Actor(username=account.username, role=account.role, account_id=account.id),
            "account.locked",
            target=account.username,
            new={"locked_until": account.locked_until.isoformat()},
        )
    session.add(account)
    return locked


def record_successful_login(session: Session, username: str) -> None:
    """A good password resets the failure count."""
    account = find_account(session, username)
    if account is not None and account.failed_logins:
        account.failed_logins = 0
        session.add(account)


def list_accounts(session: Session, actor: Actor) -> list[Account]:
    """Every account, organisers only."""
    actor = authorise(session, actor, can_manage_accounts, "accounts.list").actor
    return list(session.exec(select(Account).order_by(Account.role, Account.username)))


def create_account(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: str,
    email: str = "",
    password: str | None = None,
) -> tuple[Account, str]:
    """A new account; returns it with its initial password (generated when none is given)."""
    actor = authorise(session, actor, can_manage_accounts, "accounts.create").actor
    name = validate_username(username)
    if role not in ROLES:
        raise ValidationFailed("error.bad_role", role=role, allowed=", ".join(ROLES))
    if find_account(session, name) is not None:
        raise ValidationFailed("error.username_taken", username=name)
    initial = password or generate_password()
    account = Account(
        username=name,
        display_name=display_name.strip() or name,
        email=email.strip(),
        role=role,
        password_hash=hash_password(initial),
        must_change_password=password is None,
    )
    session.add(account)
    session.flush()
    audit.record(session, actor, "account.create", target=name, new={"role": role})
    return account, initial


def _require_account(session: Session, username: str) -> Account:
    account = find_account(session, username)
    if account is None:
        raise NotFound("error.no_such_user", username=username)
    return account


def _other_active_organisers(session: Session, account: Account) -> int:
    query = select(func.count()).where(
        Account.role == ORGANISER,
        Account.active,
        Account.id != account.id,
    )
    return session.exec(query).one()


def set_active(session: Session, actor: Actor, username: str, active: bool) -> None:
    """Deactivate or reactivate; takes effect on the user's next click."""
    actor = authorise(session, actor, can_manage_accounts, "accounts.deactivate").actor
    account = _require_account(session, username)
    if not active and account.role == ORGANISER and not _other_active_organisers(session, account):
        raise ValidationFailed("error.last_organiser")
    if account.active != active:
        audit.record(
            session, actor, "account.active", target=username, old=account.active, new=active
        )
        account.active = active
        session.add(account)


def change_role(session: Session, actor: Actor, username: str, role: str) -> None:
    """Change a user's role; pages re-read it on the next click."""
    actor = authorise(session, actor, can_manage_accounts, "accounts.change_role").actor
    if role not in ROLES:
        raise ValidationFailed("error.bad_role", role=role, allowed=", ".join(ROLES))
    account = _require_account(session, username)
    if (
        account.role == ORGANISER
        and role != ORGANISER
        and not _other_active_organisers(session, account)
    ):
        raise ValidationFailed("error.last_organiser")
    if account.role != role and account.role != ORGANISER:
        _refuse_while_holding_work(session, account)
    if account.role != role:
        audit.record(session, actor, "account.role", target=username, old=account.role, new=role)
        account.role = role
        session.add(account)


def _refuse_while_holding_work(session: Session, account: Account) -> None:
    """A reviewer's sheets and assignments belong to the panel of their role: refuse to move
    them to another panel while a campaign that is not finalised holds any of them."""
    held, sheets = (
        session.exec(
            select(Campaign.slug, func.count(table.id))
            .join(Entry, Entry.campaign_id == Campaign.id)
            .join(table, table.entry_id == Entry.id)
            .where(table.reviewer_id == account.id, col(Campaign.finalised_at).is_(None))
            .group_by(Campaign.slug)
        ).all()
        for table in (Assignment, ScoreSheet)
    )
    if held or sheets:
        raise ValidationFailed(
            "error.role_holds_work",
            username=account.username,
            campaigns=", ".join(sorted({slug for slug, _ in [*held, *sheets]})),
            assignments=sum(n for _, n in held),
            sheets=sum(n for _, n in sheets),
        )


def reset_password(session: Session, actor: Actor, username: str) -> str:
    """A new generated password (shown once), which also lifts a lockout."""
    actor = authorise(session, actor, can_manage_accounts, "accounts.reset_password").actor
    account = _require_account(session, username)
    password = generate_password()
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.failed_logins = 0
    account.locked_until = None
    session.add(account)
    audit.record(session, actor, "account.reset_password", target=username)
    return password


def change_own_password(session: Session, actor: Actor, current: str, new: str) -> None:
    """A user replaces their own password, proving they know the current one."""
    actor = authorise(session, actor, can_change_own_password, "account.change_password").actor
    account = _require_account(session, actor.username)
    if not bcrypt.checkpw(current.encode("utf-8"), account.password_hash.encode("ascii")):
        raise ValidationFailed("error.wrong_current_password")
    account.password_hash = hash_password(new)
    account.must_change_password = False
    session.add(account)
    audit.record(session, actor, "account.change_password", target=actor.username)
