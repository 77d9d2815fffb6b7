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
        return one_line(f"{where}{field}{self.message}")


MAX_MESSAGE = 2000  # characters of one error line; a longer one is cut


def one_line(text: str) -> str:
    """Text safe for one line of a terminal: newlines, control characters and escape sequences made visible,
    and at most MAX_MESSAGE characters."""
    visible = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return visible if len(visible) <= MAX_MESSAGE else visible[:MAX_MESSAGE] + "..."



def shown(value: object, limit: int = 60) -> str:
    """A value as it may appear in a message: quoted, control characters and terminal escapes made visible,
    and cut to `limit` characters so a huge bad value is never echoed whole."""
    text = value if isinstance(value, str) else str(value)
    cut = len(text) > limit
    visible = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text[:limit])
    return f"'{visible}{'...' if cut else ''}'"
