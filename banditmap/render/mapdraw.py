"""Draws the decision map: a tree in the terminal, or a picture, a left-to-right tree laid out once, written as SVG
(no dependency) or PNG (with the optional matplotlib). In pictures, decision points and branches carry their
question, meaning and source as hover titles; the algorithms built for a branch are listed at its leaf, a few per
line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from typing import TextIO

from banditmap.files import write_atomic, write_via
from banditmap.recommend.mapview import MapNode
from banditmap.render import plotting
from banditmap.render.report import console

ROW = 18  # pixels per text line
CHAR = 6.6  # average width of a character at FONT px
FONT = 11
GAP = 28  # horizontal space between columns
PER_LINE = 4  # algorithm ids per leaf line
COLOURS = {"root": "#111111", "group": "#1f3a93", "trait": "#333333", "value": "#555555", "algorithm": "#0b6e99",
           "note": "#999999"}
SELECTED = "#1a7f37"
RULED_OUT = "#b0b0b0"


@dataclass(frozen=True)
class Placed:
    """A label at a position: x of its left edge, y of its baseline, in pixels."""

    text: str
    x: float
    y: float
    kind: str
    title: str = ""
    selected: bool = False
    ruled_out: bool = False


@dataclass(frozen=True)
class Layout:
    labels: tuple[Placed, ...]
    edges: tuple[tuple[float, float, float, float], ...]  # x1, y1, x2, y2
    width: float
    height: float


MAP_FORMATS = ("text", "svg", "png")


def draw_map(root: MapNode, fmt: str, path: Path | None = None, sources: bool = False) -> None:
    """The map as a tree on standard output (`text`, with `sources` saying where each decision point and branch
    comes from), or as a picture written to `path` (`svg`, `png`)."""
    if fmt == "text":
        print_map(root, sources=sources)
    elif fmt == "svg":
        assert path is not None
        write_atomic(path, to_svg(root))
    else:
        assert path is not None
        write_via(path, lambda tmp: to_png(root, tmp))


def print_map(root: MapNode, file: TextIO | None = None, sources: bool = False) -> None:
    """A tree; the user's branches and shortlisted algorithms in bold green, ruled out ones dimmed."""
    from rich.markup import escape as markup
    from rich.tree import Tree

    def label(node: MapNode) -> str:
        text = markup(node.label)
        if node.kind == "algorithm":
            if node.selected:
                return f"[bold green]{text} (shortlisted)[/]"
            if node.ruled_out:
                return f"[dim]{text} (ruled out)[/]"
            return f"[cyan]{text}[/]"
        if node.kind == "value" and node.selected:
            return f"[bold green]{text}  <- you[/]"
        if node.kind in ("root", "group"):
            return f"[bold]{text}[/]"
        if node.kind == "note":
            return f"[dim]{text}[/]"
        return text

    def labelled(node: MapNode) -> str:
        if sources and node.source and node.kind in ("group", "trait", "value"):
            return f"{label(node)}\n[dim]source: {markup(node.source)}[/]"
        return label(node)

    def grow(tree: Tree, node: MapNode) -> None:
        for child in node.children:
            grow(tree.add(labelled(child)), child)

    tree = Tree(label(root), guide_style="dim")
    grow(tree, root)
    console(file).print(tree)


def short(node: MapNode) -> tuple[str, str]:
    """The label drawn and the longer text shown on hover ("trait: question" -> "trait", "question"), with the
    source of the decision point or branch."""
    head, rest = node.label, ""
    if node.kind in ("trait", "value"):
        head, _, rest = node.label.partition(": ")
    if node.source:
        rest = f"{rest} (source: {node.source})" if rest else f"source: {node.source}"
    return head, rest


def layout(root: MapNode) -> Layout:
    """Depth d in column d; each leaf line takes a row; a parent sits level with the middle of its children."""
    columns: dict[int, float] = {}

    def widths(node: MapNode, depth: int) -> None:
        text = short(node)[0]
        columns[depth] = max(columns.get(depth, 0.0), len(text) * CHAR)
        if node.children and node.children[0].kind in ("algorithm", "note"):
            lines = leaf_lines(node.children)
            columns[depth + 1] = max(columns.get(depth + 1, 0.0), max(len(t) for t, *_ in lines) * CHAR)
            return
        for child in node.children:
            widths(child, depth + 1)

    widths(root, 0)
    x_of = {0: 10.0}
    for depth in range(1, max(columns) + 1):
        x_of[depth] = x_of[depth - 1] + columns[depth - 1] + GAP
    labels: list[Placed] = []
    edges: list[tuple[float, float, float, float]] = []
    row = [0]

    def place(node: MapNode, depth: int) -> float:
        text, title = short(node)
        x = x_of[depth]
        ys: list[float] = []
        if node.children and node.children[0].kind in ("algorithm", "note"):
            for line, selected, ruled_out, kind in leaf_lines(node.children):
                y = 24.0 + row[0] * ROW
                row[0] += 1
                labels.append(Placed(line, x_of[depth + 1], y, kind, selected=selected, ruled_out=ruled_out))
                ys.append(y)
        elif node.children:
            ys = [place(child, depth + 1) for child in node.children]
        else:
            ys = [24.0 + row[0] * ROW]
            row[0] += 1
        y = (min(ys) + max(ys)) / 2
        for child_y in ys if node.children else ():
            edges.append((x + len(text) * CHAR + 4, y - 4, x_of[depth + 1] - 4, child_y - 4))
        labels.append(Placed(text, x, y, node.kind, title, node.selected, node.ruled_out))
        return y

    place(root, 0)
    right = max(p.x + len(p.text) * CHAR for p in labels) + 20
    return Layout(tuple(labels), tuple(edges), right, 24 + row[0] * ROW)


def leaf_lines(leaves: tuple[MapNode, ...]) -> list[tuple[str, bool, bool, str]]:
    """Algorithm ids a few per line; a line is marked selected if it holds a shortlisted algorithm."""
    if leaves[0].kind == "note":
        return [(leaves[0].label, False, False, "note")]
    out = []
    for i in range(0, len(leaves), PER_LINE):
        part = leaves[i:i + PER_LINE]
        text = ", ".join(n.label + (" *" if n.selected else "") for n in part)
        out.append((text, any(n.selected for n in part), all(n.ruled_out for n in part), "algorithm"))
    return out


def to_svg(root: MapNode) -> str:
    shape = layout(root)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{shape.width:.0f}" height="{shape.height:.0f}" '
             f'viewBox="0 0 {shape.width:.0f} {shape.height:.0f}" font-family="Helvetica, Arial, sans-serif" '
             f'font-size="{FONT}">',
             '<rect width="100%" height="100%" fill="white"/>',
             '<g stroke="#c8c8c8" fill="none">']
    for x1, y1, x2, y2 in shape.edges:
        middle = (x1 + x2) / 2
        parts.append(f'<path d="M{x1:.1f},{y1:.1f} C{middle:.1f},{y1:.1f} {middle:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"/>')
    parts.append("</g>")
    for p in shape.labels:
        colour = SELECTED if p.selected else RULED_OUT if p.ruled_out else COLOURS.get(p.kind, "#333333")
        weight = ' font-weight="bold"' if p.kind in ("root", "group") or p.selected else ""
        size = ' font-size="14"' if p.kind == "root" else ""
        title = f"<title>{escape(p.title)}</title>" if p.title else ""
        parts.append(f'<text x="{p.x:.1f}" y="{p.y:.1f}" fill="{colour}"{weight}{size}>{title}{escape(p.text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def to_png(root: MapNode, path: Path) -> None:
    """The same layout drawn with matplotlib (an optional extra)."""
    plt = plotting.pyplot("--format")
    shape = layout(root)
    dpi = 100
    fig = plt.figure(figsize=(shape.width / dpi, shape.height / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, shape.width)
    ax.set_ylim(shape.height, 0)
    ax.axis("off")
    for x1, y1, x2, y2 in shape.edges:
        ax.plot([x1, x2], [y1, y2], color="#c8c8c8", linewidth=0.6)
    for p in shape.labels:
        colour = SELECTED if p.selected else RULED_OUT if p.ruled_out else COLOURS.get(p.kind, "#333333")
        ax.text(p.x, p.y, p.text, color=colour, fontsize=FONT * 0.72, va="baseline",
                fontweight="bold" if p.kind in ("root", "group") or p.selected else "normal")
    plotting.save(plt, fig, path, dpi=dpi)
