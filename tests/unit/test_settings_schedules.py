"""The ``[schedules]`` of mentorflow.toml: when ``mentorflow serve`` runs each flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.settings import DEFAULT_SCHEDULES, schedules


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "mentorflow.toml"
    monkeypatch.setenv("MENTORFLOW_CONFIG", str(path))
    return path


def test_without_a_settings_file_the_defaults_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MENTORFLOW_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert (
        schedules()
        == DEFAULT_SCHEDULES
        == {
            "cadence": "0 7 * * *",
            "delivery": "*/5 * * * *",
            "matching": "0 8 * * 1",
        }
    )


def test_a_schedule_can_be_changed_or_switched_off(settings_file: Path) -> None:
    settings_file.write_text('[schedules]\ncadence = "30 6 * * 1-5"\nmatching = "off"\n', encoding="utf-8")
    assert schedules() == {"cadence": "30 6 * * 1-5", "delivery": "*/5 * * * *", "matching": None}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('cadence = "daily"', "is not a cron expression"),
        ("cadence = 7", "is not a cron expression"),
        ('intake = "0 7 * * *"', "no such flow to schedule"),
    ],
)
def test_a_bad_schedule_names_the_key(settings_file: Path, line: str, message: str) -> None:
    settings_file.write_text(f"[schedules]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as error:
        schedules()
    assert "schedules." in error.value.message
