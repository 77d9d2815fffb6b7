"""The frozen dataclasses that cross module borders: traits, algorithms, the catalog, profiles and matches."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Sequence

Answer = str | float
"""A profile's answer: a choice trait's value id, or a number."""


@dataclass(frozen=True)
class Term:
    """A named value of the catalog's vocabulary and what it means."""

    id: str
    meaning: str


@dataclass(frozen=True)
class Choice(Term):
    """One answer to a choice trait: a value of the map, where it comes from, and whether it leaves the map."""

    source: str = ""  # where this branch of the map comes from
    exit: str = ""  # for an answer that leaves the map (not a bandit problem): what to do instead, and why
    frontier: str = ""  # for an answer no known method handles: why not, and what to do meanwhile
    partly: tuple[str, ...] = ()  # for a frontier: values of the same trait that meet part of it


@dataclass(frozen=True)
class Capability(Term):
    """Something a base algorithm is, which an adapter may require (an index policy, confidence bounds...)."""


@dataclass(frozen=True)
class Condition:
    """`trait` must have one of `values` (an unanswered trait does not satisfy it)."""

    trait: str
    values: tuple[str, ...]

    def holds(self, answers: Mapping[str, Answer]) -> bool:
        return answers.get(self.trait) in self.values

    def describe(self) -> str:
        return f"{self.trait} is {' or '.join(self.values)}"


@dataclass(frozen=True)
class Trait:
    """One decision point of the map: a question with named choices, or a number."""

    id: str
    group: str
    kind: str  # "choice" or "number"
    question: str
    help: str
    choices: tuple[Choice, ...] = ()
    default: Answer | None = None
    ask_if: tuple[Condition, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    source: str = ""
    unstated: tuple[str, ...] | None = None  # values an entry that does not state this trait is taken to handle

    @property
    def is_choice(self) -> bool:
        return self.kind == "choice"

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.choices)

    def meaning(self, value: str) -> str:
        return next((c.meaning for c in self.choices if c.id == value), "")

    def exit(self, value: object) -> str:
        """What to do instead when `value` leaves the map, or ""."""
        return next((c.exit for c in self.choices if c.id == value), "")


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    source: str = ""


@dataclass(frozen=True)
class Bound:
    """Allowed range of a number trait; `at_most` names another number trait it may not exceed."""

    minimum: float | None = None
    maximum: float | None = None
    at_most: str | None = None


@dataclass(frozen=True)
class Rule:
    """A consistency rule: when every condition holds, each requirement must too."""

    when: tuple[Condition, ...]
    choices: Mapping[str, tuple[str, ...]]
    bounds: Mapping[str, Bound]
    why: str


@dataclass(frozen=True)
class Reference:
    authors: tuple[str, ...]
    year: int
    title: str
    venue: str
    doi: str | None = None
    arxiv: str | None = None
    url: str | None = None  # a stable page of the paper, for venues that give neither DOI nor arXiv id

    @property
    def link(self) -> str:
        """Where the paper can be read: its DOI, else its arXiv page, else its stable URL."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.arxiv:
            return f"https://arxiv.org/abs/{self.arxiv}"
        return self.url or ""

    def short(self) -> str:
        """`Garivier & Moulines 2011`, `Joulani et al. 2013`."""
        names = [a.split()[-1] for a in self.authors] or ["?"]
        lead = names[0] if len(names) == 1 else f"{names[0]} & {names[1]}" if len(names) == 2 else \
            f"{names[0]} et al."
        return f"{lead} {self.year}"

    def cite(self) -> str:
        first = self.authors[0].split()[-1] if self.authors else "?"
        etal = " et al." if len(self.authors) > 2 else (f" and {self.authors[1].split()[-1]}"
                                                       if len(self.authors) == 2 else "")
        ident = f"doi:{self.doi}" if self.doi else (f"arXiv:{self.arxiv}" if self.arxiv else self.url)
        return f"{first}{etal} ({self.year}). {self.title}. {self.venue}. {ident}"


@dataclass(frozen=True)
class Hyperparameter:
    """A setting of an algorithm: its name as the paper or library spells it, the default there (None when the
    source gives none) and what it controls."""

    name: str
    default: float | int | str | bool | None
    meaning: str


@dataclass(frozen=True)
class Cost:
    """Big-O time per decision and memory, as text (`O(K)`, `O(d^2) per arm`)."""

    decision: str
    memory: str


@dataclass(frozen=True)
class Implementation:
    """Where running code for an algorithm lives: an import path or command-line options, in a checked version."""

    library: str
    name: str  # dotted import path (Python libraries) or options (Vowpal Wabbit)
    version: str  # the library version in which the name was checked
    grade: str  # "production" (maintained, used in production systems) or "reference" (research code)

    def describe(self) -> str:
        return f"{self.library} {self.version}: {self.name}"


@dataclass(frozen=True)
class Algorithm:
    """A catalog entry: the answers one algorithm can serve (handles) and is built for (prefers), per trait, with
    the papers that show it."""

    id: str
    name: str
    family: str
    summary: str
    maturity: str
    handles: Mapping[str, tuple[str, ...]]
    prefers: Mapping[str, tuple[str, ...]]
    suits: Mapping[str, Bound]
    references: tuple[Reference, ...]
    hyperparameters: tuple[Hyperparameter, ...]
    cost: Cost
    implementations: tuple[Implementation, ...]  # empty when the catalog says `none known`
    caveats: tuple[str, ...]
    simulator: str | None
    source: str = ""
    why: Mapping[str, str] = field(default_factory=dict)  # per trait: why the handles/prefers claim holds
    provides: tuple[str, ...] = ("policy",)  # capabilities an adapter may require of its base


@dataclass(frozen=True)
class Lift:
    """An adapter's effect on one trait: a base handling every value of `base` then handles `gives` too."""

    base: tuple[str, ...]
    gives: tuple[str, ...]

    @property
    def adds(self) -> frozenset[str]:
        """The values the wrapped algorithm handles that its base need not."""
        return frozenset(self.gives) - frozenset(self.base)


@dataclass(frozen=True)
class Adapter:
    """A reduction that wraps a base algorithm and lifts it to trait values it cannot serve alone."""

    id: str
    name: str
    summary: str
    lifts: Mapping[str, Lift]
    restricts: Mapping[str, tuple[str, ...]]  # the composition handles only these values of these traits
    requires: tuple[str, ...]  # capabilities the wrapped algorithm must have
    keeps: tuple[str, ...]  # capabilities the composition still has (besides policy)
    penalty: float  # points a composition loses for using this adapter
    why: Mapping[str, str]
    references: tuple[Reference, ...]
    cost: Cost
    implementations: tuple[Implementation, ...]
    caveats: tuple[str, ...]
    simulator: str | None
    source: str = ""

    @property
    def family(self) -> str:
        return "adapter"


@dataclass(frozen=True)
class UseCase:
    """A shipped example problem: a retailer's situation in words and the questionnaire's answers for it, read from
    the catalog's `usecases/` folder (`source` names the file)."""

    id: str
    name: str
    description: str
    answers: Mapping[str, Answer]
    source: str = ""


@dataclass(frozen=True)
class Standing:
    """How one candidate (an entry or a composition) fared in one class of simulated problems: each problem is a
    random instance raced by every candidate of the class on the same draws."""

    candidate: str
    problems: int  # problem instances it raced in this class
    ratio: float  # geometric mean over problems of (regret + 1) / (the best candidate's regret + 1); 1 = always best
    within: float  # share of problems where its regret was within 10% of the best's (on regret + 1)
    rank: float  # mean rank among the class's candidates (1 = best)
    ratio_low: float  # first quartile of that ratio over problems
    ratio_high: float  # third quartile


@dataclass(frozen=True)
class EvidenceClass:
    """One class of problems in the evidence: the problem signature it stands for and how its candidates fared."""

    key: str  # e.g. arms/binary/stationary/delayed/none/cumulative (sim.problem's signature)
    description: str
    answers: Mapping[str, Answer]  # the grid's answers the class was raced from
    problems: int  # instances per candidate (sizes x instances)
    standings: Mapping[str, Standing]  # by candidate id


@dataclass(frozen=True)
class Evidence:
    """Races over a grid of problem classes (banditmap evidence build), as read from an evidence file."""

    source: str
    provenance: Mapping[str, object]
    classes: Mapping[str, EvidenceClass]


@dataclass(frozen=True)
class Catalog:
    """Everything loaded from one or more catalog folders, merged by id."""

    groups: tuple[Group, ...]
    traits: tuple[Trait, ...]
    rules: tuple[Rule, ...]
    algorithms: tuple[Algorithm, ...]
    usecases: tuple[UseCase, ...]
    sources: tuple[str, ...] = ()
    adapters: tuple[Adapter, ...] = ()
    capabilities: tuple[Capability, ...] = ()
    evidence: Evidence | None = None  # races over a grid of problem classes, if the catalog has them

    def trait(self, trait_id: str) -> Trait | None:
        return next((t for t in self.traits if t.id == trait_id), None)

    def algorithm(self, algorithm_id: str) -> Algorithm | None:
        return next((a for a in self.algorithms if a.id == algorithm_id), None)

    def usecase(self, usecase_id: str) -> UseCase | None:
        return next((u for u in self.usecases if u.id == usecase_id), None)

    def adapter(self, adapter_id: str) -> Adapter | None:
        return next((a for a in self.adapters if a.id == adapter_id), None)

    @property
    def choice_traits(self) -> tuple[Trait, ...]:
        return tuple(t for t in self.traits if t.is_choice)

    def partial_misses(self, answers: Mapping[str, Answer], handles: Mapping[str, tuple[str, ...]]) -> float:
        """Answers missed by an entry with these `handles`, a frontier answer counting half when the entry
        handles a value that meets part of it (a budget, for a budget and a safety baseline)."""
        total = 0.0
        for trait in self.choice_traits:
            value = answers.get(trait.id)
            if value is None or value in handles.get(trait.id, ()):
                continue
            partly = next((c.partly for c in trait.choices if c.id == value), ())
            total += 0.5 if set(partly) & set(handles.get(trait.id, ())) else 1.0
        return total

    def frontier(self, answers: Mapping[str, Answer]) -> str:
        """Why no known method handles one of these answers (the first such), or ""."""
        return next((c.frontier for t in self.choice_traits if t.id in answers for c in t.choices
                     if c.id == answers[t.id] and c.frontier), "")

    def exit(self, answers: Mapping[str, Answer]) -> str:
        """The advice of the first answer that leaves the map (this is not a bandit problem), or ""."""
        return next((text for t in self.choice_traits if t.id in answers and (text := t.exit(answers[t.id]))), "")


@dataclass(frozen=True)
class Profile:
    """A use case described by trait answers; traits left out are unanswered."""

    answers: Mapping[str, Answer] = field(default_factory=dict)
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", MappingProxyType(dict(self.answers)))


@dataclass(frozen=True)
class Reason:
    """Why a trait answer counts for or against an algorithm."""

    trait: str
    value: Answer
    points: float
    text: str


@dataclass(frozen=True)
class Match:
    """How one candidate fits a profile: a catalog entry alone, or composed with adapters (innermost first)."""

    algorithm: Algorithm
    score: float
    reasons: tuple[Reason, ...]  # what earned (or cost) points
    ruled_out: tuple[Reason, ...]  # hard mismatches; empty when the candidate is kept
    adapters: tuple[Adapter, ...] = ()
    standing: Standing | None = None  # how it fared in simulated problems of the profile's class

    @property
    def kept(self) -> bool:
        return not self.ruled_out

    @property
    def composed(self) -> bool:
        return bool(self.adapters)

    @property
    def id(self) -> str:
        return composite_id(self.algorithm, self.adapters)

    @property
    def name(self) -> str:
        return composite_name(self.algorithm, self.adapters)


def composite_id(algorithm: Algorithm, adapters: Sequence[Adapter] = ()) -> str:
    """`ucb1`, or `ucb1+sliding-window+delay-queue` for a composition (base first, innermost adapter next)."""
    return "+".join([algorithm.id, *(a.id for a in adapters)])


def composite_name(algorithm: Algorithm, adapters: Sequence[Adapter] = ()) -> str:
    return " + ".join([algorithm.name, *(a.name for a in adapters)])


@dataclass(frozen=True)
class Shortlist:
    profile: Profile
    ranked: tuple[Match, ...]
    excluded: tuple[Match, ...]
    unanswered: tuple[str, ...]
    kept_total: int = 0  # kept candidates before --top cut the list
    exact: bool = True  # False when nothing handles every answer and `ranked` holds the nearest candidates
    advice: str = ""  # set when an answer leaves the map: not a bandit problem, and what to do instead
    frontier: str = ""  # set when an answer is one no known method handles: why, and what to do meanwhile
    evidence: EvidenceClass | None = None  # the simulated problems like this profile's, when the catalog has them
    evidence_note: str = ""  # what the evidence did to the order, or why there was none
