"""The limit on the participant pages: a token bucket per client address on ``/l/...`` (a 429 page in the
browser's language with ``Retry-After``, nothing written), the console and ``/healthz`` untouched,
``[web] participant_rate_limit`` checked when read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.errors import ConfigError
from engine.settings import web_settings
from workflows.web import create_app, limits
from workflows.web.config import WebConfig, load_config
from workflows.web.limits import BURST, TokenBucket

from .conftest import BASE, COORDINATOR, KEYS, Site, dump


class FakeTime:
    """A monotonic clock in seconds that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _takes(bucket: TokenBucket, key: str, n: int) -> list[int]:
    return [bucket.take(key) for _ in range(n)]


# TokenBucket, with an injected clock


def test_a_burst_then_one_a_second_at_sixty_a_minute() -> None:
    time = FakeTime()
    bucket = TokenBucket(60, time)
    assert BURST == 20 and _takes(bucket, "a", 20) == [0] * 20
    assert _takes(bucket, "a", 3) == [1, 1, 1]  # refused ones take nothing
    assert bucket.take("b") == 0  # another client has its own bucket
    time.now += 0.5
    assert bucket.take("a") == 1
    time.now += 0.5
    assert _takes(bucket, "a", 2) == [0, 1]
    time.now += 7
    assert _takes(bucket, "a", 8) == [0] * 7 + [1]
    time.now += 3600  # refilled, but never beyond the burst
    assert _takes(bucket, "a", 21) == [0] * 20 + [1]


def test_a_low_limit_has_a_burst_of_that_limit_and_says_how_long_to_wait() -> None:
    time = FakeTime()
    bucket = TokenBucket(3, time)  # one token every 20 seconds, 3 at most
    assert _takes(bucket, "a", 4) == [0, 0, 0, 20]
    time.now += 5
    assert bucket.take("a") == 15
    time.now += 14.5
    assert bucket.take("a") == 1  # 0.5 s to go: Retry-After is a whole second at least
    time.now += 0.5
    assert _takes(bucket, "a", 2) == [0, 20]
    time.now += 60
    assert _takes(bucket, "a", 4) == [0, 0, 0, 20]


@pytest.mark.parametrize("per_minute", [1, 3, 7, 59, 60, 61, 600, 100_000])
def test_waiting_retry_after_seconds_is_enough(per_minute: int) -> None:
    time = FakeTime()
    bucket = TokenBucket(per_minute, time)
    taken = _takes(bucket, "a", min(BURST, per_minute))
    assert taken == [0] * min(BURST, per_minute)
    wait = bucket.take("a")
    assert wait == max(1, -(-60 // per_minute))
    time.now += wait
    assert bucket.take("a") == 0


def test_beyond_max_clients_the_oldest_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_CLIENTS", 4)
    time = FakeTime()
    bucket = TokenBucket(3, time)
    assert _takes(bucket, "c1", 4) == [0, 0, 0, 20]
    for key in ("c2", "c3", "c4"):
        assert bucket.take(key) == 0
    assert list(bucket.buckets) == ["c1", "c2", "c3", "c4"]
    assert bucket.take("c5") == 0  # five: none full, so the oldest go, down to half
    assert list(bucket.buckets) == ["c4", "c5"]
    assert _takes(bucket, "c1", 4) == [0, 0, 0, 20]  # forgotten: a fresh bucket


def test_beyond_max_clients_the_full_buckets_go_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_CLIENTS", 6)
    time = FakeTime()
    bucket = TokenBucket(3, time)
    for key in ("c2", "c3", "c4"):
        bucket.take(key)
    time.now += 50  # c2, c3 and c4 are full again
    for key in ("c5", "c6"):
        bucket.take(key)
    assert _takes(bucket, "c1", 4) == [0, 0, 0, 20]
    bucket.take("c7")
    assert list(bucket.buckets) == ["c6", "c1", "c7"]
    assert bucket.take("c1") == 20  # still empty: a crowd of others did not refill it


# The middleware


@pytest.fixture
def clock_for_buckets(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """The time the middleware's buckets see (standing still unless moved)."""
    time = FakeTime()
    made: Callable[[int], TokenBucket] = lambda per_minute: TokenBucket(per_minute, time)  # noqa: E731
    monkeypatch.setattr(limits, "TokenBucket", made)
    return time


def _limited(site: Site, per_minute: int = 3, **changes: object) -> WebConfig:
    config = WebConfig(site.store, site.policy, KEYS, BASE, COORDINATOR, site.clock)
    return replace(config, participant_rate_limit=per_minute, **changes)  # type: ignore[arg-type]


@pytest.fixture
def limited(site: Site, clock_for_buckets: FakeTime) -> Iterator[TestClient]:
    with TestClient(create_app(_limited(site)), base_url=BASE) as client:
        yield client


def test_the_fourth_request_to_the_participant_pages_gets_429(
    site: Site, limited: TestClient, clock_for_buckets: FakeTime
) -> None:
    survey = site.link("survey", "mentee", "survey")
    for _ in range(3):
        assert limited.get(survey).status_code == 200
    before = dump(site.store)
    refused = limited.get(survey, headers={"accept-language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "20"
    assert "Er kwamen in korte tijd te veel verzoeken van je adres." in refused.text
    assert 'lang="nl"' in refused.text
    assert (
        refused.headers["content-security-policy"]
        == limited.get("/healthz").headers["content-security-policy"]
    )
    posted = limited.post(survey, data={"satisfaction": "5"}, headers={"accept-language": "en"})
    assert posted.status_code == 429 and "Too many requests came from your address" in posted.text
    assert limited.get("/l/nothing/at-all").status_code == 429  # before the link is even read
    assert dump(site.store) == before
    clock_for_buckets.now += 20
    assert limited.get(survey).status_code == 200
    assert limited.get(survey).status_code == 429


def test_the_console_and_healthz_are_not_limited(site: Site, limited: TestClient) -> None:
    survey = site.link("survey", "mentee", "survey")
    for _ in range(3):
        limited.get(survey)
    assert limited.get(survey).status_code == 429
    for _ in range(10):
        assert limited.get("/healthz").text == "ok"
        assert limited.get("/login").status_code == 200
        assert limited.get("/", follow_redirects=False).status_code == 303
        assert limited.get("/static/site.css").status_code == 200


def test_without_a_limit_nothing_is_refused(site: Site, clock_for_buckets: FakeTime) -> None:
    survey = site.link("survey", "mentee", "survey")
    with TestClient(create_app(_limited(site, 0)), base_url=BASE) as client:
        assert {client.get(survey).status_code for _ in range(25)} == {200}


def test_behind_a_loopback_proxy_each_forwarded_client_is_counted(
    site: Site, clock_for_buckets: FakeTime
) -> None:
    survey = site.link("survey", "mentee", "survey")
    app = create_app(_limited(site))
    with TestClient(app, base_url=BASE, client=("127.0.0.1", 40000)) as client:
        first = {"x-forwarded-for": "203.0.113.1"}
        assert [client.get(survey, headers=first).status_code for _ in range(4)] == [200, 200, 200, 429]
        second = {"x-forwarded-for": "198.51.100.1, 203.0.113.2"}  # the last is what the proxy saw
        assert [client.get(survey, headers=second).status_code for _ in range(4)] == [200, 200, 200, 429]
        spoofed = {"x-forwarded-for": "203.0.113.2, 203.0.113.1"}
        assert client.get(survey, headers=spoofed).status_code == 429
        # from loopback without a forwarded client: not through the proxy, not limited
        assert {client.get(survey).status_code for _ in range(6)} == {200}
    with TestClient(app, base_url=BASE, client=("192.0.2.10", 40000)) as direct:  # not a proxy
        other = {"x-forwarded-for": "203.0.113.3"}
        assert [direct.get(survey, headers=other).status_code for _ in range(3)] == [200, 200, 200]
        assert direct.get(survey, headers={"x-forwarded-for": "203.0.113.4"}).status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted(
    site: Site, clock_for_buckets: FakeTime
) -> None:
    survey = site.link("survey", "mentee", "survey")
    app = create_app(_limited(site, trusted_proxies=("192.0.2.20",)))
    with TestClient(app, base_url=BASE, client=("192.0.2.20", 40000)) as client:
        for address in ("203.0.113.5", "203.0.113.6"):
            forwarded = {"x-forwarded-for": address}
            assert [client.get(survey, headers=forwarded).status_code for _ in range(4)] == [200] * 3 + [429]
        assert [client.get(survey).status_code for _ in range(4)] == [200, 200, 200, 429]  # the proxy


# [web] participant_rate_limit


def _settings(folder: Path, line: str) -> Path:
    path = folder / "mentorflow.toml"
    path.write_text(f'[web]\nbase_url = "{BASE}"\nsecret_keys = ["{KEYS[0]}"]\n{line}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ["-1", '"x"', "true", "false", "1.5", "100001", '"60"', "[60]"])
def test_a_bad_rate_limit_is_refused_naming_the_setting_and_the_file(tmp_path: Path, value: str) -> None:
    path = _settings(tmp_path, f"participant_rate_limit = {value}")
    with pytest.raises(ConfigError) as refused:
        web_settings(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: web.participant_rate_limit: ") and "from 0 (no limit)" in message


@pytest.mark.parametrize(("line", "expected"), [("", 60), ("participant_rate_limit = 0", 0),
                                                ("participant_rate_limit = 100000", 100_000)])  # fmt: skip
def test_the_rate_limit_is_read_with_sixty_unless_set(tmp_path: Path, line: str, expected: int) -> None:
    assert web_settings(_settings(tmp_path, line)).participant_rate_limit == expected


def test_the_pages_configuration_carries_the_setting(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MENTORFLOW_LINK_KEYS", raising=False)
    monkeypatch.setenv("MENTORFLOW_CONFIG", str(_settings(tmp_path, "participant_rate_limit = 7")))
    assert load_config(site.policy, site.store).participant_rate_limit == 7
    monkeypatch.setenv("MENTORFLOW_CONFIG", str(_settings(tmp_path, "")))
    assert load_config(site.policy, site.store).participant_rate_limit == 60
