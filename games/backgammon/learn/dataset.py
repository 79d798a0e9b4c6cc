"""Backgammon records -> a cached training set of decision groups (comparison.data.DecisionSet).

Every non-forced checker play of every good game becomes one decision: its candidates are the
distinct legal results of the roll (result boards, int8 (2, 25), the mover in row 1) and ``chosen``
is the one the player picked. Features are computed per batch by an encoder from ENCODINGS, so
one cache serves every encoding.

Per-decision metadata (``data.meta``) supports splits and reports: ``file`` (index into
``data.tables["files"]``), ``game``, ``line``, ``player``, ``site``, ``date`` (yyyymmdd, 0 when
unknown), ``dice`` (2,), ``board`` (the position before the play), ``score`` (own, opponent),
``match_length`` (0 = money), ``match_number`` (the site's match id; it grows with time),
``result`` (5,) float32: how the game ended for the mover (:func:`game_outcomes`; NaN where unknown).

Labels beyond the people's choices, asked for by ``build_dataset(..., targets=SPEC)`` (see
:func:`with_labels`): absolute targets per candidate (gnubg's analysed probabilities, the game's
result, an engine's probabilities written beside generated records) and engine values (the
analyses' equities, for engine preference pairs).

The cache is an .npz named after a hash of the source files' paths, sizes and modification
times (and the builder's version), so it is rebuilt exactly when a source changes. Files are
read in parallel worker processes.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from comparison.data import DecisionSet

# 4: candidates come from the replay (d.results, d.chosen_index), not generated again; the
# arrays are the same as version 3's
# 5: meta["result"], how each decision's game ended for the mover (game-result targets)
BUILDER_VERSION = 5


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


# ------------------------------------------------------------------------------ game results

LEVELS = (1, 2, 3)  # points of a single game, a gammon, a backgammon (before the cube)


def final_cube(game) -> int:
    """The cube value at the end of a game, from its cube actions (as the replay counts them:
    a take accepts the offered value, a beaver takes and redoubles)."""
    from ..records import CubeAction

    cube, offered = 1, None
    for a in game.actions:
        if not isinstance(a, CubeAction):
            continue
        if a.kind == "double":
            offered = a.value or cube * 2
        elif a.kind == "take":
            cube, offered = offered or cube, None
        elif a.kind == "beaver":
            cube, offered = a.value or (offered or cube * 2) * 2, None
    return cube


def _level_rows(reached) -> np.ndarray:
    """(2, 5) outcomes (winner's view, loser's view) from ``reached`` = (gammon, backgammon), each
    1.0 (reached), 0.0 (not) or NaN (unknown)."""
    g, bg = reached
    return np.array([[1.0, g, bg, 0.0, 0.0],     # the winner: won, maybe a gammon / backgammon
                     [0.0, 0.0, 0.0, g, bg]],    # the loser: lost, maybe a gammon / backgammon
                    np.float32)


def winner_levels(game, match_length: int):
    """(winner, (gammon, backgammon)) of a finished game, each level 1.0, 0.0 or NaN (unknown);
    None when the game has no winner (unfinished) or its record contradicts itself.

    - Played out (someone bore off the last checker): the final board says single, gammon or
      backgammon exactly (whatever the cube and the match score made of it in points).
    - A refused double: the doubler won, but nobody knows whether the game would have been a
      gammon: both levels NaN. (The doubler is a favourite who would not always have won had the
      game gone on: counting the pass as its win makes the results a little more decided than
      cubeless play would; game results are noisy targets anyway, engine evaluations better.)
    - A resignation (or a written "Wins N points" without a finished board): the resigned level,
      N / cube. In a match the points a record writes stop at what the winner needed, so when the
      game won the match only the levels up to ceil(N / cube) are known (reached), the higher
      ones NaN; points that are not a whole level (N not a multiple of the cube, or above 3 x
      cube) leave both levels NaN. (A money game under the Jacoby rule writes a resigned gammon
      with the cube centred as 1 point: read as a single game.)
    """
    from ..records import CheckerPlay, CubeAction
    from ..rules.scoring import game_result

    winner = game.winner
    if winner is None:
        return None
    plays = [a for a in game.actions if isinstance(a, CheckerPlay)]
    borne = game_result(plays[-1].result) if plays else 0
    if borne:
        if (plays[-1].player if borne > 0 else 1 - plays[-1].player) != winner:
            return None
        level = abs(borne)
        return winner, tuple(float(level >= lv) for lv in LEVELS[1:])
    if any(isinstance(a, CubeAction) and a.kind == "drop" for a in game.actions):
        return winner, (np.nan, np.nan)
    points, cube = game.points, final_cube(game)
    if not points or points < 1:                     # no points written: the win alone is known
        return winner, (np.nan, np.nan)
    need = match_length - game.score[winner] if match_length else None
    if need is not None and points >= need:          # won the match: the points may stop there
        least = -(-points // cube)                    # at least this level was reached
        return winner, tuple(1.0 if lv <= least else np.nan for lv in LEVELS[1:])
    if points % cube or not 1 <= points // cube <= LEVELS[-1]:
        return winner, (np.nan, np.nan)
    level = points // cube
    return winner, tuple(float(level >= lv) for lv in LEVELS[1:])


def game_outcomes(game, match_length: int):
    """(2, 5) float32: the game's outcome for player 0 and for player 1, each from its own view
    (win, win gammon, win backgammon, lose gammon, lose backgammon; gammons include backgammons),
    NaN where unknown (see :func:`winner_levels`); None when the game has no known winner."""
    found = winner_levels(game, match_length)
    if found is None:
        return None
    winner, reached = found
    rows = _level_rows(reached)
    return rows if winner == 0 else rows[::-1].copy()


def read_file_decisions(path) -> dict:
    """Non-forced decisions of one record file as arrays (runs in worker processes)."""
    from .. import records

    match = records.read_match(path)
    ds = [d for d in records.decisions(match) if not d.forced]
    out = {"path": str(path), "errors": [str(e) for e in match.errors], "n": len(ds)}
    if not ds:
        return out
    boards = np.stack([d.board for d in ds])
    # each game's result by its number (decisions name their game by number; a number written
    # twice in one file cannot be told apart, so those games get none)
    numbers = [g.number for g in match.games]
    outcomes = {g.number: game_outcomes(g, match.match_length) for g in match.good_games
                if numbers.count(g.number) == 1}
    unknown = np.full(5, np.nan, np.float32)
    result = np.stack([unknown if outcomes.get(d.game) is None else outcomes[d.game][d.player_index] for d in ds])
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
        result=result.astype(np.float32),
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
    decision at all is an error. ``targets``: labels beyond the people's choices, a spec of
    :func:`with_labels` (absolute targets, engine preference values), or None.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    data = _build(paths, cache_dir, workers, progress, log)
    return data if targets is None else with_labels(data, targets, log)


# ------------------------------------------------------------------------------ labels

TARGET_SOURCES = ("analysis", "analysis:PATH", "results", "engine", "engine:DIR")
"""Sources of absolute targets; where several give a candidate's targets, the earlier here wins
(an engine's evaluation before a game's single noisy result)."""
PAIR_SOURCES = ("pairs", "pairs:PATH", "generated", "generated:DIR")
"""Sources of engine values (the preference pairs of ``train --engine-pairs``): gnubg's analysed
equities (``pairs``), or the cubeless equities of the candidates' probabilities that
``records generate --label gnubg --label-candidates`` wrote beside the records (``generated``).
Several combine; where two value one decision, the first named wins."""
ENGINE_SUFFIX = ".probs.jsonl"
"""The engine-probability file beside a record file ``X.mat``: ``X.probs.jsonl``, as
``records generate --label`` writes it (games.backgammon.play.generate.LABEL_SUFFIX)."""

def parse_labels(spec: str) -> tuple[list, list]:
    """``"analysis,results,pairs:PATH"`` -> ([("analysis", ""), ("results", "")], [("pairs", "PATH")]):
    the target sources, in precedence order (:data:`TARGET_SOURCES`), and the pair sources.
    An unknown or repeated source is a ValueError naming the known ones."""
    targets, pairs, seen = [], [], set()
    for item in (x.strip() for x in str(spec).split(",")):
        if not item:
            continue
        kind, _, arg = item.partition(":")
        kind = kind.strip().lower()
        if kind in ("analysis", "engine", "results"):
            if kind == "results" and arg:
                raise ValueError(f"targets {item!r}: results takes no argument")
            targets.append((kind, arg.strip()))
        elif kind in ("pairs", "generated"):
            pairs.append((kind, arg.strip()))
        else:
            raise ValueError(f"unknown targets {item!r}; choose from {', '.join(TARGET_SOURCES + PAIR_SOURCES)}")
        if kind in seen:
            raise ValueError(f"targets {spec!r}: {kind} named twice")
        seen.add(kind)
    if not targets and not pairs:
        raise ValueError(f"targets {spec!r}: no source named; choose from {', '.join(TARGET_SOURCES + PAIR_SOURCES)}")
    order = {"analysis": 0, "engine": 1, "results": 2}
    return sorted(targets, key=lambda t: order[t[0]]), pairs


def with_labels(data: DecisionSet, spec: str, log=print) -> DecisionSet:
    """``data`` with the labels ``spec`` asks for (comma-separated):

    - targets (M, 5) from :data:`TARGET_SOURCES` (:func:`with_targets`);
    - values (M,) from ``pairs`` or ``pairs:PATH``: gnubg's analysed equities of the plays it lists
      (default the shared analyses), NaN for the others (:func:`with_values`).

    Only decisions of ``data`` get labels, so a training set built from the earlier matches never
    sees those of the held-out ones.
    """
    targets, pairs = parse_labels(spec)
    files = _LabelFiles()
    if targets:
        data = with_targets(data, ",".join(f"{k}:{a}" if a else k for k, a in targets), log, files)
    values = None
    for kind, arg in pairs:
        part = (with_values(data, arg, log, files) if kind == "pairs" else _generated_values(data, arg, log, files)).values
        if values is None:
            values = part
        else:  # a decision keeps the values of the first source that valued it
            valued = ~np.isnan(values)
            free = np.repeat(np.add.reduceat(valued, data.offsets[:-1]) == 0, np.diff(data.offsets))
            values = np.where(free & ~np.isnan(part), part, values)
    return data if values is None else replace(data, values=values)


def with_targets(data: DecisionSet, source: str, log=print, analyses=None) -> DecisionSet:
    """``data`` with per-candidate targets (M, 5): the cubeless outcome probabilities after a
    candidate for the player who moved (win, win gammon, win backgammon, lose gammon, lose
    backgammon; gammons include backgammons), NaN where unknown.

    ``source``, one or more of these joined by commas:

    - ``analysis`` / ``analysis:PATH``: gnubg's probabilities of every candidate its analyses list
      (the shared analyses, records.default_analysis_path(), or PATH);
    - ``results``: the game's result, for the chosen candidate only (the position that was
      actually reached; the game says nothing about the others): :func:`winner_levels` says what
      is known (a refused double: the win only; a resignation: the level resigned; an unfinished
      game: nothing);
    - ``engine`` / ``engine:DIR``: the probabilities ``records generate --label`` wrote beside each
      record file (``X.probs.jsonl`` for ``X.mat``; with DIR, the file in DIR where it has one,
      e.g. ``records label`` of records kept elsewhere), for the chosen candidate, or for every
      candidate where the line labels them all.

    Where several sources give a candidate's targets, the first of analysis, engine, results wins
    (the whole row). ``analyses``: a shared reader of the label files (internal).
    """
    sources, pairs = parse_labels(source)
    if pairs:
        raise ValueError(f"targets {source!r}: pairs are engine values, not targets (use with_labels)")
    analyses = analyses or _LabelFiles()
    targets = np.full((data.n_items, 5), np.nan, np.float32)
    for kind, arg in sources:
        part = {"analysis": lambda: _analysis_targets(data, analyses.get(data, arg), log),
                "results": lambda: _result_targets(data, log),
                "engine": lambda: _engine_targets(data, arg, log, analyses)}[kind]()
        free = np.isnan(targets).all(axis=1) & ~np.isnan(part).all(axis=1)   # rows no earlier source gave
        targets[free] = part[free]
    return replace(data, targets=targets)


def with_values(data: DecisionSet, path: str = "", log=print, analyses=None) -> DecisionSet:
    """``data`` with per-candidate engine values (M,): gnubg's analysed equity of every candidate
    its analyses (the shared file, or ``path``) list, NaN for the others. The equities are
    cubeful and match-aware, from the mover's view; within a decision their order and gaps are
    gnubg's preferences (comparison.losses.engine_pairs)."""
    analyses = analyses or _LabelFiles()
    found, where = analyses.get(data, path)
    values = np.full(data.n_items, np.nan, np.float32)
    n_decisions = 0
    for g, a in enumerate(found):
        if a is None:
            continue
        rows = a.indices >= 0
        values[data.offsets[g] + a.indices[rows]] = a.equities[rows]
        n_decisions += rows.sum() >= 2
    log(f"engine values from {where.name}: {int((~np.isnan(values)).sum()):,} candidates, "
        f"{int(n_decisions):,} decisions with a pair")
    return replace(data, values=values)


class _LabelFiles:
    """Reads each analysis file, and each folder of engine labels, once however many labels use
    it: :meth:`get` path -> (analyses, path); :meth:`engine` folder -> :func:`_read_engine_labels`."""

    def __init__(self):
        self.found = {}
        self.engine_labels = {}

    def engine(self, data: DecisionSet, folder: str, what: str):
        if folder not in self.engine_labels:
            self.engine_labels[folder] = _read_engine_labels(data, folder, what)
        return self.engine_labels[folder]

    def get(self, data: DecisionSet, path: str):
        from ..records import default_analysis_path

        where = Path(path) if path else default_analysis_path()
        if not where.is_file():
            raise FileNotFoundError(f"no analysis file at {where}" + ("" if path else " (the default; name one)"))
        if where not in self.found:
            self.found[where] = analyses_of_dataset(data, where)
        return self.found[where], where


def _analysis_targets(data: DecisionSet, found, log) -> np.ndarray:
    """(M, 5) gnubg's probabilities of the candidates its analyses list, NaN elsewhere."""
    analyses, where = found
    targets = np.full((data.n_items, 5), np.nan, np.float32)
    n_decisions = 0
    for g, a in enumerate(analyses):
        if a is None:
            continue
        rows = a.indices >= 0  # candidates that are plays (not "no move")
        targets[data.offsets[g] + a.indices[rows]] = a.probs[rows]
        n_decisions += 1
    labelled = int((~np.isnan(targets).any(axis=1)).sum())
    log(f"targets from {where.name}: {labelled:,} candidates of {n_decisions:,} analysed decisions")
    return targets


def _result_targets(data: DecisionSet, log) -> np.ndarray:
    """(M, 5) the game's result at each decision's chosen candidate (meta["result"]), NaN elsewhere."""
    if "result" not in data.meta:
        raise ValueError("targets results: this decision set has no game results (meta['result']); "
                         "build it with build_dataset")
    result = np.asarray(data.meta["result"], np.float32)           # (G, 5) mover's view
    targets = np.full((data.n_items, 5), np.nan, np.float32)
    targets[data.offsets[:-1] + data.chosen] = result
    known = ~np.isnan(result[:, 0])
    log(f"targets from game results: {int(known.sum()):,} of {len(data):,} decisions "
        f"({int((known & np.isnan(result[:, 1])).sum()):,} without gammon figures: refused doubles and the like)")
    return targets


def _engine_targets(data: DecisionSet, folder: str, log, files=None) -> np.ndarray:
    """(M, 5) the probabilities written beside the record files (records generate --label) at each
    decision's chosen candidate, and at every candidate where the line carries them all
    (``--label-candidates``); NaN elsewhere. Matched by game, position and dice, and checked
    against the chosen result (and the candidates' fingerprint)."""
    targets, _full, n_files, n_found, n_all = (files or _LabelFiles()).engine(data, folder, "targets engine")
    log(f"targets from engine probabilities: {n_found:,} of {len(data):,} decisions ({n_files} files), "
        f"{n_all:,} with every candidate labelled")
    return targets


def _generated_values(data: DecisionSet, folder: str, log, files=None) -> DecisionSet:
    """``data`` with values (M,): the cubeless equity of the engine's probabilities of every
    candidate of the decisions whose labels carry them all (``records generate --label-candidates``),
    NaN elsewhere (a decision labelled at its chosen play only gives no pair)."""
    from ..rules.scoring import cubeless_equity

    targets, full, n_files, _, n_all = (files or _LabelFiles()).engine(data, folder, "engine source generated")
    values = np.full(data.n_items, np.nan, np.float32)
    known = full & ~np.isnan(targets).any(axis=1)
    values[known] = cubeless_equity(targets[known])
    log(f"engine values from generated labels: {int(known.sum()):,} candidates, {n_all:,} decisions ({n_files} files)")
    return replace(data, values=values)


def _read_engine_labels(data: DecisionSet, folder: str, what: str):
    """(targets (M, 5), full (M,), files read, decisions found, decisions with every candidate) of
    the engine-probability files beside the records (or in ``folder``): each found decision's
    chosen candidate, or every candidate where its line labels them all (marked in ``full``);
    ``what`` names the reader in the error when no file is found."""
    from ..rules.ids import position_id
    from ..rules.legal import results_crc

    targets = np.full((data.n_items, 5), np.nan, np.float32)
    full = np.zeros(data.n_items, bool)
    n_files = n_found = n_all = 0
    for record, side, mine, keys in _files_with_labels(data, folder):
        n_files += 1
        rows = read_engine_probabilities(side)
        for g, key in zip(mine, keys):
            row = rows.get(key)
            if row is None:
                continue
            a, b = data.offsets[g], data.offsets[g + 1]
            chosen = data.items[a + data.chosen[g]]
            if position_id(chosen) != row["result_id"]:
                raise ValueError(f"{side}:{row['line']}: the play's result {row['result_id']} is not the one "
                                 f"{record.name} records ({position_id(chosen)}); was the file written for "
                                 "other records?")
            n_found += 1
            if row["candidates"] is not None:
                if len(row["candidates"]) != b - a or row["candidates_crc"] != results_crc(data.items[a:b]):
                    raise ValueError(f"{side}:{row['line']}: its {len(row['candidates'])} labelled candidates are "
                                     f"not the {b - a} legal plays {record.name} gives this decision (another move "
                                     "generator's list?)")
                targets[a:b] = row["candidates"]
                full[a:b] = True
                n_all += 1
            else:
                targets[a + data.chosen[g]] = row["probs"]
    if n_files == 0:
        where = folder or "beside the record files"
        raise FileNotFoundError(f"{what}: no {ENGINE_SUFFIX} file {where} for any of the {len(data.tables['files'])} "
                                "record files; write them with records generate --label gnubg")
    return targets, full, n_files, n_found, n_all


def _files_with_labels(data: DecisionSet, folder: str):
    """For each record file of ``data`` that has an engine-probability file (:func:`_label_file`):
    (the record's path, the label file, its decisions' indices, their keys as the label files
    write them: (game, position id before the play, sorted dice))."""
    from ..rules.ids import position_id

    files = data.tables["files"]
    for f in np.unique(data.meta["file"]):
        record = Path(str(files[f]))
        side = _label_file(record, folder)
        if side is None:
            continue
        mine = np.flatnonzero(data.meta["file"] == f)
        keys = [(int(data.meta["game"][g]), position_id(data.meta["board"][g]),
                 tuple(sorted(int(x) for x in data.meta["dice"][g]))) for g in mine]
        yield record, side, mine, keys


def _label_file(record: Path, folder: str):
    """The engine-probability file of ``record``: in ``folder`` where it has one, else beside the
    record (generated games); None when neither has one."""
    for where in ([Path(folder)] if folder else []) + [record.parent]:
        side = where / (record.stem + ENGINE_SUFFIX)
        if side.is_file():
            return side
    return None


def forced_positions(data: DecisionSet, folder: str = "", log=print) -> DecisionSet:
    """The positions after the forced plays and dances of ``data``'s record files, each a decision
    of one candidate with the engine's probabilities as its targets (value-only: nothing to
    compare): the lines of the engine-probability files (``records generate --label``,
    ``records label``; in ``folder`` first, as :func:`with_targets` reads ``engine:DIR``) that
    are no decision of ``data``.

    Why: a decision's candidates are the results of a roll that left a choice, so a training set
    never shows a side on the bar after its own turn (it danced, or entered one checker of two),
    and an outcome model has to guess there; yet a take after the taker danced, and any search
    that looks at the opponent's dances, evaluates exactly such positions.

    Only the files of ``data`` are read (a training part never gets its held-out matches'
    positions). Meta: each file's fields copied from its first decision, with this position's
    game, dice and board (before the play); ``line`` 0, ``player`` "" and ``score`` -1 (the label
    lines do not say), ``result`` NaN."""
    from ..rules.ids import board_from_position_id

    items, targets, picked = [], [], {k: [] for k in ("game", "dice", "board", "first")}
    n_files = 0
    for _record, side, mine, keys in _files_with_labels(data, folder):
        n_files += 1
        decided = set(keys)
        for key, row in read_engine_probabilities(side).items():
            if key in decided:
                continue
            game, before, dice = key
            items.append(board_from_position_id(row["result_id"]))
            targets.append(row["probs"])
            picked["game"].append(game)
            picked["dice"].append(dice[::-1])               # high die first, as the records write them
            picked["board"].append(board_from_position_id(before))
            picked["first"].append(mine[0])
    n = len(items)
    log(f"value positions (forced plays and dances) from engine probabilities: {n:,} ({n_files} files)")
    first = np.asarray(picked["first"], np.int64)
    meta = {k: v[first] for k, v in data.meta.items()}
    meta["game"] = np.asarray(picked["game"], data.meta["game"].dtype)
    meta["dice"] = np.asarray(picked["dice"], data.meta["dice"].dtype).reshape(n, 2)
    meta["board"] = np.asarray(picked["board"], data.meta["board"].dtype).reshape(n, 2, 25)
    meta["line"] = np.zeros(n, data.meta["line"].dtype)
    meta["player"] = np.full(n, "", data.meta["player"].dtype)
    meta["score"] = np.full(meta["score"].shape, -1, data.meta["score"].dtype)
    if "result" in meta:
        meta["result"] = np.full(meta["result"].shape, np.nan, np.float32)
    return DecisionSet(np.asarray(items, np.int8).reshape(n, 2, 25), np.arange(n + 1), np.zeros(n, np.int64), meta,
                       dict(data.tables), np.asarray(targets, np.float32).reshape(n, 5),
                       None if data.values is None else np.full(n, np.nan, np.float32))


def read_engine_probabilities(path) -> dict:
    """{(game, position id before the play, sorted dice): {"probs": (5,), "result_id", "line"}} of an
    engine-probability file (see games.backgammon.play.generate); a bad line is a ValueError
    naming the file and the line."""
    import json

    out = {}
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
                probs = np.asarray(row["probs"], np.float32)
                if probs.shape != (5,) or not ((probs >= 0) & (probs <= 1)).all():
                    raise ValueError(f"probs must be 5 numbers in [0, 1], got {row['probs']}")
                key = (int(row["game"]), str(row["position_id"]), tuple(sorted(int(x) for x in row["dice"])))
                candidates = crc = None
                if "candidates" in row:
                    candidates = np.asarray(row["candidates"], np.float32)
                    if candidates.ndim != 2 or candidates.shape[1] != 5 or not (
                            (candidates >= 0) & (candidates <= 1)).all():
                        raise ValueError("candidates must be lists of 5 numbers in [0, 1]")
                    crc = int(row["candidates_crc"])
                out[key] = {"probs": probs, "result_id": str(row["result_id"]), "line": n,
                            "candidates": candidates, "candidates_crc": crc}
            except (ValueError, KeyError, TypeError) as e:
                what = f"missing field {e}" if isinstance(e, KeyError) else str(e)
                raise ValueError(f"{path}:{n}: not an engine-probability line ({what})") from None
    return out


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
    parts = read_files(read_file_decisions, files, workers, progress)
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


def read_files(reader, files, workers: int, progress: bool) -> list:
    """``[reader(f) for f in files]``, in ``workers`` spawned processes when more than one (the
    reader must be a module-level function), with a progress bar. One file's result per file,
    in order."""
    from tqdm import tqdm

    bar = tqdm(total=len(files), desc="reading records", unit="file", disable=not progress, file=sys.stderr)
    parts = []
    try:
        if workers > 1 and len(files) > 1:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(workers) as pool:
                for part in pool.imap(reader, files, chunksize=8):
                    parts.append(part)
                    bar.update(1)
        else:
            for f in files:
                parts.append(reader(f))
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
    for key in ("game", "line", "player", "site", "date", "match_number", "dice", "board", "score", "match_length",
                "result"):
        meta[key] = np.concatenate([p[key] for p in parts])
    tables = {"files": np.array([str(f) for f in files])}
    return DecisionSet(np.concatenate([p["items"] for p in parts]), offsets,
                       np.concatenate([p["chosen"] for p in parts]), meta, tables)


__all__ = ["ENCODINGS", "ENGINE_SUFFIX", "PAIR_SOURCES", "TARGET_SOURCES", "analyses_of_dataset",
           "build_dataset", "cache_key", "chronological_order", "default_records", "feature_shape", "final_cube",
           "forced_positions",
           "game_outcomes", "get_encoding", "parse_labels", "read_engine_probabilities", "read_file_decisions",
           "record_files", "winner_levels", "with_labels", "with_targets", "with_values"]


def default_records():
    """The corpus of gnubg-generated expert records bundled with the package."""
    from ..records import corpus_dir

    return corpus_dir()
