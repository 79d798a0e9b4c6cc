"""Decision groups and their batches: the data of comparison training, for any game.

A decision is a group of candidates (the distinct results of the legal moves) and the index of
the one the expert chose. A :class:`DecisionSet` keeps G groups in flat arrays:

    items    (M, ...)  each candidate in the game's compact form (backgammon: result boards, int8)
    offsets  (G+1,)    group g owns items[offsets[g]:offsets[g+1]]
    chosen   (G,)      index of the expert's candidate *within* its group
    meta     {name: (G, ...) array}  per-decision facts for splits and reports (date, player, ...)
    tables   {name: array}           anything else, e.g. the file names that meta["file"] indexes
    targets  (M, K) float32 or None  optional absolute targets per candidate (e.g. an engine's outcome
                                     probabilities, a game's result); NaN where a candidate (or one
                                     of its K components) has none
    values   (M,) float32 or None    optional engine values per candidate (e.g. an analysis's equities):
                                     a second kind of expert, whose order within a decision gives
                                     preference pairs (comparison.losses.engine_pairs); NaN where unlisted

Features are computed per batch by a game-supplied ``featurize(items) -> float32 (M, ...)``, so the
cache stays small (50 bytes a backgammon candidate instead of ~1 KB of floats) and one cache
serves every encoding.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np
import torch


@dataclass
class DecisionSet:
    items: np.ndarray
    offsets: np.ndarray
    chosen: np.ndarray
    meta: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    targets: Optional[np.ndarray] = None
    values: Optional[np.ndarray] = None

    def __post_init__(self):
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        self.chosen = np.asarray(self.chosen, dtype=np.int64)
        g = len(self.chosen)
        if self.offsets.shape != (g + 1,) or self.offsets[0] != 0 or self.offsets[-1] != len(self.items):
            raise ValueError(f"offsets must be (G+1,) from 0 to {len(self.items)}, got shape {self.offsets.shape}")
        sizes = np.diff(self.offsets)
        if g and (sizes.min() < 1 or (self.chosen < 0).any() or (self.chosen >= sizes).any()):
            raise ValueError("every group needs >= 1 candidate and a chosen index inside it")
        for k, v in self.meta.items():
            if len(v) != g:
                raise ValueError(f"meta[{k!r}] has {len(v)} entries for {g} decisions")
        if self.targets is not None:
            self.targets = np.asarray(self.targets, dtype=np.float32)
            if self.targets.ndim != 2 or len(self.targets) != len(self.items):
                raise ValueError(f"targets must be (M, K) for the {len(self.items)} candidates, got {self.targets.shape}")
        if self.values is not None:
            self.values = np.asarray(self.values, dtype=np.float32)
            if self.values.shape != (len(self.items),):
                raise ValueError(f"values must be (M,) for the {len(self.items)} candidates, got {self.values.shape}")

    def __len__(self) -> int:
        return len(self.chosen)

    @property
    def sizes(self) -> np.ndarray:
        """Candidates per decision, (G,)."""
        return np.diff(self.offsets)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def subset(self, index) -> "DecisionSet":
        """The decisions at ``index`` (an int array or a boolean mask), in that order."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        starts, sizes = self.offsets[index], self.sizes[index]
        rows = _ranges(starts, sizes)
        offsets = np.zeros(len(index) + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return DecisionSet(self.items[rows], offsets, self.chosen[index],
                           {k: v[index] for k, v in self.meta.items()}, dict(self.tables),
                           None if self.targets is None else self.targets[rows],
                           None if self.values is None else self.values[rows])

    def save(self, path) -> None:
        """Write an .npz atomically (a reader never sees half a file)."""
        arrays = {"items": self.items, "offsets": self.offsets, "chosen": self.chosen}
        arrays.update({f"meta.{k}": v for k, v in self.meta.items()})
        arrays.update({f"table.{k}": v for k, v in self.tables.items()})
        if self.targets is not None:
            arrays["targets"] = self.targets
        if self.values is not None:
            arrays["values"] = self.values
        atomic_write(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path) -> "DecisionSet":
        with np.load(path, allow_pickle=False) as z:
            meta = {k[5:]: z[k] for k in z.files if k.startswith("meta.")}
            tables = {k[6:]: z[k] for k in z.files if k.startswith("table.")}
            targets = z["targets"] if "targets" in z.files else None
            values = z["values"] if "values" in z.files else None
            return cls(z["items"], z["offsets"], z["chosen"], meta, tables, targets, values)


def concatenate(first: DecisionSet, second: DecisionSet) -> DecisionSet:
    """The decisions of ``first`` then those of ``second``: both must carry the same meta keys and
    the same tables (meta["file"] indexes one file table); targets and values where either has
    them (NaN for the rows of the other)."""
    if set(first.meta) != set(second.meta):
        raise ValueError(f"cannot join decision sets with different meta keys: {sorted(first.meta)} "
                         f"and {sorted(second.meta)}")
    for k in set(first.tables) | set(second.tables):
        if k not in first.tables or k not in second.tables or not np.array_equal(first.tables[k], second.tables[k]):
            raise ValueError(f"cannot join decision sets whose tables differ ({k!r})")

    def rows(a, b, width):
        if a is None and b is None:
            return None
        blank = lambda d: np.full((d.n_items, *width), np.nan, np.float32)
        return np.concatenate([blank(first) if a is None else a, blank(second) if b is None else b])

    width = next(((t.shape[1],) for t in (first.targets, second.targets) if t is not None), ())
    return DecisionSet(np.concatenate([first.items, second.items]),
                       np.concatenate([first.offsets, first.offsets[-1] + second.offsets[1:]]),
                       np.concatenate([first.chosen, second.chosen]),
                       {k: np.concatenate([first.meta[k], second.meta[k]]) for k in first.meta}, dict(first.tables),
                       rows(first.targets, second.targets, width), rows(first.values, second.values, ()))


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + n) for each (s, n), vectorised."""
    sizes = np.asarray(sizes, dtype=np.int64)
    first = np.cumsum(sizes) - sizes  # where each range begins in the output
    return np.arange(int(sizes.sum()), dtype=np.int64) + np.repeat(np.asarray(starts, np.int64) - first, sizes)


def atomic_write(path, write: Callable) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@dataclass
class Batch:
    """A batch of G decisions, candidates flattened to M rows (rows of a decision contiguous)."""

    x: torch.Tensor        # (M, ...) features
    group: torch.Tensor    # (M,) int64: decision of each row, 0..G-1
    offsets: torch.Tensor  # (G+1,) int64
    chosen: torch.Tensor   # (G,) int64: row of the expert's candidate (global index into M)
    targets: Optional[torch.Tensor] = None  # (M, K) float32 absolute targets, NaN where none
    values: Optional[torch.Tensor] = None   # (M,) float32 engine values (preference pairs), NaN where unlisted

    @property
    def n_groups(self) -> int:
        return len(self.chosen)

    def to(self, device) -> "Batch":
        return Batch(self.x.to(device, non_blocking=True), self.group.to(device), self.offsets.to(device),
                     self.chosen.to(device), None if self.targets is None else self.targets.to(device),
                     None if self.values is None else self.values.to(device))


def make_batch(data: DecisionSet, index: np.ndarray, featurize: Optional[Callable]) -> Batch:
    """The decisions ``index`` of ``data`` as one Batch, features computed by ``featurize``."""
    starts, sizes = data.offsets[index], data.sizes[index]
    rows = _ranges(starts, sizes)
    items = data.items[rows]
    x = featurize(items) if featurize is not None else items
    offsets = np.zeros(len(index) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    group = np.repeat(np.arange(len(index), dtype=np.int64), sizes)
    chosen = offsets[:-1] + data.chosen[index]
    targets = None if data.targets is None else torch.from_numpy(np.ascontiguousarray(data.targets[rows]))
    values = None if data.values is None else torch.from_numpy(np.ascontiguousarray(data.values[rows]))
    return Batch(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(group),
                 torch.from_numpy(offsets), torch.from_numpy(chosen), targets, values)


def batch_indices(n: int, batch_size: int, shuffle: bool, seed=None, rank: int = 0, world: int = 1) -> list:
    """Decision indices of each batch of one epoch.

    With ``world`` > 1 (data-parallel training) every rank gets the same number of batches, each
    with ``batch_size // world`` decisions of a shared permutation (the remainder is dropped so
    the ranks stay in step); rank r takes every world-th decision of each global batch.
    """
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    if world == 1:
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    per_rank = max(1, batch_size // world)
    step = per_rank * world
    usable = (n // world) * world
    out = []
    for i in range(0, usable, step):
        chunk = order[i:min(i + step, usable)]
        out.append(chunk[rank::world])
    return out


def iterate_batches(data: DecisionSet, featurize, batch_size: int, shuffle: bool = False, seed=None,
                    rank: int = 0, world: int = 1, skip: int = 0) -> Iterator[Batch]:
    """Batches of one epoch; ``skip`` leaves out the first batches (resuming mid-epoch)."""
    for k, idx in enumerate(batch_indices(len(data), batch_size, shuffle, seed, rank, world)):
        if k >= skip:
            yield make_batch(data, idx, featurize)


def latest_units(order: np.ndarray, unit: np.ndarray, n_decisions: float) -> np.ndarray:
    """Mask (G,) of the latest whole units (e.g. match files) by ``order`` (e.g. date) that together
    hold about ``n_decisions`` decisions (whole units, so a little more). Arrays are per decision."""
    unit = np.asarray(unit)
    units, first = np.unique(unit, return_index=True)
    unit_order = units[np.lexsort((units, np.asarray(order)[first]))]       # by order, then unit id
    counts = dict(zip(*np.unique(unit, return_counts=True)))
    need, held = n_decisions, []
    for u in unit_order[::-1]:
        if need <= 0:
            break
        held.append(u)
        need -= counts[u]
    return np.isin(unit, held)


def split_latest(data: DecisionSet, order: np.ndarray, unit: np.ndarray, valid_fraction: float = 0.1):
    """(earlier, latest): whole units (e.g. match files) sorted by ``order`` (e.g. date), the latest
    ones, about ``valid_fraction`` of the decisions, held out. Both arrays are per decision (G,)."""
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
    is_valid = latest_units(order, unit, valid_fraction * len(data))
    return data.subset(~is_valid), data.subset(is_valid)


def split_three(data: DecisionSet, order: np.ndarray, unit: np.ndarray, valid_fraction: float = 0.1,
                test_fraction: float = 0.1):
    """(train, valid, test) by ``order`` (e.g. date), whole units at a time: the latest units, about
    ``test_fraction`` of all decisions, are the test part (never trained on, never used to choose);
    the next latest, about ``valid_fraction`` of all, validate; the rest trains. ``test_fraction`` 0
    gives test None (the two-way split of :func:`split_latest`)."""
    for name, f in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not 0 <= f < 1:
            raise ValueError(f"{name} must be in [0, 1), got {f}")
    if not 0 < valid_fraction + test_fraction < 1:
        raise ValueError(f"valid_fraction + test_fraction must be in (0, 1), got {valid_fraction + test_fraction}")
    order, unit = np.asarray(order), np.asarray(unit)
    is_test = latest_units(order, unit, test_fraction * len(data)) if test_fraction > 0 else np.zeros(len(data), bool)
    rest = np.flatnonzero(~is_test)
    is_valid = np.zeros(len(data), bool)
    is_valid[rest] = latest_units(order[rest], unit[rest], valid_fraction * len(data))
    is_train = ~(is_test | is_valid)
    test = data.subset(is_test) if test_fraction > 0 else None
    return data.subset(is_train), data.subset(is_valid), test


__all__ = ["Batch", "DecisionSet", "split_latest", "atomic_write", "batch_indices", "concatenate", "iterate_batches", "latest_units", "make_batch", "split_three"]
