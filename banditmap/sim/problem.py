"""The synthetic problem a profile asks for: which environment, its sizes, its dynamics and its feedback."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Mapping

from banditmap.errors import BanditmapError
from banditmap.model import Answer

if TYPE_CHECKING:  # NumPy is imported where it is used: the recommender reads a problem's class without it
    import numpy as np

KINDS = ("arms", "contextual", "budget", "multi", "cascade", "slate", "pricing", "dueling", "assortment", "combination")
MAX_ARMS = 1000  # beyond this a few-thousand-round race says nothing; the problem is scaled down and says so
MAX_FEATURES = 16  # one ridge model per arm costs O(K d^2) per decision; larger d is scaled down and said so
MAX_CONTEXTUAL_ARMS = 20
MAX_DUELING_ARMS = 50  # the preference matrix is K x K per repetition
MAX_BUDGET_ARMS = 50  # the budget LP scores every pair of arms
MAX_COMPONENTS = 6  # a combination problem enumerates values ** components combinations to know the best one
MAX_COMBINATIONS = 50_000
BUDGET_RATE = 0.25  # a budget problem's budget is this share of the rounds: it runs out if spent carelessly
SAFETY_ALPHA = 0.1  # a safety problem counts rounds whose running reward is below 90% of the baseline's
PRICE_RANGE = (0.1, 1.0)  # the prices a pricing problem may charge
DEFAULT_ARM = 0  # the action a safety problem calls today's default (its baseline)
ATTRIBUTION = 3  # a censored problem's attribution window, in mean delays (Problem.window)
MEMORY_LIMIT = 4 * 2**30  # refuse a run whose arrays would need more than this


@dataclass(frozen=True)
class Problem:
    kind: str
    reward: str  # binary, continuous, heavy_tailed
    n_arms: int
    n_features: int
    slate_size: int
    rounds: int
    reps: int
    dynamics: str  # stationary, drifting, abrupt, adversarial
    delay: str  # immediate, delayed, batched
    mean_delay: int
    batch_size: int
    constraint: str  # none, budget, safety
    objective: str  # cumulative, best_arm
    model: str = "linear"  # how context drives reward: linear or nonlinear
    notes: tuple[str, ...] = ()
    budget_rate: float = 0.0  # budget per round (budget problems): the run's budget is budget_rate * rounds
    objectives: int = 1  # reward metrics per decision (multi-objective problems have two)
    censored: bool = False  # conversions that may never come: a play that does not convert is never reported

    @property
    def window(self) -> int:
        """The attribution window of a censored problem: a policy not built for conversions that may never come
        counts a play with no conversion within this many rounds as a failure, then (ATTRIBUTION x the mean delay:
        95% of the conversions that come arrive within it, the delays being geometric)."""
        return ATTRIBUTION * self.mean_delay

    @property
    def budget(self) -> float:
        return self.budget_rate * self.rounds

    def describe(self) -> str:
        parts = [f"{self.kind} problem", f"{self.n_arms} arms", f"{self.reward} reward"]
        if self.kind == "contextual":
            parts.append(f"{self.n_features} features, {self.model} model")
        if self.kind in ("cascade", "slate", "assortment"):
            parts.append(f"{self.slate_size} shown")
        if self.kind == "combination":
            parts[1] = f"{self.slate_size} components x {self.n_arms} values"
        if self.kind == "multi":
            parts.append(f"{self.objectives} objectives, Pareto regret")
        if self.kind == "budget":
            parts.append(f"budget {self.budget:g} ({self.budget_rate:g} per round)")
        parts += [self.dynamics, f"{self.delay} feedback" + (", conversions that may never come" if self.censored else "")]
        if self.constraint not in ("none", "budget") or (self.constraint == "budget" and self.kind != "budget"):
            parts.append(f"{self.constraint} constraint")
        if self.objective == "best_arm":
            parts.append("best-arm identification")
        return ", ".join(parts) + f"; {plural(self.rounds, 'round')} x {plural(self.reps, 'repetition')}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _int(answers: Mapping[str, Answer], key: str, default: int) -> int:
    value = answers.get(key)
    return int(value) if isinstance(value, (int, float)) else default


def problem_from_answers(answers: Mapping[str, Answer], rounds: int | None = None, reps: int | None = None) -> Problem:
    """Map a profile to a synthetic problem; unanswered traits take the simplest value."""
    notes: list[str] = []
    action_space = answers.get("action_space", "few")
    structure = answers.get("action_structure", "single")
    budget = answers.get("constraints") == "budget"
    if answers.get("feedback") == "pairwise":
        kind = "dueling"
    elif action_space == "continuous":
        kind = "pricing"
    elif structure == "ranking":
        kind = "cascade"
    elif structure in ("slate", "assortment", "combination"):
        kind = str(structure)
    elif answers.get("context") in ("linear", "nonlinear"):
        kind = "contextual"
    elif budget:
        kind = "budget"
    elif answers.get("multi_objective") == "yes":
        kind = "multi"
    else:
        kind = "arms"
    default_arms = {"pricing": 20, "cascade": 20, "slate": 20, "assortment": 15, "combination": 81}.get(kind, 10)
    n_arms = _int(answers, "n_actions", default_arms)
    if n_arms < 2:
        raise BanditmapError(f"a race needs at least 2 actions, got {n_arms}: with one there is nothing to learn",
                             field="n_actions")
    slate = list_length(kind, answers, n_arms, notes)
    if kind == "combination":
        n_arms = combination_values(n_arms, slate, notes)
    caps = {"contextual": MAX_CONTEXTUAL_ARMS, "dueling": MAX_DUELING_ARMS, "budget": MAX_BUDGET_ARMS}
    cap = caps.get(kind, MAX_ARMS)
    if n_arms > cap:
        notes.append(f"{n_arms} actions scaled down to {cap} for the {kind} simulation")
        n_arms = cap
    n_features = _int(answers, "n_features", 10)
    if n_features > MAX_FEATURES:
        notes.append(f"{n_features} features scaled down to {MAX_FEATURES}")
        n_features = MAX_FEATURES
    horizon = _int(answers, "horizon", 10_000)
    chosen_rounds = rounds if rounds is not None else min(horizon, 10_000)
    if kind in LISTS and slate >= n_arms:  # the actions were scaled down under the list's length
        notes.append(f"lists of {slate} items cut to {n_arms - 1} to leave a choice among the {n_arms} simulated")
        slate = n_arms - 1
    if chosen_rounds < n_arms and kind in ("arms", "contextual", "budget", "multi"):
        notes.append(f"{plural(chosen_rounds, 'round')} cannot try each of the {n_arms} actions once: the race says "
                     "little about learning")
    dynamics = str(answers.get("environment", "stationary"))
    if kind not in ("arms", "contextual") and dynamics != "stationary":
        notes.append(f"{dynamics} rewards are simulated for single-item problems only; this race is stationary")
        dynamics = "stationary"
    if budget and kind != "budget":
        notes.append(f"the budget constraint is simulated for single-item problems without context; this {kind} "
                     "race ignores it")
    if answers.get("constraints") == "safety" and kind not in ("arms", "contextual"):
        notes.append(f"the safety constraint is simulated for single-item problems; this {kind} race ignores it")
    if answers.get("multi_objective") == "yes" and kind != "multi":
        notes.append(f"several objectives are simulated for single-item problems; this {kind} race uses one")
    if answers.get("arm_churn") == "dynamic":
        notes.append("arms that come and go not simulated yet: the race ignores it")
    reward = str(answers.get("reward_type", "binary"))
    censored = False
    if answers.get("feedback_delay") == "delayed" and answers.get("delay_bound") == "indefinite":
        if kind == "arms" and reward == "binary":
            censored = True
            window = ATTRIBUTION * max(1, chosen_rounds // 100)
            notes.append(f"conversions may never come: a play that does not convert is never reported; a policy not "
                         f"built for that counts a play with no conversion within {plural(window, 'round')} (the "
                         f"attribution window, {ATTRIBUTION} mean delays) as a failure then and loses a later "
                         "conversion, and a delayed-conversions policy takes conversions as they come")
        else:
            notes.append("conversions that may never come are simulated for binary rewards of single items without "
                         "context; in this race every reward, a failure too, arrives after its delay, so it cannot "
                         "show what ignoring censored conversions costs")
    problem = Problem(
        kind=kind, reward=reward, n_arms=max(n_arms, 2),
        n_features=max(n_features, 1), slate_size=slate, rounds=chosen_rounds, reps=reps if reps is not None else 50,
        dynamics=dynamics, delay=str(answers.get("feedback_delay", "immediate")),
        mean_delay=max(1, chosen_rounds // 100), batch_size=max(1, chosen_rounds // 50),
        constraint=str(answers.get("constraints", "none")), objective=str(answers.get("objective", "cumulative")),
        model="nonlinear" if answers.get("context") == "nonlinear" else "linear", notes=tuple(notes),
        budget_rate=BUDGET_RATE if kind == "budget" else 0.0, objectives=2 if kind == "multi" else 1,
        censored=censored)
    check_size(problem)
    return problem


LISTS = ("cascade", "slate", "assortment")


def list_length(kind: str, answers: Mapping[str, Answer], n_actions: int, notes: list[str]) -> int:
    """Items per list (components of a page for combinations). A list of every action leaves nothing to choose:
    refused when asked for, cut with a note when it is the default (down to 2 items, as the profile rules ask)."""
    asked = answers.get("slate_size")
    if kind == "combination":
        components = _int(answers, "slate_size", 4)
        simulated = max(2, min(components, MAX_COMPONENTS))
        if simulated != components:
            notes.append(f"{plural(components, 'page component')} simulated as {simulated} (at least 2, so that they can "
                         f"interact; at most {MAX_COMPONENTS}, so that every page can be scored)")
        return simulated
    length = _int(answers, "slate_size", 3)
    if kind not in LISTS or length < n_actions:
        return length
    if isinstance(asked, (int, float)):
        raise BanditmapError(f"a list of {length} items out of {n_actions} actions leaves nothing to choose; "
                             "expected fewer items than actions", field="slate_size")
    if n_actions < 3:
        raise BanditmapError(f"a list of at least 2 items out of {n_actions} actions leaves nothing to choose; "
                             "expected at least 3 actions", field="n_actions")
    notes.append(f"lists of {length} items (the default) cut to {n_actions - 1}, one fewer than the actions")
    return n_actions - 1


def combination_values(n_actions: int, components: int, notes: list[str]) -> int:
    """Values per component such that values ** components is close to the number of combinations asked for."""
    components = max(2, min(components, MAX_COMPONENTS))
    values = max(2, min(6, round(math.pow(n_actions, 1 / components))))
    while values > 2 and values ** components > MAX_COMBINATIONS:
        values -= 1
    if values ** components != n_actions:
        notes.append(f"{n_actions} combinations simulated as {components} components x {values} values "
                     f"({values ** components} combinations)")
    return values


def with_sizes(problem: Problem, rounds: int | None, reps: int | None, arms: int | None) -> Problem:
    out = replace(problem, rounds=rounds or problem.rounds, reps=reps or problem.reps, n_arms=arms or problem.n_arms)
    check_size(out)
    return out


def memory_estimate(problem: Problem) -> int:
    """Bytes of the largest arrays a run keeps: per-arm statistics, model matrices and the stored curves."""
    per_arm = problem.n_arms * {"contextual": problem.n_features ** 2, "dueling": 4 * problem.n_arms,
                                "budget": 2 * problem.n_arms}.get(problem.kind, 8)
    if problem.kind == "combination":
        per_arm = 2 * problem.n_arms ** problem.slate_size
    state = problem.reps * per_arm * 8 * 4
    curves = problem.reps * problem.rounds * 8 * 3
    return state + curves


def check_size(problem: Problem) -> None:
    for name, value in (("rounds", problem.rounds), ("repetitions", problem.reps), ("arms", problem.n_arms)):
        if value < 1:
            raise BanditmapError(f"expected a positive whole number, got {value}", field=name)
    need = memory_estimate(problem)
    if need > MEMORY_LIMIT:
        raise BanditmapError(f"this run would need about {need / 2**30:.1f} GiB of memory (limit "
                             f"{MEMORY_LIMIT / 2**30:.0f} GiB); use fewer rounds, repetitions or arms",
                             field="size")


# Facts of a problem that both the simulated world and the policies know (never read off the world itself)

def item_revenues(problem: Problem) -> np.ndarray:
    """Each item's revenue, known to the seller: 1 for a purchase when the reward is binary, otherwise prices
    spread evenly over [0.2, 1] (which item is dear is fixed; how much customers like it is not)."""
    import numpy as np
    if problem.reward == "binary":
        return np.ones(problem.n_arms)
    return np.linspace(0.2, 1.0, problem.n_arms)


def component_pairs(components: int) -> np.ndarray:
    """The pairs of components (P, 2) whose interactions the page model has. Features are laid out as one block
    of values per component (main effects), then one values x values block per pair."""
    import numpy as np
    return np.array([(a, b) for a in range(components) for b in range(a + 1, components)], dtype=np.int64)


def active_features(choice: np.ndarray, values: int, pairs: np.ndarray) -> np.ndarray:
    """Indices (N, D + P) of the features that a combination switches on (one-hot main effects and pairs)."""
    import numpy as np
    D = choice.shape[1]
    main = np.arange(D) * values + choice
    block = D * values + np.arange(len(pairs)) * values * values
    pair = block + choice[:, pairs[:, 0]] * values + choice[:, pairs[:, 1]]
    return np.concatenate([main, pair], axis=1)
