"""``import-users``: accounts from a workbook, with generated initial passwords shown once.

Hashing a password with bcrypt takes a quarter of a second on purpose, so a file of 50
accounts would hold the write lock for over ten seconds. ``plan_users_import`` therefore
checks the rows and hashes every password outside any write transaction;
``apply_users_import`` authorises, re-checks that no username was taken meanwhile and
inserts the accounts and their audit events in one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from scoring.errors import ValidationFailed
from scoring.importers.cells import column_length, shown, text_problem
from scoring.importers.report import Report
from scoring.importers.tables import Column, read_mapped, rows
from scoring.permissions import Actor, can_manage_accounts
from scoring.services import audit
from scoring.services.accounts import (
    find_account,
    generate_password,
    hash_password,
    validate_password,
    validate_username,
)
from scoring.services.guard import authorise
from scoring.storage.models import ROLES, Account

COLUMNS = [
    Column("username", ("用户名", "账号"), required=True),
    Column("name", ("姓名", "名称", "display_name"), required=True),
    Column("role", ("角色",), required=True),
    Column("email", ("邮箱", "电子邮件")),
    Column("password", ("密码", "初始密码")),
]

ROLE_ALIASES = {"组织者": "organiser", "主办方": "organiser", "专家": "expert", "媒体": "media"}


@dataclass(frozen=True)
class PendingAccount:
    row: int
    username: str
    display_name: str
    role: str
    email: str
    password: str  # the initial password, shown once; empty when the file gave one
    password_hash: str
    must_change_password: bool


@dataclass
class UsersPlan:
    accounts: list[PendingAccount]
    report: Report
    source: str = "users"


def plan_users_import(session: Session, path: Path, data: bytes | None = None) -> UsersPlan:
    """Check every row and hash every password; ``session`` only reads."""
    report = Report()
    frame = read_mapped(path, data, COLUMNS, report)
    seen: dict[str, int] = {}
    checked: list[tuple[int, str, dict[str, str]]] = []
    for row, values in rows(frame):
        try:
            username = validate_username(values["username"])
        except ValidationFailed as error:
            report.add(error.key, row, "username", username=shown(values["username"]))
            continue
        role = ROLE_ALIASES.get(values["role"], values["role"].lower())
        if role not in ROLES:
            report.add(
                "import.bad_choice",
                row,
                "role",
                value=shown(values["role"]),
                allowed=", ".join(ROLES),
            )
        if not values["name"]:
            report.add("import.required", row, "name")
        for column, field_name in (("name", "display_name"), ("email", "email")):
            if problem := text_problem(values[column], column_length(Account, field_name)):
                report.add(problem[0], row, column, **problem[1])
        if username in seen:
            report.add("users.duplicate", row, "username", username=username, first=seen[username])
        elif find_account(session, username) is not None:
            report.add("error.username_taken", row, "username", username=username)
        seen.setdefault(username, row)
        if values["password"]:
            try:
                validate_password(values["password"])
            except ValidationFailed as error:
                report.add(error.key, row, "password", **error.params)
        checked.append((row, username, {**values, "role": role}))
    if not checked and report.ok:
        report.add("import.empty")
    accounts = []
    if report.ok:  # hash only a file that will be written: bcrypt is slow by design
        for row, username, values in checked:
            given = values["password"]
            initial = given or generate_password()
            accounts.append(
                PendingAccount(
                    row=row,
                    username=username,
                    display_name=values["name"].strip() or username,
                    role=values["role"],
                    email=values["email"].strip(),
                    password="" if given else initial,
                    password_hash=hash_password(initial),
                    must_change_password=not given,
                )
            )
    return UsersPlan(accounts, report, path.name)


def apply_users_import(
    session: Session, actor: Actor, plan: UsersPlan
) -> list[tuple[str, str, str]]:
    """Create every account of the plan or none; returns (username, role, initial password)."""
    actor = authorise(session, actor, can_manage_accounts, "users.import").actor
    plan.report.raise_if_invalid(plan.source)
    names = [a.username for a in plan.accounts]
    taken = set(session.exec(select(Account.username).where(col(Account.username).in_(names))))
    report = Report()
    for pending in plan.accounts:
        if pending.username in taken:
            report.add("error.username_taken", pending.row, "username", username=pending.username)
    report.raise_if_invalid(plan.source)
    rows_to_add: list = []
    for pending in plan.accounts:
        rows_to_add.append(
            Account(
                username=pending.username,
                display_name=pending.display_name,
                email=pending.email,
                role=pending.role,
                password_hash=pending.password_hash,
                must_change_password=pending.must_change_password,
            )
        )
        # the same event scoring.services.accounts.create_account writes
        rows_to_add.append(
            audit.event(
                actor, "account.create", target=pending.username, new={"role": pending.role}
            )
        )
    session.add_all(rows_to_add)
    return [(a.username, a.role, a.password) for a in plan.accounts]
