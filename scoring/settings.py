"""Settings, declared once and read from ``REVIEWDESK_*`` environment variables.

The app and the CLI read the same settings, so a CLI import shows in the app. Every setting
is documented in the README; ``tests/test_docs.py`` fails when one is not.
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where data lives and how sign-in behaves."""

    model_config = SettingsConfigDict(env_prefix="REVIEWDESK_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite database, stored files and thumbnails.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; unset means SQLite at DATA_DIR/reviewdesk.db. "
        "Use postgresql+psycopg://user@host/db for several app servers.",
    )
    cookie_key: str | None = Field(
        default=None,
        description="Secret that signs the login cookie; shared by all app servers. "
        "Falls back to .streamlit/secrets.toml `cookie_key`, then to a generated key "
        "kept in DATA_DIR/.cookie_key.",
    )
    cookie_expiry_days: float = Field(
        default=0.5,
        gt=0,
        description="How long a login cookie stays valid; kept short because the cookie "
        "cannot be revoked before it expires.",
    )
    language: str = Field(default="zh", description="Default interface and CLI language (zh|en).")
    refresh_seconds: int = Field(
        default=5, ge=2, description="How often the live standings refresh by themselves."
    )
    vote_key: str | None = Field(
        default=None,
        description="Secret that keys the hashes of voters' IP addresses (public gallery); "
        "shared by all app servers. Falls back to a generated key kept in "
        "DATA_DIR/.vote_key. Changing it mid-vote lets every IP vote again that day.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For header names the voter's IP, e.g. 127.0.0.1/32 behind a local "
        "nginx. Empty: the header is ignored and the connection's address counts.",
    )
    pool_size: int = Field(
        default=50,
        ge=1,
        description="PostgreSQL connections each app server keeps open (10 more at peak). "
        "50 lets 50 reviewers save at once without opening a connection per save; with N "
        "servers, the database's max_connections must exceed N x (pool_size + 10).",
    )

    # Reminder e-mails to reviewers who are behind (progress page, `reviewdesk remind`).
    # Unset host or sender: reminders are off and the page offers a list to copy instead.
    smtp_host: str | None = Field(
        default=None, description="SMTP server for reminder e-mails; unset: no e-mail is sent."
    )
    smtp_port: int | None = Field(
        default=None, ge=1, le=65535, description="SMTP port; unset: 465 with SMTP_SSL, else 587."
    )
    smtp_user: str | None = Field(default=None, description="SMTP login; unset: no login.")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password; never shown, logged or audited."
    )
    smtp_from: str | None = Field(
        default=None,
        description="Sender of reminder e-mails, e.g. 评审办公室 <office@example.org>.",
    )
    smtp_starttls: bool = Field(
        default=True, description="Upgrade a plain connection with STARTTLS (ignored with SSL)."
    )
    smtp_ssl: bool = Field(
        default=False, description="Connect with TLS from the start (SMTPS, usually port 465)."
    )
    app_url: str | None = Field(
        default=None,
        description="The app's address as reviewers open it, named in reminder e-mails.",
    )

    @property
    def resolved_database_url(self) -> str:
        """The URL actually used: the explicit one or SQLite inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reviewdesk.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        """Root of the content-addressed file store."""
        return self.data_dir

    def ensure_cookie_key(self, from_secrets: str | None = None) -> str:
        """The cookie key: env, then secrets.toml, then one generated once and kept out of git."""
        if self.cookie_key:
            return self.cookie_key
        if from_secrets:
            return from_secrets
        return self._kept_secret(".cookie_key")

    def ensure_vote_key(self) -> str:
        """The key of the voters' IP hashes: env, then one generated once in the data folder."""
        return self.vote_key or self._kept_secret(".vote_key")

    def _kept_secret(self, name: str) -> str:
        """A random secret generated once and kept in the data folder, readable by owner only."""
        key_file = self.data_dir / name
        if key_file.exists():
            return key_file.read_text("utf-8").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        temp = key_file.with_name(f"{name}.{os.getpid()}.tmp")
        temp.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        temp.chmod(0o600)
        # link() is atomic and refuses an existing target: two servers starting at once
        # end up sharing the first key written, never a half-written one.
        try:
            os.link(temp, key_file)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
        return key_file.read_text("utf-8").strip()


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
