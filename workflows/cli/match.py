"""``mentorflow match``: propose pairs for everyone waiting, explain them, approve or reject them."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated, Any

import typer

from workflows.cli.common import (
    DatabaseOption,
    PolicyOption,
    actor_name,
    check_choice,
    load_policy,
    open_store,
    settings,
)
from workflows.cli.output import Column, in_flags, json_value, paragraph, print_table, say

app = typer.Typer(help="Match mentees with mentors: propose, explain, approve, reject.", no_args_is_help=True)
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who decides [env MENTORFLOW_ACTOR; default: login name]")
]
RelationshipsArgument = Annotated[list[int], typer.Argument(metavar="REL...", help="Relationship ids.")]
CRITERIA_SHORT = {
    "skills": "skills",
    "goals_and_interests": "goals",
    "compatibility": "fit",
    "language": "lang",
    "timezone": "tz",
    "qualities": "qual",
}


def proposed_columns(criteria: list[str]) -> list[Column]:
    """The columns of the proposed pairs: one per criterion the pairs were scored on."""
    return [
        Column("rel", 0, justify="right"), Column("mentee", 0, 12), Column("mentor", 0, 12),
        Column("score", 0), *(Column(CRITERIA_SHORT[name], 3 if name in _MAIN_CRITERIA else 4)
        for name in criteria), Column("status", 1), Column("what the mentor offers", 5, 22),
    ]  # fmt: skip


_MAIN_CRITERIA = ("skills", "goals_and_interests", "compatibility")
UNMATCHED_COLUMNS = [
    Column("rel", 0, justify="right"), Column("mentee", 0, 12), Column("why", 1, 20),
    Column("best mentor ruled out", 2, 21),
]  # fmt: skip


SHOWN_ROWS = 20
"""Rows a table of ``match propose`` shows by default: what fits a screen, the rest in JSON or CSV."""
LimitOption = Annotated[
    int,
    typer.Option(
        "--limit", min=0, help=f"Rows shown per table (0: all) [default: {SHOWN_ROWS}]", show_default=False
    ),
]
AllOption = Annotated[bool, typer.Option("--all", help="Show every row in the tables (as --limit 0).")]


@app.command("propose")
def propose(
    policy: PolicyOption = None,
    format: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    limit: LimitOption = SHOWN_ROWS,
    every: AllOption = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Propose a mentor for everyone waiting for one; each pair scored and each decision explained.

    Proposals at or above the policy's matching.auto_approve_at are approved at once;
    the rest wait for `mentorflow match approve` or `reject`. The table shows the first
    rows (--limit); --format json or csv writes every proposal.
    """
    from engine.clock import SystemClock
    from engine.domain.lifecycle import Lifecycle
    from engine.services.matching import propose as run

    check_choice(format, "--format", ("table", "json", "csv"))
    chosen = settings(database, policy)
    store = open_store(chosen)
    outcome = run(store, Lifecycle(load_policy(chosen)), SystemClock(), actor=actor_name(actor))
    if format == "json":
        document = {**outcome.summary, "auto_approved": outcome.approved, "auto_refused": outcome.refused}
        document["proposals"] = outcome.rows
        _write_json(document)
    elif format == "csv":
        _write_csv(outcome.rows)
    else:
        _print_run(outcome.summary, outcome.rows, outcome.approved, outcome.refused, 0 if every else limit)


def _write_json(document: dict[str, Any]) -> None:
    """The run as indented JSON, encoded by orjson (thousands of proposals in a fraction of a second)."""
    import orjson

    options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    typer.echo(in_flags(orjson.dumps(document, default=json_value, option=options).decode()))


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_run(
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    approved: list[int],
    refused: dict[int, str],
    limit: int,
) -> None:
    proposed = [r for r in rows if r["mentor_id"] is not None]
    unmatched = [r for r in rows if r["mentor_id"] is None]
    _print_proposed(summary, proposed, limit)
    if unmatched:
        _print_unmatched(unmatched, limit)
    if proposed:
        qualities = "; qual: qualities the mentee looks for that the mentor brings"
        paragraph(
            "scores 0-1; skills: wanted skills the mentor has; goals: goals and interests; "
            "fit: values, work style, communication; lang: a shared language; tz: working hours in common"
            + (qualities if "qualities" in _scored(proposed) else "")
        )
    paragraph(
        f"total score {summary['total_score']:.2f} over {summary['proposed']} pair(s); minimum score "
        f"{summary['min_score']:.2f}; {summary['blocking_pairs']} blocking pair(s) "
        "(a mentee and mentor who would both rather be together)"
    )
    if approved:
        paragraph(f"approved automatically (score >= {summary['auto_approve_at']:.2f}): {_ids(approved)}")
    for rel_id, why in refused.items():
        paragraph(f"relationship {rel_id}: not approved automatically: {why}")
    if any(r["status"] == "pending" for r in rows):
        paragraph(
            "next: mentorflow match explain REL | match approve REL... (or --all-above SCORE) | "
            "match reject REL... --reason TEXT"
        )


def _first(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    return rows if limit == 0 else rows[:limit]


def _more(rows: list[dict[str, Any]], shown: int, what: str) -> None:
    """The line under a table cut at --limit: how many rows it leaves out, and how to see them."""
    if len(rows) > shown:
        paragraph(
            f"... and {len(rows) - shown:,} more {what} (--limit 0 or --all shows every row; "
            "--format json or csv writes them all)"
        )


def _print_proposed(summary: dict[str, Any], proposed: list[dict[str, Any]], limit: int) -> None:
    """The proposed pairs (the first ``limit``): score in all and by criterion, status, what the mentor
    offers."""
    title = (
        f"match run {summary['run']}: policy {summary['policy']} ({summary['mode']}), "
        f"{summary['mentees']} mentee(s) waiting, {summary['mentors']} mentor(s)"
    )
    cells = []
    shown = _first(proposed, limit)
    scored = _scored(proposed)
    for row in shown:
        criteria = {c["criterion"]: c for c in row["breakdown"]["criteria"]}
        explanation = row["explanation"]
        cells.append(
            [
                str(row["relationship_id"]),
                explanation["mentee"]["name"],
                explanation["mentor"]["name"],
                _score(row["score"]),
                *(_score(criteria[name]["score"] if name in criteria else None) for name in scored),
                row["status"],
                in_flags(criteria["skills"]["detail"] if "skills" in criteria else ""),
            ]
        )
    print_table(proposed_columns(scored), cells, title=title)
    _more(proposed, len(shown), "pair(s)")


def _scored(proposed: list[dict[str, Any]]) -> list[str]:
    """The criteria the pairs were scored on, in the table's order (``qualities`` only where weighed)."""
    found = {c["criterion"] for row in proposed for c in row["breakdown"]["criteria"]}
    return [name for name in CRITERIA_SHORT if name in found]


def _print_unmatched(unmatched: list[dict[str, Any]], limit: int) -> None:
    """The mentees left without a proposal (the first ``limit``): why, and the best mentor a hard
    constraint ruled out."""
    cells = []
    shown = _first(unmatched, limit)
    for row in shown:
        explanation = row["explanation"]
        ruled = explanation["ruled_out"][:1]
        best = f"{ruled[0]['name']} ({ruled[0]['score']:.2f}): {ruled[0]['reasons'][0]}" if ruled else ""
        why = explanation["reason"]
        mentee = explanation["mentee"]["name"]
        cells.append([str(row["relationship_id"]), mentee, in_flags(why or ""), in_flags(best)])
    print_table(UNMATCHED_COLUMNS, cells, title=f"not matched: {len(unmatched)}")
    _more(unmatched, len(shown), "mentee(s) not matched")


def _ids(ids: list[int]) -> str:
    return ", ".join(map(str, ids))


def _write_csv(rows: list[dict[str, Any]]) -> None:
    from engine.reporting.cells import csv_row

    writer = csv.writer(sys.stdout, lineterminator="\n")
    people = ["mentee_key", "mentee", "mentor_key", "mentor"]
    writer.writerow(["run", "relationship", *people, "score", *CRITERIA_SHORT, "status", "reason"])
    for row in rows:
        explanation = row["explanation"]
        mentor = explanation["mentor"] or {"key": "", "name": ""}
        criteria = {c["criterion"]: c["score"] for c in row["breakdown"].get("criteria", [])}
        writer.writerow(
            csv_row(
                [
                    row["run"],
                    row["relationship_id"],
                    explanation["mentee"]["key"],
                    explanation["mentee"]["name"],
                    mentor["key"],
                    mentor["name"],
                    "" if row["score"] is None else row["score"],
                    *("" if criteria.get(name) is None else criteria[name] for name in CRITERIA_SHORT),
                    row["status"],
                    in_flags(explanation["reason"] or ""),
                ]
            )
        )


@app.command("explain")
def explain(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    database: DatabaseOption = None,
) -> None:
    """Why this mentor (score by criterion), or why none; who was ruled out and why."""
    from engine.services.matching import proposals_of

    check_choice(format, "--format", ("table", "json"))
    rows = proposals_of(open_store(settings(database)), relationship)
    if format == "json":
        typer.echo(in_flags(json.dumps(rows, indent=2, ensure_ascii=False, default=json_value)))
        return
    _print_explanation(rows[0])
    for earlier in rows[1:]:
        mentor = earlier["mentor_name"] or "no mentor"
        decided = f" by {earlier['decided_by']}" if earlier["decided_by"] else ""
        because = f": {earlier['reason']}" if earlier["reason"] else ""
        paragraph(f"earlier, run {earlier['run']}: {mentor}, {earlier['status']}{decided}{because}")


def _print_explanation(row: dict[str, Any]) -> None:
    explanation = row["explanation"]
    mentee = f"{row['mentee_name']} ({row['mentee_key']})"
    head = f"relationship {row['relationship_id']}: {mentee}"
    run = f"run {row['run']}, {row['mode']}, policy version {row['policy_version'][:19]}"
    if row["mentor_id"] is None:
        paragraph(f"{head}: no mentor proposed ({run}, {row['status']})")
        paragraph(f"why: {explanation['reason']}")
    else:
        status = row["status"] + (f" by {row['decided_by']}" if row["decided_by"] else "")
        mentor = f"{row['mentor_name']} ({row['mentor_key']})"
        paragraph(f"{head} -> {mentor}: score {row['score']:.2f} ({run}, {status})")
        cells = [
            [c["label"], f"{c['weight']:g}", "n/a" if c["score"] is None else _score(c["score"]),
             in_flags(c["detail"])]
            for c in row["breakdown"]["criteria"]
        ]  # fmt: skip
        columns = [Column("criterion", 0, 12), Column("weight", 2), Column("score", 0), Column("why", 1, 20)]
        print_table(columns, cells, title="score by criterion")
        for note in explanation["notes"]:
            paragraph(f"note: {note}")
    if row["status"] == "rejected":
        paragraph(f"rejected: {row['reason']}")
    _print_others(explanation)


def _print_others(explanation: dict[str, Any]) -> None:
    counts = explanation["ruled_out_counts"]
    if counts:
        from engine.matching.constraints import CONSTRAINT_LABELS

        shown = ", ".join(f"{CONSTRAINT_LABELS.get(name, name)}: {n}" for name, n in counts.items())
        paragraph(f"mentors ruled out by a hard constraint ({shown}); the best-scoring of them:")
        cells = [
            [f"{r['name']} ({r['key']})", f"{r['score']:.2f}", in_flags("; ".join(r["reasons"]))]
            for r in explanation["ruled_out"]
        ]
        columns = [Column("mentor", 0, 14), Column("would score", 1), Column("ruled out because", 0, 20)]
        print_table(columns, cells, title="")
    if explanation["alternatives"]:
        cells = [
            [f"{a['name']} ({a['key']})", f"{a['score']:.2f}", in_flags(a["why_not"])]
            for a in explanation["alternatives"]
        ]
        columns = [Column("mentor", 0, 14), Column("score", 0), Column("why not", 1, 20)]
        print_table(columns, cells, title="other mentors who fit")


@app.command("approve")
def approve(
    relationships: Annotated[
        list[int] | None, typer.Argument(metavar="[REL...]", help="Relationship ids.", show_default=False)
    ] = None,
    all_above: Annotated[
        float | None,
        typer.Option("--all-above", help="Approve every pending proposal scoring at least this."),
    ] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Approve proposals: the pair is matched (the lifecycle's `match`), with you as the actor."""
    from engine.clock import SystemClock
    from engine.domain.lifecycle import Lifecycle
    from engine.errors import InputError, RefusedError
    from engine.services.matching import approve as run

    if bool(relationships) == (all_above is not None):
        raise InputError("give relationship ids or --all-above SCORE (one of the two)")
    chosen = settings(database, policy)
    decided = run(
        open_store(chosen),
        Lifecycle(load_policy(chosen)),
        SystemClock(),
        relationships or (),
        above=all_above,
        actor=actor_name(actor),
    )
    for rel_id in decided.done:
        typer.echo(f"relationship {rel_id}: approved and matched")
    if not decided.done and not decided.refused:
        typer.echo(f"no pending proposal scores {all_above} or more")
    if decided.refused:
        problems = [f"relationship {rel_id}: {why}" for rel_id, why in decided.refused.items()]
        raise RefusedError(f"{len(decided.refused)} proposal(s) not approved", problems)


@app.command("reject")
def reject(
    relationships: RelationshipsArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why; the pair is not proposed again.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Reject proposals; the relationships wait for the next `match propose`, without that mentor."""
    from engine.clock import SystemClock
    from engine.services.matching import reject as run

    done = run(open_store(settings(database)), SystemClock(), relationships, reason, actor=actor_name(actor))
    typer.echo(f"rejected: {_ids(done)} (run `mentorflow match propose` for new proposals)")


@app.command("replace")
def replace(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    mentor: Annotated[str, typer.Option("--mentor", help="The new mentor: id, external id or email.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the match is corrected (in the audit entry).")],
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override",
            metavar="CONSTRAINT",
            help="Overrule a hard constraint of matching for the new mentor knowingly; repeatable.",
        ),
    ] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Correct a match: the pair gets another mentor (in matched or kickoff, or where the policy's
    matching.replace_in allows); the old mentor's place is freed, the new one gets the phase's messages."""
    from engine.clock import SystemClock
    from engine.services.replacing import ReplaceRequest, replace_mentor

    chosen = settings(database, policy)
    request = ReplaceRequest(relationship, mentor, reason, actor_name(actor), tuple(override or ()))
    entry = replace_mentor(open_store(chosen), load_policy(chosen), SystemClock(), request)
    data = entry.data or {}
    typer.echo(
        f"relationship {relationship}: mentor {data['old_mentor']} -> {data['mentor']} in {entry.to_phase!r} "
        f"(entry {entry.seq}, by {entry.actor})"
    )
    if "override" in data:
        say(f"overridden: {', '.join(data['override']['constraints'])} ({data['override']['reason']})")
