"""A policy's outline: what `status` needs of it, kept between commands and never kept for a bad policy."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from engine.errors import PolicyError
from engine.policy.model import load_policy, shipped_policies
from engine.policy.outline import from_json, outline_of, to_json
from engine.services import outlines


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("name", sorted(shipped_policies()))
def test_an_outline_reads_back_as_written(name: str) -> None:
    policy = load_policy(shipped_policies()[name])
    outline = outline_of(policy)
    assert from_json(json.loads(json.dumps(to_json(outline)))) == outline
    assert list(outline.phases) == list(policy.phases) and outline.timezone == policy.program.timezone


def test_the_second_read_comes_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_bytes(shipped_policies()["default"].read_bytes())
    first = outlines.policy_outline(path)
    [cached] = list(outlines.cache_folder().glob("*.json"))
    data = json.loads(cached.read_text(encoding="utf-8"))
    data["timezone"] = "Asia/Tokyo"  # so a read from the cache shows
    cached.write_text(json.dumps(data), encoding="utf-8")
    assert outlines.policy_outline(path).timezone == "Asia/Tokyo" != first.timezone


def test_an_edited_policy_is_loaded_again(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    text = shipped_policies()["default"].read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    assert outlines.policy_outline(path).timezone == "Europe/Amsterdam"
    path.write_text(text.replace("Europe/Amsterdam", "Europe/Lisbon"), encoding="utf-8")
    assert outlines.policy_outline(path).timezone == "Europe/Lisbon"


def test_a_bad_policy_fails_as_it_loads_and_is_never_cached(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    text = shipped_policies()["default"].read_text(encoding="utf-8")
    path.write_text(text.replace("every 2 weeks", "every fortnite"), encoding="utf-8")
    with pytest.raises(PolicyError) as failed:
        outlines.policy_outline(path)
    with pytest.raises(PolicyError) as direct:
        load_policy(path)
    assert (failed.value.message, failed.value.problems) == (direct.value.message, direct.value.problems)
    assert "team.yaml:" in " ".join(failed.value.problems) + failed.value.message
    assert not list(outlines.cache_folder().glob("*.json"))


def test_a_damaged_cache_file_is_read_past(tmp_path: Path) -> None:
    path = shipped_policies()["default"]
    expected = outlines.policy_outline(path)
    for cached in outlines.cache_folder().glob("*.json"):
        cached.write_text('{"format": 1, "phases": [["intake", {"deadline": [1]}]]', encoding="utf-8")
    assert outlines.policy_outline(path) == expected


def test_an_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert outlines.policy_outline(shipped_policies()["default"]).policy == "default"


def _policies(cache: Path) -> list[Path]:
    return sorted((cache / "mentorflow" / "policies").glob("*.pickle"))


@pytest.mark.parametrize("name", sorted(shipped_policies()))
def test_a_cached_policy_is_the_policy_that_loaded(name: str, cache_home: Path) -> None:
    path = shipped_policies()[name]
    loaded = load_policy(path)
    first = outlines.cached_policy(path)
    assert len(_policies(cache_home)) == 1
    again = outlines.cached_policy(path)
    assert again is not first and again == loaded
    assert (again.digest, again.warnings) == (loaded.digest, loaded.warnings)
    assert again.normalised() == loaded.normalised()
    assert again.edges == loaded.edges and again.survey_plans == loaded.survey_plans


def test_the_second_load_comes_from_the_cache(tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_bytes(shipped_policies()["default"].read_bytes())
    first = outlines.cached_policy(path)
    [cached] = _policies(cache_home)
    other = load_policy(shipped_policies()["default"]).model_copy(update={"description": "from the cache"})
    cached.write_bytes(pickle.dumps(other))  # so a read from the cache shows
    assert outlines.cached_policy(path).description == "from the cache" != first.description


def test_an_edited_policy_file_is_validated_again(tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "team.yaml"
    text = shipped_policies()["default"].read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    assert outlines.cached_policy(path).program.timezone == "Europe/Amsterdam"
    path.write_text(text.replace("Europe/Amsterdam", "Europe/Lisbon"), encoding="utf-8")
    assert outlines.cached_policy(path).program.timezone == "Europe/Lisbon"
    path.write_text(text.replace("every 2 weeks", "every fortnite"), encoding="utf-8")
    with pytest.raises(PolicyError) as failed:
        outlines.cached_policy(path)
    assert "team.yaml:" in " ".join(failed.value.problems)
    assert len(_policies(cache_home)) == 2  # the bad version is not among them


def test_a_bad_policy_fails_as_it_loads_and_is_never_kept(tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "team.yaml"
    text = shipped_policies()["default"].read_text(encoding="utf-8")
    path.write_text(text.replace("to: matched", "to: matchd"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(PolicyError) as failed:
            outlines.cached_policy(path)
        with pytest.raises(PolicyError) as direct:
            load_policy(path)
        assert (failed.value.message, failed.value.problems) == (direct.value.message, direct.value.problems)
    assert not _policies(cache_home) and not list(outlines.cache_folder().glob("*.json"))


def test_the_path_as_given_names_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Warnings quote the path as it was given, so each spelling of it is kept apart."""
    (tmp_path / "team.yaml").write_bytes(shipped_policies()["default"].read_bytes())
    monkeypatch.chdir(tmp_path)
    outlines.cached_policy(Path("team.yaml"))
    outlines.cached_policy(tmp_path / "team.yaml")
    assert len(_policies(tmp_path / "cache")) == 2


class _Runs:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("a cache file ran code",))


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle", pickle.dumps({"policy": 1}), pickle.dumps(_Runs()), pickle.dumps(Path("x"))],
    ids=["empty", "garbage", "not-a-policy", "runs-code", "another-class"],
)
def test_a_damaged_or_foreign_cache_file_is_read_past(
    content: bytes, cache_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shipped_policies()["default"]
    expected = outlines.cached_policy(path)
    [cached] = _policies(cache_home)
    cached.write_bytes(content)
    assert outlines.cached_policy(path) == expected
    assert "ran code" not in capsys.readouterr().out
    assert cached.read_bytes() != content  # written again, whole


def test_an_unwritable_policy_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert outlines.cached_policy(shipped_policies()["default"]).policy == "default"
