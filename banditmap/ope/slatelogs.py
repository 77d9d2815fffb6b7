"""Slate logs as they are read: rows grouped into slates by a slate id column, one row per slot (the item shown, its
position, the slot's logging propensity, the slot's reward). Checks the grouping chunk by chunk and numbers the
slates in log order; a malformed slate log is refused at the line where it goes wrong.

The layout is Open Bandit Pipeline's slate feedback (slate_id, position, the item, reward, pscore_item_position) and
the Open Bandit Dataset's one row per (impression, position), with the impression named. A reward for the whole
slate goes on one of its rows (the others 0): a slate's reward is the sum of its rows' rewards. Refused:
- a slate whose rows are not consecutive (its id met again after other slates): slates are read as they stream;
- two rows of one slate at the same position;
- a slate that does not fill every position of the log (a missing slot);
- propensities that cannot be each slot's own probability of its item: one value on every row of a uniformly
  logged log other than about 1 / items, or one value per slate on every slate of a non-uniform log (the slate's
  own probability repeated on its rows, such as Open Bandit Pipeline's pscore).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from banditmap.errors import BanditmapError, shown
from banditmap.ope.logfiles import Place

Array = np.ndarray


@dataclass(frozen=True)
class SlateFacts:
    """What the first pass learned about a slate log's slates."""

    size: int  # slots per slate (the log's positions)
    slates: int
    repeats: bool  # some slate shows one item in two slots: slots were filled with replacement
    form: str  # "uniform" (uniformly random without replacement) or "independent" (slots filled independently)
    items: int = 0  # uniform form: the items drawn from, 1 / propensity (some may never appear in the log)


class SlateReader:
    """Reads the slate id column chunk by chunk: numbers each row's slate, and checks each slate once all its rows
    are in (the last slate of a chunk is carried to the next)."""

    def __init__(self, source: str, column: str, position_column: str, propensity_column: str | None) -> None:
        self.source, self.column = source, column
        self.position_column, self.propensity_column = position_column, propensity_column
        self.ids: list[str] = []  # slate ids by slate number
        self.known: set[str] = set()
        self.sizes: list[int] = []  # rows per slate
        self.first: list[int] = []  # the line (or Parquet row) of each slate's first row
        self.unit = "line"
        self.repeats = False
        self.varied = False  # some slate's rows carry different propensities
        self.carry: dict[str, Array] = {}

    def add(self, place: Place, ids: Array, positions: Array, items: Array, propensities: Array) -> Array:
        """The slate number of every row of a chunk; `positions` and `items` are codes, the same code for the same
        label in every chunk."""
        self.unit = place.unit
        labels = _texts(ids)
        empty = np.char.str_len(labels) == 0
        if empty.any():
            raise place.refuse(int(np.argmax(empty)), "expected a slate id, got an empty field", self.column)
        n = len(labels)
        change = np.ones(n, dtype=bool)
        change[1:] = labels[1:] != labels[:-1]
        if self.ids:
            change[0] = labels[0] != self.ids[-1]
        starts = np.flatnonzero(change)
        for offset, label in zip(starts.tolist(), labels[starts].tolist(), strict=True):
            if label in self.known:
                raise place.refuse(offset, f"expected the rows of slate {shown(label)} together, one row per slot "
                                           "one after another; it appears again here after other slates",
                                   self.column)
            self.known.add(label)
            self.ids.append(label)
        number = len(self.ids) - len(starts) - 1 + np.cumsum(change)
        counts = np.bincount(number - number[0], minlength=int(number[-1] - number[0]) + 1) if n else np.zeros(0, int)
        if n and not change[0]:
            self.sizes[-1] += int(counts[0])
            counts = counts[1:]
        self.sizes.extend(counts.tolist())
        self.first.extend(place.numbers[starts].tolist())
        rows = {"slate": number, "position": positions, "item": items, "propensity": propensities,
                "where": place.numbers}
        if self.carry:
            rows = {k: np.concatenate([self.carry[k], v]) for k, v in rows.items()}
        done = rows["slate"] < number[-1] if n else np.zeros(0, dtype=bool)
        self._check({k: v[done] for k, v in rows.items()})
        self.carry = {k: v[~done] for k, v in rows.items()}
        return number

    def _check(self, rows: dict[str, Array]) -> None:
        """Whole slates: no position twice; note repeated items and propensities that vary within a slate."""
        if not len(rows["slate"]):
            return
        slate, where = rows["slate"], rows["where"]
        same_slate = slate[1:] == slate[:-1]
        self.varied = self.varied or bool((same_slate & (rows["propensity"][1:] != rows["propensity"][:-1])).any())
        for name in ("item", "position"):
            order = np.lexsort((where, rows[name], slate))
            twice = (slate[order][1:] == slate[order][:-1]) & (rows[name][order][1:] == rows[name][order][:-1])
            if not twice.any():
                continue
            if name == "item":
                self.repeats = True
                continue
            k = int(np.argmax(twice))
            label = self.ids[int(slate[order][k])]
            raise Place(self.source, where[order], self.unit).refuse(
                k + 1, f"expected one row per position in each slate; slate {shown(label)} has a second row at this "
                       "row's position", self.position_column)

    def finish(self, n_positions: int, n_items: int, propensity: float | None, uniform: bool) -> SlateFacts:
        """Check the last slate, that every slate fills every position, and that the propensities can be per-slot;
        `propensity` is the smallest logged one (None when they are estimated)."""
        self._check(self.carry)
        self.carry = {}
        if n_positions < 2:
            raise self._refuse(0, f"expected slates of at least two slots, one row per position; the log has "
                                  f"{n_positions} position", self.position_column)
        sizes = np.array(self.sizes)
        short = np.flatnonzero(sizes != n_positions)
        if len(short):
            k = int(short[0])
            raise self._refuse(k, f"expected one row for each of the log's {n_positions} positions in every slate; "
                                  f"slate {shown(self.ids[k])} has {sizes[k]} (a slot is missing)",
                               self.position_column)
        if propensity is not None and self.propensity_column is not None:
            self._check_propensities(n_positions, n_items, propensity, uniform)
        form = "uniform" if uniform and not self.repeats and propensity is not None else "independent"
        items = max(int(round(1 / propensity)), n_positions) if form == "uniform" and propensity else 0
        return SlateFacts(n_positions, len(self.ids), self.repeats, form, items)

    def _check_propensities(self, n_positions: int, n_items: int, propensity: float, uniform: bool) -> None:
        hint = ("; give each slot's probability of showing its item (Open Bandit Pipeline's pscore_item_position) "
                "with --propensity-col")
        if uniform and not 0.5 <= propensity * n_items <= 1 + 1e-6:
            raise self._refuse(0, f"expected each slot's own probability of its item, about 1/{n_items} = "
                                  f"{1 / n_items:.4g} when {n_items} items are logged uniformly, got {propensity:.4g} "
                                  "on every row (the whole slate's probability?)" + hint, self.propensity_column)
        if not uniform and not self.varied and n_positions > 1:
            raise self._refuse(0, "expected each slot's own probability of its item; every slate's rows carry one "
                                  "value, as the whole slate's probability would" + hint, self.propensity_column)

    def _refuse(self, slate: int, message: str, column: str | None) -> BanditmapError:
        return Place(self.source, np.array([self.first[slate]]), self.unit).refuse(0, message, column)


def _texts(values: Array) -> Array:
    """Slate ids as text: 3.0 and "3" are the same slate."""
    if values.dtype.kind == "f":
        return np.array([str(int(v)) if float(v).is_integer() else str(v) for v in values.tolist()])
    return np.char.strip(values.astype(str))
