"""``reviewdesk``: what organisers do in the UI, headless (SPEC §4).

Every command exits non-zero with a one-line reason on bad input and changes nothing then;
an import that fails also lists each bad row, column and reason below that line.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlmodel import Session

from scoring import context
from scoring.errors import Names, ReviewDeskError, ValidationFailed
from scoring.i18n import translate
from scoring.importers.entries import apply_entries_import, plan_entries_import
from scoring.importers.scores import apply_scores_import, plan_scores_import
from scoring.importers.users import apply_users_import, plan_users_import
from scoring.importers.votes import apply_votes_import, plan_votes_import
from scoring.permissions import Actor
from scoring.services.campaigns import create_campaign, get_campaign, parse_campaign_toml
from scoring.services.entries import shortlist
from scoring.services.standings import standings_frame, standings_json_records
from scoring.settings import get_settings

CLI = Actor.command_line()


def _say(key: str, **params: object) -> None:
    print(translate(key, get_settings().language, **params))


def _write(work: Callable[[Session], object]) -> object:
    return context.database().write(work)


def cmd_init_demo(args: argparse.Namespace) -> None:
    from scoring.demo.builder import build_demo, ensure_demo

    store = context.asset_store()
    if args.if_empty:
        created = ensure_demo(context.database(), store)
    else:
        created = _write(lambda s: build_demo(s, store))
    _say("cli.demo_created" if created else "cli.demo_present", items=", ".join(created))


def cmd_campaign_create(args: argparse.Namespace) -> None:
    path = Path(args.file)
    if not path.exists():
        raise ValidationFailed("import.no_file", path=str(path))
    data = parse_campaign_toml(path.read_text("utf-8"))
    campaign = _write(lambda s: create_campaign(s, CLI, data))
    _say("cli.campaign_created", slug=campaign.slug, name=campaign.name)


def cmd_import_entries(args: argparse.Namespace) -> None:
    # Files are checked and stored while reading; only the short insert holds the write lock.
    assets = Path(args.assets) if args.assets else None
    with context.database().read() as session:
        campaign = get_campaign(session, args.campaign)
        plan = plan_entries_import(
            session, CLI, campaign, Path(args.file), assets, store=context.asset_store()
        )
    _say("cli.entries_imported", count=_write(lambda s: apply_entries_import(s, CLI, plan)))


def cmd_import_votes(args: argparse.Namespace) -> None:
    with context.database().read() as session:
        plan = plan_votes_import(session, get_campaign(session, args.campaign), Path(args.file))
    # Said before writing: public votes this import replaces, columns it ignored.
    lang = get_settings().language
    for warning in plan.report.warnings if plan.report.ok else ():
        print(translate("tally.warning", lang, message=warning.message(lang)), file=sys.stderr)
    _say("cli.votes_imported", count=_write(lambda s: apply_votes_import(s, CLI, plan)))


def cmd_import_users(args: argparse.Namespace) -> None:
    with context.database().read() as session:
        plan = plan_users_import(session, Path(args.file))  # bcrypt runs here, unlocked
    created = _write(lambda s: apply_users_import(s, CLI, plan))
    _say("cli.users_imported", count=len(created))
    writer = csv.writer(sys.stdout)
    writer.writerow(["username", "role", "initial_password"])
    writer.writerows(created)


def cmd_import_scores(args: argparse.Namespace) -> None:
    with context.database().read() as session:
        campaign = get_campaign(session, args.campaign)
        plan = plan_scores_import(session, campaign, Path(args.file), submit=args.submit)
    counts = _write(lambda s: apply_scores_import(s, CLI, plan))
    _say("cli.scores_imported", **counts)


def cmd_shortlist(args: argparse.Namespace) -> None:
    codes = [c.strip() for c in (args.codes or "").split(",") if c.strip()]
    count = _write(
        lambda s: shortlist(
            s, CLI, get_campaign(s, args.campaign), codes=codes, all_accepted=args.all_accepted
        )
    )
    _say("cli.shortlisted", count=count)


def cmd_assign(args: argparse.Namespace) -> None:
    from scoring.services.assignments import auto_assign

    result = _write(lambda s: auto_assign(s, CLI, get_campaign(s, args.campaign), cap=args.cap))
    if not result.total_added:
        _say("assign_auto.nothing")
        return
    detail = ", ".join(f"{panel} +{count}" for panel, count in result.added.items())
    _say("assign_auto.done", added=result.total_added, detail=detail)
    for panel, loads in result.loads.items():
        print(f"  {panel}: " + ", ".join(f"{user} {n}" for user, n in sorted(loads.items())))


def cmd_standings(args: argparse.Namespace) -> None:
    with context.database().read() as session:
        campaign = get_campaign(session, args.campaign)
        if args.format == "json":
            records = standings_json_records(session, CLI, campaign)
            json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            from scoring.export.cells import csv_frame  # text never runs as a formula

            csv_frame(standings_frame(session, CLI, campaign)).to_csv(sys.stdout, index=False)


def cmd_export(args: argparse.Namespace) -> None:
    from scoring.services.export import export_workbook

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise ValidationFailed("cli.export_suffix", path=str(out))
    lang = args.lang or get_settings().language
    data = _write(lambda s: export_workbook(s, CLI, get_campaign(s, args.campaign), lang))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(data)
    partial.replace(out)
    _say("cli.exported", path=str(out))


def cmd_template(args: argparse.Namespace) -> None:
    from scoring.importers.templates import build_template

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise ValidationFailed("cli.export_suffix", path=str(out))
    with context.database().read() as session:  # a template only reads
        campaign = get_campaign(session, args.campaign) if args.campaign else None
        data = build_template(session, CLI, args.kind, campaign)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    _say("templates.written", path=str(out))


def _write_pdf(out: Path, make: Callable[[Session], bytes]) -> None:
    """Make the PDF first, then write it beside the target and rename: nothing on refusal."""
    if out.suffix.lower() != ".pdf":
        raise ValidationFailed("publication.pdf_suffix", path=str(out))
    data = _write(make)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(data)
    partial.replace(out)
    _say("publication.written", path=str(out))


def cmd_certificates(args: argparse.Namespace) -> None:
    from scoring.services.publication import certificates

    _write_pdf(Path(args.out), lambda s: certificates(s, CLI, get_campaign(s, args.campaign)))


def cmd_casebook(args: argparse.Namespace) -> None:
    from scoring.services.publication import casebook

    store = context.asset_store()
    _write_pdf(Path(args.out), lambda s: casebook(s, CLI, get_campaign(s, args.campaign), store))


def _campaign_slug(args: argparse.Namespace) -> str:
    """The campaign as every command takes it (``SLUG``), or as ``--campaign SLUG``."""
    named = {slug for slug in (args.campaign, args.campaign_option) if slug}
    if len(named) > 1:
        raise ValidationFailed("materials.campaign_twice")
    if not named:
        raise ValidationFailed("materials.campaign_missing", command=args.command)
    return named.pop()


def _write_streamed(out: Path, write: Callable[[object], object]) -> object:
    """Write a file chunk by chunk beside the target, then rename: no half file on failure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("wb") as handle:
            result = write(handle)
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return result


def cmd_materials(args: argparse.Namespace) -> None:
    """Chosen entries' images and materials as one zip, named by entry code (read only)."""
    from scoring.services.materials import plan_bundle, write_bundle_zip

    out = Path(args.out)
    if out.suffix.lower() != ".zip":
        raise ValidationFailed("materials.zip_suffix", path=str(out))
    codes = _codes(args.codes) if args.codes is not None else None
    with context.database().read() as session:  # the plan only; files are copied after
        bundle = plan_bundle(session, CLI, get_campaign(session, _campaign_slug(args)), codes)
    store, lang = context.asset_store(), get_settings().language
    report = _write_streamed(out, lambda handle: write_bundle_zip(bundle, store, handle, lang))
    _say("materials.zip_written", path=str(out), entries=len(bundle.codes), files=report.included)
    if report.missing:
        names = ", ".join(f"{line.file.code}/{line.file.filename}" for line in report.missing)
        print(
            translate("materials.zip_missing", lang, count=len(report.missing), names=names),
            file=sys.stderr,
        )


def cmd_dossier(args: argparse.Namespace) -> None:
    """One entry's cover, images and PDF materials as one PDF (read only)."""
    from scoring.services.materials import plan_dossier, write_dossier_pdf

    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise ValidationFailed("publication.pdf_suffix", path=str(out))
    store, lang = context.asset_store(), get_settings().language
    with context.database().read() as session:
        campaign = get_campaign(session, _campaign_slug(args))
        dossier = plan_dossier(session, CLI, campaign, args.code, store)
    report = _write_streamed(out, lambda handle: write_dossier_pdf(dossier, handle, lang))
    _say("materials.dossier_written", path=str(out), pages=report.pages)
    if report.skipped:
        print(
            translate("materials.dossier_skipped", lang, names=", ".join(report.skipped)),
            file=sys.stderr,
        )


def cmd_verify(args: argparse.Namespace) -> None:
    """Check a file against itself, then against --sha or the stored snapshot (--db)."""
    from scoring.export.verify import UnreadableExport, check_export, is_sha256, read_export

    path = Path(args.file)
    if not path.is_file():
        raise ValidationFailed("import.no_file", path=str(path))
    if args.sha is not None and not is_sha256(args.sha):
        raise ValidationFailed("verify.bad_sha", sha=args.sha)
    try:
        export = read_export(path)
        stored = _stored_snapshot(export.slug) if args.db else (None, None)
        result = check_export(
            export, published_sha256=args.sha, stored=stored[0], stored_sha256=stored[1]
        )
    except (UnreadableExport, ValueError, KeyError) as error:
        raise ValidationFailed("verify.unreadable", path=str(path), reason=str(error)) from None
    _say("verify.recomputed", sha=result.recomputed_sha256)
    if result.differences:
        shown = result.differences[:VERIFY_SHOWN]
        rest = len(result.differences) - len(shown)
        more = [ValidationFailed("verify.more", count=rest)] if rest else []
        raise ValidationFailed(
            "verify.failed", [*shown, *more], path=str(path), count=len(result.differences)
        )
    _say("verify.consistent", path=str(path))
    if not result.bound:
        _say("verify.not_bound")
    if args.sha:
        _say("verify.matches_published")
    if args.db:
        _say("verify.matches_database", slug=export.slug)
    if result.bound and not (args.sha or args.db):
        _say("verify.self_only")


#: Differences listed under a failed verify; a changed weight alone moves every row.
VERIFY_SHOWN = 100


def _stored_snapshot(slug: str) -> tuple[dict, str]:
    """The snapshot in force of the file's campaign, read with the server's settings."""
    from scoring.services.export import frozen_snapshot

    with context.database().read() as session:
        found = frozen_snapshot(session, CLI, get_campaign(session, slug))
    if found is None:
        raise ValidationFailed("verify.not_finalised_in_db", slug=slug)
    return found


def cmd_audit_check(args: argparse.Namespace) -> None:
    """Seal what is committed, then recompute the whole chain; exit 1 at the first bad event."""
    import re

    from scoring.services.audit import check_chain

    if args.head is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", args.head.strip()):
        raise ValidationFailed("audit_chain.bad_head", head=args.head)
    database = context.database()
    database.seal_audit()
    with database.read() as session:
        report = check_chain(session, CLI, head=args.head)
    lang = get_settings().language
    if not report.ok:
        first = report.problems[0]
        raise ValidationFailed(
            "audit_chain.broken",
            problems=report.problems,
            id=first.event_id,
            reason=first.message(lang),
            count=len(report.problems),
        )
    head = report.head
    _say(
        "audit_chain.intact",
        count=report.checked,
        head=head.chain_hash,
        id=head.event_id,
        seq=head.seq,
    )
    if report.head_matched:
        _say("audit_chain.head_matched", head=args.head.strip().lower())
    if report.unsealed:
        _say("audit_chain.unsealed", count=report.unsealed)


def cmd_backup(args: argparse.Namespace) -> None:
    from scoring.services.backup import backup

    result = backup(get_settings(), Path(args.out))
    if result.pg_dump_hint:
        _say("backup.written_files_only", path=str(result.path), files=result.files)
        _say("backup.pg_dump", command=result.pg_dump_hint)
    else:
        _say("backup.written", path=str(result.path), files=result.files)


def cmd_restore(args: argparse.Namespace) -> None:
    from scoring.services.restore import restore

    # No context.database() here: it would create and migrate the very database that the
    # restore is about to check for emptiness and replace.
    result = restore(get_settings(), Path(args.file), force=args.force)
    if result.database_restored:
        _say("backup.restored", files=result.files, folder=str(result.folder))
    else:
        _say("backup.restored_files_only", files=result.files, folder=str(result.folder))
    if result.pg_restore_hint:
        _say("backup.pg_restore", command=result.pg_restore_hint)


def _codes(text: str | None) -> list[str]:
    """Comma-separated codes, blanks dropped, each once, in the order given."""
    return list(dict.fromkeys(c.strip() for c in (text or "").split(",") if c.strip()))


def _set_lock(args: argparse.Namespace, locked: bool) -> None:
    from scoring.services.finalise import set_panel_lock

    _write(
        lambda s: set_panel_lock(
            s, CLI, get_campaign(s, args.campaign), args.panel, locked, args.reason
        )
    )
    _say(
        "cli_final.locked" if locked else "cli_final.unlocked",
        panel=Names("panel", (args.panel,)).render(get_settings().language),
        campaign=args.campaign,
    )


def cmd_lock(args: argparse.Namespace) -> None:
    _set_lock(args, True)


def cmd_unlock(args: argparse.Namespace) -> None:
    _set_lock(args, False)


def cmd_decide_tie(args: argparse.Namespace) -> None:
    """Decide whole cut-line ties at once, so that no tie is ever left half-decided.

    Every tie that holds a named entry is decided for all its members in one transaction:
    those in ``--award`` get the award, every other member does not. ``--no-award`` names a
    tie in which nobody (or nobody further) gets the award. A code outside every cut-line
    tie is refused by the use case, and then nothing of the command is written.
    """
    from scoring.services.finalise import decide_tie

    awarded, refused = _codes(args.award), _codes(args.no_award)
    if not awarded and not refused:
        raise ValidationFailed("cli_final.no_tie_codes")
    both = [code for code in awarded if code in refused]
    if both:
        raise ValidationFailed("cli_final.award_and_no_award", codes=", ".join(both))

    def work(session: Session) -> tuple[int, list[str], list[str]]:
        campaign = get_campaign(session, args.campaign)
        frame = standings_frame(session, CLI, campaign)
        ties = frame[frame["tie_at_cutline"]]
        cells = zip(ties["code"], ties["group"], ties["rank"], strict=True)
        tie_of = {code: (group, rank) for code, group, rank in cells}
        for code in [*awarded, *refused]:
            if code not in tie_of:
                # the use case gives the refusal (campaign state, reason, or not a tie)
                decide_tie(session, CLI, campaign, code, code in awarded, args.reason)
                raise ValidationFailed("final.not_a_cutline_tie", code=code)
        touched = {tie_of[code] for code in [*awarded, *refused]}
        members = sorted(code for code, tie in tie_of.items() if tie in touched)
        for code in members:
            decide_tie(session, CLI, campaign, code, code in awarded, args.reason)
        return (
            len(touched),
            [c for c in members if c in awarded],
            [c for c in members if c not in awarded],
        )

    ties, given, not_given = _write(work)
    nobody = translate("cli_final.nobody", get_settings().language)
    _say(
        "cli_final.ties_decided",
        campaign=args.campaign,
        ties=ties,
        awarded=", ".join(given) or nobody,
        not_awarded=", ".join(not_given) or nobody,
    )


def cmd_override(args: argparse.Namespace) -> None:
    """Grant or cancel one entry's award by committee decision, or withdraw that decision."""
    from scoring.services.campaigns import method_for
    from scoring.services.finalise import clear_override, set_override

    def work(session: Session) -> None:
        campaign = get_campaign(session, args.campaign)
        if not args.clear:
            set_override(session, CLI, campaign, args.code, args.grant, args.reason)
            return
        had = args.code in {o.code for o in method_for(session, campaign).overrides}
        clear_override(session, CLI, campaign, args.code, args.reason)
        if not had:
            raise ValidationFailed("cli_final.no_override", code=args.code)

    _write(work)
    if args.clear:
        _say("cli_final.override_cleared", code=args.code)
    else:
        _say(
            "cli_final.override_granted" if args.grant else "cli_final.override_cancelled",
            code=args.code,
        )


def cmd_set_quota(args: argparse.Namespace) -> None:
    """N is read here so that "two" gets a reason, not a traceback; the use case refuses N < 0."""
    from scoring.services.finalise import set_group_quota

    try:
        quota = int(args.quota.strip())
    except ValueError:
        raise ValidationFailed("cli_final.bad_quota_number", value=args.quota) from None
    _write(
        lambda s: set_group_quota(
            s, CLI, get_campaign(s, args.campaign), args.group, quota, args.reason
        )
    )
    _say("cli_final.quota_set", group=args.group, campaign=args.campaign, quota=quota)


def _acknowledgements(values: Sequence[str]) -> dict[str, str]:
    """``CODE=REASON`` pairs; a pair without a code or a reason, or a code twice, is refused."""
    pairs: dict[str, str] = {}
    for value in values:
        code, equals, reason = value.partition("=")
        code, reason = code.strip(), reason.strip()
        if not equals or not code or not reason:
            raise ValidationFailed("cli_final.bad_acknowledgement", value=value)
        if code in pairs:
            raise ValidationFailed("cli_final.duplicate_acknowledgement", code=code)
        pairs[code] = reason
    return pairs


def cmd_finalise(args: argparse.Namespace) -> None:
    from scoring.services.finalise import finalise

    acknowledgements = _acknowledgements(args.acknowledge or [])
    snapshot = _write(lambda s: finalise(s, CLI, get_campaign(s, args.campaign), acknowledgements))
    _say("cli_final.finalised", campaign=args.campaign, sha256=snapshot.sha256)


def cmd_withdraw(args: argparse.Namespace) -> None:
    from scoring.services.finalise import unfinalise

    _write(lambda s: unfinalise(s, CLI, get_campaign(s, args.campaign), args.reason))
    _say("cli_final.withdrawn", campaign=args.campaign)


def cmd_notice(args: argparse.Namespace) -> None:
    from scoring.services.notice import publish_notice, withdraw_notice

    if args.publish:
        state = _write(lambda s: publish_notice(s, CLI, get_campaign(s, args.campaign)))
        _say("notice.cli_published", campaign=args.campaign, sha256=state.sha256)
        return
    if args.reason is None:
        raise ValidationFailed("notice.reason_required")
    _write(lambda s: withdraw_notice(s, CLI, get_campaign(s, args.campaign), args.reason))
    _say("notice.cli_withdrawn", campaign=args.campaign)


def cmd_remind(args: argparse.Namespace) -> None:
    """Reminder e-mails to the reviewers who are behind; ``--dry-run`` prints them instead."""
    from scoring.services.reminders import (
        RESEND_AFTER,
        missing_settings,
        plan_reminders,
        send_reminders,
        smtp_config,
    )

    lang = get_settings().language
    minutes = int(RESEND_AFTER.total_seconds() // 60)
    if args.dry_run:
        with context.database().read() as session:
            plan = plan_reminders(
                session, CLI, get_campaign(session, args.campaign), lang=args.lang
            )
        _say("reminders.cli_plan", count=len(plan.reminders))
        for reminder in plan.reminders:
            _say(
                "reminders.cli_message",
                name=reminder.name,
                email=reminder.email,
                missing=reminder.missing,
            )
            print(f"{reminder.subject}\n\n{reminder.body}\n")
        without_email, recently = plan.without_email, plan.recently_reminded
    else:
        config = smtp_config()
        if config is None:
            raise ValidationFailed(
                "reminders.cli_not_configured", settings=", ".join(missing_settings())
            )
        with context.database().read() as session:
            campaign = get_campaign(session, args.campaign)
        report = send_reminders(context.database(), CLI, campaign, lang=args.lang, config=config)
        for failure in report.failed:
            message = translate(
                "reminders.cli_failed",
                lang,
                name=failure.name,
                email=failure.email,
                error=failure.error,
            )
            print(message, file=sys.stderr)
        _say("reminders.cli_sent", sent=len(report.sent), failed=len(report.failed))
        without_email, recently = report.without_email, report.recently_reminded
    for row in without_email:
        _say("reminders.cli_without_email", name=row.name, missing=row.missing)
    if recently:
        _say("reminders.cli_recently", minutes=minutes, names=", ".join(r.name for r in recently))
    if not args.dry_run and report.failed:
        raise ValidationFailed(
            "reminders.cli_partly_failed", failed=len(report.failed), sent=len(report.sent)
        )


def _add_final_commands(commands: argparse._SubParsersAction) -> None:
    """Lock, tie decisions, overrides, quotas, finalise and withdraw (SPEC §2.7)."""
    reason_help = "why (written to the audit log)"
    for name, run, text in (
        ("lock", cmd_lock, "lock a panel: its sheets become read-only"),
        ("unlock", cmd_unlock, "unlock a panel so that its reviewers may edit again"),
    ):
        lock = commands.add_parser(name, help=text)
        lock.add_argument("campaign")
        lock.add_argument("panel", help="the panel's key, e.g. expert")
        lock.add_argument("--reason", required=True, help=reason_help)
        lock.set_defaults(run=run)

    tie = commands.add_parser("decide-tie", help="decide the ties at an award cut line")
    tie.add_argument("campaign")
    tie.add_argument("--award", help="comma-separated codes of tied entries that get the award")
    tie.add_argument(
        "--no-award",
        help="comma-separated codes of a tie whose other members get no award either",
    )
    tie.add_argument("--reason", required=True, help=reason_help)
    tie.set_defaults(run=cmd_decide_tie)

    override = commands.add_parser("override", help="a committee decision on one award")
    override.add_argument("campaign")
    override.add_argument("code")
    action = override.add_mutually_exclusive_group(required=True)
    action.add_argument("--grant", action="store_true", help="give the entry the award")
    action.add_argument("--cancel", action="store_true", help="take the award away")
    action.add_argument("--clear", action="store_true", help="withdraw the committee decision")
    override.add_argument("--reason", required=True, help=reason_help)
    override.set_defaults(run=cmd_override)

    quota = commands.add_parser("set-quota", help="change one ranking group's award quota")
    quota.add_argument("campaign")
    quota.add_argument("group", help="the ranking group's label, as in the standings")
    quota.add_argument("quota", metavar="N", help="awards in the group (0 or more)")
    quota.add_argument("--reason", required=True, help=reason_help)
    quota.set_defaults(run=cmd_set_quota)

    final = commands.add_parser("finalise", help="freeze the final list; prints its SHA-256")
    final.add_argument("campaign")
    final.add_argument(
        "--acknowledge",
        action="append",
        metavar="CODE=REASON",
        help="acknowledge one provisional award with a reason (repeat for each)",
    )
    final.set_defaults(run=cmd_finalise)

    withdraw = commands.add_parser("withdraw", help="withdraw the finalisation")
    withdraw.add_argument("campaign")
    withdraw.add_argument("--reason", required=True, help=reason_help)
    withdraw.set_defaults(run=cmd_withdraw)

    notice = commands.add_parser("notice", help="publish or withdraw the public results notice")
    notice.add_argument("campaign")
    shown = notice.add_mutually_exclusive_group(required=True)
    shown.add_argument("--publish", action="store_true", help="make the finalised winners public")
    shown.add_argument("--withdraw", action="store_true", help="take the notice down")
    notice.add_argument("--reason", help="why it is withdrawn (required with --withdraw)")
    notice.set_defaults(run=cmd_notice)


def build_parser() -> argparse.ArgumentParser:
    """The command tree of SPEC §4 (commands of later stages are added as they land)."""
    parser = argparse.ArgumentParser(prog="reviewdesk", description="ReviewDesk 评审台")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("init-demo", help="create the demo campaigns (idempotent)")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="only when the database has no accounts yet (used by `make run`)",
    )
    demo.set_defaults(run=cmd_init_demo)

    campaign = commands.add_parser("campaign", help="campaign set-up")
    campaign_commands = campaign.add_subparsers(dest="campaign_command", required=True)
    create = campaign_commands.add_parser("create", help="create a campaign from a TOML file")
    create.add_argument("file")
    create.set_defaults(run=cmd_campaign_create)

    entries = commands.add_parser("import-entries", help="import entries (+ --assets DIR|ZIP)")
    entries.add_argument("campaign")
    entries.add_argument("file")
    entries.add_argument("--assets", help="folder or .zip holding the images and materials")
    entries.set_defaults(run=cmd_import_entries)

    votes = commands.add_parser("import-votes", help="replace vote tallies")
    votes.add_argument("campaign")
    votes.add_argument("file")
    votes.set_defaults(run=cmd_import_votes)

    users = commands.add_parser("import-users", help="create accounts; prints initial passwords")
    users.add_argument("file")
    users.set_defaults(run=cmd_import_users)

    scores = commands.add_parser("import-scores", help="import rubric scores")
    scores.add_argument("campaign")
    scores.add_argument("file")
    scores.add_argument("--submit", action="store_true", help="submit every complete sheet")
    scores.set_defaults(run=cmd_import_scores)

    short = commands.add_parser("shortlist", help="shortlist accepted entries")
    short.add_argument("campaign")
    choice = short.add_mutually_exclusive_group(required=True)
    choice.add_argument("--all-accepted", action="store_true")
    choice.add_argument("--codes", help="comma-separated entry codes")
    short.set_defaults(run=cmd_shortlist)

    assign = commands.add_parser("assign", help="assign reviewers to shortlisted entries")
    assign.add_argument("campaign")
    assign.add_argument(
        "--auto",
        action="store_true",
        required=True,
        help="every entry gets its panel minimum, loads balanced",
    )
    assign.add_argument("--cap", type=int, help="most entries per reviewer per panel")
    assign.set_defaults(run=cmd_assign)

    standings = commands.add_parser("standings", help="print the live standings")
    standings.add_argument("campaign")
    standings.add_argument("--format", choices=["json", "csv"], default="json")
    standings.set_defaults(run=cmd_standings)

    export = commands.add_parser("export", help="write the export workbook (SPEC §5.5)")
    export.add_argument("campaign")
    export.add_argument("--out", required=True, help="the .xlsx file to write")
    export.add_argument(
        "--lang",
        choices=["zh", "en"],
        help="language of the winners' sheets' titles and headers (default: the configured one)",
    )
    export.set_defaults(run=cmd_export)

    template = commands.add_parser("template", help="write an import template workbook")
    template.add_argument("kind", choices=["entries", "votes", "scores", "users"])
    template.add_argument("--campaign", help="fill the example row from this campaign")
    template.add_argument("--out", required=True, help="the .xlsx file to write")
    template.set_defaults(run=cmd_template)

    for name, run, text in (
        ("certificates", cmd_certificates, "one honour certificate per award (PDF, finalised)"),
        ("casebook", cmd_casebook, "the case collection of the awarded entries (PDF, finalised)"),
    ):
        document = commands.add_parser(name, help=text)
        document.add_argument("campaign")
        document.add_argument("--out", required=True, help="the .pdf file to write")
        document.set_defaults(run=run)

    bulk = commands.add_parser("materials", help="chosen entries' files as one zip, by code")
    bulk.add_argument("campaign", nargs="?")
    bulk.add_argument("--campaign", dest="campaign_option", metavar="SLUG")
    bulk.add_argument("--codes", help="comma-separated entry codes (default: every entry)")
    bulk.add_argument("--out", required=True, help="the .zip file to write")
    bulk.set_defaults(run=cmd_materials)

    dossier = commands.add_parser("dossier", help="one entry's cover, images and PDFs as one PDF")
    dossier.add_argument("campaign", nargs="?")
    dossier.add_argument("--campaign", dest="campaign_option", metavar="SLUG")
    dossier.add_argument("--code", required=True, help="the entry's code")
    dossier.add_argument("--out", required=True, help="the .pdf file to write")
    dossier.set_defaults(run=cmd_dossier)

    verify = commands.add_parser(
        "verify", help="check an export against its own sheets, a published hash or the database"
    )
    verify.add_argument("file")
    verify.add_argument("--sha", help="the published SHA-256 the file must reproduce")
    verify.add_argument(
        "--db", action="store_true", help="compare every cell with the stored snapshot"
    )
    verify.set_defaults(run=cmd_verify)

    audit_check = commands.add_parser(
        "audit-check", help="verify the audit log's hash chain; prints the chain head"
    )
    audit_check.add_argument(
        "--head", help="a chain head printed earlier: fail unless it is still in the chain"
    )
    audit_check.set_defaults(run=cmd_audit_check)

    archive = commands.add_parser("backup", help="copy the database and stored files")
    archive.add_argument("--out", required=True, help="the .zip file to write")
    archive.set_defaults(run=cmd_backup)

    restore = commands.add_parser(
        "restore", help="restore a backup into the data folder (server stopped)"
    )
    restore.add_argument("file", help="the .zip written by `reviewdesk backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that already holds data"
    )
    restore.set_defaults(run=cmd_restore)
    remind = commands.add_parser(
        "remind", help="e-mail the reviewers who have not submitted every assigned entry"
    )
    remind.add_argument("campaign")
    remind.add_argument(
        "--dry-run", action="store_true", help="print who would get which message; send nothing"
    )
    remind.add_argument(
        "--lang", choices=["zh", "en"], default="zh", help="language of the e-mails (default zh)"
    )
    remind.set_defaults(run=cmd_remind)
    _add_final_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success, 1 with a reason on bad input, 2 on bad usage."""
    args = build_parser().parse_args(argv)
    lang = get_settings().language
    try:
        args.run(args)
    except ReviewDeskError as error:
        print(f"reviewdesk: {error.message(lang)}", file=sys.stderr)
        for problem in getattr(error, "problems", []):
            print(f"  {problem.message(lang)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
