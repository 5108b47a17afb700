"""A phase's resources: texts as before (the same digest), or mappings with a title, link and audience."""

from __future__ import annotations

import pytest

from engine.errors import PolicyError
from engine.policy.model import load_policy, load_policy_text, resolve_policy_path
from engine.policy.resources import Resource, resources_for
from tests.design_policy import DESIGN_BLOCK, DESIGN_DIGEST

SHIPPED_DIGEST = DESIGN_DIGEST  # the design's policy, the shipped one before it had resources
TEXTS_DIGEST = "sha256:dd1734a212936c819a7f5ef67d541348317bd486540ea3089983ca843e9d56e2"


def _with_resources(flow: str) -> str:
    """The design's policy (whose lines stay put) with resources in `intake`, on line 10."""
    assert DESIGN_BLOCK.count("    initial: true\n") == 1
    return DESIGN_BLOCK.replace("    initial: true\n", f"    initial: true\n    resources: {flow}\n", 1)


def test_the_shipped_policy_and_one_with_texts_keep_their_digests() -> None:
    assert load_policy_text(DESIGN_BLOCK, "policies/default.yaml").digest == SHIPPED_DIGEST
    shipped = load_policy(resolve_policy_path("default"))  # version 2 gives mappings, which load
    assert all(isinstance(entry, Resource) for phase in shipped.phases.values() for entry in phase.resources)
    assert shipped.phases["kickoff"].resources  # (its digest: tests/unit/test_timers.py)
    policy = load_policy_text(_with_resources('[Mentee guide, "https://example.org/guide"]'), "p.yaml")
    assert policy.phases[policy.initial_phase].resources == ["Mentee guide", "https://example.org/guide"]
    assert policy.digest == TEXTS_DIGEST


def test_a_mapping_is_a_resource_for_both_unless_it_says_otherwise() -> None:
    guide = '{title: Guide, title_nl: Gids, link: "https://example.org/g", for: mentee}'
    flow = f"[Read this, {guide}, {{title: Tips}}]"
    policy = load_policy_text(_with_resources(flow), "p.yaml")
    text, guide, tips = policy.phases[policy.initial_phase].resources
    assert text == "Read this"
    assert guide == Resource(title="Guide", title_nl="Gids", link="https://example.org/g", audience="mentee")
    assert isinstance(tips, Resource) and tips.audience == "both" and tips.link is None
    assert policy.normalised()["phases"][policy.initial_phase]["resources"][1]["for"] == "mentee"
    assert policy.digest not in (SHIPPED_DIGEST, TEXTS_DIGEST)


def test_each_recipient_gets_the_resources_meant_for_them_in_their_language() -> None:
    entries = [
        "Read this",
        Resource(title="Guide", title_nl="Gids", link="https://example.org/g", audience="mentee"),
        Resource(title="Coaching", audience="mentor"),
    ]
    assert resources_for(entries, "mentee", "nl") == [
        {"title": "Read this", "link": None},
        {"title": "Gids", "link": "https://example.org/g"},
    ]
    assert [r["title"] for r in resources_for(entries, "mentor", "nl")] == ["Read this", "Coaching"]
    assert [r["title"] for r in resources_for(entries, "mentee", "en")] == ["Read this", "Guide"]


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (
            "[{title: Guide, for: mentees}]",
            'resources[0].for: "mentees" is not allowed (expected "mentee", "mentor" or "both")',
        ),
        (
            '[{title: Guide, link: "ftp://example.org/g"}]',
            'resources[0].link: "ftp://example.org/g" is not a web address',
        ),
        ("[{title: Guide, link: example.org}]", 'resources[0].link: "example.org" is not a web address'),
        ("[{title: Guide, lnk: x}]", 'resources[0].lnk: unknown key "lnk": did you mean "link"?'),
        ('[{link: "https://example.org"}]', "resources[0].title: is missing"),
        ("[3]", "resources[0]: 3 is a number (expected text)"),
    ],
)
def test_a_bad_resource_is_named_by_file_line_and_field(flow: str, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(_with_resources(flow), "p.yaml")
    assert f"p.yaml:10: phases.intake.{expected}" in str(caught.value)
