"""The pseudoinverse (PI) estimator of slate policies, and the scoring of final policies' slates on the held-out
slates of a slate log (slatelogs.py reads them).

Swaminathan, Krishnamurthy, Agarwal, Dudík, Langford, Jose and Zitouni, "Off-policy evaluation for slate
recommendation", NeurIPS 2017 (arXiv:1605.04812). A slate s = (s_1, ..., s_L) fills L slots with items out of m;
1_s in R^(L m) marks the pairs (slot j, item s_j). Their linearity assumption: the expected slate reward is a sum of
per-slot contributions, E[r | x, s] = 1_s . phi_x for some unknown phi_x. A policy pi's value is then
q_pi(x) . phi_x, q_pi(x) = E_pi[1_s | x] its slot-item marginals (L, m), and PI estimates it by

    V_PI = (1 / n) sum_i r_i q_pi(x_i)^T Gamma_mu(x_i)^+ 1_{s_i},    Gamma_mu(x) = E_mu[1_s 1_s^T | x],

which the paper shows unbiased under linearity and absolute continuity (mu(s | x) > 0 wherever pi(s | x) > 0).
`pseudoinverse_weights` computes the weight q^T Gamma^+ 1_s from a logging distribution given slate by slate (the
general case, cheap for small slate spaces: tests). A log holds each slot's propensity, not the distribution of
whole slates, so replay uses two closed forms, each tested against the pseudoinverse:
- slots filled independently (mu a product over slots, the paper's example): w = sum_j q(j, s_j) / mu(s_j | j) - L + 1;
- uniformly at random without replacement (derived here): Gamma = I / m + (J_L - I_L) (x) (J_m - I_m) / (m (m - 1)),
  whose eigenspaces give w = 1 + (m - 1)(D - Q / L) + (m - 1)(m Q - L^2) / (L (m - L)), the last term absent when
  m = L, with D = sum_j q(j, s_j) and Q = sum_{j,k} q(j, s_k) (for a deterministic pi: how many of its items are in
  their logged slot, and how many are anywhere in the logged slate).
The logging policy's own weight is 1 in both (its PI value is the slates' mean reward). Weights can be negative, so
intervals come from the block bootstrap over slates, widened for clicks (binary per-slot rewards) to at least
Wilson's interval of the click rate per slot at L x the weights' effective sample size (see estimators.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from banditmap.ope.estimators import (UNKNOWN, BlockSums, Estimate, Resampler, block_of, effective_sample_size, hull,
                                      interval, newcombe, wilson)

if TYPE_CHECKING:
    from banditmap.ope.logs import Chunk
    from banditmap.ope.replay import Learner, Replay
    from banditmap.ope.results import ReplayResult

Array = np.ndarray
STEP = 4096  # slates ranked at once by a frozen final policy
ASSUMPTION = ("PI assumes the slate's expected reward is the sum of per-slot contributions (linearity) and that the "
              "logging policy could have shown every slate a scored policy shows; unbiased under both, "
              "biased when a slot's reward depends on the other slots' items")
FORMS = {"independent": "slots filled independently (w = sum_j pi_j / mu_j - L + 1)",
         "uniform": "uniformly random slates without replacement (closed form of the pseudoinverse)"}


# --- the estimator ---------------------------------------------------------------------------------------------

def indicators(slates: Array, items: int) -> Array:
    """(n, L m) 0/1 rows marking (slot j, item s_j) for slates (n, L) of item indices."""
    n, slots = slates.shape
    out = np.zeros((n, slots * items))
    out[np.arange(n)[:, None], np.arange(slots) * items + slates] = 1.0
    return out


def pseudoinverse_weights(support: Array, probabilities: Array, target: Array, logged: Array, items: int) -> Array:
    """PI weights q^T Gamma^+ 1_s of logged slates (n, L) for a target's marginals `target` (L, m), under a logging
    distribution given slate by slate: `support` (S, L) with `probabilities` (S,). One context; exact, for small
    slate spaces."""
    marks = indicators(support, items)
    gamma = marks.T @ (probabilities[:, None] * marks)
    weights: Array = indicators(logged, items) @ (np.linalg.pinv(gamma) @ target.reshape(-1))
    return weights


def independent_weights(matched: Array, propensities: Array) -> Array:
    """Closed form for slots filled independently: matched (n, L) the target's probability q(j, s_j) of each logged
    slot's item, propensities (n, L) the logging policy's mu(s_j | j)."""
    slots = matched.shape[1]
    weights: Array = (matched / propensities).sum(axis=1) - slots + 1
    return weights


def uniform_weights(cross: Array, items: int) -> Array:
    """Closed form for uniformly random slates without replacement over `items` items: cross (n, L, L) holds
    q(j, s_k), the target's probability of putting the item logged in slot k into slot j."""
    slots = cross.shape[1]
    diagonal = np.einsum("ijj->i", cross)
    total = cross.sum(axis=(1, 2))
    weights: Array = 1 + (items - 1) * (diagonal - total / slots)
    if items > slots:
        weights = weights + (items - 1) * (items * total - slots ** 2) / (slots * (items - slots))
    return weights


def weights(form: str, cross: Array, propensities: Array, items: int) -> Array:
    """PI weights of a target given q(j, s_k) for the logged slates (n, L, L), by the log's form (FORMS)."""
    if form == "uniform":
        return uniform_weights(cross, items)
    return independent_weights(np.einsum("ijj->ij", cross), propensities)


def deterministic(chosen: Array, logged: Array) -> Array:
    """q(j, s_k) (n, L, L) of a policy that shows the slates `chosen` (n, L): 1 where its slot j holds the item
    logged in slot k."""
    cross: Array = (chosen[:, :, None] == logged[:, None, :]).astype(np.float64)
    return cross


# --- scoring a replay's final policies on held-out slates ------------------------------------------------------

@dataclass(frozen=True)
class SlatePolicy:
    """One slate policy's PI value per slate on the held-out slates, and its difference from the logging policy's
    reward on the same slates (paired)."""

    id: str
    name: str
    value: Estimate
    gain: Estimate
    ess: float  # effective sample size of its PI weights
    unsupported: float  # share of slates where it shows an item the log never shows
    problem: str = ""  # why it is not scored; empty when it is


@dataclass(frozen=True)
class SlateResults:
    size: int  # slots per slate
    items: int
    slates: int  # held-out slates scored
    form: str  # a key of FORMS
    logging: Estimate  # the logging policy's reward per slate on the held-out slates
    policies: tuple[SlatePolicy, ...]
    warnings: tuple[str, ...] = ()
    problem: str = ""  # why no slate policy is scored; empty when they are

    @property
    def assumption(self) -> str:
        return ASSUMPTION


class Scorer:
    """Gathers PI sums over the held-out slates (those whose first row is held out) as the scoring pass reads the
    chunks; a slate cut by a chunk's end waits for the next chunk."""

    def __init__(self, replay: Replay) -> None:
        from banditmap.sim.policies.mab import UniformRandom
        info = replay.info
        assert info.slate is not None
        # uniform slates are drawn from 1 / propensity items, some perhaps never logged; otherwise the log's
        self.replay, self.facts, self.items = replay, info.slate, info.slate.items or info.n_actions
        self.learners = [learner for learner in replay.learners if not isinstance(learner.policy, UniformRandom)]
        self.keys = [learner.candidate.id for learner in self.learners] + ["uniform random"]
        self.sums = BlockSums(replay.blocks, ("slates", "reward") + tuple(
            f"{key}:{name}" for key in self.keys for name in ("pi", "w", "w2", "unsupported")))
        self.unreadable: dict[str, str] = {}
        self.supported = np.array(info.counts) > 0
        self.carry: Chunk | None = None

    def add(self, chunk: Chunk, last: bool) -> None:
        from banditmap.ope.replay import _tail
        if self.carry is not None:
            chunk = _joined(self.carry, chunk)
        assert chunk.slates is not None and chunk.positions is not None
        keep = len(chunk) if last else int(np.searchsorted(chunk.slates, chunk.slates[-1])) if len(chunk) else 0
        self.carry = _tail(chunk, keep) if keep < len(chunk) else None
        whole = chunk.slates[:keep]
        starts = np.flatnonzero(np.r_[True, whole[1:] != whole[:-1]]) if keep else np.zeros(0, dtype=np.int64)
        held = starts[chunk.start + starts >= self.replay.split]
        if len(held):
            self._score(chunk, int(held[0]), keep)

    def _score(self, chunk: Chunk, begin: int, end: int) -> None:
        slots = self.facts.size
        assert chunk.positions is not None and chunk.slates is not None
        order = begin + np.lexsort((chunk.positions[begin:end], chunk.slates[begin:end]))
        items = chunk.actions[order].reshape(-1, slots)
        propensities = chunk.propensities[order].reshape(-1, slots)
        rewards = chunk.rewards[order].reshape(-1, slots).sum(axis=1)
        top = order.reshape(-1, slots)[:, 0]  # each slate's row at the first position
        block = block_of(chunk.start + top, self.replay.info.rows, self.replay.blocks)
        self.sums.add("slates", block)
        self.sums.add("reward", block, rewards)
        uniform = np.full((len(items), slots, slots), 1.0 / self.items)
        self._add("uniform random", block, rewards, weights(self.facts.form, uniform, propensities, self.items),
                  np.zeros(len(items)))
        for learner in self.learners:
            key = learner.candidate.id
            if key in self.unreadable:
                continue
            chosen = self._slates(learner, chunk.contexts[top], chunk.start + int(top[0]))
            if chosen is None:
                continue
            cross = deterministic(chosen, items)
            self._add(key, block, rewards, weights(self.facts.form, cross, propensities, self.items),
                      (~self.supported[chosen]).any(axis=1).astype(float))

    def _add(self, key: str, block: Array, rewards: Array, w: Array, unsupported: Array) -> None:
        self.sums.add(f"{key}:pi", block, rewards * w)
        self.sums.add(f"{key}:w", block, w)
        self.sums.add(f"{key}:w2", block, w * w)
        self.sums.add(f"{key}:unsupported", block, unsupported)

    def _slates(self, learner: Learner, contexts: Array, first: int) -> Array | None:
        """The final policy's slates: its L best items by its estimates for each slate's context (that of the
        slate's first-position row), best first; None (and the reason kept) when its estimates cannot be read."""
        out = np.empty((len(contexts), self.facts.size), dtype=np.int64)
        for i in range(0, len(contexts), STEP):
            scores = item_scores(learner, contexts[i:i + STEP], first + i)
            if scores is None:
                self.unreadable[learner.candidate.id] = ("its estimate of every item cannot be read (it keeps no "
                                                         "per-item means, bounds or regression), so it cannot rank")
                return None
            ranked = np.argsort(-np.nan_to_num(scores, nan=-np.inf), axis=1, kind="stable")
            out[i:i + STEP] = ranked[:, :self.facts.size]
        return out

    def finish(self, result: ReplayResult) -> ReplayResult:
        """The replay's result with the slate policies' PI values; learners that cannot be evaluated are left out."""
        info = self.replay.info
        if info.estimated:
            return replace(result, slates=SlateResults(
                self.facts.size, self.items, 0, self.facts.form, UNKNOWN, (), (), problem=(
                    "the propensities are estimated by a model of one action per row, not each slot's own logging "
                    "probability, so PI would weigh slates by the wrong numbers")))
        boot = Resampler.make(self.replay.blocks, self.replay.seed)
        count = self.sums.sums["slates"]
        slates = int(count.sum())
        logging, logging_draws = boot.ratio(self.sums.sums["reward"], count)
        binary = info.binary
        size = self.facts.size
        clicks = wilson(self.sums.total("reward"), slates * size)  # binary rewards: clicks per slot
        if binary:
            logging = hull(logging, _times(clicks, size))
        evaluable = {r.id for r in result.results if r.evaluable}
        names = {learner.candidate.id: learner.candidate.name for learner in self.learners}
        policies = []
        for key in self.keys:
            if key != "uniform random" and key not in evaluable:
                continue
            name = names.get(key, "uniform random")
            if key in self.unreadable:
                policies.append(SlatePolicy(key, name, UNKNOWN, UNKNOWN, 0.0, 0.0, self.unreadable[key]))
                continue
            value, draws = boot.ratio(self.sums.sums[f"{key}:pi"], count)
            gain = interval(value.value - logging.value, draws - logging_draws)
            ess = effective_sample_size(self.sums.total(f"{key}:w"), self.sums.total(f"{key}:w2"))
            if binary and value.known:
                rate = wilson(min(max(value.value / size, 0.0), 1.0) * ess * size, ess * size)
                value = hull(value, _times(rate, size))
                gain = hull(gain, _times(newcombe(rate, clicks), size))
            if binary:  # a slate of L clicks or none earns between 0 and L: the interval need not reach outside
                value = Estimate(value.value, max(value.low, 0.0), min(value.high, float(size)))
            unsupported = self.sums.total(f"{key}:unsupported") / max(slates, 1)
            policies.append(SlatePolicy(key, name, value, gain, ess, unsupported))
        out = SlateResults(self.facts.size, self.items, slates, self.facts.form, logging, tuple(policies),
                           self._warnings(policies))
        return replace(result, slates=out)

    def _warnings(self, policies: list[SlatePolicy]) -> tuple[str, ...]:
        out = []
        if self.facts.form == "independent" and not self.facts.repeats:
            out.append("no slate repeats an item, yet PI's closed form here assumes each slot's item was drawn "
                       "independently of the others (per-slot propensities): if the logging policy drew a ranking "
                       "without replacement, PI needs the whole slate distribution, which the log does not hold, and "
                       "the slate estimates may be biased")
        for p in policies:
            if p.unsupported > 0:
                out.append(f"{p.name}: {p.unsupported:.1%} of its slates hold items the log never shows; their "
                           "rewards are invisible to PI")
        return tuple(out)


def _times(e: Estimate, factor: float) -> Estimate:
    return Estimate(e.value * factor, e.low * factor, e.high * factor)


def _joined(first: Chunk, second: Chunk) -> Chunk:
    from banditmap.ope.logs import Chunk

    def both(a: Array | None, b: Array | None) -> Array | None:
        return None if a is None or b is None else np.concatenate([a, b])

    return Chunk(first.start, np.concatenate([first.actions, second.actions]),
                 np.concatenate([first.rewards, second.rewards]),
                 np.concatenate([first.propensities, second.propensities]),
                 np.concatenate([first.contexts, second.contexts]), both(first.positions, second.positions),
                 both(first.slates, second.slates))


def item_scores(learner: Learner, contexts: Array, first: int) -> Array | None:
    """(n, K) a learner's estimate of every item's reward for each context: its per-item means (statistics), the
    middle of its confidence bounds, or its ridge regression's predictions; None when it keeps none of these."""
    policy = learner.policy
    view = learner.view(len(contexts), first)
    given = contexts if learner.contextual else None
    try:
        return np.array(policy.statistics(view).means, dtype=np.float64)
    except NotImplementedError:
        pass
    try:
        low, high = policy.bounds(view, given)
        with np.errstate(invalid="ignore"):
            middle: Array = (np.asarray(low, dtype=np.float64) + np.asarray(high, dtype=np.float64)) / 2
        return np.where(np.isfinite(middle), middle, -np.inf)
    except NotImplementedError:
        pass
    theta = getattr(view, "theta", None)
    if learner.contextual and isinstance(theta, np.ndarray) and theta.ndim == 3:
        return np.asarray(np.einsum("rki,ri->rk", theta, contexts))
    return None


def standing(policy: SlatePolicy) -> str:
    """"better" or "worse" than the logging policy with 95% confidence, "cannot tell", or "" when not scored."""
    gain = policy.gain
    if not (gain.known and np.isfinite(gain.low)):
        return ""
    return "better" if gain.low > 0 else "worse" if gain.high < 0 else "cannot tell"
