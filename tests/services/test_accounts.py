"""Accounts: the lockout lives in the database, roles and deactivation apply at once."""

from __future__ import annotations

from datetime import timedelta

import bcrypt
import pytest

from scoring.errors import PermissionDenied, ValidationFailed
from scoring.services.accounts import (
    MAX_FAILED_LOGINS,
    actor_for,
    change_role,
    find_account,
    login_credentials,
    record_failed_login,
    record_successful_login,
    reset_password,
    set_active,
)
from scoring.storage.database import Database
from scoring.storage.models import utcnow
from tests.factories import ORGANISER, actor_of, make_account


def test_five_failures_lock_the_account_for_fifteen_minutes_across_restarts(database):
    database.write(lambda s: make_account(s, "expert1", "expert"))
    now = utcnow()
    results = [
        database.write(lambda s: record_failed_login(s, "expert1", now))
        for _ in range(MAX_FAILED_LOGINS)
    ]
    assert results == [False] * (MAX_FAILED_LOGINS - 1) + [True]
    restarted = Database(database.url)  # a restart or a second app server sees the same lock
    with restarted.read() as session:
        creds = login_credentials(session, now + timedelta(minutes=14))
        assert creds["usernames"]["expert1"]["failed_login_attempts"] == MAX_FAILED_LOGINS
        after = login_credentials(session, now + timedelta(minutes=15, seconds=1))
        assert after["usernames"]["expert1"]["failed_login_attempts"] == 0
    restarted.dispose()


def test_a_good_login_resets_the_count(database):
    database.write(lambda s: make_account(s, "expert1", "expert"))
    for _ in range(MAX_FAILED_LOGINS - 1):
        database.write(lambda s: record_failed_login(s, "expert1"))
    database.write(lambda s: record_successful_login(s, "expert1"))
    assert database.write(lambda s: record_failed_login(s, "expert1")) is False
    with database.read() as session:
        assert find_account(session, "expert1").failed_logins == 1


def test_concurrent_failures_all_count(database):
    """Two app servers counting at once must not hand out extra attempts."""
    import threading

    database.write(lambda s: make_account(s, "expert1", "expert"))
    threads = [
        threading.Thread(target=lambda: database.write(lambda s: record_failed_login(s, "expert1")))
        for _ in range(MAX_FAILED_LOGINS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.read() as session:
        assert find_account(session, "expert1").locked_until is not None


def test_passwords_are_stored_as_bcrypt_hashes(database):
    database.write(lambda s: make_account(s, "expert1", "expert", password="review2020"))
    with database.read() as session:
        stored = find_account(session, "expert1").password_hash
    assert stored.startswith("$2") and "review2020" not in stored
    assert bcrypt.checkpw(b"review2020", stored.encode())


def test_deactivated_user_is_gone_on_the_next_request(database):
    database.write(lambda s: make_account(s, "expert1", "expert"))
    with database.read() as session:
        assert actor_for(session, "expert1").role == "expert"
    database.write(lambda s: set_active(s, ORGANISER, "expert1", False))
    with database.read() as session:
        assert actor_for(session, "expert1") is None
        assert "expert1" not in login_credentials(session)["usernames"]


def test_changed_role_applies_on_the_next_request(database):
    database.write(lambda s: make_account(s, "expert1", "expert"))
    database.write(lambda s: change_role(s, ORGANISER, "expert1", "media"))
    with database.read() as session:
        assert actor_for(session, "expert1").role == "media"


def test_the_last_organiser_cannot_be_removed(database):
    database.write(lambda s: make_account(s, "boss", "organiser"))
    with pytest.raises(ValidationFailed) as refused:
        database.write(lambda s: set_active(s, ORGANISER, "boss", False))
    assert refused.value.key == "error.last_organiser"
    with pytest.raises(ValidationFailed):
        database.write(lambda s: change_role(s, ORGANISER, "boss", "expert"))
    database.write(lambda s: make_account(s, "deputy", "organiser"))
    database.write(lambda s: set_active(s, ORGANISER, "boss", False))  # now allowed


def test_a_reviewer_cannot_manage_accounts_and_nothing_changes(database):
    expert = database.write(lambda s: make_account(s, "expert1", "expert"))
    database.write(lambda s: make_account(s, "media1", "media"))
    with pytest.raises(PermissionDenied):
        database.write(lambda s: change_role(s, actor_of(expert), "expert1", "organiser"))
    with pytest.raises(PermissionDenied):
        database.write(lambda s: reset_password(s, actor_of(expert), "media1"))
    with database.read() as session:
        assert find_account(session, "expert1").role == "expert"


def test_reset_password_lifts_a_lock_and_returns_a_working_password(database):
    database.write(lambda s: make_account(s, "expert1", "expert"))
    for _ in range(MAX_FAILED_LOGINS):
        database.write(lambda s: record_failed_login(s, "expert1"))
    password = database.write(lambda s: reset_password(s, ORGANISER, "expert1"))
    with database.read() as session:
        account = find_account(session, "expert1")
        assert account.locked_until is None
        assert bcrypt.checkpw(password.encode(), account.password_hash.encode())
