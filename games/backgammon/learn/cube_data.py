"""Cube decisions as two-alternative comparison decisions, from records and from gnubg's analyses.

Neurogammon learned its doubling from experts' cube actions; here every cube decision is a
decision group of two candidates, trained by the same comparison trainer as checker plays:

- a **double decision**: the player on roll could double (before rolling; the cube centred or its
  own; not the Crawford game; the cube not dead for it): "double" or "no double";
- a **take decision**: a double was offered: "take" or "pass" by the other player.

Where the decisions come from (``source``):

- ``people``: the records' own cube actions (:func:`record_cube_decisions`): the alternative the
  person chose. A turn where the person rolled without doubling, when the rules let it double, is
  a "no double"; every written double is a "double" and its answer a take decision.
- ``engine``: GNU Backgammon's cube analyses of the same matches (``lasse-4ply-cube.jsonl.gz``,
  :func:`read_cube_analysis`): the alternative gnubg rates better (doubling is worth
  min(double/take, double/pass), not doubling no-double; a take is worth double/take, a pass
  double/pass). Exact ties carry no preference and are left out.
- ``both``: the two sets together (the same position may then appear twice, once per source).

gnubg's equities of the two alternatives can also ride along as the set's engine values
(``values=True``; ``DecisionSet.values``, NaN where gnubg did not analyse the decision), for
``train --engine-pairs``: the people's choices plus gnubg's preference pairs in the same loss.
The trainer has no per-decision weights: its engine-pair loss weights pairs by their equity gap
*within* a decision and then averages decisions equally, so with two alternatives the gap does
not weight a decision; it is kept in ``meta["gap"]``.

The view (one convention for both kinds, the one gnubg's Position ID uses): ``board`` is the
position with the player on roll, the doubler, in row 1. For a take decision the taker is row 0.
Cube context is from the view of the player who decides (the *decider*: the doubler for a double
decision, the taker for a take decision); ``away`` is (decider's, other's) points away.

Candidates in compact form (``items``, int16 (M, ITEM_WIDTH)): the board flattened (50) and the
fields of ITEM_FIELDS. An encoding (:data:`ENCODINGS`) turns them into features: the checker
scorer's encoding of the position (``extended``: Tesauro's 198 + hand-made features, or
``tesauro198``), read in the orientation those encoders expect of a checker play's result
(row 1 the player who just moved, row 0 the one who rolls next, i.e. the board with its sides
swapped), followed by :func:`cube_context` (N_CONTEXT features: money, each side's points away,
cube level, owner, Crawford / post-Crawford, dead gammons, the alternative one-hot). The position
block is gated by the alternative (see ENCODINGS): each alternative reads the position with
weights of its own.

This module needs numpy only; the decision sets (:mod:`comparison.data`, torch) load on use.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..rules.board import start_board, swap_sides
from ..rules.cube import may_double as rules_may_double
from ..rules.ids import MatchState, board_from_position_id, parse_match_id

# ------------------------------------------------------------------------------ alternatives

ALTERNATIVES = ("double", "no double", "take", "pass")
"""The four choices; a double decision's candidates are (double, no double), a take decision's
(take, pass), always in that order. Their codes are the indices here."""
DOUBLE, NO_DOUBLE, TAKE, PASS = range(4)
KINDS = ("double", "take")
"""Kinds of cube decision; ``meta["kind"]`` holds the index."""
SOURCES = ("people", "engine", "both")
CENTRED = -1


# ------------------------------------------------------------------------------ decisions


@dataclass(frozen=True)
class CubeDecision:
    """One cube decision of a record (or of an analysis row).

    ``board``: the position, the player on roll (the doubler) in row 1, for both kinds.
    ``decider``: the record's player (0 left / 1 right column) who decides; ``on_roll`` the player
    on roll (the decider of a double decision, the other player of a take decision).
    ``score``: (player 0, player 1) before the game; ``cube`` the value before the decision and
    ``cube_owner`` -1 (centred) or the owning player. ``post_crawford``: a match game after the
    Crawford game (one side one away). ``date`` yyyymmdd (0 unknown) and ``file`` for date splits.
    """

    kind: str                 # "double" or "take"
    chosen: str               # one of ALTERNATIVES matching the kind
    board: np.ndarray         # (2, 25) int8, player on roll in row 1
    decider: int
    on_roll: int
    player: str               # the decider's name
    match_length: int         # 0 = money
    score: tuple
    cube: int
    cube_owner: int
    crawford: bool = False
    post_crawford: bool = False
    jacoby: bool = False
    file: str = ""
    game: int = 0
    line: int = 0
    date: int = 0

    @property
    def away(self) -> tuple:
        """(decider's, other's) points away from winning the match; (0, 0) in money play."""
        if not self.match_length:
            return (0, 0)
        return (self.match_length - self.score[self.decider], self.match_length - self.score[1 - self.decider])

    @property
    def state(self) -> MatchState:
        """gnubg's match state of the decision (players are the record's, as gnubg imports them):
        a double decision has ``on_roll`` = ``turn`` = the doubler; a take decision has
        ``doubled`` set and ``turn`` = the taker."""
        taking = self.kind == "take"
        return MatchState(cube=self.cube, cube_owner=self.cube_owner, on_roll=self.on_roll,
                          crawford=self.crawford, turn=self.decider, doubled=taking,
                          match_length=self.match_length, score=tuple(self.score), jacoby=self.jacoby)


def may_double(player: int, cube: int, owner: int, score, match_length: int, crawford: bool) -> bool:
    """Whether ``player`` may double before its roll (the opening roll aside, which the caller
    excludes), in a record's terms: the one rule, :func:`games.backgammon.rules.cube.may_double`."""
    state = MatchState(cube=cube, cube_owner=owner, on_roll=player, turn=player, crawford=crawford,
                       match_length=match_length, score=tuple(score))
    return rules_may_double(state)


def _oriented(board_p0: np.ndarray, player: int) -> np.ndarray:
    """The position from ``player``'s side (that player in row 1), given player 0's view."""
    return board_p0 if player == 0 else swap_sides(board_p0)


def _post_crawford(game, match_length: int) -> bool:
    n = match_length
    return bool(n > 1 and not game.crawford and (n - 1) in game.score and max(game.score) < n)


def game_cube_decisions(game, match_length: int, file: str = "", date: int = 0) -> list:
    """The cube decisions of one replayed game, in order (none for a broken game).

    Walks the game's actions keeping the cube value, its owner and the position. Before every
    roll but the game's first (the opening roll is thrown at once), a player who may double
    (:func:`may_double`) and does not is a "no double"; a written double the rules allow is a
    "double", and its answer (take, drop, beaver = take and redouble) a take decision. A roll
    written as ``????`` (the game stopped, nobody knows whether the dice were thrown) decides
    nothing.
    """
    from ..records.model import CheckerPlay, CubeAction, Unplayed

    if not game.ok:
        return []
    out = []
    pos0 = start_board()            # player 0's view
    cube, owner = 1, CENTRED
    rolls = 0
    offer = None                    # (doubler, value) of a double waiting for its answer
    doubled_now = None              # the player who doubled before its coming roll
    post = _post_crawford(game, match_length)

    def decision(kind, chosen, decider, on_roll, line):
        out.append(CubeDecision(kind, chosen, _oriented(pos0, on_roll).copy(), decider, on_roll,
                                game.players[decider], match_length, tuple(game.score), cube, owner,
                                game.crawford, post, False, file, game.number, line, date))

    for a in game.actions:
        if isinstance(a, CubeAction):
            p = a.player
            if a.kind == "double":
                if rolls and may_double(p, cube, owner, game.score, match_length, game.crawford):
                    decision("double", "double", p, p, a.line)
                offer, doubled_now = (p, a.value or 2 * cube), p
            elif offer is not None and p == 1 - offer[0]:   # the answer to the double
                decision("take", "pass" if a.kind == "drop" else "take", p, offer[0], a.line)
                if a.kind == "take":
                    cube, owner = offer[1], p
                elif a.kind == "beaver":   # takes and redoubles at once: the doubler owns it
                    cube, owner = a.value or 2 * offer[1], offer[0]
                offer = None
        elif isinstance(a, (CheckerPlay, Unplayed)):
            p = a.player
            thrown = not (isinstance(a, Unplayed) and a.dice is None)
            if (thrown and rolls and doubled_now != p
                    and may_double(p, cube, owner, game.score, match_length, game.crawford)):
                decision("double", "no double", p, p, a.line)
            doubled_now = None
            rolls += 1
            if isinstance(a, CheckerPlay):
                pos0 = a.result if p == 0 else swap_sides(a.result)
    return out


def record_cube_decisions(match) -> list:
    """Every cube decision of every good game of a Match (records.read_match), in order."""
    date = record_date(match.headers)
    out = []
    for game in match.games:
        out.extend(game_cube_decisions(game, match.match_length, match.path, date))
    return out


def record_date(headers: dict) -> int:
    """yyyymmdd of a record's ``EventDate`` (or ``Date``) tag; 0 when unknown (as the checker
    dataset dates its decisions)."""
    text = headers.get("EventDate") or headers.get("Date") or ""
    m = re.match(r"\s*(\d{4})\D(\d{1,2})\D(\d{1,2})", text)
    return int(m[1]) * 10000 + int(m[2]) * 100 + int(m[3]) if m else 0


def record_match_number(headers: dict) -> int:
    """The site's match number (``Match ID`` tag), which grows with time; 0 when absent."""
    m = re.fullmatch(r"\s*(\d{1,15})\s*", headers.get("Match ID", ""))
    return int(m[1]) if m else 0


# ------------------------------------------------------------------------------ gnubg's analyses


@dataclass(frozen=True)
class AnalysedCube:
    """One row of gnubg's cube analyses: a decision, the person's action and gnubg's cubeful
    equities of the alternatives from the decider's view (``nd`` no double, ``dt`` double/take,
    ``dp`` double/pass)."""

    file: str                 # the match file's name
    game: int
    move: int
    kind: str                 # "double" or "take"
    action: str               # what the person did: one of ALTERNATIVES
    player: str
    board: np.ndarray         # (2, 25) int8, the player on roll (the doubler) in row 1
    state: MatchState         # gnubg's; a take decision's taker is state.turn
    nd: float
    dt: float
    dp: float
    line: int = 0             # line of the analysis file (1-based), for messages
    roller_probs: Optional[tuple] = None   # gnubg's cubeless probabilities of the player on roll (the doubler),
    #                                        win, wg, wbg, lg, lbg; None where the row has none

    @property
    def equities(self) -> tuple:
        """(equity of the first alternative, of the second): (double, no double) or (take, pass).
        Doubling is worth min(dt, dp): the taker answers best."""
        if self.kind == "double":
            return (min(self.dt, self.dp), self.nd)
        return (self.dt, self.dp)

    def loss(self, choice: str) -> float:
        """Equity lost by ``choice`` by gnubg's judgement (0 for its best), in points."""
        first, second = self.equities
        best = max(first, second)
        return best - (first if choice in ("double", "take") else second)

    @property
    def best(self) -> Optional[str]:
        """gnubg's better alternative; None when both are worth exactly the same."""
        first, second = self.equities
        if first == second:
            return None
        names = ("double", "no double") if self.kind == "double" else ("take", "pass")
        return names[0] if first > second else names[1]

    @property
    def in_window(self) -> bool:
        """The README's "window": a double decision where gnubg (ties included) or the person doubled."""
        return self.kind == "double" and (self.action == "double" or min(self.dt, self.dp) >= self.nd)

    def decision(self, date: int = 0) -> CubeDecision:
        """This row as a CubeDecision whose choice is the person's action."""
        s = self.state
        decider = s.turn if self.kind == "take" else s.on_roll
        post = bool(s.match_length > 1 and not s.crawford and (s.match_length - 1) in s.score)
        return CubeDecision(self.kind, self.action, self.board, decider, s.on_roll, self.player, s.match_length,
                            s.score, s.cube, s.cube_owner, s.crawford, post, s.jacoby, self.file, self.game,
                            self.move, date)


_ACTIONS = {"double": ("double", "no double"), "take": ("take", "pass")}


def _analysed_row(row: dict, where: str) -> AnalysedCube:
    """One JSON row -> AnalysedCube; ValueError naming ``where`` (file:line) and the field."""
    def field(name):
        if name not in row:
            raise ValueError(f"{where}: field {name!r} missing")
        return row[name]

    kind = field("decision")
    if kind not in _ACTIONS:
        raise ValueError(f"{where}: field 'decision' is {kind!r}, expected 'double' or 'take'")
    action = field("action")
    if action not in _ACTIONS[kind]:
        raise ValueError(f"{where}: field 'action' is {action!r}, expected one of {_ACTIONS[kind]} for a {kind} "
                         "decision")
    try:
        board = board_from_position_id(field("position_id"))
        state = parse_match_id(field("match_id"))
        nd, dt, dp = (float(field(k)) for k in ("nd", "dt", "dp"))
        game, move = int(field("game")), int(row.get("move", 0))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {e}") from None
    if kind == "take" and not state.doubled:
        raise ValueError(f"{where}: a take decision whose match_id offers no double")
    return AnalysedCube(str(field("match_file")), game, move, kind, action, str(row.get("player", "")), board,
                        state, nd, dt, dp, int(where.rsplit(":", 1)[-1]), _roller_probs(row.get("probs"), kind, where))


def _roller_probs(probs, kind: str, where: str) -> Optional[tuple]:
    """The row's ``probs`` (the deciding player's win, wg, wbg, lose, lg, lbg) as the five outcome
    probabilities of the player on roll: the doubler decides a double, the taker a take."""
    if probs is None:
        return None
    try:
        p = [float(v) for v in probs]
    except (TypeError, ValueError):
        raise ValueError(f"{where}: field 'probs' is {probs!r}, expected six probabilities") from None
    if len(p) != 6 or not all(0.0 <= v <= 1.0 for v in p):
        raise ValueError(f"{where}: field 'probs' is {probs!r}, expected six probabilities between 0 and 1")
    win, wg, wbg, lose, lg, lbg = p
    return (win, wg, wbg, lg, lbg) if kind == "double" else (lose, lg, lbg, wg, wbg)


def read_cube_analysis(path, files=None) -> list:
    """Every row of a cube-analysis file (.jsonl.gz or .jsonl) as AnalysedCube, in file order;
    with ``files`` (match file names) only the rows of those matches. A malformed row raises
    ValueError naming the file, the line and the field."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such cube-analysis file")
    opener = gzip.open if path.suffix == ".gz" else open
    files = None if files is None else {Path(str(f)).name for f in files}
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{i}: not JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{i}: expected a JSON object")
            if files is not None and Path(str(row.get("match_file", ""))).name not in files:
                continue
            out.append(_analysed_row(row, f"{path}:{i}"))
    return out


def default_cube_analysis_path() -> Path:
    """GNU Backgammon's 4-ply cube analyses of the shared human matches."""
    from ..records import shared_data_dir

    return shared_data_dir() / "human-analysis" / "lasse-4ply-cube.jsonl.gz"


def default_human_records() -> Path:
    """The shared human match records (whose cube actions people made)."""
    from ..records import shared_data_dir

    return shared_data_dir() / "human-records"


# ------------------------------------------------------------------------------ compact items

ITEM_FIELDS = ("alternative", "match_length", "away_decider", "away_other", "cube_log2", "owner",
               "crawford", "post_crawford", "jacoby")
"""The int16 fields after the 50 board cells of an item. ``owner``: 0 centred, 1 the decider, 2 the
other player (before the decision)."""
BOARD_CELLS = 50
ITEM_WIDTH = BOARD_CELLS + len(ITEM_FIELDS)
_F = {name: BOARD_CELLS + i for i, name in enumerate(ITEM_FIELDS)}


def decision_items(d: CubeDecision) -> np.ndarray:
    """The two candidates of a decision in compact form: int16 (2, ITEM_WIDTH), in the order of
    ALTERNATIVES ((double, no double) or (take, pass))."""
    first = DOUBLE if d.kind == "double" else TAKE
    row = np.zeros(ITEM_WIDTH, np.int16)
    row[:BOARD_CELLS] = np.asarray(d.board, np.int16).reshape(-1)
    away = d.away
    owner = 0 if d.cube_owner == CENTRED else (1 if d.cube_owner == d.decider else 2)
    for name, value in (("match_length", d.match_length), ("away_decider", away[0]), ("away_other", away[1]),
                        ("cube_log2", int(d.cube).bit_length() - 1), ("owner", owner), ("crawford", d.crawford),
                        ("post_crawford", d.post_crawford), ("jacoby", d.jacoby)):
        row[_F[name]] = int(value)
    out = np.stack([row, row])
    out[:, _F["alternative"]] = (first, first + 1)
    return out


def item_boards(items: np.ndarray) -> np.ndarray:
    """The positions of items (M, ITEM_WIDTH) as boards (M, 2, 25) int8, player on roll in row 1."""
    return np.ascontiguousarray(items[:, :BOARD_CELLS].reshape(-1, 2, 25), dtype=np.int8)


CONTEXT_NAMES = (
    "money", "away_decider", "away_other", "decider_1away", "other_1away", "decider_2away", "other_2away",
    "cube_level", "cube_level_after", "owner_centred", "owner_decider", "owner_other", "crawford",
    "post_crawford", "decider_gammons_dead", "other_gammons_dead", "jacoby_centred",
    "alt_double", "alt_no_double", "alt_take", "alt_pass",
)
N_CONTEXT = len(CONTEXT_NAMES)


def cube_context(items: np.ndarray) -> np.ndarray:
    """The cube context of each candidate: items (M, ITEM_WIDTH) -> float32 (M, N_CONTEXT).

    ``away_*``: points away / 25 (capped at 1; 0 in money play), with flags for 1- and 2-away;
    ``cube_level``: log2(cube) / 6 before the decision, ``cube_level_after`` once the alternative
    is taken (a double or a take doubles it); the owner one-hot (before); ``*_gammons_dead``: in a
    match, a side whose single win at the cube value after the alternative already wins the
    match gains nothing from a gammon; ``jacoby_centred``: money play under the Jacoby rule with
    the cube centred (gammons do not count yet); the alternative one-hot (double, no double,
    take, pass).
    """
    it = np.asarray(items)
    if it.ndim != 2 or it.shape[1] != ITEM_WIDTH:
        raise ValueError(f"cube items: expected shape (M, {ITEM_WIDTH}), got {it.shape}")
    f = {name: it[:, _F[name]].astype(np.float32) for name in ITEM_FIELDS}
    alt = it[:, _F["alternative"]].astype(np.int64)
    match = f["match_length"] > 0
    raises = np.isin(alt, (DOUBLE, TAKE))
    level_after = f["cube_log2"] + raises
    cube_after = np.exp2(level_after)
    out = np.zeros((len(it), N_CONTEXT), np.float32)
    out[:, 0] = ~match
    for k, side in ((1, "away_decider"), (2, "away_other")):
        out[:, k] = np.minimum(f[side], 25) / 25
        out[:, k + 2] = match & (f[side] == 1)
        out[:, k + 4] = match & (f[side] == 2)
    out[:, 7] = np.minimum(f["cube_log2"], 6) / 6
    out[:, 8] = np.minimum(level_after, 6) / 6
    for k in range(3):
        out[:, 9 + k] = f["owner"] == k
    out[:, 12] = f["crawford"]
    out[:, 13] = f["post_crawford"]
    out[:, 14] = match & (f["away_decider"] <= cube_after)
    out[:, 15] = match & (f["away_other"] <= cube_after)
    out[:, 16] = ~match & (f["jacoby"] > 0) & (f["owner"] == 0)
    out[np.arange(len(it)), 17 + np.clip(alt, 0, 3)] = 1.0
    return out


def _position_extended(boards):
    from .encode import tesauro198
    from .features import handmade

    return np.concatenate([tesauro198(boards), handmade(boards)], axis=1)


def _position_tesauro(boards):
    from .encode import tesauro198

    return tesauro198(boards)


_POSITION = {"extended": _position_extended, "tesauro198": _position_tesauro}


def _is_first(items: np.ndarray) -> np.ndarray:
    """(M, 1) float32: 1 for the alternatives that raise the cube (double, take), else 0."""
    return np.isin(items[:, _F["alternative"]], (DOUBLE, TAKE))[:, None].astype(np.float32)


def _featurizer(position, gated: bool = True):
    def featurize(items):
        # the encoders read a result: row 1 just moved, row 0 rolls next = the board swapped
        boards = np.ascontiguousarray(item_boards(items)[:, ::-1])
        x = position(boards)
        if gated:   # the position in the block of its alternative: (F,) -> (2F,), the other block 0
            first = _is_first(items)
            x = np.concatenate([x * first, x * (1.0 - first)], axis=1)
        return np.concatenate([x, cube_context(items)], axis=1)

    return featurize


ENCODINGS = {
    "extended": _featurizer(_position_extended),
    "tesauro198": _featurizer(_position_tesauro),
    "extended-plain": _featurizer(_position_extended, gated=False),
}
"""name -> featurize(items (M, ITEM_WIDTH) int16) -> float32 (M, F).

``extended`` / ``tesauro198``: the checker scorer's position encoding of that name placed in the
block of the alternative (the first half of the features for double / take, the second for no
double / pass; the other half zeros), then the cube context. So V(double) - V(no double) =
f(position, 0, context) - f(0, position, context'): each alternative reads the position through
weights of its own, which a pairwise-trained MLP learns faster and better than from one shared
block. Measured on gnubg's preferences (the analysed human records, split by date: 39,115
training decisions, 4,900 held out; MLP 128, 25 epochs): held-out agreement 94.9% gated vs 94.6%
shared, gnubg's 268 held-out doubles found 148 vs 125 times (at 64 hidden, 8 epochs: 69 vs 8).
``extended-plain``: one shared block (the position, then the context with the alternative
one-hot), for comparison."""


def get_encoding(name: str):
    try:
        return ENCODINGS[name]
    except KeyError:
        raise ValueError(f"unknown cube encoding {name!r}; choose one of {', '.join(ENCODINGS)}") from None


def feature_shape(name: str) -> tuple:
    """Shape of one candidate's features under encoding ``name``."""
    example = CubeDecision("double", "no double", start_board(), 0, 0, "", 0, (0, 0), 1, CENTRED)
    return tuple(get_encoding(name)(decision_items(example)).shape[1:])


# ------------------------------------------------------------------------------ decision sets

BUILDER_VERSION = 1


def _records_of(paths) -> list:
    from .dataset import record_files

    return record_files(paths)


def _read_record(path) -> dict:
    """One record file's cube decisions and headers (runs in worker processes)."""
    from .. import records

    match = records.read_match(path)
    return {"path": str(path), "headers": dict(match.headers), "decisions": record_cube_decisions(match),
            "errors": [str(e) for e in match.errors]}


def _decision_set(decisions: list, chosen: list, sources: list, values: list, file_index: list, files,
                  match_numbers: list, with_values: bool):
    """A DecisionSet of cube decisions (two candidates each) with their meta; ``values`` (G, 2):
    gnubg's equities of the two alternatives (NaN where none), kept as the set's engine values
    when ``with_values``."""
    from comparison.data import DecisionSet

    g = len(decisions)
    items = (np.concatenate([decision_items(d) for d in decisions]) if g
             else np.zeros((0, ITEM_WIDTH), np.int16))
    values = np.asarray(values, np.float32).reshape(g, 2)
    meta = {
        "file": np.asarray(file_index, np.int32).reshape(g),
        "game": np.array([d.game for d in decisions], np.int16).reshape(g),
        "line": np.array([d.line for d in decisions], np.int32).reshape(g),
        "kind": np.array([KINDS.index(d.kind) for d in decisions], np.int8).reshape(g),
        "date": np.array([d.date for d in decisions], np.int32).reshape(g),
        "match_number": np.asarray(match_numbers, np.int64).reshape(g),
        "source": np.asarray(sources, np.int8).reshape(g),
        "gap": np.abs(values[:, 0] - values[:, 1]),
        "match_length": np.array([d.match_length for d in decisions], np.int16).reshape(g),
        "away": np.array([d.away for d in decisions], np.int16).reshape(g, 2),
        "cube": np.array([d.cube for d in decisions], np.int16).reshape(g),
        "player": np.array([d.player for d in decisions], dtype=object).astype(str).reshape(g),
        "board": np.array([d.board for d in decisions], np.int8).reshape(g, 2, 25),
    }
    offsets = np.arange(0, 2 * g + 1, 2, dtype=np.int64)
    return DecisionSet(items, offsets, np.asarray(chosen, np.int64).reshape(g), meta,
                       {"files": np.array([str(f) for f in files], dtype=str)},
                       values=values.reshape(-1) if with_values else None)


def _chosen_index(d: CubeDecision) -> int:
    return 0 if d.chosen in ("double", "take") else 1


def build_cube_dataset(paths, source: str = "people", analysis=None, values: bool = False, cache_dir=None,
                       workers: int = 2, progress: bool = True, log=None):
    """The cube decisions of the record files under ``paths`` as a DecisionSet (two candidates each).

    ``source``: ``people`` (the records' cube actions), ``engine`` (gnubg's better alternative at
    every analysed decision of these records; ``analysis`` a cube-analysis file, default the
    shared one) or ``both`` (the two sets together). ``values``: attach gnubg's equities of both
    alternatives as the set's engine values (``DecisionSet.values``, NaN where gnubg did not
    analyse the decision), for ``train --engine-pairs``. ``meta``: file, game, line, kind (0
    double, 1 take), date, match_number, source (0 people, 1 engine), gap (gnubg's equity gap
    between the two alternatives, NaN where unanalysed), match_length, away (decider, other), cube,
    player, board. Cached like the checker decisions, by the files' paths, sizes and times.
    """
    from .dataset import default_cache_dir

    log = log or (lambda msg: print(msg, file=sys.stderr))
    if source not in SOURCES:
        raise ValueError(f"unknown cube source {source!r}; choose one of {', '.join(SOURCES)}")
    files = _records_of(paths)
    if not files:
        raise ValueError(f"no record files (.mat, .txt, .sgf) under {', '.join(map(str, paths))}")
    analysis = Path(analysis) if analysis else default_cube_analysis_path()
    if not analysis.is_file():
        if source != "people" or values:
            raise FileNotFoundError(f"cube source {source!r}{' with engine values' if values else ''} needs gnubg's "
                                    f"cube analyses: no file at {analysis}")
        analysis = None   # the people's decisions only: the gaps stay unknown
    stamp = [*files, analysis] if analysis else files
    key = _cache_key(stamp, f"{source} values={bool(values)}")
    cache = Path(cache_dir or default_cache_dir()) / f"cube-decisions-{key}.npz"
    if cache.exists():
        try:
            from comparison.data import DecisionSet

            return DecisionSet.load(cache)
        except Exception as e:  # a damaged cache is rebuilt, not fatal
            log(f"{cache}: unreadable cache ({e}); rebuilding")
    from .dataset import read_files

    parts = read_files(_read_record, files, workers, progress)
    errors = [e for p in parts for e in p["errors"]]
    if errors:
        log(f"{len(errors)} record errors (games left out):\n  " + "\n  ".join(errors[:20])
            + ("\n  ..." if len(errors) > 20 else ""))
    rows = read_cube_analysis(analysis, files=[Path(p["path"]).name for p in parts]) if analysis else []
    columns = _assemble(parts, source, rows)
    if not columns[0]:
        raise ValueError(f"no cube decisions ({source}) in {len(files)} record files")
    data = _decision_set(*columns[:5], files, columns[5], bool(values))
    data.save(cache)
    return data


def _row_key(file: str, game: int, kind: str, board) -> tuple:
    from ..rules.ids import position_id

    return (Path(file).name, int(game), kind, position_id(board))


def _assemble(parts, source: str, rows: list) -> tuple:
    """(decisions, chosen, sources, values (G, 2), file indices, match numbers) of the wanted
    sources; ``rows``: gnubg's analyses of these records (AnalysedCube), matched to the people's
    decisions by match file, game, kind and position, in order."""
    decisions, chosen, sources, values, file_index, numbers = [], [], [], [], [], []
    index: dict = {}
    for r in rows:
        index.setdefault(_row_key(r.file, r.game, r.kind, r.board), []).append(r)
    by_name = {}
    for i, p in enumerate(parts):
        number = record_match_number(p["headers"])
        by_name.setdefault(Path(p["path"]).name, (i, record_date(p["headers"]), number))
        if source in ("people", "both"):
            for d in p["decisions"]:
                found = index.get(_row_key(d.file, d.game, d.kind, d.board))
                row = found.pop(0) if found else None
                decisions.append(d)
                chosen.append(_chosen_index(d))
                sources.append(0)
                values.append(row.equities if row is not None else (np.nan, np.nan))
                file_index.append(i)
                numbers.append(number)
    if source in ("engine", "both"):
        for row in rows:
            found = by_name.get(Path(row.file).name)
            best = row.best
            if found is None or best is None:   # a match not among the records, or no preference
                continue
            i, date, number = found
            decisions.append(row.decision(date))
            chosen.append(0 if best in ("double", "take") else 1)
            sources.append(1)
            values.append(row.equities)
            file_index.append(i)
            numbers.append(number)
    return decisions, chosen, sources, values, file_index, numbers


def _cache_key(files, source: str) -> str:
    h = hashlib.sha256(f"cube v{BUILDER_VERSION} {source}".encode())
    for f in files:
        st = os.stat(f)
        h.update(f"{Path(f).resolve()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def chronological_order(data) -> np.ndarray:
    """A per-decision sort key: date, then the site's match number (the checker dataset's order)."""
    return data.meta["date"].astype(np.int64) * 10**10 + data.meta["match_number"]


__all__ = [
    "ALTERNATIVES", "AnalysedCube", "CONTEXT_NAMES", "CubeDecision", "ENCODINGS", "ITEM_FIELDS", "ITEM_WIDTH",
    "KINDS", "N_CONTEXT", "SOURCES", "build_cube_dataset", "chronological_order", "cube_context", "decision_items",
    "default_cube_analysis_path", "default_human_records", "feature_shape", "game_cube_decisions", "get_encoding",
    "item_boards", "may_double", "read_cube_analysis", "record_cube_decisions", "record_date",
]
