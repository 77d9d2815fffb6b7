"""Views that let a policy race on a problem kind it was not built for, used the way a practitioner would use it
there: each page of a multivariate test as one arm (a K-armed policy on a combination problem), and an assortment
offered as a slate (a semi-bandit policy, each offered item rewarded with its revenue when it is the one bought).

A view ignores what the problem kind adds (components shared between pages, substitution between the items on
offer), so a race that runs one measures what ignoring it costs. The race uses them only for nearest candidates
(those that miss the problem's action structure); no catalog adapter claims them."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from banditmap.sim.adapters.base import Inner, Wrapped, Wrapper, register_adapter
from banditmap.sim.policies.base import Array, Feedback
from banditmap.sim.problem import Problem, item_revenues

MAX_PAGES = 1000  # a page per arm: beyond this a K-armed race of a few thousand rounds cannot try every page


def pages(problem: Problem) -> int:
    """How many pages a combination problem has: values ** components."""
    count: int = problem.n_arms ** problem.slate_size
    return count


def as_arms(problem: Problem) -> Problem:
    """The K-armed problem a page-as-arm base is given: one arm per page, one arm per decision."""
    return replace(problem, kind="arms", n_arms=pages(problem), slate_size=1)


def radix(s: Wrapped[Inner]) -> Array:
    """(D,) the place value of each component's value in a page's arm number (V values, D components)."""
    place: Array = s.K ** np.arange(s.k - 1, -1, -1)
    return place


@register_adapter("pages-as-arms")
@dataclass(frozen=True)
class PagesAsArms(Wrapper[Wrapped[Inner], Inner]):
    """Each page (one value per component) is one arm of the base, numbered in base V; the page's reward is the
    arm's. What one page teaches says nothing about the others that share its components. A base with a kernel form
    races compiled: the K-armed race with the pages as its arms (sim/kernels/combination.py)."""

    @classmethod
    def lift(cls, base_kinds: frozenset[str]) -> frozenset[str]:
        return frozenset({"combination"}) if "arms" in base_kinds else frozenset()

    def init(self, problem: Problem, rng: np.random.Generator) -> Wrapped[Inner]:
        inner = self.base.init(as_arms(problem), rng)
        return Wrapped(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds, inner=inner)

    def page(self, s: Wrapped[Inner], arms: Array) -> Array:
        """Arm numbers (R,) as pages (R, D)."""
        chosen: Array = (np.asarray(arms, dtype=np.int64)[:, None] // radix(s)[None, :]) % s.K
        return chosen

    def select(self, s: Wrapped[Inner], context: Array | None) -> Array:
        arms = self.ask(s, None)
        s.aux = s.inner.aux
        return self.page(s, arms)

    def update(self, s: Wrapped[Inner], feedback: Feedback) -> None:
        arms = (np.asarray(feedback.actions, dtype=np.int64) * radix(s)[None, :]).sum(axis=1)
        self.base.update(s.inner, Feedback(feedback.reps, arms, feedback.observed, None, feedback.aux,
                                           unique=feedback.unique))

    def exploit(self, s: Wrapped[Inner], context: Array | None) -> Array:
        return self.page(s, self.base.exploit(s.inner, None))

    def recommend(self, s: Wrapped[Inner]) -> Array:
        return self.page(s, self.base.recommend(s.inner))


@dataclass(kw_only=True)
class Offer(Wrapped[Inner]):
    revenue: Array  # (R, N) each item's revenue, known to the seller


@register_adapter("assortment-as-slate")
@dataclass(frozen=True)
class AssortmentAsSlate(Wrapper[Offer[Inner], Inner]):
    """The base's slate of k items is the assortment offered; the item bought earns its revenue as that item's
    reward and every other item offered earns 0, as if each were shown on its own. That a customer who buys one
    item does not buy another (substitution) is ignored, so the base offers the k items of highest revenue per
    offer, not the assortment of highest expected revenue."""

    @classmethod
    def lift(cls, base_kinds: frozenset[str]) -> frozenset[str]:
        return frozenset({"assortment"}) if "slate" in base_kinds else frozenset()

    def init(self, problem: Problem, rng: np.random.Generator) -> Offer[Inner]:
        inner = self.base.init(replace(problem, kind="slate"), rng)
        return Offer(rng, problem.reps, problem.n_arms, problem.slate_size, problem.rounds, inner=inner,
                     revenue=np.broadcast_to(item_revenues(problem), (problem.reps, problem.n_arms)))

    def update(self, s: Offer[Inner], feedback: Feedback) -> None:
        offered = np.asarray(feedback.actions, dtype=np.int64)
        bought = np.asarray(feedback.observed, dtype=np.int64)
        revenue = s.revenue[np.asarray(feedback.reps)[:, None], np.maximum(offered, 0)]
        rewards = np.where(offered == bought[:, None], revenue, 0.0)
        self.base.update(s.inner, Feedback(feedback.reps, offered, rewards, None, feedback.aux,
                                           unique=feedback.unique))
