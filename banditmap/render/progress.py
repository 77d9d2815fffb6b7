"""Progress bars on stderr for long runs (the race, the replay): one bar per task, shown only in a terminal."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class ProgressBars:
    """A context manager, and the callback `(task, done, total)` that the race's runner and the replay call.

    Bars for `expected` tasks (each of `total` steps) are drawn from the start, under one bar for them all when
    `overall` names it; any other task gets its bar when first reported, labelled from `labels`. Silent when
    stderr is not a terminal."""

    def __init__(self, expected: Sequence[str] = (), total: int = 0, overall: str | None = None,
                 labels: Mapping[str, str] | None = None) -> None:
        self.expected, self.total, self.overall_label = tuple(expected), total, overall
        self.labels = dict(labels or {})
        self.enabled = sys.stderr.isatty()
        self.done: dict[str, int] = {}
        self.tasks: dict[str, TaskID] = {}
        self.overall: TaskID | None = None
        self.progress: Progress | None = None

    def __enter__(self) -> ProgressBars:
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
        self.progress = Progress(TextColumn("{task.description:<28}"), BarColumn(),
                                 TextColumn("{task.percentage:>5.1f}%"), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
        if self.overall_label is not None:
            self.overall = self.progress.add_task(self.overall_label, total=self.total * len(self.expected))
        for task in self.expected:
            self.tasks[task] = self.progress.add_task(self.labels.get(task, task), total=self.total)
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, task: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        if task not in self.tasks:
            self.tasks[task] = self.progress.add_task(self.labels.get(task, task), total=total)
        self.progress.update(self.tasks[task], completed=done)
        if self.overall is not None:
            self.progress.advance(self.overall, done - self.done.get(task, 0))
        self.done[task] = done
