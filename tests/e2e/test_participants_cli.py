"""`participants import` (dry run, delimiters, unknown columns), leave, history, opening again, --phase."""

from __future__ import annotations

from pathlib import Path

from .conftest import Run, snapshot


def _write(path: Path, *lines: str, sep: str = ",") -> Path:
    path.write_text("\n".join(line.replace(",", sep) for line in lines) + "\n", encoding="utf-8")
    return path


def test_dry_run_prints_changes_and_writes_nothing(run: Run, program: Path, tmp_path: Path) -> None:
    update = _write(
        tmp_path / "update.csv",
        "external_id,role,name,email,capacity",
        "E1001,mentor,Jeroen van den Bergh,jeroen.vandenbergh@example.com,5",
    )
    before = snapshot(program)

    result = run("participants", "import", str(update), "--dry-run")

    assert result.code == 0, result.err
    assert "capacity: 3 → 5" in result.out and "dry run" in result.out
    assert snapshot(program) == before
    assert run("participants", "import", str(update)).code == 0
    history = run("participants", "history", "E1001")
    assert "import" in history.out and "capacity" in history.out


def test_a_semicolon_file_with_an_unknown_column_imports_with_one_warning(
    run: Run, program: Path, tmp_path: Path
) -> None:
    path = tmp_path / "nl.csv"
    path.write_bytes(
        b"\xef\xbb\xbfexternal_id;role;name;email;Employee Status\r\n"
        b"E77;mentee;Nina;nina@example.com;Actief\r\n"
    )

    result = run("participants", "import", str(path))

    assert result.code == 0, result.err
    assert result.err.count("ignoring unknown column") == 1 and "'employee status'" in result.err
    assert "1 new" in result.out


def test_strict_refuses_unknown_columns(run: Run, program: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", "role,name,email,phone", "mentor,Jan,jan@example.com,06")
    before = snapshot(program)

    result = run("participants", "import", str(path), "--strict")

    assert result.code == 2 and "unknown column 'phone'" in result.err and "Traceback" not in result.err
    assert snapshot(program) == before


def test_manager_loop_and_role_change_are_refused(run: Run, program: Path, tmp_path: Path) -> None:
    loop = _write(
        tmp_path / "loop.csv",
        "external_id,role,name,email,manager_id",
        "A1,mentor,A,a@example.com,B1",
        "B1,mentor,B,b@example.com,A1",
    )
    role = _write(tmp_path / "role.csv", "external_id,role,name,email", "E1002,mentee,X,x@example.com")
    before = snapshot(program)

    looped = run("participants", "import", str(loop))
    changed = run("participants", "import", str(role))

    assert looped.code == 2 and "A1 → B1 → A1" in looped.err
    assert changed.code == 2 and "cannot change role" in changed.err
    assert snapshot(program) == before


def test_leave_left_and_open_again(run: Run, program: Path) -> None:
    left = run("participants", "leave", "E1101", "--left", "--reason", "left the company")
    assert left.code == 0, left.err
    assert "closed (close)" in left.out
    refused = run("relationships", "open", "E1101")
    assert refused.code == 2 and "has left" in refused.err

    assert run("participants", "leave", "E1102", "--reason", "sick").code == 0
    assert run("participants", "return", "E1102").code == 0
    closed = run("advance", "2", "close", "--reason", "not a fit")
    assert closed.code == 0, closed.err
    opened = run("relationships", "open", "E1102", "--reason", "second try")
    assert opened.code == 0 and "after relationship 2" in opened.out
    history = run("history", "15")
    assert "the mentee's relationships: 2 (closed) → 15 (intake, this one)" in history.out
    verify = run("audit", "verify")
    assert verify.code == 0, verify.out


def test_unknown_phase_is_refused_with_the_phases(run: Run, program: Path) -> None:
    result = run("relationships", "list", "--phase", "activ")

    assert result.code == 2
    assert "--phase: 'activ' is not a phase" in result.err and "intake, matched" in result.err
