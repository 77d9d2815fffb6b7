"""A cache of validated catalogs keyed by the exact bytes of their files, so start-up skips YAML and schema work."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

from banditmap import __version__


def cache_dir() -> Path | None:
    """$BANDITMAP_CACHE_DIR, else $XDG_CACHE_HOME/banditmap or ~/.cache/banditmap; None when disabled."""
    if os.environ.get("BANDITMAP_NO_CACHE"):
        return None
    explicit = os.environ.get("BANDITMAP_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "banditmap"


CODE = ("model.py", "catalog/loading.py", "catalog/schema.py")  # the modules that decide what a cached catalog holds


def fingerprint(files: list[Path]) -> str:
    """A digest of the program version, the code that builds catalogs, and every file's path and contents; any
    edit to either gives a new key."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=20)
    here = Path(__file__).resolve().parent.parent
    add_files(digest, [here / name for name in CODE] + list(files))
    return digest.hexdigest()


def add_files(digest: Any, paths: list[Path]) -> None:
    """Each file's path and exact bytes into `digest` (an unreadable file's name only: reading it fails again)."""
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
        digest.update(b"\0")


def read(key: str) -> Any | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with open(folder / f"catalog-{key}.pickle", "rb") as handle:
            return pickle.load(handle)
    except Exception:  # a missing, stale or corrupt cache is simply rebuilt
        return None


def write(key: str, value: Any) -> None:
    """Best effort: a read-only home or a full disk must never stop a recommendation."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in folder.glob("catalog-*.pickle"):
            if len(list(folder.glob("catalog-*.pickle"))) < 16:
                break
            old.unlink(missing_ok=True)
        tmp = folder / f".catalog-{key}.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"catalog-{key}.pickle")
    except OSError:
        pass
