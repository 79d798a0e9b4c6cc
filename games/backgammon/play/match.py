"""Matches between two bots: many games, every dice sequence played twice with seats swapped.

Game ``2k`` and game ``2k + 1`` use the same dice (the same opening roll and the same roll at every
ply), with player A in seat 0 in the first and seat 1 in the second, so luck largely cancels
within a pair. Points are single-game points (1 single, 2 gammon, 3 backgammon; no cube), from
A's view. The 95% confidence interval treats each pair as one sample (the two games of a pair
are not independent).

Every game is a function of the match seed and its own index alone: its dice come from the seed
``(seed, pair)``, and a random player draws from a stream of its own, ``(seed, game, side)``. So a
match gives the same points whichever way its games are spread over processes or batches.

Two game loops play the same games: :func:`play_game`, one game at a time (the reference), and
:func:`play_games`, many games in lockstep: at each ply the positions of all games where a bot is
on roll go to its ``choose_batch`` in one call, so a neural agent scores the candidates of all
those games in one forward pass. For deterministic bots both give identical points.

With the cube (:func:`play_cube_games`, money games, ``match --cube``) points count the cube, and
the rows also count the doubles offered and passed; :func:`play_matches` plays whole N-point
matches (cube, Crawford rule; ``match --points N``), matches 2k and 2k + 1 with seats swapped and
the same dice in their games of the same number. These step GameState objects (the one game
loop) rather than arrays: simpler, since a game now has cube decisions and a match several
games, and still batched: the checker plays of all games go to ``choose_batch`` together, while
cube decisions are asked one position at a time (the ``cube_action`` interface). Without
``cube_action`` on either bot the cube games are exactly the cubeless games.

In these cube games and matches a bot that plays at the score (its ``choose`` takes ``state``:
gnubg-full, an agent with outcome heads; :func:`.game.plays_at_score`) gets each position's match
state (score, cube value and owner) with its checker play, so it values gammons at the score:
through ``choose_batch(..., states=...)`` where its batch takes states, else one ``choose`` per
position. Cubeless games (:func:`play_games`) never pass a state. ``cube_for`` ("both", "A" or
"B"; ``match --cube-for``) gives the cube decisions to one side only: the other never doubles
and always takes (:data:`.game.NO_CUBE`), whatever its own ``cube_action``.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..records.model import crawford_flags
from .game import (
    NO_CUBE,
    Dice,
    Games,
    accepts_keyword,
    choose_play,
    cube_turn,
    match_state,
    may_double,
    new_game,
    play_turn,
    plays_at_score,
)

MAX_PLIES = 10_000


@dataclass
class MatchResult:
    """Per-game points from A's view (``points[i]`` in -3..3; 0 only for a game cut at MAX_PLIES)."""

    name_a: str
    name_b: str
    seed: int
    points: np.ndarray = field(repr=False)
    a_seat: np.ndarray = field(repr=False)  # A's seat in each game: 0 (throws the first die) or 1

    @property
    def n_games(self) -> int:
        return len(self.points)

    @property
    def wins(self) -> int:
        return int((self.points > 0).sum())

    @property
    def losses(self) -> int:
        return int((self.points < 0).sum())

    @property
    def gammons(self) -> int:
        """A's wins of exactly a gammon (backgammons counted apart)."""
        return int((self.points == 2).sum())

    @property
    def backgammons(self) -> int:
        return int((self.points == 3).sum())

    @property
    def gammons_lost(self) -> int:
        return int((self.points == -2).sum())

    @property
    def backgammons_lost(self) -> int:
        return int((self.points == -3).sum())

    @property
    def ppg(self) -> float:
        """A's mean points per game."""
        return float(self.points.mean()) if self.n_games else float("nan")

    def _units(self) -> np.ndarray:
        """Per-pair mean points (a last unpaired game is its own unit)."""
        n = self.n_games
        pairs = self.points[: n - n % 2].reshape(-1, 2).mean(axis=1)
        return np.concatenate([pairs, self.points[n - n % 2 :].astype(float)])

    @property
    def stderr(self) -> float:
        u = self._units()
        return float(u.std(ddof=1) / math.sqrt(len(u))) if len(u) > 1 else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        """95% confidence interval of :attr:`ppg` (normal approximation over dice pairs)."""
        h = 1.96 * self.stderr
        return self.ppg - h, self.ppg + h

    def summary(self) -> dict:
        lo, hi = self.ci95
        return {
            "a": self.name_a, "b": self.name_b, "seed": self.seed, "games": self.n_games,
            "wins": self.wins, "losses": self.losses, "gammons": self.gammons,
            "backgammons": self.backgammons, "gammons_lost": self.gammons_lost,
            "backgammons_lost": self.backgammons_lost, "ppg": self.ppg, "ci95": [lo, hi],
        }

    def text(self) -> str:
        lo, hi = self.ci95
        return (
            f"{self.name_a} vs {self.name_b}: {self.n_games} games (seed {self.seed}, dice pairs with seats swapped)\n"
            f"  {self.name_a}: {self.wins} wins ({self.gammons} gammons, {self.backgammons} backgammons), "
            f"{self.losses} losses ({self.gammons_lost} gammons, {self.backgammons_lost} backgammons)\n"
            f"  points per game for {self.name_a}: {self.ppg:+.3f}  95% CI [{lo:+.3f}, {hi:+.3f}]"
        )


def _bot_name(bot) -> str:
    return getattr(bot, "name", type(bot).__name__)


_accepts = accepts_keyword   # whether a method takes a keyword (random bots take an rng)


def player_rng(seed: int, game: int, side: int) -> np.random.Generator:
    """The random stream of player A (side 0) or B (side 1) in game ``game`` of the match ``seed``."""
    return np.random.default_rng((seed, game, 1 + side))


def play_game(bot_a, bot_b, a_seat: int, dice_seed, max_plies: int = MAX_PLIES, rngs=None) -> int:
    """One game; points from A's view. ``dice_seed`` fixes the whole dice sequence.

    ``rngs`` (optional): the random streams (A's, B's) handed to the bots' ``choose``.
    """
    dice = Dice(np.random.default_rng(dice_seed))
    state = new_game(dice)
    bots = (bot_a, bot_b) if a_seat == 0 else (bot_b, bot_a)
    seat_rngs = (None, None) if rngs is None else (tuple(rngs) if a_seat == 0 else tuple(rngs)[::-1])
    takes_rng = [_accepts(b.choose, "rng") for b in bots]
    while not state.over and state.plies < max_plies:
        bot, rng = bots[state.turn], seat_rngs[state.turn]
        if takes_rng[state.turn] and rng is not None:
            play = bot.choose(state.board, *state.dice, rng=rng)
        else:
            play = bot.choose(state.board, *state.dice)
        play_turn(state, None if play is None else play.board, dice)
    if not state.over:
        return 0
    return state.points if state.winner == a_seat else -state.points


def _choose_batch(bot, boards, dice, rngs, states=None):
    """``bot.choose_batch`` where it has one (with the random streams where it takes them).

    ``states`` (one MatchState per position, or None): the match states for a bot that plays at
    the score (:func:`.game.plays_at_score`), see :func:`_choose_at_score`.
    """
    if states is not None:
        return _choose_at_score(bot, boards, dice, rngs, states)
    batch = getattr(bot, "choose_batch", None)
    if batch is None:  # a duck-typed bot with choose only
        results = boards.copy()
        for i in range(len(boards)):
            play = bot.choose(boards[i], int(dice[i, 0]), int(dice[i, 1]))
            if play is not None:
                results[i] = play.board
        return results
    if rngs is not None and _accepts(batch, "rngs"):
        return batch(boards, dice, rngs=rngs)[0]
    return batch(boards, dice)[0]


def _choose_at_score(bot, boards, dice, rngs, states) -> np.ndarray:
    """The results (N, 2, 25) of ``bot``'s plays at the match states ``states`` (one per position):
    in one ``choose_batch(boards, dice, states=...)`` call where the bot's batch takes states,
    else one ``choose(board, d1, d2, state=...)`` per position (the board itself where no checker
    can move)."""
    batch = getattr(bot, "choose_batch", None)
    if _accepts(batch, "states"):
        kw = {"rngs": rngs} if rngs is not None and _accepts(batch, "rngs") else {}
        return batch(boards, dice, states=list(states), **kw)[0]
    takes_rng = rngs is not None and _accepts(bot.choose, "rng")
    results = boards.copy()
    for i in range(len(boards)):
        kw = {"rng": rngs[i]} if takes_rng else {}
        play = bot.choose(boards[i], int(dice[i, 0]), int(dice[i, 1]), state=states[i], **kw)
        if play is not None:
            results[i] = play.board
    return results


def play_games(bot_a, bot_b, games, seed: int = 0, max_plies: int = MAX_PLIES, on_finished=None) -> np.ndarray:
    """Games ``games`` (indices into the match ``seed``) in lockstep; points from A's view.

    Game g has A in seat ``g % 2``, the dice of :func:`play_game` with ``dice_seed=(seed, g // 2)``,
    and the random streams :func:`player_rng` ``(seed, g, side)``. All games advance one ply at a
    time; at each ply every bot gets the positions of all games where it is on roll in one
    ``choose_batch`` call. ``on_finished(k)``, if given, hears of every k games that end (progress).
    """
    games = np.asarray(games, dtype=np.int64).reshape(-1)
    n = len(games)
    points = np.zeros(n, np.int8)
    if n == 0:
        return points
    a_seat = (games % 2).astype(np.int8)
    bots = (bot_a, bot_b)
    # random streams only for bots that take them: (side, game) -> Generator
    wants = [_accepts(getattr(b, "choose_batch", None), "rngs") and _accepts(b.choose, "rng") for b in bots]
    streams = [[player_rng(seed, int(g), side) for g in games] if wants[side] else None for side in (0, 1)]

    lockstep = Games([np.random.default_rng((seed, int(g) // 2)) for g in games])
    for _ in range(max_plies):
        if len(lockstep.active) == 0:
            break
        results = lockstep.boards[lockstep.active].copy()
        a_on_roll = lockstep.turn[lockstep.active] == a_seat[lockstep.active]
        for side, sel in ((0, a_on_roll), (1, ~a_on_roll)):
            idx = lockstep.active[sel]
            if len(idx):
                rngs = None if streams[side] is None else [streams[side][i] for i in idx]
                results[sel] = _choose_batch(bots[side], lockstep.boards[idx], lockstep.dice[idx], rngs)
        done = lockstep.play(results)
        if len(done) and on_finished is not None:
            on_finished(len(done))
    # points from seat 0's view -> A's view; games cut at max_plies stay 0
    points[:] = np.where(a_seat == 0, lockstep.points, -lockstep.points)
    return points


def play_match(bot_a, bot_b, n_games: int, seed: int = 0, progress: bool = True,
               batch: int = 256) -> MatchResult:
    """``n_games`` games of A against B in this process; games 2k and 2k+1 share their dice, seats swapped.

    Games are played ``batch`` at a time in lockstep (:func:`play_games`); the points do not depend
    on ``batch``.
    """
    if n_games < 1:
        raise ValueError(f"n_games must be >= 1, got {n_games}")
    points = np.zeros(n_games, np.int8)
    bar = _progress_bar(n_games, f"{_bot_name(bot_a)} vs {_bot_name(bot_b)}") if progress else None
    for lo in range(0, n_games, batch):
        hi = min(lo + batch, n_games)
        points[lo:hi] = play_games(bot_a, bot_b, np.arange(lo, hi), seed,
                                   on_finished=bar.update if bar is not None else None)
        if bar is not None:
            bar.n = hi  # games cut at MAX_PLIES end without a word
            bar.set_postfix(ppg=f"{points[:hi].mean():+.3f}")
    if bar is not None:
        bar.close()
    seats = (np.arange(n_games) % 2).astype(np.int8)
    return MatchResult(_bot_name(bot_a), _bot_name(bot_b), seed, points, seats)


# ------------------------------------------------------------------ games and matches with the cube
#
# With the cube a game is a sequence of cube decisions and checker plays, and a match a sequence
# of games, so these loops step GameState objects (the one game loop) rather than the arrays of
# Games. They still play many games in lockstep: at each ply the checker plays of all the games
# where a bot is on roll go to its choose_batch in one call (one forward pass of a network); cube
# decisions are asked one position at a time (the cube_action interface takes one position).
# Without cube_action on either bot, a cube game is exactly the cubeless game of play_games.

CUBE_COLUMNS = ("points", "cube", "doubles_a", "doubles_b", "passes_a", "passes_b")
"""The columns of :func:`play_cube_games`'s array: A's points, the final cube value, the doubles
each side offered and the doubles each side passed."""

CUBE_FOR = ("both", "A", "B")
"""Whose cube decisions count (``match --cube-for``): both sides', or A's or B's only; the other
side never doubles and always takes (:data:`.game.NO_CUBE`)."""


def cube_sides(cube_for="both") -> tuple[bool, bool]:
    """(A decides its cube, B decides its cube) from "both", "A" or "B" (any case), or from such a
    pair of booleans. Raises ValueError naming the accepted values."""
    if isinstance(cube_for, tuple) and len(cube_for) == 2 and all(isinstance(x, bool) for x in cube_for):
        return cube_for
    name = str(cube_for).strip().lower()
    sides = {"both": (True, True), "a": (True, False), "b": (False, True)}.get(name)
    if sides is None:
        raise ValueError(f"cube_for must be one of {', '.join(CUBE_FOR)}, got {cube_for!r}")
    return sides


def cube_for_name(cube_for="both") -> str:
    """The :data:`CUBE_FOR` name of ``cube_for`` ("both", "A", "B"; "none" for neither side)."""
    return {(True, True): "both", (True, False): "A", (False, True): "B"}.get(cube_sides(cube_for), "none")


MATCH_COLUMNS = ("a_won", "a_score", "b_score", "games", "doubles_a", "doubles_b", "passes_a", "passes_b")
"""The columns of :func:`play_matches`'s array: 1 when A won the match, 0 when B did, -1 when a game
was cut at MAX_PLIES (the match unfinished); the final score; games played; doubles and passes."""


@dataclass
class _Table:
    """One game or match in progress: its game, dice, seats and running counts.

    ``a_seat`` is A's seat; ``streams`` the random streams of A and B (None where a bot takes none);
    ``counts`` [doubles by A, by B, passes by A, by B] over the table's games.
    """

    index: int                         # the game's or match's number in the run
    a_seat: int
    dice: object                       # the Dice of the game in progress
    state: object                      # its GameState
    streams: tuple = (None, None)
    counts: list = field(default_factory=lambda: [0, 0, 0, 0])
    score: list = field(default_factory=lambda: [0, 0])   # match score by seat
    scores: list = field(default_factory=list)            # score before each game (for Crawford)
    games: int = 1
    cut: bool = False

    def side(self, seat: int) -> int:
        """0 for A, 1 for B."""
        return 0 if seat == self.a_seat else 1

    def count_cube(self, answer: str) -> None:
        """Count the outcome of :func:`cube_turn` for the doubler (the seat on roll)."""
        if answer in ("take", "pass"):
            doubler = self.side(self.state.turn)
            self.counts[doubler] += 1
            if answer == "pass":
                self.counts[3 - doubler] += 1   # the other side passed


def _cube_deciders(bots, cube_for) -> tuple:
    """Who decides each side's cube (A's, B's): the bot itself, or :data:`.game.NO_CUBE` (never
    doubles, always takes) for a side not in ``cube_for``."""
    sides = cube_sides(cube_for)
    return tuple(bot if decides else NO_CUBE for bot, decides in zip(bots, sides))


def _cube_decisions(deciders, tables) -> None:
    """Every table's player on roll may double before its roll (:func:`cube_turn`); ``deciders``
    (A's, B's) answer the cube questions (:func:`_cube_deciders`)."""
    for t in tables:
        s = t.state
        if may_double(s):
            doubler, taker = deciders[t.side(s.turn)], deciders[t.side(1 - s.turn)]
            t.count_cube(cube_turn(s, doubler, taker))


def _checker_plays(bots, tables, at_score=(False, False)) -> None:
    """Every table whose game goes on plays one roll; each bot chooses for all its tables at once.

    The movers of both sides are picked before anyone plays: a table plays one turn per step, so
    the next player on roll meets its cube decision first. ``at_score`` (A's, B's): the bot plays
    at the match score (:func:`.game.plays_at_score`) and is handed each table's match state.
    """
    going = [t for t in tables if not t.state.over]
    by_side = [[t for t in going if t.side(t.state.turn) == side] for side in (0, 1)]
    for side, movers in enumerate(by_side):
        if not movers:
            continue
        boards = np.stack([t.state.board for t in movers])
        dice = np.array([t.state.dice for t in movers], dtype=np.int64)
        rngs = None if movers[0].streams[side] is None else [t.streams[side] for t in movers]
        states = [match_state(t.state, with_dice=True) for t in movers] if at_score[side] else None
        results = _choose_batch(bots[side], boards, dice, rngs, states)
        for t, r in zip(movers, results):
            play_turn(t.state, r, t.dice)   # the board itself where no checker could move


def _run_tables(bots, tables, next_game, max_plies: int, on_finished=None, cube_for="both") -> None:
    """Play every table in lockstep until ``next_game(table)`` has no game to start.

    ``next_game(t)`` is called when t's game ends (or is cut at ``max_plies``); it sets the next
    game and returns True, or returns False when the table is done. ``cube_for``: whose cube
    decisions count (:func:`cube_sides`). Bots that play at the score get each table's match
    state with their checker plays (:func:`.game.plays_at_score`, asked once per bot).
    """
    deciders = _cube_deciders(bots, cube_for)
    at_score = tuple(plays_at_score(b) for b in bots)
    live = list(tables)
    while live:
        _cube_decisions(deciders, live)
        _checker_plays(bots, live, at_score)
        still = []
        for t in live:
            if t.state.over or t.state.plies >= max_plies:
                t.cut = t.cut or not t.state.over
                if next_game(t):
                    still.append(t)
                elif on_finished is not None:
                    on_finished(1)
            else:
                still.append(t)
        live = still


def _streams(bots, seed: int, indices) -> list:
    """Per table, the random streams (A's, B's) for the bots that take them (:func:`player_rng`)."""
    wants = [_accepts(getattr(b, "choose_batch", None), "rngs") and _accepts(b.choose, "rng") for b in bots]
    return [tuple(player_rng(seed, int(g), side) if wants[side] else None for side in (0, 1)) for g in indices]


def play_cube_game(bot_a, bot_b, a_seat: int, dice_seed, jacoby: bool = False, score=(0, 0),
                   match_length: int = 0, crawford: bool = False, max_plies: int = MAX_PLIES, rngs=None,
                   cube_for="both"):
    """One game with the cube, one position at a time (the reference of :func:`play_cube_games`).

    Returns the final GameState (seat ``a_seat`` is A): ``winner``, ``points`` (the cube counted),
    ``ended_by``, ``cube_history``. ``rngs`` (optional): the random streams (A's, B's).
    ``cube_for``: whose cube decisions count (:func:`cube_sides`; the other side never doubles
    and always takes). A bot that plays at the score gets the match state with its checker plays
    (:func:`.game.choose_play`).
    """
    dice = Dice(np.random.default_rng(dice_seed))
    state = new_game(dice, score, match_length, crawford, jacoby)
    order = (0, 1) if a_seat == 0 else (1, 0)                          # seat -> side (A 0, B 1)
    bots = tuple((bot_a, bot_b)[side] for side in order)              # by seat
    deciders = tuple(_cube_deciders((bot_a, bot_b), cube_for)[side] for side in order)
    at_score = tuple(plays_at_score(b) for b in bots)
    seat_rngs = (None, None) if rngs is None else tuple(tuple(rngs)[side] for side in order)
    while not state.over and state.plies < max_plies:
        cube_turn(state, deciders[state.turn], deciders[1 - state.turn])
        if state.over:
            break
        seat = state.turn
        play = choose_play(bots[seat], state, seat_rngs[seat], at_score[seat])
        play_turn(state, None if play is None else play.board, dice)
    return state


def play_cube_games(bot_a, bot_b, games, seed: int = 0, jacoby: bool = False, max_plies: int = MAX_PLIES,
                    on_finished=None, cube_for="both") -> np.ndarray:
    """Money games ``games`` of the match ``seed`` with the cube, in lockstep: (len(games), 6) int64
    with the :data:`CUBE_COLUMNS` (points from A's view, 0 for a game cut at ``max_plies``).

    Game g has A in seat ``g % 2``, the dice of :func:`play_games` (``(seed, g // 2)``) and the
    random streams :func:`player_rng` ``(seed, g, side)``. ``cube_for``: whose cube decisions
    count ("both", "A" or "B"; the other side never doubles and always takes).
    """
    games = np.asarray(games, dtype=np.int64).reshape(-1)
    bots = (bot_a, bot_b)
    tables = []
    for g, streams in zip(games, _streams(bots, seed, games)):
        dice = Dice(np.random.default_rng((seed, int(g) // 2)))
        tables.append(_Table(int(g), int(g) % 2, dice, new_game(dice, jacoby=jacoby), streams))
    _run_tables(bots, tables, lambda t: False, max_plies, on_finished, cube_for)
    out = np.zeros((len(games), len(CUBE_COLUMNS)), np.int64)
    for row, t in zip(out, tables):
        s = t.state
        row[0] = 0 if not s.over else (s.points if t.side(s.winner) == 0 else -s.points)
        row[1] = s.cube_value
        row[2:] = t.counts
    return out


def match_dice(seed: int, match: int, game: int) -> Dice:
    """The dice of game ``game`` (0, 1, ...) of match ``match``: the two matches of a pair (2k, 2k+1,
    seats swapped) throw the same dice in their games of the same number."""
    return Dice(np.random.default_rng((seed, match // 2, game)))


def _next_match_game(length: int, seed: int):
    """The ``next_game`` of :func:`_run_tables` for matches to ``length``: add the game's points to
    the score, and start the next game (Crawford rule) unless the match is won."""

    def next_game(t: _Table) -> bool:
        s = t.state
        if not s.over:                        # cut at MAX_PLIES: the match is left unfinished
            return False
        t.score[s.winner] += s.points
        if t.score[s.winner] >= length:
            return False
        t.scores.append(tuple(t.score))
        crawford = crawford_flags(t.scores, length)[-1]
        t.dice = match_dice(seed, t.index, t.games)
        t.state = new_game(t.dice, tuple(t.score), length, crawford)
        t.games += 1
        return True

    return next_game


def play_matches(bot_a, bot_b, matches, length: int, seed: int = 0, max_plies: int = MAX_PLIES,
                 on_finished=None, cube_for="both") -> np.ndarray:
    """Whole matches to ``length`` points (Crawford rule, cube), in lockstep:
    (len(matches), 8) int64 with the :data:`MATCH_COLUMNS`.

    Match m has A in seat ``m % 2`` in all its games, game k's dice :func:`match_dice` ``(seed, m,
    k)`` (so a pair of matches starts alike, seats swapped) and the random streams
    :func:`player_rng` ``(seed, m, side)`` for all its games. ``cube_for``: whose cube decisions
    count ("both", "A" or "B"; the other side never doubles and always takes). Bots that play at
    the score get each position's match state with their checker plays.
    """
    if length < 1:
        raise ValueError(f"a match is at least 1 point long, got {length}")
    matches = np.asarray(matches, dtype=np.int64).reshape(-1)
    bots = (bot_a, bot_b)
    tables = []
    for m, streams in zip(matches, _streams(bots, seed, matches)):
        dice = match_dice(seed, int(m), 0)
        t = _Table(int(m), int(m) % 2, dice, new_game(dice, (0, 0), length), streams)
        t.scores.append((0, 0))
        tables.append(t)
    _run_tables(bots, tables, _next_match_game(length, seed), max_plies, on_finished, cube_for)
    out = np.zeros((len(matches), len(MATCH_COLUMNS)), np.int64)
    for row, t in zip(out, tables):
        a, b = t.score[t.a_seat], t.score[1 - t.a_seat]
        row[0] = -1 if t.cut else int(a >= length)
        row[1:4] = a, b, t.games
        row[4:] = t.counts
    return out


def play_match_cube(bot_a, bot_b, n_games: int, seed: int = 0, jacoby: bool = False, progress: bool = True,
                    batch: int = 256, cube_for="both") -> "CubeMatchResult":
    """``n_games`` money games with the cube in this process (:func:`play_cube_games`, ``batch`` at a time)."""
    rows = _in_batches(lambda idx, bar: play_cube_games(bot_a, bot_b, idx, seed, jacoby, on_finished=bar,
                                                        cube_for=cube_for),
                       n_games, batch, progress, f"{_bot_name(bot_a)} vs {_bot_name(bot_b)}", "game")
    return CubeMatchResult(_bot_name(bot_a), _bot_name(bot_b), seed, rows, jacoby, cube_for_name(cube_for))


def play_match_series(bot_a, bot_b, n_matches: int, length: int, seed: int = 0, progress: bool = True,
                      batch: int = 256, cube_for="both") -> "MatchSeriesResult":
    """``n_matches`` matches to ``length`` points in this process (:func:`play_matches`)."""
    rows = _in_batches(lambda idx, bar: play_matches(bot_a, bot_b, idx, length, seed, on_finished=bar,
                                                     cube_for=cube_for),
                       n_matches, batch, progress, f"{_bot_name(bot_a)} vs {_bot_name(bot_b)}", "match")
    return MatchSeriesResult(_bot_name(bot_a), _bot_name(bot_b), seed, length, rows, cube_for_name(cube_for))


def _in_batches(play, n: int, batch: int, progress: bool, desc: str, unit: str) -> np.ndarray:
    """``play(indices, on_finished)`` over 0..n-1, ``batch`` at a time, stacked."""
    if n < 1:
        raise ValueError(f"the number of {unit}s must be >= 1, got {n}")
    bar = _progress_bar(n, desc, unit) if progress else None
    parts = []
    for lo in range(0, n, batch):
        parts.append(play(np.arange(lo, min(lo + batch, n)), bar.update if bar is not None else None))
    if bar is not None:
        bar.close()
    return np.concatenate(parts)


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% for z = 1.96); (nan, nan) when n is 0."""
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)   # rounding may step past 0 or 1


@dataclass
class CubeMatchResult:
    """Money games with the cube: ``rows`` (n, 6) with the :data:`CUBE_COLUMNS`, game i with A in
    seat ``i % 2`` (games 2k, 2k+1 share their dice)."""

    name_a: str
    name_b: str
    seed: int
    rows: np.ndarray = field(repr=False)
    jacoby: bool = False
    cube_for: str = "both"      # whose cube decisions counted (CUBE_FOR)

    @property
    def points(self) -> np.ndarray:
        return self.rows[:, 0]

    @property
    def n_games(self) -> int:
        return len(self.rows)

    def _column(self, name: str) -> np.ndarray:
        return self.rows[:, CUBE_COLUMNS.index(name)]

    @property
    def ppg(self) -> float:
        return float(self.points.mean()) if self.n_games else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        """95% interval of :attr:`ppg`, each dice pair one sample (as :class:`MatchResult`)."""
        return _pair_interval(self.points.astype(float))

    def summary(self) -> dict:
        lo, hi = self.ci95
        col = self._column
        return {
            "a": self.name_a, "b": self.name_b, "seed": self.seed, "games": self.n_games, "cube": True,
            "jacoby": self.jacoby, "wins": int((self.points > 0).sum()), "losses": int((self.points < 0).sum()),
            "ppg": self.ppg, "ci95": [lo, hi], "doubles_a": int(col("doubles_a").sum()),
            "doubles_b": int(col("doubles_b").sum()), "passes_a": int(col("passes_a").sum()),
            "passes_b": int(col("passes_b").sum()), "mean_cube": float(col("cube").mean()),
            "cube_for": self.cube_for,
        }

    def text(self) -> str:
        s = self.summary()
        lo, hi = self.ci95
        n = max(self.n_games, 1)
        a, b = self.name_a, self.name_b
        return (
            f"{a} vs {b}: {self.n_games} money games with the cube{' (Jacoby rule)' if self.jacoby else ''} "
            f"(seed {self.seed}, dice pairs with seats swapped)\n"
            f"{_cube_for_line(self.cube_for, a, b)}"
            f"  {a}: {s['wins']} wins, {s['losses']} losses; mean final cube {s['mean_cube']:.2f}\n"
            f"  doubles offered: {a} {s['doubles_a']} ({s['doubles_a'] / n:.2f}/game), "
            f"{b} {s['doubles_b']} ({s['doubles_b'] / n:.2f}/game); "
            f"passed: {a} {s['passes_a']}, {b} {s['passes_b']}\n"
            f"  points per game for {a}: {self.ppg:+.3f}  95% CI [{lo:+.3f}, {hi:+.3f}]"
        )


@dataclass
class MatchSeriesResult:
    """Whole matches to ``length`` points: ``rows`` (n, 8) with the :data:`MATCH_COLUMNS`, match i
    with A in seat ``i % 2``."""

    name_a: str
    name_b: str
    seed: int
    length: int
    rows: np.ndarray = field(repr=False)
    cube_for: str = "both"      # whose cube decisions counted (CUBE_FOR)

    @property
    def n_matches(self) -> int:
        return len(self.rows)

    @property
    def finished(self) -> np.ndarray:
        return self.rows[self.rows[:, 0] >= 0]

    @property
    def wins(self) -> int:
        return int((self.rows[:, 0] == 1).sum())

    @property
    def share(self) -> float:
        """A's share of the finished matches."""
        n = len(self.finished)
        return self.wins / n if n else float("nan")

    @property
    def ci95(self) -> tuple[float, float]:
        """Wilson 95% interval of :attr:`share`, each match one sample. The two matches of a pair
        share dice and swap seats, which makes their results anti-correlated, if anything: the
        interval is then a little wider than it needs to be."""
        return wilson_interval(self.wins, len(self.finished))

    def summary(self) -> dict:
        lo, hi = self.ci95
        col = {name: self.rows[:, i] for i, name in enumerate(MATCH_COLUMNS)}
        return {
            "a": self.name_a, "b": self.name_b, "seed": self.seed, "match_length": self.length,
            "matches": self.n_matches, "unfinished": int((col["a_won"] < 0).sum()), "wins": self.wins,
            "losses": int((col["a_won"] == 0).sum()), "share": self.share, "ci95": [lo, hi],
            "games": int(col["games"].sum()), "doubles_a": int(col["doubles_a"].sum()),
            "doubles_b": int(col["doubles_b"].sum()), "passes_a": int(col["passes_a"].sum()),
            "passes_b": int(col["passes_b"].sum()), "cube_for": self.cube_for,
        }

    def text(self) -> str:
        s = self.summary()
        lo, hi = self.ci95
        a, b = self.name_a, self.name_b
        games = max(s["games"], 1)
        cut = f", {s['unfinished']} unfinished" if s["unfinished"] else ""
        return (
            f"{a} vs {b}: {self.n_matches} matches to {self.length} points with the cube "
            f"(seed {self.seed}, pairs of matches with the same dice, seats swapped)\n"
            f"{_cube_for_line(self.cube_for, a, b)}"
            f"  {a}: {s['wins']} matches won, {s['losses']} lost{cut}; {s['games']} games\n"
            f"  doubles offered: {a} {s['doubles_a']} ({s['doubles_a'] / games:.2f}/game), "
            f"{b} {s['doubles_b']} ({s['doubles_b'] / games:.2f}/game); "
            f"passed: {a} {s['passes_a']}, {b} {s['passes_b']}\n"
            f"  matches won by {a}: {100 * self.share:.1f}%  95% CI [{100 * lo:.1f}%, {100 * hi:.1f}%] (Wilson)"
        )


def _cube_for_line(cube_for: str, a: str, b: str) -> str:
    """A line saying whose cube decisions counted, '' when both sides'."""
    if cube_for == "both":
        return ""
    decider, other = (f"A ({a})", f"B ({b})") if cube_for == "A" else (f"B ({b})", f"A ({a})")
    return f"  cube decisions by {decider} only: {other} never doubles and always takes\n"


def _pair_interval(points: np.ndarray) -> tuple[float, float]:
    """Mean +- 1.96 standard errors over dice pairs (a last unpaired game is its own unit)."""
    n = len(points)
    if n == 0:
        return float("nan"), float("nan")
    units = np.concatenate([points[: n - n % 2].reshape(-1, 2).mean(axis=1), points[n - n % 2 :]])
    se = float(units.std(ddof=1) / math.sqrt(len(units))) if len(units) > 1 else float("nan")
    mean = float(points.mean())
    return mean - 1.96 * se, mean + 1.96 * se


def _progress_bar(total: int, desc: str, unit: str = "game"):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit)


# ------------------------------------------------------------------ parallel matches from specs
#
# The games are cut into slices, claimed one at a time through a shared counter by this process and
# by worker processes that build their own players. This process starts playing at once, and the
# workers join in when they have started (a fresh interpreter, torch and all, takes seconds), so a
# short match is not slower for having workers. Every game depends on its index alone, so the
# points do not depend on who played which slice.


def _one_torch_thread():
    """Set torch (if loaded) to one thread, the games being the parallel axis; the old count or None.

    Batches of a few thousand candidates gain nothing from intra-op threads, and on busy cores
    their spinning costs up to 10x.
    """
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        return None
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    return old


def _play_slice(bot_a, bot_b, lo: int, hi: int, seed: int, mode: tuple) -> np.ndarray:
    """Games (or matches) ``lo`` .. ``hi - 1`` of the run, as ``mode`` says: ("games",) cubeless
    points (:func:`play_games`), ("cube", jacoby, cube_for) money games with the cube
    (:func:`play_cube_games`), ("match", length, cube_for) whole matches (:func:`play_matches`)."""
    idx = np.arange(lo, hi)
    if mode[0] == "cube":
        return play_cube_games(bot_a, bot_b, idx, seed, jacoby=mode[1], cube_for=mode[2])
    if mode[0] == "match":
        return play_matches(bot_a, bot_b, idx, mode[1], seed, cube_for=mode[2])
    return play_games(bot_a, bot_b, idx, seed)


def _worker_main(spec_a, spec_b, seed, slices, counter, results, mode=("games",)) -> None:
    """A worker process: build the players, then play slices until none is left."""
    try:
        from ..players import make_player

        bots = (make_player(spec_a, [seed, 1]), make_player(spec_b, [seed, 2]))
        _one_torch_thread()
        while True:
            k = _claim(counter)
            if k >= len(slices):
                return
            lo, hi = slices[k]
            results.put((k, _play_slice(bots[0], bots[1], lo, hi, seed, mode)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
        import traceback

        results.put((-1, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))


def _claim(counter) -> int:
    with counter.get_lock():
        k = counter.value
        counter.value += 1
    return k


def default_workers(n_games: int) -> int:
    """One worker per core, but no more than there are dice pairs."""
    return max(1, min(os.cpu_count() or 1, (n_games + 1) // 2))


def run_match(spec_a: str, spec_b: str, n_games: int, seed: int = 0, workers: int | None = None,
              progress: bool = True, batch: int = 256, cube: bool = False, jacoby: bool = False,
              match_length: int = 0, cube_for: str = "both"):
    """A match between two players named as on the command line (:func:`players.make_player`).

    Cubeless single games by default (a :class:`MatchResult`); ``cube=True`` money games with the
    cube (``jacoby``: the Jacoby rule; a :class:`CubeMatchResult`); ``match_length`` N > 0 plays
    ``n_games`` whole matches to N points with the cube and the Crawford rule (a
    :class:`MatchSeriesResult`). ``cube_for`` ("both", "A" or "B"): whose cube decisions count with
    the cube; the other side never doubles and always takes (so ``match A A --cube --cube-for A``
    measures what A's cube decisions are worth).

    ``workers`` processes play it (default: one per core): this one and ``workers - 1`` started
    ones, each with its own players, in slices of at most ``batch`` games. The points are the same
    for any ``workers``. torch, when a player uses it, runs one thread per process meanwhile.
    Returns the result and the wall-clock seconds the games took.

    Workers are started with multiprocessing's "spawn": a script that calls this with
    ``workers > 1`` needs the usual ``if __name__ == "__main__":`` guard.
    """
    from ..players import make_player, player_name

    if n_games < 1:
        raise ValueError(f"n_games must be >= 1, got {n_games}")
    if match_length < 0:
        raise ValueError(f"match_length must be >= 0 (0: money games), got {match_length}")
    sides = cube_sides(cube_for)   # a wrong name fails here, before any player is made
    if match_length:
        mode = ("match", int(match_length), sides)
    else:
        mode = ("cube", bool(jacoby), sides) if cube else ("games",)
    workers = default_workers(n_games) if workers is None else max(1, min(int(workers), n_games))
    bot_a = make_player(spec_a, [seed, 1])  # here first: a bad spec fails before any worker starts
    bot_b = make_player(spec_b, [seed, 2])
    name_a, name_b = player_name(bot_a, spec_a), player_name(bot_b, spec_b)
    old_threads = _one_torch_thread()
    start = time.perf_counter()
    try:
        if workers == 1:
            if mode[0] == "games":
                rows = play_match(bot_a, bot_b, n_games, seed, progress, batch).points
            elif mode[0] == "cube":
                rows = play_match_cube(bot_a, bot_b, n_games, seed, jacoby, progress, batch, sides).rows
            else:
                rows = play_match_series(bot_a, bot_b, n_games, match_length, seed, progress, batch, sides).rows
        else:
            rows = _play_parallel(bot_a, bot_b, spec_a, spec_b, n_games, seed, workers, progress, batch,
                                  f"{name_a} vs {name_b}", mode)
    finally:
        if old_threads is not None:
            import torch

            torch.set_num_threads(old_threads)
    seconds = time.perf_counter() - start
    if mode[0] == "cube":
        return CubeMatchResult(name_a, name_b, seed, rows, bool(jacoby), cube_for_name(sides)), seconds
    if mode[0] == "match":
        return MatchSeriesResult(name_a, name_b, seed, int(match_length), rows, cube_for_name(sides)), seconds
    seats = (np.arange(n_games) % 2).astype(np.int8)
    return MatchResult(name_a, name_b, seed, rows, seats), seconds


def _play_parallel(bot_a, bot_b, spec_a, spec_b, n_games, seed, workers, progress, batch, desc,
                   mode=("games",)) -> np.ndarray:
    import multiprocessing as mp
    import queue

    # slices: several per process (balance, progress), whole dice pairs, big enough to batch well
    size = max(2, min(batch, -(-n_games // (4 * workers))))
    size += size % 2
    slices = [(lo, min(lo + size, n_games)) for lo in range(0, n_games, size)]
    points = None   # the rows of all slices, allocated with the first slice's shape and type
    unit = "match" if mode[0] == "match" else "game"
    bar = _progress_bar(n_games, desc, unit) if progress else None
    # spawn: fresh interpreters, safe whatever threads torch or Numba run here
    ctx = mp.get_context("spawn")
    counter = ctx.Value("i", 0)
    results = ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(spec_a, spec_b, seed, slices, counter, results, mode), daemon=True)
             for _ in range(workers - 1)]
    for p in procs:
        p.start()

    done, total, n_played = 0, 0, 0

    def store(k, pts):
        nonlocal done, total, n_played, points
        if k < 0:
            raise RuntimeError(f"a match worker failed: {pts}")
        lo, hi = slices[k]
        if points is None:
            points = np.zeros((n_games,) + pts.shape[1:], pts.dtype)
        points[lo:hi] = pts
        first = pts if pts.ndim == 1 else pts[:, 0]   # points, or 1 for a match won by A
        done, n_played = done + 1, n_played + len(pts)
        total += int(first.sum()) if mode[0] != "match" else int((first == 1).sum())
        if bar is not None:
            bar.update(hi - lo)
            if mode[0] == "match":
                bar.set_postfix(share=f"{total / n_played:.3f}")
            else:
                bar.set_postfix(ppg=f"{total / n_played:+.3f}")

    try:
        while done < len(slices):
            k = _claim(counter)
            if k < len(slices):  # play a slice here, then collect what the workers finished meanwhile
                lo, hi = slices[k]
                store(k, _play_slice(bot_a, bot_b, lo, hi, seed, mode))
                timeout = 0.0
            else:  # nothing left to claim: wait for the workers' last slices
                timeout = 1.0
            while done < len(slices):
                try:
                    store(*(results.get(timeout=timeout) if timeout else results.get_nowait()))
                except queue.Empty:
                    if timeout and not any(p.is_alive() for p in procs):
                        raise RuntimeError("match workers ended before their games were played") from None
                    break
    finally:
        for p in procs:  # workers still starting up have nothing left to do
            if p.is_alive():
                p.terminate()
            p.join()
        if bar is not None:
            bar.close()
    return points


__all__ = [
    "CUBE_COLUMNS", "CUBE_FOR", "MATCH_COLUMNS", "CubeMatchResult", "MatchResult", "MatchSeriesResult",
    "cube_for_name", "cube_sides", "default_workers", "match_dice", "play_cube_game", "play_cube_games",
    "play_game", "play_games", "play_match", "play_match_cube", "play_match_series", "play_matches",
    "player_rng", "run_match", "wilson_interval",
]
