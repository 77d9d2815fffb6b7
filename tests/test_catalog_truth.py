"""Machine-checkable consistency between what an entry claims and what it says of itself: a caveat that denies
a claim, a `why` that cites nothing, an answer that no entry rules out."""

from __future__ import annotations

import re

import pytest

from banditmap.model import Catalog

# (what the entry's own text says, the claim that text contradicts)
CONTRADICTIONS = [
    (r"all-time (mean|average)s?|never forgets", ("environment", ("drifting", "abrupt"))),
    (r"i\.\s?i\.\s?d\.|one fixed distribution|drawn independently from a fixed", ("environment", ("adversarial",))),
    (r"semi-bandit|a reward (for|per) (each|every) (component|item|position)|per-(component|item) (reward|feedback)",
     ("reward_granularity", ("whole",))),
    (r"repeats? (one|the same) arm until the batch|deterministic(ally)? .*within a batch",
     ("update_batch", ("large",))),
    (r"analy[sz]ed? (only )?for (abrupt|piecewise)|abrupt changes only", ("environment", ("drifting",))),
]


def own_text(entry: object) -> str:
    parts = [getattr(entry, "summary", ""), *getattr(entry, "caveats", ())]
    return " ".join(parts)


@pytest.mark.parametrize("pattern, claim", CONTRADICTIONS, ids=[c[0][:30] for c in CONTRADICTIONS])
def test_no_entry_claims_what_its_own_caveats_deny(catalog: Catalog, pattern: str,
                                                  claim: tuple[str, tuple[str, ...]]) -> None:
    trait, values = claim
    offenders = []
    for entry in catalog.algorithms:
        said = re.search(pattern, own_text(entry), re.I)
        claimed = set(values) & set(entry.handles.get(trait, ()))
        if said and claimed and trait not in entry.why:
            offenders.append(f"{entry.id}: says {said.group(0)!r} yet handles {trait}={', '.join(sorted(claimed))}")
    assert offenders == []


def cites(text: str, entry: object) -> bool:
    """A `why` cites a source: a year, a section or theorem, or the name of one of the entry's authors."""
    if re.search(r"\b(19|20)\d\d\b|section|theorem|lemma|figure", text, re.I):
        return True
    names = {a.split()[-1] for r in getattr(entry, "references", ()) for a in r.authors}
    return any(name in text for name in names)


def test_every_why_cites_its_source(catalog: Catalog) -> None:
    uncited = [f"{e.id}.why.{t}" for e in (*catalog.algorithms, *catalog.adapters) for t, text in e.why.items()
               if not cites(text, e)]
    assert uncited == []


def test_every_answer_beyond_the_default_rules_something_out(catalog: Catalog) -> None:
    """An answer that every entry handles cannot change a shortlist; only a preference question may have one."""
    from banditmap.recommend.coverage import preferences
    ranking_only = preferences(catalog)
    idle = [f"{t.id}={c.id}" for t in catalog.choice_traits if t.id not in ranking_only for c in t.choices
            if c.id != t.default and not c.exit and all(c.id in a.handles[t.id] for a in catalog.algorithms)]
    assert idle == []


def test_every_contextual_entry_says_how_many_actions_it_suits(catalog: Catalog) -> None:
    """Cost and regret of contextual methods grow with the number of actions: hundreds are not millions."""
    silent = [a.id for a in catalog.algorithms if set(a.handles["context"]) & {"linear", "nonlinear"}
              and "single" in a.handles["action_structure"] and "n_actions" not in a.suits]
    assert silent == []
