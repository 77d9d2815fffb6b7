"""The compiled adapters' names and rows (sim/kernels/wrappers.py), checked directly: how a composite kernel's name
splits into its template and its base's kernels (nested ones too), the Python identifier it compiles under, and
the scratch row each adapter adds after its base's, the last column holding the number of its own."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from banditmap.sim.kernels import wrappers


def test_a_composite_name_splits_into_its_template_and_its_bases_kernels() -> None:
    assert wrappers.split("queue_choose<choose_ucb1|learn_counts>") == ("queue_choose", "choose_ucb1", "learn_counts")
    nested = "window_learn<queue_choose<choose_kl_ucb|learn_kl_ucb>|queue_learn<choose_kl_ucb|learn_kl_ucb>>"
    assert wrappers.split(nested) == ("window_learn", "queue_choose<choose_kl_ucb|learn_kl_ucb>",
                                      "queue_learn<choose_kl_ucb|learn_kl_ucb>")
    deeper = "robust_choose<a<b<c|d>|e>|f<g|h>>"
    assert wrappers.split(deeper) == ("robust_choose", "a<b<c|d>|e>", "f<g|h>")
    with pytest.raises(ValueError, match="not a composite kernel name: queue_choose<choose_ucb1>"):
        wrappers.split("queue_choose<choose_ucb1>")


def test_a_composite_compiles_under_a_short_identifier_of_its_own() -> None:
    assert wrappers.symbol("choose_ucb1") == "choose_ucb1"
    name = "queue_choose<choose_ucb1|learn_counts>"
    digest = hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
    assert wrappers.symbol(name) == f"queue_choose_{digest}" and len(digest) == 16
    other = "queue_choose<choose_kl_ucb|learn_kl_ucb>"
    assert wrappers.symbol(other) != wrappers.symbol(name) and wrappers.symbol(other).isidentifier()
    assert wrappers.composite_name("queue_choose", "choose_ucb1", "learn_counts") == name


def test_a_composed_row_keeps_the_note_column_for_the_race_then_the_adapters_columns() -> None:
    K = 3
    region = np.array([7.0, 2.0])
    plain = np.array([0.5, 0.5, 0.5, 0.25])  # K + 1 wide: given a note column (K + 1) first
    assert wrappers.composed_row(plain, K, region).tolist() == [0.5, 0.5, 0.5, 0.25, 0.0, 7.0, 2.0]
    noted = np.array([0.5, 0.5, 0.5, 0.25, 9.0])  # K + 2 wide: as it is
    assert wrappers.composed_row(noted, K, region).tolist() == [0.5, 0.5, 0.5, 0.25, 9.0, 7.0, 2.0]
    wide = np.arange(8.0)  # wider rows (a window's ring) likewise
    assert wrappers.composed_row(wide, K, region).tolist() == [*range(8), 7.0, 2.0]


def test_each_adapters_own_columns_end_with_their_number() -> None:
    # the queue: each arm's first and last queued slot (2K), the first free slot and the slots used (2), each
    # slot's reward and next slot (2 x slots), then the number of own columns
    queue = wrappers.queue_region(3, 4)
    assert queue.shape == (2 * 3 + 2 + 2 * 4 + 1,) and queue[-1] == queue.shape[0]
    window = wrappers.window_region(5)  # the cursor, each slot's arm, count and sum added (3 x slots), the number
    assert window.shape == (3 * 5 + 2,) and window[-1] == 17.0 and not window[:-1].any()
    robust = wrappers.robust_region(4, 100)  # log(1/delta) with delta = 1/T^2, each arm's rewards seen, the number
    assert robust.tolist() == [2 * math.log(100), 0, 0, 0, 0, 6.0]
    assert wrappers.robust_region(4, 1)[0] == 2 * math.log(2)  # a horizon under 2 is taken as 2
    scratch = np.zeros((2, 10))
    scratch[1, -1] = 6.0
    assert wrappers.own(scratch, 1) == 4 and wrappers.own(np.full((1, 5), 5.0), 0) == 0


@pytest.mark.parametrize("margin", [1e-3, -1e-3])
def test_the_truncated_mean_index_by_hand_at_a_margin_either_way(margin: float) -> None:
    """Robust UCB's choice (the robust-mean kernels around plain counting): the largest mean +
    4 u^(1/(1+e)) (log(1/delta) / n)^(e/(1+e)), delta = 1/T^2. Two tried arms are set 0.001 apart on that index, one
    way then the other, and a third, worse, arm is there too; any other width would move the gap by more."""
    from banditmap.sim.policies.mab import RobustUCB
    from banditmap.sim.problem import problem_from_answers
    u, e, T = 2.0, 0.5, 100
    policy = RobustUCB(moment_bound=u, epsilon=e)
    problem = problem_from_answers({"n_actions": 3}, rounds=T, reps=2)
    s = policy.init(problem, np.random.default_rng(0))
    width = lambda n: 4 * u ** (1 / (1 + e)) * (2 * math.log(T) / n) ** (e / (1 + e))  # noqa: E731
    counts = np.array([[4.0, 9.0, 30.0]] * 2)
    means = np.array([[0.2, 0.2 + width(4) - width(9) + margin, 0.1]] * 2)
    s.counts[:], s.means[:], s.sums[:] = counts, means, counts * means
    chosen = policy.select(s, None)
    assert chosen.tolist() == [1 if margin > 0 else 0] * 2
    s.counts[1, 2] = 0.0  # an untried arm first
    assert policy.select(s, None)[1] == 2
