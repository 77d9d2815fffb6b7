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


def require(field: str = "--plot") -> None:
    """Refuse, before any work, a picture that needs matplotlib when it is not installed."""
    import importlib.util
    if importlib.util.find_spec("matplotlib") is None:
        raise BanditmapError("plots need matplotlib: pip install 'banditmap[plot]'", field=field)


def save(plt: Any, fig: Any, path: Path, **options: Any) -> None:
    """Write the figure and free it; the caller (banditmap.files) turns an OSError into one line."""
    try:
        fig.savefig(path, **options)
    finally:
        plt.close(fig)
