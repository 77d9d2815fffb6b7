"""The optional matplotlib: imported on demand with a clear error when missing, figures saved or reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from banditmap.errors import BanditmapError


def pyplot(field: str = "--plot") -> Any:
    """matplotlib.pyplot on the file-only Agg backend."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BanditmapError("plots need matplotlib: pip install 'banditmap[plot]'", field=field) from None
    return plt


def save(plt: Any, fig: Any, path: Path, **options: Any) -> None:
    """Write the figure, turning an unwritable path into a user error, and free it."""
    try:
        fig.savefig(path, **options)
    except OSError as exc:
        raise BanditmapError(f"cannot write: {exc.strerror}", source=str(path)) from None
    finally:
        plt.close(fig)
