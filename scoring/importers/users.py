"""``import-users``: accounts from a workbook, with generated initial passwords shown once."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from scoring.errors import ValidationFailed
from scoring.importers.report import Report
from scoring.importers.tables import Column, map_columns, read_table, rows
from scoring.permissions import Actor, can_manage, require
from scoring.services.accounts import (
    create_account,
    find_account,
    validate_password,
    validate_username,
)
from scoring.storage.models import ROLES

COLUMNS = [
    Column("username", ("用户名", "账号"), required=True),
    Column("name", ("姓名", "名称", "display_name"), required=True),
    Column("role", ("角色",), required=True),
    Column("email", ("邮箱", "电子邮件")),
    Column("password", ("密码", "初始密码")),
]

ROLE_ALIASES = {"组织者": "organiser", "主办方": "organiser", "专家": "expert", "媒体": "media"}


def import_users(
    session: Session, actor: Actor, path: Path, data: bytes | None = None
) -> list[tuple[str, str, str]]:
    """Create every account of the file or none; returns (username, role, initial password)."""
    require(can_manage(actor), "users.import")
    report = Report()
    frame = map_columns(read_table(path, data), COLUMNS, report)
    seen: dict[str, int] = {}
    checked = []
    for row, values in rows(frame):
        try:
            username = validate_username(values["username"])
        except ValidationFailed as error:
            report.add(error.key, row, "username", **error.params)
            continue
        role = ROLE_ALIASES.get(values["role"], values["role"].lower())
        if role not in ROLES:
            report.add(
                "import.bad_choice", row, "role", value=values["role"], allowed=", ".join(ROLES)
            )
        if not values["name"]:
            report.add("import.required", row, "name")
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
        checked.append((username, values["name"], role, values["email"], values["password"]))
    if not checked and report.ok:
        report.add("import.empty")
    report.raise_if_invalid(path.name)
    created = []
    for username, name, role, email, password in checked:
        account, initial = create_account(
            session,
            actor,
            username=username,
            display_name=name,
            role=role,
            email=email,
            password=password or None,
        )
        created.append((account.username, role, "" if password else initial))
    return created
