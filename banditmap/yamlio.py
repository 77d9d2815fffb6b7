"""Safe YAML reading that remembers the line of every value, so errors can point at it."""

from __future__ import annotations

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


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BanditmapError("file not found", source=str(path)) from None
    except IsADirectoryError:
        raise BanditmapError("expected a file, found a directory", source=str(path)) from None
    except UnicodeDecodeError:
        raise BanditmapError("not a UTF-8 text file", source=str(path)) from None
    except OSError as exc:
        raise BanditmapError(f"cannot read: {exc.strerror}", source=str(path)) from None


def load_file(path: Path) -> Document:
    return load_text(read_text(path), str(path))


def load_text(text: str, source: str) -> Document:
    """Parse YAML text with the safe loader; a syntax error becomes a one-line BanditmapError."""
    import yaml  # imported here so that a cached catalog starts without it
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it
    try:
        node = yaml.compose(text, Loader=loader)
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

    def construct(self, node: Any, path: PathKey) -> Any:
        return _construct(node, path, self)


def _construct(node: Any, path: PathKey, builder: _Builder) -> Any:
    import yaml
    lines, source = builder.lines, builder.source
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
        return builder.constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise BanditmapError(f"unsupported YAML value: {exc.problem}", source=builder.source,
                             line=node.start_mark.line + 1) from None
