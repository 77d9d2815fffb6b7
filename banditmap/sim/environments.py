"""Synthetic environments shaped like a profile, vectorised over repetitions (every array's first axis is R).

Every environment knows the expected reward of every action at every round, so regret is exact: it is the
expected reward of the best action minus that of the chosen one (pseudo-regret), never a noisy estimate.
Random draws that do not depend on the policy (contexts, reward noise, drift, change points) come from the
environment's own stream, so every algorithm faces the same draws (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from banditmap.sim.problem import DEFAULT_ARM, PRICE_RANGE, Problem, component_pairs, item_revenues

Array = np.ndarray


@dataclass
class Outcome:
    """What one round produced: what the policy observes, and what only the evaluation sees."""

    observation: Any  # rewards (R,), per-position rewards (R, k), click position (R,), or winner (R,)
    value: Array  # expected reward of the chosen action, (R,)
    best: Array  # expected reward of the best action, (R,)
    optimal: Array  # whether the chosen action was a best one, (R,) bool
    cost: Array | None = None  # what the action spent, observed by the policy (budget problems), (R,)
    baseline: Array | None = None  # expected reward of the baseline action this round (safety problems), (R,)


def sigmoid(x: Array) -> Array:
    p: Array = 1.0 / (1.0 + np.exp(-x))
    return p


class Environment:
    """Base class: `context(t)` then `step(t, action, context)` each round."""

    action_shape: tuple[int, ...] = ()  # () for one arm per rep, (k,) for a list of k arms

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        self.problem = problem
        self.rng = rng
        self.R = problem.reps
        self.K = problem.n_arms

    def context(self, t: int) -> Array | None:
        return None

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        raise NotImplementedError

    def parameters(self) -> dict[str, Any]:
        """A JSON-friendly description of the instance (first repetition), for reproducing a run."""
        return {}


# --- K arms: Bernoulli, Gaussian or heavy-tailed rewards, with stationary or moving means ----------------------

class Arms(Environment):
    """K arms whose means may drift, jump at change points, or turn against the policy's favourite arm."""

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        super().__init__(problem, rng)
        R, K = self.R, self.K
        if problem.reward == "binary":
            self.logits = rng.normal(-2.0, 0.6, (R, K))  # click rates of a few percent to about 25%
        else:
            self.logits = rng.uniform(0.2, 0.8, (R, K))
        if problem.constraint == "safety":
            self._make_baseline()
        self.T = problem.rounds
        self.change_points = {int(self.T * f) for f in (0.25, 0.5, 0.75)} if problem.dynamics == "abrupt" else set()
        self.window = max(50, self.T // 20)
        self.recent = np.zeros((R, K))
        self._static: Array | None = None
        self._best: Array | None = None
        self.rows = np.arange(R)
        self.row_starts = self.rows * K  # row offsets into raveled (R, K) arrays

    def _make_baseline(self) -> None:
        """DEFAULT_ARM is today's default: a decent arm (70th percentile of the arms), not the best."""
        order = np.argsort(self.logits, axis=1)
        pick = order[:, int(0.7 * (self.K - 1))]
        rows = np.arange(self.R)
        first, chosen = self.logits[rows, DEFAULT_ARM].copy(), self.logits[rows, pick].copy()
        self.logits[rows, DEFAULT_ARM], self.logits[rows, pick] = chosen, first

    def means(self) -> Array:
        if self.problem.dynamics == "stationary":
            if self._static is None:
                self._static = sigmoid(self.logits) if self.problem.reward == "binary" else self.logits
            return self._static
        return sigmoid(self.logits) if self.problem.reward == "binary" else self.logits

    def _move(self, t: int) -> None:
        dynamics = self.problem.dynamics
        if dynamics == "drifting":
            scale = 1.5 if self.problem.reward == "binary" else 0.3
            self.logits += self.rng.normal(0.0, scale / np.sqrt(self.T), self.logits.shape)
            if self.problem.reward != "binary":
                np.clip(self.logits, 0.0, 1.0, out=self.logits)
        elif dynamics == "abrupt" and t in self.change_points:
            shift = self.rng.integers(1, self.K, self.R)
            idx = (np.arange(self.K)[None, :] + shift[:, None]) % self.K
            self.logits = np.take_along_axis(self.logits, idx, axis=1)
        elif dynamics == "adversarial" and t > 0 and t % self.window == 0:
            # the arm the policy played most in the last window swaps its mean with the worst arm
            favourite = self.recent.argmax(axis=1)
            worst = self.logits.argmin(axis=1)
            rows = np.arange(self.R)
            a, b = self.logits[rows, favourite].copy(), self.logits[rows, worst].copy()
            self.logits[rows, favourite], self.logits[rows, worst] = b, a
            self.recent[:] = 0

    def expected(self, context: Array | None = None) -> Array:
        return self.means()

    def draw(self, mean: Array) -> Array:
        """Rewards with the given means, from the environment's stream (the same draws for every policy)."""
        if self.problem.reward == "binary":
            return (self.rng.random(mean.shape) < mean) * 1.0
        if self.problem.reward == "continuous":
            return mean + self.rng.normal(0.0, 0.1, mean.shape)
        sigma = 1.0  # log-normal with mean `mean`: rare orders several times the average
        return mean * np.exp(self.rng.normal(-sigma**2 / 2, sigma, mean.shape))

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        if self.problem.dynamics != "stationary":
            self._move(t)
        means = self.expected(context)
        rows = self.rows
        chosen = means.reshape(-1)[self.row_starts + action]
        if context is None and self.problem.dynamics == "stationary":
            if self._best is None:
                self._best = means.max(axis=1)
            best = self._best
        else:
            best = means.max(axis=1)
        if self.problem.dynamics == "adversarial":
            self.recent[rows, action] += 1
        baseline = means[:, DEFAULT_ARM] if self.problem.constraint == "safety" else None
        return Outcome(self.draw(chosen), chosen, best, chosen >= best - 1e-12, baseline=baseline)

    def parameters(self) -> dict[str, Any]:
        return {"means": np.round(self.means()[0], 4).tolist()}


class CompiledArms(Environment):
    """K arms (the `arms` kind) stepped by the compiled race's own kernels (sim/kernels/arms.py): instances, moves
    and rewards are drawn from one stream per repetition, seeded from the environment's generator, so the
    step-by-step loop and the compiled race meet exactly the same worlds and draws."""

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import arms, rng as streams
        super().__init__(problem, rng)
        self.kernels = arms
        self.states = streams.states_from(rng, self.R)
        self.reward = arms.REWARDS[problem.reward]
        self.dynamics = arms.DYNAMICS[problem.dynamics]
        self.logits = np.empty((self.R, self.K))
        self.mu = np.empty((self.R, self.K))  # expected rewards now
        self.recent = np.zeros((self.R, self.K))
        self.top = arms.draw_instances(self.logits, self.mu, self.states, self.reward, problem.constraint == "safety")

    def set_logits(self, logits: Array) -> None:
        """Replace the arms (R, K) (logits of click rates on binary problems, otherwise the means), e.g. for a test's
        or a benchmark's fixed instance."""
        self.logits[:] = logits
        for r in range(self.R):
            self.top[r] = self.kernels.expected(self.logits, self.mu, r, self.reward)

    def expected(self, context: Array | None = None) -> Array:
        return self.mu

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, observed = np.empty(self.R), np.empty(self.R)
        self.kernels.environment_step(self.logits, self.mu, self.top, self.recent, self.states, t,
                                      self.problem.rounds, self.reward, self.dynamics, action.astype(np.int64), value,
                                      observed)
        baseline = self.mu[:, DEFAULT_ARM].copy() if self.problem.constraint == "safety" else None
        return Outcome(observed, value, self.top.copy(), value >= self.top - 1e-12, baseline=baseline)

    def parameters(self) -> dict[str, Any]:
        return {"means": np.round(self.mu[0], 4).tolist()}


class CompiledContextual(Environment):
    """The contextual world stepped by the compiled race's kernels (sim/kernels/linear.py): a context x per round
    and per-arm parameters theta (R, K, d) weighing x (model linear), or theta (R, K, 16) weighing the hidden units
    tanh(W x + b) of a first layer W (R, 16, d), b (R, 16) shared by the arms (model nonlinear); rewards
    sigmoid(-1.5 + 1.5 theta.f) or 0.5 + 0.3 theta.f of those features f; theta moves with the dynamics (a random
    walk, a rotation of the arms at change points, the favourite arm trading parameters with another). One stream
    per repetition, so the step-by-step loop and the compiled race meet the same worlds and draws."""

    HIDDEN = 16  # the non-linear world's hidden units

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import arms, linear, rng as streams
        super().__init__(problem, rng)
        self.kernels = linear
        self.d = problem.n_features
        self.model = problem.model
        self.states = streams.states_from(rng, self.R)
        self.reward = arms.REWARDS[problem.reward]
        self.dynamics = arms.DYNAMICS[problem.dynamics]
        H = self.HIDDEN if problem.model == "nonlinear" else 0
        self.theta = np.empty((self.R, self.K, H or self.d))
        self.layer, self.bias = np.empty((self.R, H, self.d)), np.empty((self.R, H))
        if H:
            linear.draw_networks(self.theta, self.layer, self.bias, self.states)
        else:
            linear.draw_worlds(self.theta, self.states)
        self.mu = np.empty((self.R, self.K))
        self.top = np.empty(self.R)
        self.recent = np.zeros((self.R, self.K))

    def context(self, t: int) -> Array:
        contexts: Array = self.kernels.draw_contexts(self.states, self.d)
        return contexts

    def expected(self, context: Array | None = None) -> Array:
        """Expected rewards (R, K) of every arm under this context in the world as it stands now (before the move
        of the next step); without a context, those of the last step."""
        if context is None:
            return self.mu
        means = np.empty((self.R, self.K))
        hidden = np.empty(self.layer.shape[1])
        for r in range(self.R):
            seen = self.kernels.features(self.layer, self.bias, r, np.ascontiguousarray(context[r]), hidden)
            self.kernels.expected_rewards(self.theta, means, r, seen, self.reward)
        return means

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        assert context is not None
        value, observed = np.empty(self.R), np.empty(self.R)
        self.kernels.world_step(self.theta, self.layer, self.bias, self.mu, self.top, self.recent, self.states, t,
                                self.problem.rounds, self.reward, self.dynamics, context, action.astype(np.int64),
                                value, observed)
        baseline = self.mu[:, DEFAULT_ARM].copy() if self.problem.constraint == "safety" else None
        return Outcome(observed, value, self.top.copy(), value >= self.top - 1e-12, baseline=baseline)

    def parameters(self) -> dict[str, Any]:
        return {"features": self.d, "model": self.model}


# --- pricing: a grid of prices and an unknown demand curve ----------------------------------------------------

class Pricing(Environment):
    """A continuous price in [0.1, 1] per visitor; the visitor buys with a logistic demand curve's probability,
    stepped by the compiled race's kernels (sim/kernels/pricing.py) from one stream per repetition, so the
    step-by-step loop and the compiled race meet the same demand curves and purchases.

    The reward is the price paid (0 without a purchase). The best price maximises price x purchase probability
    over the whole continuous range (found on a grid of 2,001 prices), so coarse price grids pay for their
    coarseness in regret.
    """

    LOW, HIGH = PRICE_RANGE

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import pricing, rng as streams
        super().__init__(problem, rng)
        self.kernels = pricing
        self.states = streams.states_from(rng, self.R)
        slope, pivot, self.best, self.best_price = (np.empty(self.R) for _ in range(4))
        pricing.draw_markets(slope, pivot, self.best, self.best_price, self.states)
        self.slope, self.pivot = slope[:, None], pivot[:, None]  # (R, 1) each; pivot: the price half the visitors pay

    def buy(self, price: Array) -> Array:
        """The purchase probability (R, n) of prices (R, n) or (1, n) (the kernels' buy, for whole arrays)."""
        return sigmoid(self.slope * (self.pivot - price))

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, observed = np.empty(self.R), np.empty(self.R)
        self.kernels.market_step(np.ascontiguousarray(self.slope[:, 0]), np.ascontiguousarray(self.pivot[:, 0]),
                                 self.states, np.asarray(action, dtype=np.float64), value, observed)
        return Outcome(observed, value, self.best, value >= self.best * self.kernels.OPTIMAL)

    def parameters(self) -> dict[str, Any]:
        return {"price_range": [self.LOW, self.HIGH], "best_price": round(float(self.best_price[0]), 4),
                "best_revenue": round(float(self.best[0]), 4)}


# --- lists: cascade ranking and semi-bandit slates ------------------------------------------------------------

class Cascade(Environment):
    """A ranked list of k of L items; the customer scans from the top and clicks the first attractive item.

    The policy observes the click position (k when nothing was clicked); the expected reward of a list is the
    probability of a click, 1 - prod(1 - w_i) over its items. Attractions and clicks are drawn by the compiled
    race's kernels (sim/kernels/lists.py) from one stream per repetition, so the step-by-step loop and the compiled
    race meet the same worlds and draws.
    """

    world = "cascade"

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import lists, rng as streams
        super().__init__(problem, rng)
        self.kernels = lists
        self.k = problem.slate_size
        self.action_shape = (self.k,)
        self.states = streams.states_from(rng, self.R)
        self.w = np.empty((self.R, self.K))  # attraction probabilities Beta(1, 12): most items rarely clicked
        self.best_value = lists.draw_worlds(self.w, self.states, self.k, lists.WORLDS[self.world])

    def clicks(self, t: int, action: Array) -> tuple[Array, Array]:
        """Each list's expected reward (R,) and what each of its positions gave (R, k), 1 for a click."""
        value, observed = np.empty(self.R), np.empty((self.R, self.k))
        self.kernels.world_step(self.w, self.states, np.ascontiguousarray(action, dtype=np.int64),
                                self.kernels.WORLDS[self.world], value, observed)
        return value, observed

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, observed = self.clicks(t, action)
        click = np.where(observed.any(axis=1), observed.argmax(axis=1), self.k)
        return Outcome(click, value, self.best_value, value >= self.best_value - 1e-12)

    def parameters(self) -> dict[str, Any]:
        return {"attraction": np.round(self.w[0], 4).tolist(), "list_length": self.k}


class Slate(Cascade):
    """k of L items shown together, each clicked independently (semi-bandit): the reward is the number of clicks."""

    world = "slate"

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, observed = self.clicks(t, action)
        return Outcome(observed, value, self.best_value, value >= self.best_value - 1e-12)


# --- budgets: every action spends, and the run's budget must last ---------------------------------------------

class Budgeted(Environment):
    """K arms that each earn a reward and spend a cost (both Bernoulli on binary problems); the repetition stops
    acting once its budget (budget_rate x rounds) is spent. Action K is the null action: skip this round, earn and
    spend nothing. Stepped by the compiled race's own kernels (sim/kernels/budget.py), one stream per repetition,
    so the step-by-step loop and the compiled race meet the same worlds and draws.

    Regret is against the budget LP (the best mix of arms whose expected spend per round is the budget rate), an
    upper bound on every policy's expected reward under the budget, as in bandits with knapsacks.
    """

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import arms, budget, rng as streams
        super().__init__(problem, rng)
        self.kernels = budget
        self.states = streams.states_from(rng, self.R)
        self.reward = arms.REWARDS[problem.reward]
        self.logits, self.mu = np.empty((self.R, self.K)), np.empty((self.R, self.K))
        self.cost_means = np.empty((self.R, self.K))
        self.lp = np.empty((self.R, 4))  # the budget LP's solution: value, low, high, p_high
        self.budget = problem.budget
        self.spent = np.zeros(self.R)
        budget.draw_worlds(self.logits, self.mu, self.cost_means, self.lp, self.states, self.reward,
                           problem.budget_rate)

    def set_arms(self, mu: Array, cost_means: Array) -> None:
        """Replace the arms' expected rewards and costs (R, K), e.g. for a test's fixed instance, and the LP."""
        self.mu[:], self.cost_means[:] = mu, cost_means
        self.lp[:] = self.kernels.budget_lp_rows(self.mu, self.cost_means, np.full(self.R, self.problem.budget_rate))

    def means(self) -> Array:
        return self.mu

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, observed, cost, optimal = np.empty(self.R), np.empty(self.R), np.empty(self.R), np.empty(self.R, bool)
        self.kernels.world_step(self.mu, self.cost_means, self.lp, self.spent, float(self.budget), self.states,
                                self.reward, action.astype(np.int64), value, observed, cost, optimal)
        return Outcome(observed, value, self.lp[:, 0].copy(), optimal, cost=cost)

    def parameters(self) -> dict[str, Any]:
        return {"means": np.round(self.mu[0], 4).tolist(), "cost_means": np.round(self.cost_means[0], 4).tolist(),
                "budget": self.budget, "lp_value_per_round": round(float(self.lp[0, 0]), 4)}


# --- dueling: two options shown, only the winner observed -----------------------------------------------------

class Dueling(Environment):
    """K options with utilities u in [0, 1] (Beta(2, 2)); option i beats j with probability (1 + u_i - u_j) / 2 (a
    linear Bradley-Terry model, so the best option is a Condorcet winner). The policy shows a pair (R, 2) and
    observes 1 when the first option wins. The value of a pair is the mean utility of its two options, so regret
    is the dueling regret of Yue et al. (2012), eps(best, i) + eps(best, j) with eps(b, i) = P(b beats i) - 1/2.
    Stepped by the compiled race's kernels (sim/kernels/dueling.py), one stream per repetition, so the
    step-by-step loop and the compiled race meet the same worlds and draws."""

    action_shape = (2,)

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import dueling, rng as streams
        super().__init__(problem, rng)
        self.kernels = dueling
        self.states = streams.states_from(rng, self.R)
        self.u = np.empty((self.R, self.K))
        self.best = dueling.draw_worlds(self.u, self.states)

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, wins = np.empty(self.R), np.empty(self.R)
        self.kernels.world_step(self.u, self.states, np.ascontiguousarray(action, dtype=np.int64), value, wins)
        return Outcome(wins, value, self.best, value >= self.best - 1e-12)

    def parameters(self) -> dict[str, Any]:
        return {"utilities": np.round(self.u[0], 4).tolist()}


# --- assortments: a set of items offered, the customer picks one or none (multinomial logit) ------------------

class Assortment(Environment):
    """N items with unknown preference weights v in [0.05, 1] (no purchase has weight 1); the policy offers at most
    k items (R, k), -1 for an empty slot, and observes the item bought or -1. The best assortment maximises the
    expected revenue sum_S v_i r_i / (1 + sum_S v_i) under the size limit. Worlds and customers are the compiled
    race's (sim/kernels/assortment.py), one stream per repetition, so the step-by-step loop and the compiled race
    meet the same ones."""

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import assortment
        from banditmap.sim.kernels import rng as streams
        super().__init__(problem, rng)
        self.kernels = assortment
        self.k = problem.slate_size
        self.action_shape = (self.k,)
        self.states = streams.states_from(rng, self.R)
        self.v = np.empty((self.R, self.K))
        self.revenue = np.tile(item_revenues(problem), (self.R, 1))
        self.best_set = np.full((self.R, min(self.k, self.K)), -1, dtype=np.int64)
        self.best = assortment.draw_worlds(self.v, self.revenue, self.states, self.best_set)

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, observed = np.empty(self.R), np.empty(self.R)
        self.kernels.world_step(self.v, self.revenue, self.states, np.ascontiguousarray(action, dtype=np.int64), value,
                                observed)
        return Outcome(observed, value, self.best.copy(), value >= self.best - self.kernels.OPTIMAL)

    def parameters(self) -> dict[str, Any]:
        return {"weights": np.round(self.v[0], 4).tolist(), "revenues": np.round(self.revenue[0], 4).tolist(),
                "best_assortment": [int(i) for i in self.best_set[0] if i >= 0],
                "best_revenue": round(float(self.best[0]), 4)}


# --- combinations: one value per page component, with interactions --------------------------------------------

class Combination(Environment):
    """D components with V values each (layout, headline, image, colour); a page is one value per component
    (R, D). The click probability is sigmoid(base + main effects + pairwise interactions); the best page is
    found by enumerating all V ** D pages. Weights and rewards are drawn by the compiled race's kernels
    (sim/kernels/combination.py) from one stream per repetition, so the step-by-step loop and the compiled race
    meet the same pages and draws."""

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import arms, combination, rng as streams
        super().__init__(problem, rng)
        self.kernels = combination
        self.D, self.V = problem.slate_size, problem.n_arms
        self.pairs = component_pairs(self.D)
        self.reward = combination.reward_kind(problem.reward)
        self.base = -2.0 if self.reward == arms.BINARY else 0.0
        self.states = streams.states_from(rng, self.R)
        self.weights = np.empty((self.R, combination.features(self.D, self.V)))
        self.best_page = np.empty((self.R, self.D), dtype=np.int64)
        self.best = combination.draw_worlds(self.weights, self.states, self.V, self.reward, self.best_page)

    def expected(self, pages: Array) -> Array:
        """Expected reward of pages (N, D) with N a multiple of R (rows repeat the repetitions in order)."""
        pages = np.asarray(pages, dtype=np.int64)
        per = len(pages) // self.R
        return np.array([self.kernels.page_value(self.weights, i // per, pages[i], self.V, self.reward)
                         for i in range(len(pages))])

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, observed = np.empty(self.R), np.empty(self.R)
        self.kernels.world_step(self.weights, self.states, np.ascontiguousarray(action, dtype=np.int64), self.V,
                                self.reward, value, observed)
        return Outcome(observed, value, self.best, value >= self.best - 1e-12)

    def parameters(self) -> dict[str, Any]:
        return {"components": self.D, "values": self.V, "best_page": self.best_page[0].tolist(),
                "best_value": round(float(self.best[0]), 4)}


# --- several objectives: a reward vector per decision -------------------------------------------------------

def pareto_gaps(vectors: Array) -> Array:
    """(R, K): for arm a, max over arms b of min_d (mu_b,d - mu_a,d), at least 0: the lift a needs in every
    objective before no arm dominates it (the world's kernel, sim/kernels/multi.py)."""
    from banditmap.sim.kernels import multi
    means = np.ascontiguousarray(vectors, dtype=np.float64)
    gaps = np.empty(means.shape[:2])
    for r in range(means.shape[0]):
        multi.pareto_gaps(means, gaps, r)
    return gaps


class MultiObjective(Environment):
    """K arms, each with a vector of D mean rewards (Bernoulli or Gaussian per objective); the policy observes
    the vector (R, D). Regret is the Pareto regret of Drugan and Nowe (2013): the smallest eps such that the
    chosen arm's means plus eps are dominated by no arm, zero exactly on the Pareto front. The reward per round
    column reports the chosen arm's mean over objectives. Means and rewards are drawn by the compiled race's kernels
    (sim/kernels/multi.py) from one stream per repetition, so the step-by-step loop and the compiled race meet the
    same worlds and draws."""

    def __init__(self, problem: Problem, rng: np.random.Generator) -> None:
        from banditmap.sim.kernels import arms, multi
        from banditmap.sim.kernels import rng as streams
        super().__init__(problem, rng)
        self.kernels = multi
        self.D = max(problem.objectives, 1)
        self.reward = arms.REWARDS[problem.reward]
        self.states = streams.states_from(rng, self.R)
        self.vectors = np.empty((self.R, self.K, self.D))
        self.pareto_gap = np.empty((self.R, self.K))
        multi.draw_worlds(self.vectors, self.pareto_gap, self.states)

    def step(self, t: int, action: Array, context: Array | None) -> Outcome:
        value, observed = np.empty(self.R), np.empty((self.R, self.D))
        actions = np.ascontiguousarray(action, dtype=np.int64)
        self.kernels.world_step(np.ascontiguousarray(self.vectors, dtype=np.float64), self.states, actions,
                                self.reward, value, observed)
        best = value + self.pareto_gap[np.arange(self.R), actions]
        return Outcome(observed, value, best, value >= best - 1e-12)

    def parameters(self) -> dict[str, Any]:
        return {"objectives": self.D, "means": np.round(self.vectors[0], 4).tolist(),
                "pareto_front": np.flatnonzero(self.pareto_gap[0] <= 1e-12).tolist()}


# --- the registry of environments -----------------------------------------------------------------------------

def make_environment(problem: Problem, rng: np.random.Generator) -> Environment:
    makers: dict[str, Callable[[], Environment]] = {
        "arms": lambda: CompiledArms(problem, rng),
        "contextual": lambda: CompiledContextual(problem, rng),
        "pricing": lambda: Pricing(problem, rng),
        "cascade": lambda: Cascade(problem, rng),
        "slate": lambda: Slate(problem, rng),
        "budget": lambda: Budgeted(problem, rng),
        "multi": lambda: MultiObjective(problem, rng),
        "dueling": lambda: Dueling(problem, rng),
        "assortment": lambda: Assortment(problem, rng),
        "combination": lambda: Combination(problem, rng),
    }
    if problem.kind not in makers:
        from banditmap.errors import BanditmapError
        raise BanditmapError(f"no simulator yet for {problem.kind} problems; simulated kinds: "
                             + ", ".join(makers), field="bench")
    return makers[problem.kind]()

