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

from banditmap.errors import BanditmapError
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
    are in (the last slate of a chunk is carried to the next). Memory per slate: a hash of its id, its first line
    and its size (16 bytes), so that logs of many millions of slates can be read."""

    def __init__(self, source: str, column: str, position_column: str, propensity_column: str | None) -> None:
        self.source, self.column = source, column
        self.position_column, self.propensity_column = position_column, propensity_column
        self.count = 0  # slates so far
        self.last: str | None = None  # the id of the last slate read
        self.hashes: list[Array] = []  # per chunk, hashes of the ids of the slates that start in it
        self.first: list[Array] = []  # per chunk, the line (or Parquet row) of each of those slates' first row
        self.sizes: list[Array] = []  # per chunk, rows of each of those slates
        self.unit = "line"
        self.repeats = False
        self.varied = False  # some slate's rows carry different propensities
        self.carry: dict[str, Array] = {}

    def add(self, place: Place, ids: Array, positions: Array, items: Array, propensities: Array) -> Array:
        """The slate number of every row of a chunk; `positions` and `items` are codes, the same code for the same
        label in every chunk."""
        self.unit = place.unit
        labels = _texts(ids)
        n = len(labels)
        if not n:
            return np.zeros(0, dtype=np.int64)
        empty = np.char.str_len(labels) == 0
        if empty.any():
            raise place.refuse(int(np.argmax(empty)), "expected a slate id, got an empty field", self.column)
        change = np.ones(n, dtype=bool)
        change[1:] = labels[1:] != labels[:-1]
        change[0] = labels[0] != self.last
        starts = np.flatnonzero(change)
        number = self.count - 1 + np.cumsum(change)
        counts = np.bincount(number - number[0])
        if not change[0]:  # the chunk goes on with the last chunk's last slate
            self.sizes[-1][-1] += counts[0]
            counts = counts[1:]
        if len(starts):
            self.hashes.append(np.fromiter((hash(label) for label in labels[starts].tolist()), np.int64, len(starts)))
            self.first.append(np.asarray(place.numbers[starts], dtype=np.int64))
            self.sizes.append(counts.astype(np.int64))
        self.count += len(starts)
        self.last = str(labels[-1])
        rows = {"slate": number, "position": positions, "item": items, "propensity": propensities,
                "where": place.numbers}
        if self.carry:
            rows = {k: np.concatenate([self.carry[k], v]) for k, v in rows.items()}
        done = rows["slate"] < number[-1]
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
            raise Place(self.source, where[order], self.unit).refuse(
                int(np.argmax(twice)) + 1, "expected one row per position in each slate; this row's slate already "
                                           "has a row at its position", self.position_column)

    def finish(self, n_positions: int, n_items: int, propensity: float | None, uniform: bool) -> SlateFacts:
        """Check the last slate, that no slate's rows are apart, that every slate fills every position, and that the
        propensities can be per-slot; `propensity` is the smallest logged one (None when they are estimated)."""
        self._check(self.carry)
        self.carry = {}
        hashes, first, sizes = (np.concatenate(parts) if parts else np.zeros(0, np.int64)
                                for parts in (self.hashes, self.first, self.sizes))
        order = np.argsort(hashes, kind="stable")  # equal ids: the earlier slate first
        again = order[1:][hashes[order][1:] == hashes[order][:-1]]
        if len(again):
            raise self._refuse(int(first[again.min()]), "expected the rows of a slate together, one row per slot one "
                                                        "after another; this slate id was met before, ahead of other "
                                                        "slates", self.column)
        if n_positions < 2:
            raise self._refuse(int(first[0]), f"expected slates of at least two slots, one row per position; the log "
                                              f"has {n_positions} position", self.position_column)
        short = np.flatnonzero(sizes != n_positions)
        if len(short):
            k = int(short[0])
            raise self._refuse(int(first[k]), f"expected one row for each of the log's {n_positions} positions in "
                                              f"every slate; the slate starting here has {sizes[k]} (a slot is "
                                              "missing)", self.position_column)
        if propensity is not None and self.propensity_column is not None:
            self._check_propensities(n_positions, n_items, propensity, uniform, int(first[0]))
        form = "uniform" if uniform and not self.repeats and propensity is not None else "independent"
        items = max(int(round(1 / propensity)), n_positions) if form == "uniform" and propensity else 0
        return SlateFacts(n_positions, self.count, self.repeats, form, items)

    def _check_propensities(self, n_positions: int, n_items: int, propensity: float, uniform: bool,
                            line: int) -> None:
        hint = ("; give each slot's probability of showing its item (Open Bandit Pipeline's pscore_item_position) "
                "with --propensity-col")
        if uniform and not 0.5 <= propensity * n_items <= 1 + 1e-6:
            raise self._refuse(line, f"expected each slot's own probability of its item, about 1/{n_items} = "
                                     f"{1 / n_items:.4g} when {n_items} items are logged uniformly, got "
                                     f"{propensity:.4g} on every row (the whole slate's probability?)" + hint,
                               self.propensity_column)
        if not uniform and not self.varied and n_positions > 1:
            raise self._refuse(line, "expected each slot's own probability of its item; every slate's rows carry one "
                                     "value, as the whole slate's probability would" + hint, self.propensity_column)

    def _refuse(self, line: int, message: str, column: str | None) -> BanditmapError:
        return Place(self.source, np.array([line]), self.unit).refuse(0, message, column)


def _texts(values: Array) -> Array:
    """Slate ids as text: 3.0 and "3" are the same slate."""
    if values.dtype.kind == "f":
        return np.array([str(int(v)) if float(v).is_integer() else str(v) for v in values.tolist()])
    return np.char.strip(values.astype(str))
