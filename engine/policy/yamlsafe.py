"""Safe YAML for operator-written policy files, with a line number for every value.

PyYAML's ``safe_load`` keeps the last of two duplicate keys, reads ``on``/``off``/
``yes``/``no`` as booleans and expands aliases without limit. This reader composes
the node tree itself, refuses what a policy never needs (tags, anchors, aliases,
merge keys, several documents) and resolves plain scalars by the YAML 1.2 core
rules, so ``on`` stays text, ``10:30`` stays text and ``2024-01-01`` stays text.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, Event, ScalarEvent, StreamEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.errors import PolicyError, listed

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
_EXPECTED_TOP = "(expected a mapping with `policy:` and `phases:`)"
_NO_SHARING = "anchors and aliases are not allowed in a policy (write the value out in full)"
_NO_TAGS = "tags are not allowed in a policy (write a plain value)"
_INT = re.compile(r"[-+]?[0-9]+")
_RADIX_INT = re.compile(r"0o[0-7]+|0x[0-9a-f]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)(e[-+]?[0-9]+)?|[-+]?\.inf|\.nan")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedYaml:
    """Plain data from a policy file, with the 1-based line of every path in it."""

    data: Any
    lines: Mapping[Path_, int]
    source: str

    def line_for(self, path: Sequence[str | int]) -> int:
        """The line of ``path``, or of its nearest ancestor this file has a line for."""
        parts = tuple(path)
        while parts and parts not in self.lines:
            parts = parts[:-1]
        return self.lines.get(parts, 1)


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _PolicyLoader(yaml.SafeLoader):
    """Composes nodes like SafeLoader, noting anchors, aliases and tags instead of using them."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source
        self.problems: list[str] = []
        self.depth = 0
        self.reported_names: set[str] = set()

    def next_event(self) -> tuple[Event, int]:
        """The next parser event, not consumed, and its 1-based line."""
        event: Event = self.peek_event()  # type: ignore[no-untyped-call]
        return event, event.start_mark.line + 1 if event.start_mark else 1

    def refuse(self, line: int, what: str) -> None:
        self.problems.append(f"{self.source}:{line}: {what}")

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event, line = self.next_event()
        if isinstance(event, AliasEvent):
            self.get_event()  # type: ignore[no-untyped-call]
            if event.anchor not in self.reported_names:
                self.reported_names.add(str(event.anchor))
                self.refuse(line, f"alias *{event.anchor} refused: {_NO_SHARING}")
            return ScalarNode("", "", event.start_mark, event.end_mark)  # type: ignore[arg-type]
        if isinstance(event, ScalarEvent | CollectionStartEvent):
            if event.anchor is not None:
                self.reported_names.add(event.anchor)
                self.refuse(line, f"anchor &{event.anchor} refused: {_NO_SHARING}")
                event.anchor = None
            if event.tag is not None:
                tag = re.sub(r"^tag:yaml\.org,2002:", "!!", event.tag)
                self.refuse(line, f"tag {tag} refused: {_NO_TAGS}")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep(line)
        node = super().compose_node(parent, index)
        self.depth -= 1
        return node


def _dotted(path: Path_) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return text.lstrip(".")


def _plain_scalar(text: str) -> Any:
    """Resolve an unquoted scalar by the YAML 1.2 core schema (booleans: true/false only)."""
    lower = text.lower()
    if lower in ("", "~", "null"):
        return None
    if lower in ("true", "false"):
        return lower == "true"
    try:
        if _INT.fullmatch(lower):
            return int(lower)
        if _RADIX_INT.fullmatch(lower):
            return int(lower, 0)
    except ValueError:  # more digits than Python converts; keep the text
        return text
    return float(lower.replace(".inf", "inf").replace(".nan", "nan")) if _FLOAT.fullmatch(lower) else text


@dataclass
class _Converter:
    """Turns a composed node tree into plain Python, recording lines and key problems."""

    source: str
    problems: list[str]
    lines: dict[Path_, int]

    def convert(self, node: Node, path: Path_) -> Any:
        if isinstance(node, ScalarNode):
            return _plain_scalar(node.value) if node.style is None else node.value
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.convert(item, (*path, index)))
            return items
        assert isinstance(node, MappingNode)
        return self.mapping(node, path)

    def mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        where = f"{_dotted(path)}: " if path else ""
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            problem = f"{self.source}:{line}: {where}"
            if not isinstance(key_node, ScalarNode):
                kind = "a list" if isinstance(key_node, SequenceNode) else "a mapping"
                self.problems.append(f"{problem}a key is {kind} (expected a plain name)")
                continue
            key = str(key_node.value)
            if key == "<<" and key_node.style is None:
                self.problems.append(f"{problem}merge key `<<` refused (write the keys out)")
            elif (*path, key) in self.lines:
                first = self.lines[(*path, key)]
                self.problems.append(
                    f"{self.source}:{line}: {_dotted((*path, key))}: duplicate key "
                    f"(first on line {first}; write each key once)"
                )
            else:
                self.lines[(*path, key)] = line
                result[key] = self.convert(value_node, (*path, key))
        return result


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    return "a number" if isinstance(value, int | float) else "text"


def _syntax_problem(error: yaml.MarkedYAMLError, source: str) -> str:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    text = error.problem or error.context or "invalid YAML"
    if error.context and error.problem and error.context_mark:
        text += f" ({error.context} on line {error.context_mark.line + 1})"
    if "'\\t'" in text:
        text += " (indent with spaces, not tabs)"
    return f"{source}:{line}: syntax error at column {column}: {text}"


def _compose(text: str, source: str) -> tuple[Node | None, list[str]]:
    """The single document's node tree and the problems found composing it."""
    try:
        loader = _PolicyLoader(text, source)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, int(error.position)) + 1
        return None, [f"{source}:{line}: character #x{error.character:04x} not allowed (remove it)"]
    try:
        loader.get_event()  # type: ignore[no-untyped-call]  # the stream start
        if loader.check_event(StreamEndEvent):
            return None, loader.problems
        node = loader.compose_document()
        if not loader.check_event(StreamEndEvent):
            line = loader.next_event()[1]
            loader.refuse(line, "a second document starts here (expected one document per file)")
        return node, loader.problems
    except yaml.MarkedYAMLError as error:
        return None, [*loader.problems, _syntax_problem(error, source)]
    except _TooDeep as error:
        return None, [*loader.problems, f"{source}:{error.line}: nested more than {MAX_DEPTH} deep"]
    finally:
        loader.dispose()


def load_yaml(text: str, source: str) -> LoadedYaml:
    """Parse one policy document; raise PolicyError listing every problem found."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        problems = [_too_big(source)]
    else:
        node, problems = _compose(text, source)
        lines: dict[Path_, int] = {(): 1}
        data = _Converter(source, problems, lines).convert(node, ()) if node is not None else None
        if data is None and not problems:
            problems = [f"{source}:1: the file is empty {_EXPECTED_TOP}"]
        elif node is not None and data is not None and not isinstance(data, dict):
            line = node.start_mark.line + 1
            problems.insert(0, f"{source}:{line}: the top level is {_kind(data)} {_EXPECTED_TOP}")
        if not problems:
            return LoadedYaml(data=data, lines=lines, source=source)
    _refuse(source, problems)


def _refuse_unless_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _NOT_FILES if test(mode)), "not a regular file")
    problem = f"{path}: {kind}, not a regular file (expected a policy file)"
    raise PolicyError(f"cannot read policy file {path}", problems=[problem])


_NOT_FILES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _too_big(source: str) -> str:
    return f"{source}:1: the file is larger than 1 MiB (expected a policy file of at most 1 MiB)"


def _refuse(source: str, problems: list[str]) -> NoReturn:
    prefix = re.compile(re.escape(source) + r":(\d+):")
    problems.sort(key=lambda p: int(m[1]) if (m := prefix.match(p)) else 0)
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    raise PolicyError(
        f"{source} is not a usable policy file ({count})", problems=listed(problems, more="more problems")
    )


def load_yaml_file(path: Path) -> LoadedYaml:
    """Read ``path`` as UTF-8 and load it with :func:`load_yaml`, naming the file in errors.

    Only a regular file is read: a FIFO, a directory or a device is refused before it is opened
    (a FIFO would block until something writes to it), and checked again on the open file (opened
    without blocking), in case the path changed in between.
    """
    try:
        _refuse_unless_regular(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as stream:
            _refuse_unless_regular(path, os.fstat(stream.fileno()).st_mode)
            raw = stream.read(MAX_BYTES + 1)
    except OSError as error:
        reason = "the file does not exist" if isinstance(error, FileNotFoundError) else None
        problem = f"{path}: {reason or error.strerror or error} (expected a readable policy file)"
        raise PolicyError(f"cannot read policy file {path}", problems=[problem]) from None
    if len(raw) > MAX_BYTES:
        _refuse(str(path), [_too_big(str(path))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        problem = f"{path}:{line}: byte 0x{raw[error.start]:02x} is not UTF-8 (save it as UTF-8)"
        _refuse(str(path), [problem])
    return load_yaml(text, str(path))
