"""Reminder e-mails to the reviewers who are behind, through the configured SMTP server.

One message per behind reviewer who has an e-mail address, in Chinese by default: their
name, how many entries wait for them, the review deadline when the campaign has one, and the
app's address when configured. A sending runs in three steps so that no database lock is
held while an SMTP server answers slowly:

1. ``claim``: a write transaction re-reads who is behind, leaves out whoever was sent a
   reminder of this campaign in the last ``RESEND_AFTER`` (a double click, a second tab, the
   CLI run twice) and records the sending in the audit log (recipients and count, no
   password). Two claims at once take turns (SQLite's write lock, PostgreSQL's SERIALIZABLE
   retry), so the second one finds the first and sends nothing twice.
2. ``deliver``: one SMTP connection, one ``send_message`` per recipient; a refused recipient
   is reported and the others still go.
3. the outcome of each recipient is recorded in the audit log.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from sqlmodel import Session, select

from scoring.i18n import DEFAULT_LANGUAGE, translate
from scoring.permissions import Actor, can_manage, can_send_reminders
from scoring.services import audit
from scoring.services.guard import authorise_campaign
from scoring.services.progress import ReviewerProgress, behind, team_progress
from scoring.settings import Settings, get_settings
from scoring.storage.database import Database
from scoring.storage.models import AuditEvent, Campaign, utcnow

RESEND_AFTER = timedelta(minutes=10)
"""A reviewer reminded less than this long ago is left out of the next sending."""
SMTP_TIMEOUT = 20.0
"""Seconds to wait for the SMTP server before a recipient counts as failed."""
SEND_ACTION = "reminders.send"
RESULT_ACTION = "reminders.result"
REQUIRED_SETTINGS = ("REVIEWDESK_SMTP_HOST", "REVIEWDESK_SMTP_FROM")


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send; the password is kept out of ``repr`` (and of every log)."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    use_ssl: bool = False
    timeout: float = SMTP_TIMEOUT


def smtp_config(settings: Settings | None = None) -> SmtpConfig | None:
    """The SMTP server of the settings, or None when reminders cannot be sent (see below)."""
    settings = settings or get_settings()
    if not (settings.smtp_host or "").strip() or not (settings.smtp_from or "").strip():
        return None
    return SmtpConfig(
        host=settings.smtp_host.strip(),
        port=settings.smtp_port or (465 if settings.smtp_ssl else 587),
        sender=settings.smtp_from.strip(),
        user=settings.smtp_user or None,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        use_ssl=settings.smtp_ssl,
    )


def missing_settings(settings: Settings | None = None) -> list[str]:
    """The environment variables still to set before reminders can be sent."""
    settings = settings or get_settings()
    values = {
        "REVIEWDESK_SMTP_HOST": settings.smtp_host,
        "REVIEWDESK_SMTP_FROM": settings.smtp_from,
    }
    return [name for name in REQUIRED_SETTINGS if not (values[name] or "").strip()]


@dataclass(frozen=True)
class Reminder:
    """One message to one reviewer."""

    username: str
    name: str
    email: str
    missing: int
    subject: str
    body: str


@dataclass(frozen=True)
class ReminderPlan:
    """Who a sending would reach now: messages, the behind without e-mail, the just reminded."""

    reminders: list[Reminder]
    without_email: list[ReviewerProgress]
    recently_reminded: list[ReviewerProgress] = field(default_factory=list)
    """Those left out because they were reminded less than ``RESEND_AFTER`` ago."""


@dataclass(frozen=True)
class Delivery:
    """The outcome for one recipient: ``error`` is the server's reason when it failed."""

    username: str
    email: str
    ok: bool
    error: str = ""
    name: str = ""


@dataclass(frozen=True)
class SendReport:
    """What a sending did: ``configured`` False means nothing was tried (no SMTP settings)."""

    configured: bool
    deliveries: list[Delivery] = field(default_factory=list)
    without_email: list[ReviewerProgress] = field(default_factory=list)
    recently_reminded: list[ReviewerProgress] = field(default_factory=list)

    @property
    def sent(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.ok]

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.ok]


def compose(
    row: ReviewerProgress, campaign: Campaign, lang: str = DEFAULT_LANGUAGE, app_url: str = ""
) -> tuple[str, str]:
    """Subject and body of one reminder, in ``lang``."""
    subject = translate("reminders.subject", lang, campaign=campaign.name, missing=row.missing)
    lines = [
        translate("reminders.greeting", lang, name=row.name),
        "",
        translate(
            "reminders.waiting",
            lang,
            campaign=campaign.name,
            missing=row.missing,
            assigned=row.assigned,
            submitted=row.submitted,
            drafts=row.drafts,
        ),
    ]
    if campaign.review_closes_on:
        lines.append(translate("reminders.deadline", lang, date=campaign.review_closes_on))
    if app_url:
        lines.append(translate("reminders.address", lang, url=app_url))
    lines += ["", translate("reminders.closing", lang)]
    return subject, "\n".join(lines)


def _recently_reminded(session: Session, campaign_id: int) -> set[str]:
    """Who a sending of the last ``RESEND_AFTER`` claimed, less those it then failed to reach.

    A sending still in flight has claimed its recipients and recorded no outcome yet, so a
    double click finds them claimed; a recipient whose delivery failed may be tried again.
    """
    since = utcnow() - RESEND_AFTER
    names: set[str] = set()
    for action, new in session.exec(
        select(AuditEvent.action, AuditEvent.new_value)
        .where(
            AuditEvent.action.in_([SEND_ACTION, RESULT_ACTION]),  # type: ignore[attr-defined]
            AuditEvent.campaign_id == campaign_id,
            AuditEvent.at >= since,
        )
        .order_by(AuditEvent.id)
    ):
        if action == SEND_ACTION:
            names.update((new or {}).get("to", []))
        else:
            names.difference_update((new or {}).get("failed", {}))
    return names


def _plan(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    lang: str,
    usernames: Sequence[str] | None,
    app_url: str,
) -> tuple[Actor, Campaign, ReminderPlan]:
    actor, campaign = authorise_campaign(session, actor, can_send_reminders, SEND_ACTION, campaign)
    late = behind(team_progress(session, actor, campaign))
    if usernames is not None:
        wanted = set(usernames)
        late = [r for r in late if r.username in wanted]
    recent = _recently_reminded(session, campaign.id)
    reminders, without_email, skipped = [], [], []
    for row in late:
        if not row.email:
            without_email.append(row)
        elif row.username in recent:
            skipped.append(row)
        else:
            subject, body = compose(row, campaign, lang, app_url)
            reminders.append(
                Reminder(row.username, row.name, row.email, row.missing, subject, body)
            )
    return actor, campaign, ReminderPlan(reminders, without_email, skipped)


def plan_reminders(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    lang: str = DEFAULT_LANGUAGE,
    usernames: Sequence[str] | None = None,
) -> ReminderPlan:
    """Who a sending would reach now and what each gets; changes nothing (the confirmation,
    ``--dry-run``)."""
    app_url = (get_settings().app_url or "").strip()
    return _plan(session, actor, campaign, lang, usernames, app_url)[2]


def claim_reminders(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    lang: str = DEFAULT_LANGUAGE,
    usernames: Sequence[str] | None = None,
    smtp_host: str = "",
) -> ReminderPlan:
    """Step 1 in a write transaction: the plan, recorded as a sending so none repeats it."""
    app_url = (get_settings().app_url or "").strip()
    actor, campaign, plan = _plan(session, actor, campaign, lang, usernames, app_url)
    if plan.reminders:
        audit.record(
            session,
            actor,
            SEND_ACTION,
            target=campaign.slug,
            campaign_id=campaign.id,
            new={
                "to": [r.username for r in plan.reminders],
                "count": len(plan.reminders),
                "smtp_host": smtp_host,
                "lang": lang,
            },
        )
    return plan


def _sender_address(sender: str) -> str:
    return parseaddr(sender)[1] or sender


def deliver(config: SmtpConfig, reminders: Sequence[Reminder]) -> list[Delivery]:
    """Step 2, no database: one connection, one message each; a refusal stops no other one.

    A connection or login failure fails every recipient with the same reason.
    """
    if not reminders:
        return []
    try:
        if config.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=config.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except OSError as error:  # smtplib's errors are OSErrors too
        return _gone(reminders, error)
    results: list[Delivery] = []
    with smtp:
        try:
            if not config.use_ssl and config.starttls:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
            if config.user:
                smtp.login(config.user, config.password or "")
        except OSError as error:
            return _gone(reminders, error)
        for reminder in reminders:
            try:
                refused = smtp.send_message(
                    _message(config, reminder), from_addr=_sender_address(config.sender)
                )
            except smtplib.SMTPServerDisconnected as error:
                results += _gone(reminders[len(results) :], error)
                break
            except (smtplib.SMTPException, ValueError) as error:  # this one refused: go on
                results.append(
                    Delivery(
                        reminder.username, reminder.email, False, _reason(error), reminder.name
                    )
                )
                continue
            except OSError as error:  # a timeout or a reset: the connection is gone
                results += _gone(reminders[len(results) :], error)
                break
            if refused:
                reason = "; ".join(f"{code} {text!r}" for code, text in refused.values())
                results.append(
                    Delivery(reminder.username, reminder.email, False, reason, reminder.name)
                )
            else:
                results.append(
                    Delivery(reminder.username, reminder.email, True, name=reminder.name)
                )
    return results


def _message(config: SmtpConfig, reminder: Reminder) -> EmailMessage:
    """UTF-8 throughout: Chinese names in the headers, Chinese text in the body."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = formataddr((reminder.name, reminder.email), charset="utf-8")
    message["Subject"] = reminder.subject
    message.set_content(reminder.body, charset="utf-8")
    return message


def _gone(reminders: Sequence[Reminder], error: BaseException) -> list[Delivery]:
    """Every recipient not tried yet fails with the reason the connection failed."""
    return [Delivery(r.username, r.email, False, _reason(error), r.name) for r in reminders]


def _reason(error: BaseException) -> str:
    """A short, password-free reason: the SMTP code and text, or the exception's message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
            for code, text in error.recipients.values()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"{error.smtp_code} {text}"[:300]
    return (f"{type(error).__name__}: {error}")[:300]


def record_deliveries(
    session: Session, actor: Actor, campaign: Campaign, deliveries: Sequence[Delivery]
) -> None:
    """Step 3: each recipient's outcome in the audit log (refused after finalisation too:
    the mail went out, so the record must land — checked as an organiser read)."""
    actor, campaign = authorise_campaign(session, actor, can_manage, RESULT_ACTION, campaign)
    audit.record(
        session,
        actor,
        RESULT_ACTION,
        target=campaign.slug,
        campaign_id=campaign.id,
        new={
            "sent": [d.username for d in deliveries if d.ok],
            "failed": {d.username: d.error for d in deliveries if not d.ok},
        },
    )


def send_reminders(
    database: Database,
    actor: Actor,
    campaign: Campaign,
    *,
    lang: str = DEFAULT_LANGUAGE,
    usernames: Sequence[str] | None = None,
    config: SmtpConfig | None = None,
) -> SendReport:
    """Claim, deliver, record (see the module's docstring). Without SMTP settings nothing
    is written or sent: the report says ``configured=False``.

    ``database`` is a ``scoring.storage.database.Database``: the SMTP conversation runs
    between two transactions, never inside one.
    """
    config = config or smtp_config()
    if config is None:  # still refused to whoever may not send: the answer says nothing then
        with database.read() as session:
            authorise_campaign(session, actor, can_send_reminders, SEND_ACTION, campaign)
        return SendReport(configured=False)
    plan = database.write(
        lambda s: claim_reminders(
            s, actor, campaign, lang=lang, usernames=usernames, smtp_host=config.host
        )
    )
    deliveries = deliver(config, plan.reminders)
    if deliveries:
        database.write(lambda s: record_deliveries(s, actor, campaign, deliveries))
    return SendReport(True, deliveries, plan.without_email, plan.recently_reminded)
