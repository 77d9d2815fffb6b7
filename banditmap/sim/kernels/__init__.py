"""The compiled race: numba kernels that run every round of every repetition in machine code.

Kernels are compiled on first use and cached on disk, in a folder named after a digest of this package's sources
and the numba version (numba checks only the source file of the function it caches, not the kernels it calls, so
a change anywhere here must start a new folder). Importing this package compiles nothing.

Every kernel is compiled with numba's "numpy" error model (a float division by zero gives inf or nan, as NumPy's
does, instead of raising ZeroDivisionError): the "python" model puts a test and an exception path on every
division, and a kernel compiled inside another inherits its caller's model only when it is compiled there first, so
a race's speed depended on which kernels the cache already held. Measured on Thompson sampling's race (10 Bernoulli
arms, one thread, CPU time): 2.7 M decisions/s with the python model, 3.2 M with numpy's, the same numbers.
tests/test_compiled.py checks that every kernel says so.

Only the samplers on a stream state held in a local (rng's *_step functions behind Beta and Gamma draws, which
return the draw and the advanced state as a tuple) ask numba to inline them into their callers (`inline="always"`):
numba does that on its own IR, copying the callee's whole IR into every call site and typing it again there, which
costs compile time. Everywhere else LLVM inlines the same small functions when it optimises the machine code.
Measured on seven races from an empty cache (Thompson sampling, UCB1, KL-UCB, LinUCB, linear Thompson sampling,
CascadeKL-UCB, MNL Thompson sampling): 81.1 CPU-seconds to compile with every sampler and helper of rng.py
inlined by numba (as every kernel helper was inlined before), 59.9 with the state samplers only, 42.8 with none;
with none, Thompson sampling over page-layout's 81 pages took twice as long per decision (LLVM left the samplers'
tuples as calls), with the state samplers inlined it is as fast as with all. tests/test_compiled.py checks it too."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numba
from numba.core import caching

HERE = Path(__file__).resolve().parent
CACHE_ENV = "BANDITMAP_KERNEL_CACHE"  # where compiled kernels are kept (default: the user's cache folder)


@functools.cache
def fingerprint() -> str:
    """A digest of numba's version and every kernel source file: any edit gives a new cache folder."""
    digest = hashlib.blake2b(numba.__version__.encode(), digest_size=10)
    for path in sorted(HERE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "banditmap", "kernels")
    return Path(root) / fingerprint()


class KernelCacheLocator(caching.UserProvidedCacheLocator):
    """Keeps the kernels of this package (and only those) in `cache_dir()`; elsewhere numba's own locators apply,
    and so they do here when that folder cannot be written."""

    def __init__(self, py_func: object, py_file: str) -> None:
        super().__init__(py_func, py_file)
        self._cache_path = str(cache_dir())

    @classmethod
    def from_function(cls, py_func: object, py_file: str) -> KernelCacheLocator | None:
        if Path(py_file).resolve().parent != HERE:
            return None
        locator = cls(py_func, py_file)
        try:
            locator.ensure_cache_path()
        except OSError:
            return None
        return locator


if KernelCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, KernelCacheLocator)
