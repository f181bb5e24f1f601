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
from scoring.errors import ReviewDeskError, ValidationFailed
from scoring.i18n import translate
from scoring.importers.entries import apply_entries_import, plan_entries_import
from scoring.importers.scores import import_scores
from scoring.importers.users import import_users
from scoring.importers.votes import import_votes
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
    store = context.asset_store()
    assets = Path(args.assets) if args.assets else None

    def work(session: Session) -> int:
        campaign = get_campaign(session, args.campaign)
        plan = plan_entries_import(session, campaign, Path(args.file), assets)
        return apply_entries_import(session, CLI, campaign, plan, store)

    _say("cli.entries_imported", count=_write(work))


def cmd_import_votes(args: argparse.Namespace) -> None:
    count = _write(lambda s: import_votes(s, CLI, get_campaign(s, args.campaign), Path(args.file)))
    _say("cli.votes_imported", count=count)


def cmd_import_users(args: argparse.Namespace) -> None:
    created = _write(lambda s: import_users(s, CLI, Path(args.file)))
    _say("cli.users_imported", count=len(created))
    writer = csv.writer(sys.stdout)
    writer.writerow(["username", "role", "initial_password"])
    writer.writerows(created)


def cmd_import_scores(args: argparse.Namespace) -> None:
    counts = _write(
        lambda s: import_scores(
            s, CLI, get_campaign(s, args.campaign), Path(args.file), submit=args.submit
        )
    )
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
            standings_frame(session, CLI, campaign).to_csv(sys.stdout, index=False)


def cmd_export(args: argparse.Namespace) -> None:
    from scoring.services.export import export_workbook

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise ValidationFailed("cli.export_suffix", path=str(out))
    data = _write(lambda s: export_workbook(s, CLI, get_campaign(s, args.campaign)))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(data)
    partial.replace(out)
    _say("cli.exported", path=str(out))


def cmd_verify(args: argparse.Namespace) -> None:
    from scoring.export import verify_workbook
    from scoring.export.verify import UnreadableExport

    path = Path(args.file)
    if not path.is_file():
        raise ValidationFailed("import.no_file", path=str(path))
    try:
        differences = verify_workbook(path)
    except (UnreadableExport, ValueError, KeyError) as error:
        raise ValidationFailed("cli.verify_unreadable", path=str(path), reason=str(error)) from None
    if differences:
        for difference in differences:
            print(f"  {difference}", file=sys.stderr)
        raise ValidationFailed("cli.verify_failed", path=str(path), count=len(differences))
    _say("cli.verified", path=str(path))


def cmd_backup(args: argparse.Namespace) -> None:
    from scoring.services.backup import backup

    result = backup(get_settings(), Path(args.out))
    _say("cli.backup_written", path=str(result.path), files=result.files)
    if result.pg_dump_hint:
        _say("cli.backup_pg_dump", command=result.pg_dump_hint)


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
    export.set_defaults(run=cmd_export)

    verify = commands.add_parser("verify", help="recompute an export's Final list")
    verify.add_argument("file")
    verify.set_defaults(run=cmd_verify)

    archive = commands.add_parser("backup", help="copy the database and stored files")
    archive.add_argument("--out", required=True, help="the .zip file to write")
    archive.set_defaults(run=cmd_backup)
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
