"""What every adapter simulator shares: a policy that wraps another policy (any registered one, or another
wrapper), talks to it only through the Policy interface and the capabilities it offers, and the registry from the
catalog's adapter `simulator` ids to wrapper classes.

A wrapper's state holds the base's state as `inner`. Wrappers that keep several instances of the base (one per
position, two sparring partners, one per weight vector) give the base n x R repetitions, so the instances run
vectorised in one state: instance i of repetition r is inner repetition i * R + r.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import Any, Callable, ClassVar, Generic, Sequence, TypeVar

import numpy as np

from banditmap.errors import BanditmapError, shown
from banditmap.sim.policies import REGISTRY
from banditmap.sim.policies.base import Array, Feedback, Policy, State, Statistics, filing, parse_hyperparameters
from banditmap.sim.problem import Problem

Inner = TypeVar("Inner", bound=State)  # the base's state


@dataclass(kw_only=True)
class Wrapped(State, Generic[Inner]):
    """A wrapper's state: its own arrays (in a subclass) around the base's state."""

    inner: Inner  # the base's state (of n x R repetitions for a wrapper keeping n instances)


WS = TypeVar("WS", bound="Wrapped[Any]")  # a wrapper's state


def wrapped() -> Any:
    """The field of a wrapper holding its base policy: not a hyperparameter, so it has no domain."""
    return dataclasses.field(metadata={"wraps": True})


@dataclass(frozen=True)
class Wrapper(Policy[WS], Generic[WS, Inner]):
    """A policy around `base`, keeping a state of type WS around the base's of type Inner. `lift` says on which
    problem kinds the composition runs given the base's kinds; `needs` the capabilities of the base it uses;
    `keeps` those of the base it still offers. By default every call goes through to the base, so a wrapper
    overrides only what its reduction changes."""

    needs: ClassVar[frozenset[str]] = frozenset()
    keeps: ClassVar[frozenset[str]] = frozenset()
    kernels: ClassVar[str | None] = None  # its templates in sim/kernels/wrappers.py (`queue`: queue_choose, ...)
    decides_as_base: ClassVar[bool] = False  # it changes no decision or learning, only what it reports
    base: Policy[Inner] = wrapped()

    def __post_init__(self) -> None:
        super().__post_init__()
        # the composition's kinds and capabilities follow from its base: instance attributes shadow the class's
        object.__setattr__(self, "kinds", self.lift(self.base.kinds))
        object.__setattr__(self, "offers", self.base.offers & self.keeps)

    def region(self, problem: Problem) -> Array:
        """Its own columns of a compiled composition's scratch row before the first round (wrappers with
        `kernels`), the last holding their number."""
        raise NotImplementedError(f"{type(self).__name__} has no compiled form")

    @classmethod
    def lift(cls, base_kinds: frozenset[str]) -> frozenset[str]:
        """The problem kinds the wrapper runs on around a base that runs on `base_kinds`."""
        return base_kinds & frozenset({"arms"})

    def ask(self, state: Wrapped[Inner], context: Array | None) -> Array:
        """One decision of the base, counted in its own decision count as the runner counts the wrapper's."""
        inner = state.inner
        inner.aux = None
        choice = self.base.select(inner, context)
        inner.t += 1
        return choice

    def select(self, state: WS, context: Array | None) -> Array:
        choice = self.ask(state, context)
        state.aux = state.inner.aux
        return choice

    def update(self, state: WS, feedback: Feedback) -> None:
        self.base.update(state.inner, feedback)

    def recommend(self, state: WS) -> Array:
        return self.base.recommend(state.inner)

    def exploit(self, state: WS, context: Array | None) -> Array:
        return self.base.exploit(state.inner, context)

    def statistics(self, state: WS) -> Statistics:
        return self.base.statistics(state.inner)

    def bounds(self, state: WS, context: Array | None) -> tuple[Array, Array]:
        return self.base.bounds(state.inner, context)


@dataclass(frozen=True)
class Passing(Wrapper[Wrapped[Inner], Inner]):
    """A wrapper that keeps nothing of its own: its state is the base's and the runner's counts."""

    def init(self, problem: Problem, rng: np.random.Generator) -> Wrapped[Inner]:
        return Wrapped(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds,
                       inner=self.base.init(problem, rng))


def stacked(problem: Problem, copies: int, **changes: Any) -> Problem:
    """The problem as seen by `copies` instances of a base held in one state (copies x R repetitions)."""
    return replace(problem, reps=problem.reps * copies, **changes)


def layer_feedback(feedback: Feedback, layer: Array, observed: Array | None = None) -> Feedback:
    """The observations of one layer (each repetition at most once), optionally with other observed values."""
    def pick(a: Array | None) -> Array | None:
        return None if a is None else a[layer]
    return Feedback(feedback.reps[layer], feedback.actions[layer],
                    feedback.observed[layer] if observed is None else observed, pick(feedback.contexts),
                    pick(feedback.aux), unique=True, costs=pick(feedback.costs))


ADAPTERS: dict[str, type[Wrapper[Any, Any]]] = {}
W = TypeVar("W", bound=type[Wrapper[Any, Any]])


def register_adapter(*ids: str) -> Callable[[W], W]:
    """Class decorator: file the wrapper under the catalog's adapter simulator ids; every hyperparameter needs a
    domain, as for policies."""
    return filing(ADAPTERS, ids)


def build_wrapper(simulator_id: str, base: Policy[Any], params: dict[str, Any], where: str,
                  source: str | None = None) -> Wrapper[Any, Any]:
    """Wrap `base` with a registered adapter simulator and its hyperparameters, checked like a policy's."""
    cls = ADAPTERS.get(simulator_id)
    if cls is None:
        raise BanditmapError(f"no adapter simulator {shown(simulator_id)}; expected one of "
                             f"{', '.join(sorted(ADAPTERS))}", source=source, field=where)
    return cls(base, **parse_hyperparameters(cls, params, where, source))


def chain_kinds(base: type[Policy[Any]], chain: Sequence[type[Wrapper[Any, Any]]]) -> frozenset[str]:
    """The problem kinds a base class wrapped by `chain` (innermost first) runs on."""
    kinds = base.kinds
    for cls in chain:
        kinds = cls.lift(kinds)
    return kinds


def chain_gap(base: type[Policy[Any]], chain: Sequence[type[Wrapper[Any, Any]]]) -> str | None:
    """Why the simulators cannot be composed in this order (a capability a wrapper needs that the simulator it
    wraps does not offer), or None."""
    offers = base.offers
    inside = [next((i for i, c in REGISTRY.items() if c is base), base.__name__)]
    for cls in chain:
        name = next((i for i, c in ADAPTERS.items() if c is cls), cls.__name__)
        missing = sorted(cls.needs - offers)
        if missing:
            return (f"the {name} simulator needs {' and '.join(missing)}, which the {'+'.join(inside)} simulator "
                    "does not offer")
        offers &= cls.keeps
        inside.append(name)
    return None
