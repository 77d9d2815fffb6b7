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

Every kernel is also compiled without numba's C-callable wrapper (its `no_cfunc_wrapper` option): kernels are
called from Python or from other kernels, never through a C function pointer, and that wrapper was 13% of the
compile time of seven races (see below) for nothing. `jit` gives every kernel these options, in one place.

Only the samplers on a stream state held in a local (rng's *_step functions behind Beta and Gamma draws, which
return the draw and the advanced state as a tuple) are always inlined into their callers, by LLVM (numba's
`forceinline` option, LLVM's alwaysinline attribute): LLVM's own heuristics left them as calls, and Thompson
sampling over page-layout's 81 pages then took twice as long per decision. numba's other way, `inline="always"`,
copies the callee's IR into every call site and types it again there (a deepcopy that alone was a quarter of
compile time); LLVM's inlining copies optimised code. Everywhere else LLVM inlines the small kernels it chooses.
Measured on seven races from an empty cache (Thompson sampling, UCB1, KL-UCB, LinUCB, linear Thompson sampling,
CascadeKL-UCB, MNL Thompson sampling), CPU seconds to compile: 58.4 with the samplers inlined by numba, 39.2 by
LLVM, 34.0 without the C-callable wrapper too; Thompson sampling (over 10 and 81 arms) and top-two Thompson
sampling take the same time per decision either way (measured in turn, within the runs' 15% noise).
tests/test_compiled.py checks each kernel's options."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, overload

import numba
from numba.core import caching
from numba.core.dispatcher import Dispatcher
from numba.core.runtime.nrt import rtsys

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


class KernelCache(caching.FunctionCache):
    """numba's on-disk cache of one kernel (its FunctionCache), with two differences that save a fifth of a
    second at the start of every command that races:
    - it is made when the kernel is first compiled or loaded, not when its module is imported: finding its folder
      (KernelCacheLocator, which checks the folder can be written) and its source file's stamp, for each of about
      200 kernels, most of which a run never calls;
    - loading a compiled kernel initialises numba's runtime (the NRT, which compiled code allocates through) but
      not its compiler: numba's own load refreshes the whole target context first, importing and installing the
      typing and lowering registries of every NumPy and Python feature it can compile, which only compiling
      needs (numba's compiler refreshes them itself before it compiles, so a kernel that is not in the cache is
      compiled as before)."""

    def __init__(self, py_func: Callable[..., Any]) -> None:  # the rest waits for made()
        self._py_func = py_func
        self._made = False

    def made(self) -> KernelCache:
        if not self._made:
            self._made = True  # numba's __init__ ends by enabling the cache, through enable() below
            try:
                super().__init__(self._py_func)
            except BaseException:
                self._made = False
                raise
        return self

    @property
    def cache_path(self) -> str:
        return str(self.made()._cache_path)

    def enable(self) -> None:
        self.made()._enabled = True

    def disable(self) -> None:
        self.made()._enabled = False

    def flush(self) -> None:
        self.made()._cache_file.flush()

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        """numba's load (its guard against Windows' spurious file errors included) after the runtime alone."""
        self.made()
        rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)
        return None  # the guard swallowed an error, as numba's own load returns then

    def save_overload(self, sig: Any, data: Any) -> None:
        self.made()
        super().save_overload(sig, data)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._py_func!r}>"


Kernel = TypeVar("Kernel", bound=Callable[..., Any])


@overload
def jit(function: Kernel, **options: Any) -> Kernel: ...


@overload
def jit(function: None = None, **options: Any) -> Callable[[Kernel], Kernel]: ...


def jit(function: Kernel | None = None, **options: Any) -> Kernel | Callable[[Kernel], Kernel]:
    """numba's njit with every kernel's options: cached on disk (KernelCache, KernelCacheLocator), numba's "numpy"
    error model, no C-callable wrapper; `options` adds others (forceinline, nogil, _nrt). `@jit` or
    `@jit(option=...)`. Typed as giving back the function (numba ships no types): a kernel keeps its signature for
    its callers."""
    settings = {"error_model": "numpy", "no_cfunc_wrapper": True, **options}

    def decorator(kernel: Kernel) -> Kernel:
        made: Kernel = numba.njit(**settings)(kernel)
        if isinstance(made, Dispatcher):  # not the function itself, as numba gives it under NUMBA_DISABLE_JIT
            # what numba's cache=True does, with KernelCache (setattr: numba's types do not declare `_cache`)
            setattr(made, "_cache", KernelCache(made.py_func))  # noqa: B010
        return made

    return decorator if function is None else decorator(function)


if KernelCacheLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, KernelCacheLocator)
