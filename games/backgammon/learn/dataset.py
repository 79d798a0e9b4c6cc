"""Backgammon records -> a cached training set of decision groups (comparison.data.DecisionSet).

Every non-forced checker play of every good game becomes one decision: its candidates are the
distinct legal results of the roll (result boards, int8 (2, 25), the mover in row 1) and ``chosen``
is the one the player picked. Features are computed per batch by an encoder from ENCODINGS, so
one cache serves every encoding.

Per-decision metadata (``data.meta``) supports splits and reports: ``file`` (index into
``data.tables["files"]``), ``game``, ``line``, ``player``, ``site``, ``date`` (yyyymmdd, 0 when
unknown), ``dice`` (2,), ``board`` (the position before the play), ``score`` (own, opponent),
``match_length`` (0 = money), ``match_number`` (the site's match id; it grows with time).

The cache is an .npz named after a hash of the source files' paths, sizes and modification
times (and the builder's version), so it is rebuilt exactly when a source changes. Files are
read in parallel worker processes.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

import numpy as np

from comparison.data import DecisionSet

# 4: candidates come from the replay (d.results, d.chosen_index), not generated again; the
# arrays are the same as version 3's
BUILDER_VERSION = 4


# ------------------------------------------------------------------------------ encodings


def _tesauro(items):
    from .encode import tesauro198

    return tesauro198(items)


def _pubeval(items):
    from .encode import pubeval122

    return pubeval122(items)


def _extended(items):
    from .encode import tesauro198
    from .features import handmade

    return np.concatenate([tesauro198(items), handmade(items)], axis=1)


def _tokens(items):
    from .tokens import point_tokens

    return point_tokens(items)


ENCODINGS = {"tesauro198": _tesauro, "pubeval122": _pubeval, "extended": _extended, "tokens": _tokens}
"""name -> featurize(result boards (M, 2, 25) int8) -> float32 (M, F) or, for tokens, (M, T, d)."""


def get_encoding(name: str):
    try:
        return ENCODINGS[name]
    except KeyError:
        raise ValueError(f"unknown encoding {name!r}; choose one of {', '.join(ENCODINGS)}") from None


def feature_shape(name: str) -> tuple:
    """Shape of one candidate's features under encoding ``name``."""
    from ..rules.board import start_board

    return tuple(get_encoding(name)(start_board()[None]).shape[1:])


# ------------------------------------------------------------------------------ building


def record_files(paths) -> list[Path]:
    """Record files under ``paths`` (files, or folders searched recursively), sorted, deduplicated;
    a path that does not exist is an error here (there is nothing to train on)."""
    from ..records import record_files as listed

    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder")
    return sorted(set(listed(paths)))


def _date(headers: dict) -> int:
    text = headers.get("EventDate") or headers.get("Date") or ""
    m = re.match(r"\s*(\d{4})\D(\d{1,2})\D(\d{1,2})", text)
    return int(m[1]) * 10000 + int(m[2]) * 100 + int(m[3]) if m else 0


def _match_number(headers: dict) -> int:
    """The site's match number ("Match ID" tag), which grows with time on a site; 0 when absent."""
    m = re.fullmatch(r"\s*(\d{1,15})\s*", headers.get("Match ID", ""))
    return int(m[1]) if m else 0


def chronological_order(data) -> np.ndarray:
    """A per-decision sort key: date, then the site's match number (files without a date first)."""
    return data.meta["date"].astype(np.int64) * 10**10 + data.meta["match_number"]


def read_file_decisions(path) -> dict:
    """Non-forced decisions of one record file as arrays (runs in worker processes)."""
    from .. import records

    match = records.read_match(path)
    ds = [d for d in records.decisions(match) if not d.forced]
    out = {"path": str(path), "errors": [str(e) for e in match.errors], "n": len(ds)}
    if not ds:
        return out
    boards = np.stack([d.board for d in ds])
    dice = np.array([d.dice for d in ds], np.int8)
    # the candidates are the legal results the replay generated (in the engine's order)
    results = np.concatenate([d.results for d in ds])
    sizes = np.array([len(d.results) for d in ds], np.int64)
    chosen = np.array([d.chosen_index for d in ds], np.int64)
    out.update(
        items=results, sizes=sizes, chosen=chosen, dice=dice, board=boards,
        game=np.array([d.game for d in ds], np.int16), line=np.array([d.line for d in ds], np.int32),
        player=np.array([d.player for d in ds]), score=np.array([d.score for d in ds], np.int16),
        match_length=np.full(len(ds), match.match_length, np.int16),
        date=np.full(len(ds), _date(match.headers), np.int32),
        match_number=np.full(len(ds), _match_number(match.headers), np.int64),
        site=np.full(len(ds), match.headers.get("Site", ""), dtype=object).astype(str),
    )
    return out


def cache_key(files) -> str:
    h = hashlib.sha256(f"v{BUILDER_VERSION}".encode())
    for f in files:
        st = os.stat(f)
        h.update(f"{Path(f).resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "comparison-games"


def build_dataset(paths, cache_dir=None, workers: int = 2, progress: bool = True, log=None,
                  targets: str | None = None) -> DecisionSet:
    """The decision set of every record file under ``paths``, from the cache when up to date.

    Unreadable games are left out (their errors are printed through ``log``); a folder with no
    decision at all is an error. ``targets``: absolute targets per candidate (see
    :func:`with_targets`), or None.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    data = _build(paths, cache_dir, workers, progress, log)
    return data if targets is None else with_targets(data, targets, log)


TARGET_SOURCES = ("analysis", "analysis:PATH")


def with_targets(data: DecisionSet, source: str, log=print) -> DecisionSet:
    """``data`` with per-candidate targets (M, 5): gnubg's cubeless outcome probabilities of every
    candidate its analyses list (win, win gammon, win backgammon, lose gammon, lose backgammon,
    for the player who moved), NaN for the others.

    ``source``: ``analysis`` (the shared analyses, records.default_analysis_path()) or
    ``analysis:PATH``. Only decisions of ``data`` get targets, so a training set built from the
    earlier matches never sees the analyses of the held-out ones.
    """
    from ..records import default_analysis_path

    kind, _, path = source.partition(":")
    if kind != "analysis":
        raise ValueError(f"unknown targets {source!r}; choose one of {', '.join(TARGET_SOURCES)}")
    path = Path(path) if path else default_analysis_path()
    if not path.is_file():
        raise FileNotFoundError(f"targets {source!r}: no analysis file at {path}")
    analyses = analyses_of_dataset(data, path)
    targets = np.full((data.n_items, 5), np.nan, np.float32)
    n_decisions = 0
    for g, a in enumerate(analyses):
        if a is None:
            continue
        rows = a.indices >= 0  # candidates that are plays (not "no move")
        targets[data.offsets[g] + a.indices[rows]] = a.probs[rows]
        n_decisions += 1
    labelled = int((~np.isnan(targets).any(axis=1)).sum())
    log(f"targets from {path.name}: {labelled:,} candidates of {n_decisions:,} analysed decisions")
    return DecisionSet(data.items, data.offsets, data.chosen, data.meta, data.tables, targets)


def analyses_of_dataset(data: DecisionSet, path) -> list:
    """gnubg's Analysis of each decision of ``data`` from the analysis file ``path`` (None where it
    has none), read against the decision's own candidates (no plays generated again)."""
    from ..records.analysis import match_decisions, read_analysis_index

    files = data.tables["files"][data.meta["file"]]
    candidates = [data.items[a:b] for a, b in zip(data.offsets[:-1], data.offsets[1:])]
    return match_decisions(read_analysis_index(path), files, data.meta["game"], data.meta["board"],
                           data.meta["dice"], candidates)


def _build(paths, cache_dir, workers: int, progress: bool, log) -> DecisionSet:
    files = record_files(paths)
    if not files:
        raise ValueError(f"no record files (.mat, .txt, .sgf) under {', '.join(map(str, paths))}")
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    cache = cache_dir / f"decisions-{cache_key(files)}.npz"
    if cache.exists():
        try:
            return DecisionSet.load(cache)
        except Exception as e:  # a damaged cache is rebuilt, not fatal
            log(f"{cache}: unreadable cache ({e}); rebuilding")
    parts = _read_all(files, workers, progress)
    n_err = sum(len(p["errors"]) for p in parts)
    if n_err:
        shown = [e for p in parts for e in p["errors"]][:20]
        log(f"{n_err} record errors (games left out):\n  " + "\n  ".join(shown) + ("\n  ..." if n_err > 20 else ""))
    parts = [p for p in parts if p["n"]]
    if not parts:
        raise ValueError(f"no non-forced decisions in {len(files)} record files")
    data = _concatenate(parts, files)
    data.save(cache)
    return data


def _read_all(files, workers: int, progress: bool) -> list:
    from tqdm import tqdm

    bar = tqdm(total=len(files), desc="reading records", unit="file", disable=not progress, file=sys.stderr)
    try:
        if workers > 1 and len(files) > 1:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(workers) as pool:
                parts = []
                for part in pool.imap(read_file_decisions, files, chunksize=8):
                    parts.append(part)
                    bar.update(1)
        else:
            parts = []
            for f in files:
                parts.append(read_file_decisions(f))
                bar.update(1)
    finally:
        bar.close()
    return parts


def _concatenate(parts, files) -> DecisionSet:
    index = {str(f): i for i, f in enumerate(files)}
    sizes = np.concatenate([p["sizes"] for p in parts])
    offsets = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    meta = {"file": np.concatenate([np.full(p["n"], index[p["path"]], np.int32) for p in parts])}
    for key in ("game", "line", "player", "site", "date", "match_number", "dice", "board", "score", "match_length"):
        meta[key] = np.concatenate([p[key] for p in parts])
    tables = {"files": np.array([str(f) for f in files])}
    return DecisionSet(np.concatenate([p["items"] for p in parts]), offsets,
                       np.concatenate([p["chosen"] for p in parts]), meta, tables)


__all__ = ["ENCODINGS", "build_dataset", "cache_key", "chronological_order", "default_records", "feature_shape", "get_encoding", "read_file_decisions",
           "record_files"]


def default_records():
    """The corpus of gnubg-generated expert records bundled with the package."""
    from ..records import corpus_dir

    return corpus_dir()
