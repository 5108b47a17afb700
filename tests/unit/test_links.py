"""Personal links as tokens: they round-trip, refuse every change, expire, rotate keys, and hide people."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.delivery import links
from engine.delivery.links import LINK_LIFETIME, PURPOSES, Link, Refusal
from engine.errors import ConfigError
from engine.settings import LINK_KEYS_VARIABLE, check_link_keys, web_settings

OLD_KEY = "old-key-" + "o" * 32
NEW_KEY = "new-key-" + "n" * 32
NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
PERSON = 987653  # a participant id, which the token must not show


def _link(purpose: str = "survey", **extra: object) -> Link:
    binding = links.binding((OLD_KEY,), PERSON)
    return Link(purpose, 4, "mentee", binding, NOW, **extra)  # type: ignore[arg-type]


def _payload(token: str) -> object:
    body = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.mark.parametrize("extra", [{}, {"outbox_id": 812, "survey": "final"}])
def test_a_link_reads_back_as_it_was_made(extra: dict[str, object]) -> None:
    link = _link(**extra)
    token = links.sign(link, (OLD_KEY,))
    assert links.read(token, "survey", NOW, (OLD_KEY,)) == link
    assert links.is_for(link, PERSON, (OLD_KEY,))
    assert (
        links.url("https://mentoring.example.com/", token)
        == f"https://mentoring.example.com/l/survey/{token}"
    )


def test_every_purpose_opens_only_its_own_page() -> None:
    for purpose in PURPOSES:
        token = links.sign(_link(purpose), (OLD_KEY,))
        for page in PURPOSES:
            expected = _link(purpose) if page == purpose else Refusal("wrong_purpose")
            assert links.read(token, page, NOW, (OLD_KEY,)) == expected


def test_the_address_names_the_tokens_purpose_and_only_a_link_has_one() -> None:
    for purpose in PURPOSES:
        for extra in ({}, {"outbox_id": 9, "survey": "final"} if purpose == "survey" else {}):
            token = links.sign(_link(purpose, **extra), (OLD_KEY,))
            assert (
                links.url("https://m.example.com/app", token)
                == f"https://m.example.com/app/l/{purpose}/{token}"
            )
            assert links.purpose_of(token, (OLD_KEY,)) == purpose
            assert links.purpose_of(token, (NEW_KEY,)) is None  # not signed with it
    from itsdangerous import URLSafeSerializer

    long_text = URLSafeSerializer([OLD_KEY], salt=links.SALT).dumps(["x" * 200])  # compressed, not a link
    for not_a_token in ("", "abc", "a.b", long_text, "é.x"):
        with pytest.raises(ValueError, match="not the token of a personal link"):
            links.url("https://m.example.com", not_a_token)
        assert links.purpose_of(not_a_token, (OLD_KEY,)) is None


def test_a_changed_token_is_tampered() -> None:
    token = links.sign(_link(), (OLD_KEY,))
    body, signature = token.split(".")
    forged_body = base64.urlsafe_b64encode(
        json.dumps([1, "survey", 5, "mentee", _link().binding, 0], separators=(",", ":")).encode()
    ).rstrip(b"=")
    changed = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature
        body[:-2] + ("x" if body[-2] != "x" else "y") + body[-1] + "." + signature,  # the payload
        f"{forged_body.decode()}.{signature}",  # another relationship under the old signature
        token[: len(token) // 2],
        "",
        "not a token",
        token + "é",
        "x" * 5000,
    ]
    for bad in changed:
        assert links.read(bad, "survey", NOW, (OLD_KEY,)) == Refusal("tampered"), bad
    assert links.read(token, "survey", NOW, (NEW_KEY,)) == Refusal("tampered")  # a key it was not signed with


def test_a_signed_payload_of_another_layout_is_tampered() -> None:
    serializer = links._serializer((OLD_KEY,))
    for payload in (
        {"purpose": "survey"},
        [2, "survey", 4, "mentee", "b", 0],
        [1, "survey", 4, "boss", "b", 0],
        [1, "survey", True, "mentee", "b", 0],
        [1, "survey", 4, "mentee", "b", -1],
        [1, "survey", 4, "mentee", "b", 10**30],
        [1, "survey", 4, "mentee"],
    ):
        assert links.read(serializer.dumps(payload), "survey", NOW, (OLD_KEY,)) == Refusal("tampered")


def test_a_link_made_for_another_use_of_the_keys_does_not_open() -> None:
    from itsdangerous import URLSafeSerializer

    other_use = URLSafeSerializer([OLD_KEY], salt="mentorflow.session").dumps(
        [1, "survey", 4, "mentee", _link().binding, 0]
    )
    assert links.read(other_use, "survey", NOW, (OLD_KEY,)) == Refusal("tampered")


def test_a_link_expires_its_lifetime_after_it_was_issued() -> None:
    token = links.sign(_link(), (OLD_KEY,))
    assert timedelta(days=30) == LINK_LIFETIME
    assert isinstance(links.read(token, "survey", NOW + LINK_LIFETIME, (OLD_KEY,)), Link)
    later = NOW + LINK_LIFETIME + timedelta(microseconds=1)
    assert links.read(token, "survey", later, (OLD_KEY,)) == Refusal("expired")


def test_the_binding_tells_the_person_apart() -> None:
    link = _link()
    assert not links.is_for(link, PERSON + 1, (OLD_KEY,))
    assert not links.is_for(link, PERSON, (NEW_KEY,))
    assert links.binding((NEW_KEY,), PERSON) != link.binding


def test_with_a_new_key_in_front_old_links_still_open_and_new_ones_use_it() -> None:
    old_token = links.sign(_link(), (OLD_KEY,))
    rotated = (NEW_KEY, OLD_KEY)
    opened = links.read(old_token, "survey", NOW, rotated)
    assert opened == _link()
    assert isinstance(opened, Link) and links.is_for(opened, PERSON, rotated)
    fresh = Link("survey", 4, "mentee", links.binding(rotated, PERSON), NOW)
    new_token = links.sign(fresh, rotated)
    assert links.read(new_token, "survey", NOW, (NEW_KEY,)) == fresh  # signed with the newest key
    assert links.read(new_token, "survey", NOW, (OLD_KEY,)) == Refusal("tampered")
    assert links.is_for(fresh, PERSON, (NEW_KEY,))


def test_the_token_holds_no_personal_data() -> None:
    name, email, employee = "Zoë Çelik", "zoe.celik@example.com", "E1101"
    token = links.sign(_link(outbox_id=3, survey="final"), (OLD_KEY,))
    payload = _payload(token)
    assert payload == [1, "survey", 4, "mentee", _link().binding, payload[5], 3, "final"]  # type: ignore[index]
    text = json.dumps(payload, ensure_ascii=False) + token
    for secret in (name, email, employee, str(PERSON), OLD_KEY):
        assert secret not in text
    assert len(base64.urlsafe_b64decode(_link().binding + "=")) == 8


def test_each_refusal_has_a_status_and_says_what_to_do() -> None:
    statuses = {kind: Refusal(kind).status for kind in links.REFUSALS}
    assert statuses == {
        "tampered": 400, "expired": 410, "revoked": 410, "wrong_purpose": 403, "wrong_person": 403,
    }  # fmt: skip
    for kind in links.REFUSALS:
        assert "coordinator" in Refusal(kind).message


def test_no_key_or_a_short_key_is_refused_saying_what_to_set() -> None:
    with pytest.raises(ConfigError, match=r"secret_keys under \[web\].*MENTORFLOW_LINK_KEYS"):
        check_link_keys(())
    with pytest.raises(ConfigError, match="key 2 is 31 characters long; a link key needs at least 32"):
        check_link_keys((NEW_KEY, "k" * 31), "web.secret_keys")
    with pytest.raises(ConfigError, match="at least 32"):
        links.sign(_link(), ("short",))


def test_the_keys_come_from_the_environment_before_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LINK_KEYS_VARIABLE, raising=False)
    settings = tmp_path / "mentorflow.toml"
    settings.write_text(
        f'[web]\nbase_url = "https://m.example.com"\nsecret_keys = ["{NEW_KEY}", "{OLD_KEY}"]\n', "utf-8"
    )
    read = web_settings(settings)
    assert (read.base_url, read.secret_keys) == ("https://m.example.com", (NEW_KEY, OLD_KEY))
    monkeypatch.setenv(LINK_KEYS_VARIABLE, f" {OLD_KEY} ,{NEW_KEY}")
    read = web_settings(settings)
    assert (read.secret_keys, read.source) == ((OLD_KEY, NEW_KEY), LINK_KEYS_VARIABLE)
    monkeypatch.delenv(LINK_KEYS_VARIABLE)
    settings.write_text('[web]\nsecret_keys = "one"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"web\.secret_keys must be a list of text"):
        web_settings(settings)


def test_the_command_offers_the_purposes_and_roles_links_have() -> None:
    from workflows.cli import links as command

    assert (command.PURPOSES, command.ROLES) == (links.PURPOSES, links.ROLES)
