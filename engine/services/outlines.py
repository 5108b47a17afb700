"""A policy's outline and its validated form, kept between commands so that commands need not load it again.

Loading a policy reads its YAML and validates it with its pydantic models, which
costs more than the rest of ``status`` together. The first command to read a policy
file loads it in full (every problem is reported exactly as ``policy check`` reports
it) and saves, under the user's cache folder, its outline (what the light reading
commands need, as JSON) and the validated policy itself (what a writing command
needs). A later command reads them back while the file, the standard surveys and
the policy code are unchanged (their contents and sizes and times name the cache
files). A policy that does not load is never cached; a damaged or unwritable cache
is ignored.

The validated policy is kept as a pickle, read back by an unpickler that builds
nothing but the policy's own classes (those defined in ``engine.policy``), so a
cache file can make nothing else run.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import pickle
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.policy.model import Policy
    from engine.policy.outline import Outline

_POLICY_CODE = Path(__file__).resolve().parents[1] / "policy"
POLICY_FORMAT = 1  # bump when what a cached policy holds changes in a way the code's size and time miss
_POLICY_MODULES = "engine.policy."
_VALUES = frozenset({("datetime", "date"), ("datetime", "time")})  # plain values a policy holds (sessions)


def policy_outline(path: Path) -> Outline:
    """The outline of the policy file ``path``: from the cache, or by loading the policy (and caching it).

    A policy that does not load raises its PolicyError, as :func:`engine.policy.model.load_policy` does.
    """
    from engine.policy.outline import FORMAT, from_json, outline_of

    try:
        cached = _cache_file(path, f"outline {FORMAT}", "outlines", "json")
        found = from_json(json.loads(cached.read_bytes())) if cached.is_file() else None
    except (OSError, ValueError):
        found = None
    if found is not None:
        return found
    return outline_of(_load_and_cache(path))


def cached_policy(path: Path) -> Policy:
    """The validated policy of the file ``path``: from the cache, or loaded in full (and cached).

    What is read back is the policy as :func:`engine.policy.model.load_policy` returned it the
    first time, its warnings and derived tables included; a policy that does not load raises its
    PolicyError exactly as that function does.
    """
    from engine.policy.model import Policy

    found = None
    try:
        cached = _policy_file(path)
        found = _unpickled(cached.read_bytes()) if cached.is_file() else None
    except OSError:
        pass
    if isinstance(found, Policy):
        return found
    return _load_and_cache(path)


def cache_folder() -> Path:
    """Where outlines are kept: ``$XDG_CACHE_HOME/mentorflow/outlines`` (default ``~/.cache/mentorflow``)."""
    return _cache_root() / "outlines"


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mentorflow"


def _load_and_cache(path: Path) -> Policy:
    """Load the policy in full, then cache its outline and itself (where the cache can be written)."""
    from engine.policy.model import load_policy
    from engine.policy.outline import FORMAT, outline_of, to_json

    policy = load_policy(path)
    try:
        outline_file = _cache_file(path, f"outline {FORMAT}", "outlines", "json")
        policy_file = _policy_file(path)
    except OSError:
        return policy
    _save(outline_file, json.dumps(to_json(outline_of(policy))).encode())
    blob = _pickled(policy)
    if blob is not None:
        _save(policy_file, blob)
    return policy


def _policy_file(path: Path) -> Path:
    """The policy's cache file: also named by the path as given (its problems and warnings quote it) and
    by the versions of Python and pydantic (which shape a pickle)."""
    import pydantic

    versions = f"{sys.version_info[:3]} pydantic {pydantic.VERSION}"
    return _cache_file(path, f"policy {POLICY_FORMAT} {versions}\0{path}", "policies", "pickle")


def _cache_file(path: Path, kind: str, folder: str, suffix: str) -> Path:
    """The cache file of the policy at ``path`` as it is now: named by everything its content depends on."""
    digest = hashlib.sha256(f"{kind}\0{path.resolve()}\0".encode())
    digest.update(path.read_bytes())
    digest.update(resources.files("policies").joinpath("surveys.yaml").read_bytes())
    for source in sorted(_POLICY_CODE.glob("*.py")):
        stat = source.stat()
        digest.update(f"\0{source.name} {stat.st_size} {stat.st_mtime_ns}".encode())
    return _cache_root() / folder / f"{digest.hexdigest()}.{suffix}"


def _pickled(policy: Policy) -> bytes | None:
    """The policy as a pickle, what commands derive from it computed first; ``None`` if it cannot be."""
    try:
        for derived in ("digest", "edges", "terminal_phases", "survey_definitions", "survey_plans"):
            getattr(policy, derived)
        return pickle.dumps(policy, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a policy that cannot be kept is simply loaded again next time
        return None


class _PolicyUnpickler(pickle.Unpickler):
    """Builds only classes and functions defined in ``engine.policy`` (no dotted names, nothing imported),
    and the dates and times of day a policy holds."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _VALUES:
            return getattr(datetime, name)
        if module.startswith(_POLICY_MODULES) and "." not in name:
            found = getattr(sys.modules.get(module) or __import__(module, fromlist=[name]), name, None)
            if found is not None and getattr(found, "__module__", None) == module:
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a policy")


def _unpickled(blob: bytes) -> object:
    """What the cache file holds, or ``None`` if it is damaged or holds anything but a policy's parts."""
    try:
        return _PolicyUnpickler(io.BytesIO(blob)).load()
    except Exception:  # a damaged cache, of whatever kind, is read past
        return None


def _save(cached: Path, content: bytes) -> None:
    """Write the file whole (no reader sees half a file); a cache that cannot be written is skipped."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
        partial.write_bytes(content)
        partial.replace(cached)
    except OSError:
        pass
