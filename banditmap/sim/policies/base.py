"""The interface every simulated policy shares, and the registry from the catalog's `simulator` ids to classes.

A policy is a frozen dataclass of hyperparameters. `init` makes its mutable state for R repetitions; `select`
returns one action per repetition (an (R,) array, or (R, k) for lists); `update` learns from a batch of
observations given as flat arrays, so delayed and batched feedback (several observations for one repetition, or
none) go through the same code as immediate feedback.

Adapters (banditmap.sim.adapters) wrap a policy through this interface only, plus what the policy `offers`, named
as the catalog's capabilities: "arm-statistics" (`statistics`: the per-arm counts and sums it decides from, which
a wrapper may rewrite), "confidence-bounds" (`bounds`: a lower and an upper bound on each action's expected
reward), and two properties without a method, "adversarial" and "regression-oracle".
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Generic, Iterator, Protocol, TypeVar

import numpy as np

from banditmap.errors import BanditmapError, shown
from banditmap.sim.problem import Problem

Array = np.ndarray


@dataclass
class Feedback:
    """N observations: repetition, action, what was observed, the context and what `select` noted (aux)."""

    reps: Array  # (N,)
    actions: Array  # (N,) or (N, k)
    observed: Array  # (N,) rewards, (N, k) per-position rewards, or (N,) click positions
    contexts: Array | None  # (N, d)
    aux: Array | None = None  # (N, ...) e.g. the probability each action was chosen with
    unique: bool = False  # True when each repetition appears at most once (immediate feedback)
    costs: Array | None = None  # (N,) what each action spent (budget problems)

    def layers(self) -> Iterator[Array]:
        """Index sets in which each repetition appears at most once, for updates that must be sequential."""
        if self.unique:
            yield np.arange(len(self.reps))
            return
        order = np.argsort(self.reps, kind="stable")
        reps = self.reps[order]
        starts = np.r_[True, reps[1:] != reps[:-1]]
        group = np.cumsum(starts) - 1
        first = np.flatnonzero(starts)
        rank = np.arange(len(reps)) - first[group]
        for layer in range(int(rank.max()) + 1 if len(rank) else 0):
            yield order[rank == layer]


@dataclass
class State:
    """Mutable per-run state. A policy's state is a subclass declaring its own arrays as keyword-only fields
    (`@dataclass(kw_only=True)`, so they may follow these defaults), each with its shape in a comment."""

    rng: np.random.Generator
    R: int
    K: int
    k: int = 1  # items per decision (lists)
    horizon: int = 1  # rounds in the run
    t: int = 0  # decisions made so far
    aux: Array | None = None  # what `select` wants back with the feedback (reset every round)
    streams: Array | None = None  # (R,) uint64: compiled random streams (kernel_streams), made from rng on first use

    def kernel_streams(self) -> Array:
        """The compiled random streams (R,), one per repetition, made from rng when first asked for (so from its
        first draws, as the compiled race makes a policy's streams)."""
        if self.streams is None:
            from banditmap.sim.kernels import rng as kernel_rng
            self.streams = kernel_rng.states_from(self.rng, self.R)
        return self.streams

    def beta(self, a: Array, b: Array, reps: Array | None = None) -> Array:
        """Beta(a, b) draws shaped like a, its first axis the repetitions `reps` (all by default), each from its
        repetition's compiled stream (sim/kernels/rng.py: tens of nanoseconds a draw, not NumPy's microsecond)."""
        from banditmap.sim.kernels import rng as kernel_rng
        streams = self.kernel_streams()
        rows = np.arange(self.R) if reps is None else np.asarray(reps, dtype=np.int64)
        a = np.asarray(a, dtype=np.float64)
        flat_a = np.ascontiguousarray(a.reshape(rows.shape[0], -1))
        # writable (a broadcast view is read-only, a type of its own to numba: a second compile of the sampler)
        flat_b = np.require(np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape).reshape(flat_a.shape),
                            requirements=("C", "W"))
        draws: Array = kernel_rng.beta_rows(streams, rows, flat_a, flat_b).reshape(a.shape)
        return draws


class Statistics(Protocol):
    """Per-arm sample statistics a policy decides from (the "arm-statistics" capability): counts and sums (R, K)
    that are additive over observations, means = sums / counts where counts > 0, and `touch(index)` to say which
    entries changed (so that cached indices are recomputed)."""

    counts: Array
    sums: Array
    means: Array

    def touch(self, index: Any) -> None: ...


ARM_STATISTICS = "arm-statistics"
CONFIDENCE_BOUNDS = "confidence-bounds"
ADVERSARIAL = "adversarial"  # low regret against an adaptive adversary: a property, no method
REGRESSION_ORACLE = "regression-oracle"  # learns through an online regression model: a property, no method


S = TypeVar("S", bound=State)  # a policy's state


@dataclass(frozen=True)
class Policy(Generic[S]):
    """A policy: its hyperparameters as the frozen fields of a dataclass, its learning in a state of type S, which
    `init` makes and every other method receives."""

    kinds: ClassVar[frozenset[str]] = frozenset({"arms"})
    offers: ClassVar[frozenset[str]] = frozenset()  # the catalog's capabilities (besides policy) it backs
    # built for conversions that may never come: on a censored problem it takes each conversion as it comes and
    # is told nothing of a play that does not convert (any other policy gets an attribution window's verdict)
    takes_conversions: ClassVar[bool] = False
    # select writes into its state (kept values, a note): replay then scores rows on copies of the state, not on
    # read-only views of it, which a compiled kernel would first try, and fail, to compile for
    writes_in_select: ClassVar[bool] = False

    def __post_init__(self) -> None:
        """A policy checks its own hyperparameters, however it was made (`build` says where a bad value came from)."""
        for name, domain in domains(type(self)).items():
            value = getattr(self, name)
            if value not in domain:
                raise BanditmapError(f"expected {domain.describe()}, got {shown(value)}",
                                     field=f"{type(self).__name__}.{name}")

    def params(self) -> Array:
        """The hyperparameters as float64 in the order the fields are declared: what a compiled kernel reads."""
        return np.array([float(getattr(self, name)) for name in domains(type(self))], dtype=np.float64)

    def init(self, problem: Problem, rng: np.random.Generator) -> S:
        raise NotImplementedError

    def select(self, state: S, context: Array | None) -> Array:
        raise NotImplementedError

    def update(self, state: S, feedback: Feedback) -> None:
        raise NotImplementedError

    def recommend(self, state: S) -> Array:
        """The arm each repetition would commit to now (for best-arm identification)."""
        raise NotImplementedError

    def exploit(self, state: S, context: Array | None) -> Array:
        """What the policy would play with exploration switched off (its final policy when replaying logs): the
        arm it would commit to where it can name one, otherwise what it would select."""
        try:
            return self.recommend(state)
        except NotImplementedError:
            return self.select(state, context)

    def statistics(self, state: S) -> Statistics:
        """The per-arm statistics the policy decides from (policies offering ARM_STATISTICS)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no per-arm statistics")

    def bounds(self, state: S, context: Array | None) -> tuple[Array, Array]:
        """Lower and upper confidence bounds (R, K) on each action's expected reward now, -inf and inf for an
        action with no observation (policies offering CONFIDENCE_BOUNDS)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no confidence bounds")


@dataclass(frozen=True)
class Memoryless(Policy[State]):
    """A policy that learns nothing (the random baselines of some problem kinds): its state is the bare State."""

    def init(self, problem: Problem, rng: np.random.Generator) -> State:
        return State(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds)

    def update(self, state: State, feedback: Feedback) -> None:
        return None


REGISTRY: dict[str, type[Policy[Any]]] = {}
P = TypeVar("P", bound=type[Policy[Any]])


def register(*ids: str) -> Callable[[P], P]:
    """Class decorator: file the policy under the catalog's simulator ids. A hyperparameter without a domain
    is a programming error caught at import, so no policy can take values it was never meant for."""
    return filing(REGISTRY, ids)


def filing(registry: dict[str, Any], ids: tuple[str, ...]) -> Callable[[P], P]:
    """A class decorator filing a policy or wrapper class in `registry` under `ids`, once its domains are checked."""
    def decorate(cls: P) -> P:
        check_domains(cls)
        for simulator_id in ids:
            registry[simulator_id] = cls
        return cls
    return decorate


def check_domains(cls: type) -> None:
    """Every field of a policy or wrapper is a hyperparameter with a domain, or the policy it wraps."""
    for f in dataclasses.fields(cls):
        if not isinstance(f.metadata.get("domain"), Domain) and not f.metadata.get("wraps"):
            raise TypeError(f"{cls.__name__}.{f.name} has no domain; declare it with hyperparameter()")


def hyperparameter_names(cls: type[Policy[Any]]) -> list[str]:
    return list(domains(cls))


def domains(cls: type[Policy[Any]]) -> dict[str, Domain]:
    """Each hyperparameter of a policy class and the values it may take (the policy an adapter wraps is none)."""
    return {f.name: f.metadata["domain"] for f in dataclasses.fields(cls) if not f.metadata.get("wraps")}


def build(simulator_id: str, params: dict[str, Any], where: str, source: str | None = None) -> Policy[Any]:
    """Instantiate a registered policy with hyperparameters; unknown names or values outside their domain are
    user errors naming `where.name` (and `source`, the file they came from, when there is one)."""
    cls = REGISTRY.get(simulator_id)
    if cls is None:
        raise BanditmapError(f"no simulator {shown(simulator_id)}; expected one of {', '.join(sorted(REGISTRY))}",
                             source=source, field=where)
    return cls(**parse_hyperparameters(cls, params, where, source))


def parse_hyperparameters(cls: type[Policy[Any]], params: dict[str, Any], where: str,
                          source: str | None = None) -> dict[str, float | int]:
    """The hyperparameters of a policy or wrapper class, each checked against its domain; unknown names or values
    outside their domain are user errors naming `where.name` (and `source`)."""
    allowed = domains(cls)
    clean: dict[str, float | int] = {}
    for name, value in params.items():
        if name not in allowed:
            expected = f"expected one of {', '.join(allowed)}" if allowed else "it has none"
            raise BanditmapError(f"unknown hyperparameter {shown(name)}; {expected}", source=source,
                                 field=f"{where}.{name}")
        clean[name] = allowed[name].parse(value, f"{where}.{name}", source)
    return clean


# Exploration constants, prior scales and variances beyond these bounds change nothing a race can show (a bonus
# of 1e3 already dwarfs every reward in [0, 1]) and only overflow or underflow the arithmetic.
WIDEST = 1e6
NARROWEST = 1e-6


@dataclass(frozen=True)
class Domain:
    """The values a hyperparameter may take: a range (each end open or closed), whole numbers only or not, and why
    it ends where it does when that is not obvious."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    whole: bool = False
    why: str = ""

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            return False
        number = float(value)  # finite; exact for every value near a domain's ends
        if self.whole and not number.is_integer():
            return False
        above = number > self.low if self.low_open else number >= self.low
        below = number < self.high if self.high_open else number <= self.high
        return above and below

    def describe(self) -> str:
        """E.g. "a number > 0 and <= 1", "a whole number from 1 to 1000"."""
        kind = "a whole number" if self.whole else "a number"
        if not self.low_open and not self.high_open:
            text = f"{kind} from {self.low:g} to {self.high:g}"
        else:
            text = (f"{kind} {'>' if self.low_open else '>='} {self.low:g} and "
                    f"{'<' if self.high_open else '<='} {self.high:g}")
        return text + (f" ({self.why})" if self.why else "")

    def parse(self, value: Any, where: str, source: str | None = None) -> float | int:
        """A value typed by the user (text) or read from a catalog (a number), checked against the domain."""
        number: float | None = None
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # an integer beyond every float: outside every domain
                number = math.inf
        elif isinstance(value, str) and value.strip().isascii():  # float() also reads other scripts' digits
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or number not in self:
            raise BanditmapError(f"expected {self.describe()}, got {shown(value)}", source=source, field=where)
        return int(number) if self.whole else number


T = TypeVar("T", int, float)


def hyperparameter(default: T, domain: Domain) -> T:
    """A policy field with its default and domain; `build` and the policy itself check values against it."""
    if default not in domain:
        raise TypeError(f"default {default!r} outside its domain {domain.describe()}")
    return dataclasses.field(default=default, metadata={"domain": domain})


SHARE = Domain(0.0, 1.0)  # a probability or a share that may be 0 or 1
RATE = Domain(0.0, 1.0, low_open=True)  # a probability, learning rate or discount that must not be 0
WIDTH = Domain(0.0, WIDEST, why="wider bounds only overflow")  # an exploration constant; 0 is greedy
SCALE = Domain(NARROWEST, WIDEST, why="more extreme values only overflow")  # a prior, variance or regulariser


def whole(low: int, high: int, why: str = "") -> Domain:
    return Domain(low, high, whole=True, why=why)


def scatter_add(target: Array, index: tuple[Array, ...], values: Array | float, unique: bool) -> None:
    """target[index] += values, also when an index repeats (np.add.at is slower, so only used then)."""
    if unique:
        target[index] += values
    else:
        np.add.at(target, index, values)


def random_arms(rng: np.random.Generator, n_arms: int, size: int) -> Array:
    """Uniform integers in [0, n_arms); several times faster than Generator.integers on small arrays."""
    return np.minimum((rng.random(size) * n_arms).astype(np.int64), n_arms - 1)


def tie_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    """Tiny noise, drawn afresh each round, that breaks ties between equal scores uniformly at random (below any
    real difference; a tie broken by noise drawn once per run would go to the same arm every round)."""
    noise: Array = rng.random(shape) * 1e-9
    return noise


def tie_broken(scores: Array, rng: np.random.Generator) -> Array:
    """`scores` with ties broken uniformly at random, afresh each call: tiny noise below any real difference, and
    infinite scores (an untried arm's index) made distinct values above every finite one, in random order (noise
    added to an infinity leaves it infinite, and argmax would take the lowest index every time)."""
    return _tie_broken(scores, rng)[0]


def _tie_broken(scores: Array, rng: np.random.Generator) -> tuple[Array, Array]:
    """tie_broken's scores, and the uniform noise (same shape) that broke their ties."""
    noise = rng.random(scores.shape)
    noisy: Array = scores + noise * 1e-9
    top = np.isposinf(noisy)
    if top.any():
        noisy = np.where(top, np.finfo(np.float64).max * (0.5 + 0.5 * noise), noisy)
    return noisy, noise


def argmax_random(scores: Array, rng: np.random.Generator) -> Array:
    """Row-wise argmax with ties broken at random, infinite scores included (tie_broken)."""
    best: Array = np.argmax(tie_broken(scores, rng), axis=-1)
    return best


def top_k(scores: Array, k: int, rng: np.random.Generator) -> Array:
    """The k best columns of each row, best first, ties at random.

    For short lists, k passes of argmax are several times faster than a partial sort along rows. Scores of -inf (an
    excluded column) are made distinct values below every finite one, in random order, so that a column taken
    (marked -inf) is never taken again when fewer than k columns are above -inf.
    """
    noisy, noise = _tie_broken(scores, rng)
    bottom = np.isneginf(noisy)
    if bottom.any():
        noisy = np.where(bottom, np.finfo(np.float64).min * (0.5 + 0.5 * noise), noisy)
    if k <= 16:
        rows = np.arange(scores.shape[0])
        out = np.empty((scores.shape[0], k), dtype=np.int64)
        for position in range(k):
            best = noisy.argmax(axis=1)
            out[:, position] = best
            noisy[rows, best] = -np.inf
        return out
    part = np.argpartition(-noisy, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(noisy, part, axis=1), axis=1)
    return np.take_along_axis(part, order, axis=1)


def kl_bernoulli(p: Array, q: Array) -> Array:
    eps = 1e-12
    p = np.clip(p, eps, 1 - eps)
    q = np.clip(q, eps, 1 - eps)
    kl: Array = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    return kl


def kl_upper_bound(mean: Array, budget: Array, halvings: int = 6, newton: int = 2) -> Array:
    """Largest q >= mean with kl(mean, q) <= budget (Bernoulli KL), for every entry at once.

    The root lies between p and Pinsker's bound p + sqrt(budget / 2). A few halvings shrink that bracket, then
    Newton steps from its upper end (where f(q) = kl(p, q) - budget is convex and increasing, so the iterates
    fall monotonically onto the root) finish the job: within 1e-3 of the exact bound for budgets up to 0.2,
    1e-2 for the large budgets of arms with only a handful of samples.
    """
    eps = 1e-9
    p = np.clip(mean, eps, 1 - eps)
    entropy = p * np.log(p) + (1 - p) * np.log(1 - p)

    def f(q: Array) -> Array:
        value: Array = entropy - p * np.log(q) - (1 - p) * np.log(1 - q) - budget
        return value

    low, high = p, np.clip(p + np.sqrt(budget / 2), p, 1 - eps)
    for _ in range(halvings):
        mid = (low + high) / 2
        above = f(mid) > 0
        high = np.where(above, mid, high)
        low = np.where(above, low, mid)
    q: Array = high
    for _ in range(newton):
        slope = (q - p) / (q * (1 - q))
        q = np.clip(q - f(q) / np.maximum(slope, eps), low, high)
    return q
