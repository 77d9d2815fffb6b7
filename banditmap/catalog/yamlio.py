"""Safe YAML reading that remembers the line of every value, so errors can point at it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from banditmap.errors import BanditmapError

PathKey = tuple[str | int, ...]
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass(frozen=True)
class Document:
    """Plain data read from a YAML file, with the 1-based line of each value by its path."""

    source: str
    data: Any
    lines: dict[PathKey, int]

    def line_of(self, path: PathKey) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def at(self, path: PathKey) -> Any:
        """The value at `path` (keys and list indices from the top)."""
        value = self.data
        for key in path:
            value = value[key]
        return value

    def error(self, path: PathKey, message: str) -> BanditmapError:
        return BanditmapError(message, source=self.source, line=self.line_of(path), field=format_path(path) or None)


def format_path(path: PathKey) -> str:
    """`("algorithms", 0, "handles")` -> `algorithms[0].handles`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


MAX_YAML_BYTES = 10 * 1024 * 1024  # a profile, a use case or a catalog file is a few kilobytes
MAX_BATCH_BYTES = 512 * 1024 * 1024  # a batch of profiles (about 100 bytes each)
MAX_NODES = 200_000  # values one YAML document may expand to, aliases included (stops "billion laughs")
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_STRING = 20_000  # characters of one string value


def has_control(text: str) -> bool:
    """True when text holds a control character other than newline and tab (terminal escapes among them) or a
    bidirectional override, which could rewrite what a terminal shows."""
    return _CONTROL.search(text) is not None


# Unicode's control characters (category Cc) but tab and newline, and the bidirectional overrides and isolates
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def read_text(path: Path, limit: int = MAX_YAML_BYTES) -> str:
    """A UTF-8 text file of at most `limit` bytes, or one BanditmapError naming the file (and line)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except FileNotFoundError:
        raise BanditmapError("file not found", source=str(path)) from None
    except IsADirectoryError:
        raise BanditmapError("expected a file, found a directory", source=str(path)) from None
    except OSError as exc:
        raise BanditmapError(f"cannot read: {exc.strerror}", source=str(path)) from None
    if len(raw) > limit:
        raise BanditmapError(f"larger than {limit // (1024 * 1024)} MiB; expected a smaller file",
                             source=str(path))
    return decode(raw, str(path))


def decode(raw: bytes, source: str) -> str:
    """UTF-8 bytes as text; a bad byte is reported with its line."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise BanditmapError(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded; expected a UTF-8 "
                             "text file", source=source, line=line) from None


def load_file(path: Path) -> Document:
    return load_text(read_text(path), str(path))


def load_text(text: str, source: str) -> Document:
    """Parse YAML text with the safe loader; a syntax error becomes a one-line BanditmapError."""
    import yaml  # imported here so that a cached catalog starts without it
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it
    try:
        node = yaml.compose(text, Loader=loader)
    except RecursionError:
        raise BanditmapError(f"nested too deeply; expected at most {MAX_DEPTH} levels", source=source) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise BanditmapError(f"malformed YAML: character U+{code:04X} is not allowed ({exc.reason})",
                             source=source, line=line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise BanditmapError(f"malformed YAML: {problem}", source=source, line=line) from None
    except yaml.YAMLError as exc:
        raise BanditmapError(f"malformed YAML: {exc}", source=source) from None
    lines: dict[PathKey, int] = {}
    builder = _Builder(source, lines)
    data = builder.construct(node, ()) if node is not None else None
    return Document(source, data, lines)


class _Builder:
    """Turns composed nodes into plain data, recording lines; one per document."""

    def __init__(self, source: str, lines: dict[PathKey, int]) -> None:
        import yaml
        self.source = source
        self.lines = lines
        self.constructor = yaml.constructor.SafeConstructor()
        self.nodes = 0

    def count(self, node: Any, path: PathKey) -> None:
        """Refuse documents that expand beyond the limits: aliases nested to blow up, or deep nesting."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise BanditmapError(f"expands to more than {MAX_NODES:,} values (anchors and aliases nested too "
                                 "deeply?); expected a small document", source=self.source,
                                 line=node.start_mark.line + 1)
        if len(path) > MAX_DEPTH:
            raise BanditmapError(f"nested more than {MAX_DEPTH} levels deep (an alias that contains itself?)",
                                 source=self.source, line=node.start_mark.line + 1, field=format_path(path[:3]))

    def construct(self, node: Any, path: PathKey) -> Any:
        return _construct(node, path, self)


def _construct(node: Any, path: PathKey, builder: _Builder) -> Any:
    import yaml
    lines, source = builder.lines, builder.source
    builder.count(node, path)
    lines[path] = node.start_mark.line + 1
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        raise BanditmapError(f"unsupported YAML value: tag {node.tag!r} is not allowed", source=source,
                             line=node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise BanditmapError("mapping keys must be plain words", source=source,
                                     line=key_node.start_mark.line + 1)
            key = str(_scalar(key_node, builder))
            if key in out:
                raise BanditmapError(f"key {key!r} appears twice", source=source,
                                     line=key_node.start_mark.line + 1, field=format_path(path + (key,)))
            out[key] = _construct(value_node, path + (key,), builder)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path + (i,), builder) for i, item in enumerate(node.value)]
    return _scalar(node, builder)


def _scalar(node: Any, builder: _Builder) -> Any:
    import yaml
    # YAML 1.1 reads yes/no/on/off as booleans; trait values such as `no` must stay words.
    if node.tag == "tag:yaml.org,2002:bool" and str(node.value).lower() not in ("true", "false"):
        return str(node.value)
    try:
        value = builder.constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise BanditmapError(f"unsupported YAML value: {exc.problem}", source=builder.source,
                             line=node.start_mark.line + 1) from None
    except (ValueError, OverflowError) as exc:  # a timestamp such as 2021-13-45, an integer of 5,000 digits
        raise BanditmapError(f"unsupported YAML value: {str(exc).split(';')[0]}", source=builder.source,
                             line=node.start_mark.line + 1) from None
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise BanditmapError(f"a text of {len(value):,} characters; expected at most {MAX_STRING:,}",
                                 source=builder.source, line=node.start_mark.line + 1)
        if has_control(value):
            raise BanditmapError("control characters (such as terminal escapes) are not allowed in text",
                                 source=builder.source, line=node.start_mark.line + 1)
    return value
