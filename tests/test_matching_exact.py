"""Scores computed by hand on a three-entry catalog built in the test: every reason's trait, value, points and
text, a number in and out of range on both sides (the suited minimum and maximum themselves included), a
composition's points, the nearest candidates' order, and the fast ranking giving the same numbers."""

from __future__ import annotations

from banditmap.model import (Adapter, Algorithm, Bound, Catalog, Choice, Condition, Cost, Lift, Match, Profile, Reason,
                             Reference, Shortlist, Trait)
from banditmap.recommend.evidence import NO_EVIDENCE
from banditmap.recommend.matching import (NEAREST, Ranked, missed_answers, missed_weights, order, partial_score, rank,
                                          score, score_table, shortlist, suitability, suited_points)

COST = Cost("O(K)", "O(K)")


def choice(id_: str, values: tuple[str, ...], ask_if: tuple[Condition, ...] = (), **extra: Choice) -> Trait:
    choices = tuple(extra.get(v) or Choice(v, v) for v in values)
    return Trait(id_, "g", "choice", f"{id_}?", "", choices, ask_if=ask_if)


FORMULATION = Trait("formulation", "g", "choice", "?", "",
                    (Choice("bandit", "a bandit"), Choice("full", "full information", exit="use supervised learning")))
STRUCTURE = choice("structure", ("single", "ranking", "combo"),
                   combo=Choice("combo", "a combination", frontier="no method yet", partly=("ranking",)))
ENV = choice("env", ("stationary", "abrupt"))
WINDOW = choice("window", ("short", "long"), ask_if=(Condition("env", ("abrupt",)),))
DELAY = choice("delay", ("immediate", "delayed"))
N_ACTIONS = Trait("n_actions", "g", "number", "how many?", "", minimum=1, maximum=1e6, integer=True)
TRAITS = (FORMULATION, STRUCTURE, ENV, WINDOW, N_ACTIONS, DELAY)


def algorithm(id_: str, maturity: str, handles: dict, prefers: dict | None = None,
              suits: dict | None = None) -> Algorithm:
    return Algorithm(id_, id_.title(), "family", "summary", maturity, handles, prefers or {}, suits or {}, (), (),
                     COST, (), (), None)


ALPHA = algorithm("alpha", "production",
                  {"formulation": ("bandit",), "structure": ("single", "ranking"), "env": ("stationary",),
                   "window": ("short", "long"), "delay": ("immediate", "delayed")},
                  prefers={"structure": ("ranking",)}, suits={"n_actions": Bound(10, 100)})
BETA = algorithm("beta", "studied",
                 {"formulation": ("bandit",), "structure": ("single",), "env": ("stationary", "abrupt"),
                  "window": ("short",), "delay": ("immediate",)},
                 suits={"n_actions": Bound(maximum=50)})
GAMMA = algorithm("gamma", "research",  # states nothing about delays: it handles none
                  {"formulation": ("bandit",), "structure": ("single", "ranking"), "env": ("stationary",),
                   "window": ("short", "long")},
                  suits={"n_actions": Bound(minimum=3)})
PAPER = Reference(("Ann Author", "Bo Writer"), 2011, "A Paper", "Venue")


def adapter(id_: str, lifts: dict[str, Lift], penalty: float, references: tuple[Reference, ...] = ()) -> Adapter:
    return Adapter(id_, id_.title(), "wraps", lifts, {}, ("policy",), (), penalty, {}, references, COST, (), (), None)


WIN = adapter("win", {"env": Lift(("stationary",), ("abrupt",))}, 2.0, (PAPER,))
QUEUE = adapter("queue", {"delay": Lift((), ("delayed",))}, 1.0)  # lifts a base that states nothing on delays
CATALOG = Catalog((), TRAITS, (), (ALPHA, BETA, GAMMA), (), adapters=(WIN, QUEUE))
MATURITY = {"alpha": Reason("maturity", "production", 1.0, "maturity: production"),
            "beta": Reason("maturity", "studied", 0.5, "maturity: studied"),
            "gamma": Reason("maturity", "research", 0.0, "maturity: research")}


def test_a_score_adds_preferred_handled_suited_unsuited_and_maturity_points() -> None:
    profile = Profile({"structure": "ranking", "n_actions": 2})
    alpha = Match(ALPHA, 2.0, (Reason("structure", "ranking", 3.0, "built for structure=ranking"),
                               Reason("n_actions", 2, -2.0, "n_actions=2 is below the 10 it needs"),
                               MATURITY["alpha"]), ())
    gamma = Match(GAMMA, -1.0, (Reason("structure", "ranking", 1.0, "handles structure=ranking"),
                                Reason("n_actions", 2, -2.0, "n_actions=2 is below the 3 it needs"),
                                MATURITY["gamma"]), ())
    beta = Match(BETA, 0.0, (Reason("n_actions", 2, 1.0, "n_actions=2 is in the range it suits"), MATURITY["beta"]),
                 (Reason("structure", "ranking", 0.0, "does not handle structure=ranking (handles single)"),))
    assert score(ALPHA, profile, TRAITS) == alpha
    assert score(BETA, profile, TRAITS) == beta  # ruled out: no points, whatever its reasons add up to
    assert partial_score(beta) == 1.5
    expected = Shortlist(profile, (alpha, gamma), (beta,), ("formulation", "env", "delay"), 2,
                         evidence_note=NO_EVIDENCE)
    assert shortlist(profile, CATALOG) == expected
    assert shortlist(profile, CATALOG, compose=False) == expected
    assert shortlist(profile, CATALOG, top=1) == Shortlist(profile, (alpha,), (beta,), expected.unanswered, 2,
                                                           evidence_note=NO_EVIDENCE)


def test_a_trait_an_entry_does_not_state_is_one_it_does_not_handle() -> None:
    profile = Profile({"delay": "delayed"})
    gamma = score(GAMMA, profile, TRAITS)
    assert gamma.ruled_out == (Reason("delay", "delayed", 0.0, "does not handle delay=delayed (handles nothing)"),)
    beta = score(BETA, profile, TRAITS)
    assert beta.ruled_out == (Reason("delay", "delayed", 0.0, "does not handle delay=delayed (handles immediate)"),)


def test_suited_minimum_and_maximum_are_inside_the_range() -> None:
    both, above_only, below_only = Bound(10, 100), Bound(maximum=50), Bound(minimum=3)
    assert [suited_points(n, both) for n in (9, 9.5, 10, 55, 100, 100.5, 101)] == [-2, -2, 1, 1, 1, -2, -2]
    assert [suited_points(n, above_only) for n in (-1e9, 0, 50, 51)] == [1, 1, 1, -2]
    assert [suited_points(n, below_only) for n in (2, 3, 1e12)] == [-2, 1, 1]
    assert suited_points(7, Bound()) == 1
    assert suitability("n_actions", 100, both) == \
        Reason("n_actions", 100, 1.0, "n_actions=100 is in the range it suits")
    assert suitability("n_actions", 10, both) == Reason("n_actions", 10, 1.0, "n_actions=10 is in the range it suits")
    assert suitability("n_actions", 101, both) == \
        Reason("n_actions", 101, -2.0, "n_actions=101 is above the 100 it suits")
    assert suitability("n_actions", 9, both) == Reason("n_actions", 9, -2.0, "n_actions=9 is below the 10 it needs")
    assert suitability("n_actions", 2.5, below_only) == \
        Reason("n_actions", 2.5, -2.0, "n_actions=2.5 is below the 3 it needs")
    assert suitability("n_actions", 51, above_only) == \
        Reason("n_actions", 51, -2.0, "n_actions=51 is above the 50 it suits")


def test_a_composition_earns_its_base_points_one_per_lifted_answer_less_each_penalty() -> None:
    profile = Profile({"env": "abrupt", "structure": "single", "window": "long"})
    beta = score(BETA, profile, TRAITS)  # handles abrupt, not a long window: ruled out, no adapter lifts windows
    alpha_win = Match(ALPHA, 2.0, (
        Reason("structure", "single", 1.0, "handles structure=single"),
        Reason("env", "abrupt", 1.0, "+ Win (Author & Writer 2011) for env=abrupt"),
        Reason("window", "long", 1.0, "handles window=long"),
        MATURITY["alpha"],
        Reason("adapter", "win", -2.0, "wrapped by Win: -2 (a reduction, not a method built for the whole problem)"),
    ), (), (WIN,))
    gamma_win = Match(GAMMA, 1.0, alpha_win.reasons[:3] + (MATURITY["gamma"], alpha_win.reasons[4]), (), (WIN,))
    unanswered = ("formulation", "n_actions", "delay")
    assert shortlist(profile, CATALOG) == Shortlist(profile, (alpha_win, gamma_win), (beta,), unanswered, 2,
                                                    evidence_note=NO_EVIDENCE)
    alpha, gamma = score(ALPHA, profile, TRAITS), score(GAMMA, profile, TRAITS)
    assert [partial_score(m) for m in (alpha, beta, gamma)] == [3.0, 2.5, 2.0]  # each misses one answer
    assert shortlist(profile, CATALOG, compose=False) == Shortlist(
        profile, (alpha, beta, gamma), (alpha, beta, gamma), unanswered, 0, exact=False)


def test_a_lift_from_nothing_is_named_without_a_paper_and_numbers_still_count() -> None:
    profile = Profile({"delay": "delayed", "n_actions": 60})
    gamma_queue = Match(GAMMA, 1.0, (
        Reason("n_actions", 60, 1.0, "n_actions=60 is in the range it suits"),
        Reason("delay", "delayed", 1.0, "+ Queue for delay=delayed"),
        MATURITY["gamma"],
        Reason("adapter", "queue", -1.0, "wrapped by Queue: -1 (a reduction, not a method built for the whole "
                                         "problem)"),
    ), (), (QUEUE,))
    alpha = Match(ALPHA, 3.0, (Reason("n_actions", 60, 1.0, "n_actions=60 is in the range it suits"),
                               Reason("delay", "delayed", 1.0, "handles delay=delayed"), MATURITY["alpha"]), ())
    beta_queue_score = -2.0 + 1.0 + 0.5 - 1.0  # 60 is above the 50 it suits; the queue lifts its delays
    result = shortlist(profile, CATALOG)
    assert result.ranked[0] == alpha and result.ranked[1] == gamma_queue
    assert [(m.id, m.score) for m in result.ranked] == [("alpha", 3.0), ("gamma+queue", 1.0),
                                                        ("beta+queue", beta_queue_score)]
    assert result.excluded == () and result.kept_total == 3


def test_an_exact_entry_and_a_composition_of_equal_score_and_ids_break_ties() -> None:
    first = Match(ALPHA, 1.0, (), ())
    assert order(first) == (-1.0, False, "alpha")
    assert order(Match(ALPHA, 1.0, (), (), (WIN,))) == (-1.0, True, "alpha+win")
    assert sorted([Match(BETA, 1.0, (), ()), Match(ALPHA, 1.0, (), (), (WIN,)), Match(GAMMA, 2.0, (), ()), first],
                  key=order) == [Match(GAMMA, 2.0, (), ()), first, Match(BETA, 1.0, (), ()),
                                 Match(ALPHA, 1.0, (), (), (WIN,))]


def test_nearest_candidates_when_nothing_handles_every_answer() -> None:
    profile = Profile({"structure": "combo", "env": "abrupt", "window": "long"})
    alpha, beta, gamma = (score(a, profile, TRAITS) for a in (ALPHA, BETA, GAMMA))
    # misses: alpha combo (half: it handles the ranking part) + abrupt = 1.5; beta combo + long window = 2;
    # gamma 1.5 like alpha, fewer points (maturity 0)
    unanswered = ("formulation", "n_actions", "delay")
    near = Shortlist(profile, (alpha, gamma, beta), (alpha, beta, gamma), unanswered, 0, exact=False,
                     frontier="no method yet")
    assert partial_score(alpha) == 2.0 and partial_score(gamma) == 1.0
    assert alpha.ruled_out == (
        Reason("structure", "combo", 0.0, "does not handle structure=combo (handles single, ranking)"),
        Reason("env", "abrupt", 0.0, "does not handle env=abrupt (handles stationary)"))
    assert shortlist(profile, CATALOG) == near
    assert shortlist(profile, CATALOG, top=1) == Shortlist(profile, (alpha,), near.excluded, unanswered, 0,
                                                           exact=False, frontier="no method yet")
    fast, exact = rank(profile.answers, score_table(CATALOG))
    assert not exact
    assert fast == [Ranked(ALPHA, 2.0, (), ("structure=combo", "env=abrupt")),
                    Ranked(GAMMA, 1.0, (), ("structure=combo", "env=abrupt")),
                    Ranked(BETA, 1.5, (), ("structure=combo", "window=long"))]
    assert rank(profile.answers, score_table(CATALOG), top=2)[0] == fast[:2]


def test_at_most_five_nearest_candidates_unless_top_says_otherwise() -> None:
    many = tuple(algorithm(f"e{i}", "production", {"structure": ("single",)}) for i in range(NEAREST + 2))
    catalog = Catalog((), TRAITS, (), many, ())
    profile = Profile({"structure": "ranking"})
    assert NEAREST == 5
    assert [m.id for m in shortlist(profile, catalog).ranked] == [f"e{i}" for i in range(5)]
    assert len(shortlist(profile, catalog).excluded) == 7
    assert len(shortlist(profile, catalog, top=6).ranked) == 6
    assert [r.algorithm.id for r in rank(profile.answers, score_table(catalog))[0]] == [f"e{i}" for i in range(5)]
    assert len(rank(profile.answers, score_table(catalog), top=6)[0]) == 6


def test_an_answer_that_leaves_the_map_ranks_nothing() -> None:
    profile = Profile({"formulation": "full", "structure": "single"})
    assert shortlist(profile, CATALOG) == Shortlist(profile, (), (), (), 0, exact=False,
                                                    advice="use supervised learning")


def test_unanswered_lists_the_questions_still_to_ask() -> None:
    assert shortlist(Profile({}), CATALOG).unanswered == ("formulation", "structure", "env", "n_actions", "delay")
    assert shortlist(Profile({"env": "abrupt"}), CATALOG).unanswered == (
        "formulation", "structure", "window", "n_actions", "delay")
    assert shortlist(Profile({"env": "stationary", "window": "short"}), CATALOG).unanswered == (
        "formulation", "structure", "n_actions", "delay")


def test_score_table_holds_each_entrys_points_and_handled_bits() -> None:
    table = score_table(CATALOG)
    assert table.algorithms == (ALPHA, BETA, GAMMA) and table.everyone == 0b111
    assert table.handled[("structure", "ranking")] == 0b101 and table.handled[("structure", "single")] == 0b111
    assert table.handled[("delay", "delayed")] == 0b001 and table.handled[("structure", "combo")] == 0
    assert table.points[("structure", "ranking")] == (3.0, 0.0, 1.0)
    assert table.points[("delay", "immediate")] == (1.0, 1.0, 0.0)
    assert table.suits == (("n_actions", 0, Bound(10, 100)), ("n_actions", 1, Bound(maximum=50)),
                           ("n_actions", 2, Bound(minimum=3)))
    assert table.base == (1.0, 0.5, 0.0)


def test_fast_ranking_gives_the_hand_computed_scores() -> None:
    table = score_table(CATALOG)
    assert rank({"structure": "ranking", "n_actions": 2}, table) == ([Ranked(ALPHA, 2.0), Ranked(GAMMA, -1.0)], True)
    assert rank({"structure": "ranking", "n_actions": 2}, table, top=1) == ([Ranked(ALPHA, 2.0)], True)
    answers = {"env": "abrupt", "structure": "single", "window": "long"}
    assert rank(answers, table) == ([Ranked(ALPHA, 2.0, (WIN,)), Ranked(GAMMA, 1.0, (WIN,))], True)
    assert rank(answers, table, compose=False) == (
        [Ranked(ALPHA, 3.0, (), ("env=abrupt",)), Ranked(BETA, 2.5, (), ("window=long",)),
         Ranked(GAMMA, 2.0, (), ("env=abrupt",))], False)
    lifted = {"delay": "delayed", "n_actions": 60}
    assert rank(lifted, table) == ([Ranked(ALPHA, 3.0), Ranked(GAMMA, 1.0, (QUEUE,)), Ranked(BETA, -1.5, (QUEUE,))],
                                   True)
    assert rank(lifted, table, compose=False) == ([Ranked(ALPHA, 3.0)], True)
    assert rank({"env": "abrupt"}, table, compose=False) == ([Ranked(BETA, 1.5)], True)
    without_adapters = score_table(Catalog((), TRAITS, (), (ALPHA, BETA, GAMMA), ()))
    assert rank({"env": "abrupt"}, without_adapters) == ([Ranked(BETA, 1.5)], True)
    assert rank({"delay": "delayed", "structure": "single"}, table)[0] == [
        Ranked(ALPHA, 3.0), Ranked(BETA, 1.5, (QUEUE,)), Ranked(GAMMA, 1.0, (QUEUE,))]


def test_missed_answers_and_their_weight() -> None:
    masks = [(("structure", "combo"), 0b000), (("env", "abrupt"), 0b010), (("window", "long"), 0b101)]
    assert missed_answers(masks, 0b111, 3) == [[("structure", "combo"), ("env", "abrupt")],
                                               [("structure", "combo"), ("window", "long")],
                                               [("structure", "combo"), ("env", "abrupt")]]
    assert missed_answers(masks, 0b010, 3) == [[], [("structure", "combo"), ("window", "long")], []]
    assert missed_answers([(("env", "abrupt"), 0b0110)], 0b1001, 4) == [[("env", "abrupt")], [], [],
                                                                       [("env", "abrupt")]]
    table = score_table(CATALOG)
    masks = [(("structure", "combo"), 0b000), (("env", "abrupt"), 0b000)]
    assert missed_weights(masks, table) == [1.5, 2.0, 1.5]  # beta handles no ranking
    assert missed_weights([(("env", "abrupt"), 0b010)], table) == [1.0, 0.0, 1.0]
    assert missed_weights([], table) == [0.0, 0.0, 0.0]
