"""The one exception type for user errors: bad files, bad values, bad options."""

from __future__ import annotations


class BanditmapError(Exception):
    """A problem with what the user gave us; the CLI prints it as one line and exits with status 2."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.source:
            where = self.source + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"
