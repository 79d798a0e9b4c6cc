"""The full GNU Backgammon engine (the ``gnubg`` module) as a player, for checker play and the cube.

``gnubg`` is GPL and an optional extra (``pip install -e '.[test]'``): it is imported only when a
``gnubg-full`` player is made (:func:`import_gnubg_full`), never by the rest of the package. The
module wraps gnubg's own C engine; its README lists functions that do not exist, so what follows is
what was found to run (gnubg 1.1.0a16).

The calls used
--------------
- ``gnubg.findbestmove(board, cubeinfo, evalcontext, (d1, d2))`` -> the best move as a flat tuple
  of (from, to) pairs, 1-based points of the mover (25 = the bar, 0 = borne off), e.g.
  ``(8, 5, 6, 5)`` for 8/5 6/5; ``()`` when nothing can move. ``findbestmoves`` (same arguments)
  lists every legal move as ``{"move": ..., "score": ...}``, best first. A bug of the binding: the
  tuple ends at the first checker borne off (``(7, 3, 2)`` is 7/3 2/off, ``(6,)`` may be 6/off
  5/off), see :func:`move_steps`; when that loses steps, gnubg's printed ``hint`` list is read.
  (``gnubg.hint()`` itself returned nothing or crashed the process: it is not used.)
- ``gnubg.evaluate(board, cubeinfo, evalcontext)`` -> (win, win gammon, win backgammon, lose
  gammon, lose backgammon, cubeless equity) of the player on roll, before rolling. Its cubeful
  output is dropped by the binding, so it cannot judge a cube.
- ``gnubg.evalcontext(cubeful, plies, deterministic, prune, noise)`` and ``gnubg.cubeinfo(cube,
  owner, on_roll, match_length, score, crawford, bgv)`` build the dicts those take; cubeinfo always
  sets the Jacoby rule for money, so :func:`cube_info` rewrites ``jacoby`` and the gammon prices.
- The cube has no function: ``hint`` raises "Hints for cube actions not yet implemented". gnubg's
  command line does it: ``gnubg.command("set gnubgid POSITIONID:MATCHID")`` sets the position and
  the match state, ``gnubg.command("hint")`` prints the cube analysis (``Cubeful equities: 1. No
  double +0.87921 ... Proper cube action: Double, take``), which :func:`parse_cube_hint` reads.
  The commands print to the C stdout, captured here around each call (:meth:`Engine.command`).
  ``set evaluation cubedecision evaluation plies N`` (and ``... prune on|off``) set the cube's
  search; ``chequerplay`` likewise for the printed move list (``hint 10000`` once the position is
  set with its dice). ``hint`` hangs unless ``set threads 1`` was given first; :class:`Engine`
  does so once, with ``set beavers 0`` (the game loop has no beavers), ``set output mwc off`` and
  ``set output digits 5``. gnubg's IDs put the higher die first.
- What the printed cube equities are, checked by the tests: at N ply, the 21 rolls' weighted
  best (N-1)-ply cubeful move scores (findbestmoves) with the cube as it is; each roll's play is
  picked once, with that cube (by the pruning nets unless prune is off), and also scored with the
  cube doubled and owned by the taker for double/take.
- ``gnubg.matchid(cubeinfo, posinfo)`` and ``gnubg.gnubgid()`` write gnubg's own IDs (the tests
  check them against :mod:`games.backgammon.rules.ids`).

Conventions
-----------
- Boards are gnubg's 2 x 25 layout, as here: ``board[1]`` the player on roll (the mover),
  ``board[0]`` the opponent, each from its own side (index 24 = its bar).
- Players are gnubg's absolute 0 and 1 (a :class:`~games.backgammon.rules.ids.MatchState`); the
  board is from the view of ``state.on_roll``. While a double is offered (``state.doubled``) the
  taker is ``state.turn`` and the board is still the doubler's view.
- Cube equities are gnubg's cubeful equities normalised to the current cube (``dp`` = +1 for the
  doubler); in a match they are gnubg's money-equivalent (EMG) equities. :class:`GnubgCubeAnalysis`
  gives them from the decider's view: the taker's are the doubler's negated.

The engine keeps one global match state and the C stdout is process-wide: use the engine from one
thread at a time (a lock serialises this module's calls).
"""
from __future__ import annotations

import ctypes
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass, field, replace

import numpy as np

from ..rules import cube
from ..rules.board import as_board, check_dice
from ..rules.cube import check_cube_state, cube_refusal  # cube_refusal: the one rule of who may double (re-exported)
from ..rules.ids import MatchState, match_id, position_id
from ..rules.legal import legal_plays, parse_play
from ..rules.notation import NotationError
from .bots import Bot

MAX_PLIES = 4
"""The deepest ``gnubg-full:N`` accepted (gnubg's own evaluations go to 4 ply in practice)."""

MONEY = MatchState()
"""The state used when none is given: a money game, cube centred at 1, player 0 on roll."""


def import_gnubg_full():
    """The ``gnubg`` module (the full engine), or an ImportError that says how to install it."""
    try:
        import gnubg
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the gnubg-full player needs the optional gnubg module (GPL, the full GNU Backgammon "
                          "engine): pip install gnubg   (or: pip install -e '.[test]')") from e
    return gnubg


# ------------------------------------------------------------------------------ the engine


def _libc():
    """The C library, to flush C stdio buffers (None where it cannot be loaded)."""
    try:
        return ctypes.CDLL(None)
    except OSError:  # pragma: no cover - platforms without a global symbol table
        return None


class Engine:
    """The one ``gnubg`` module, configured once, with its command line's output captured.

    Use :func:`engine` rather than making another: gnubg's state is global to the process.
    """

    def __init__(self):
        self.gnubg = import_gnubg_full()
        self.lock = threading.RLock()
        self._libc = _libc()
        self._settings = {}
        for cmd in ("set threads 1", "set beavers 0", "set output mwc off", "set output digits 5"):
            self.command(cmd)

    def command(self, cmd: str) -> str:
        """Run one gnubg command and return what it printed (C stdout and stderr together)."""
        with self.lock:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = os.dup(1), os.dup(2)
            with tempfile.TemporaryFile() as f:
                os.dup2(f.fileno(), 1)
                os.dup2(f.fileno(), 2)
                try:
                    self.gnubg.command(cmd)
                finally:
                    if self._libc is not None:
                        self._libc.fflush(None)
                    os.dup2(saved[0], 1)
                    os.dup2(saved[1], 2)
                    os.close(saved[0])
                    os.close(saved[1])
                f.seek(0)
                return f.read().decode("utf-8", "replace")

    def set_position(self, board: np.ndarray, state: MatchState) -> None:
        """Make (board, state) gnubg's current position; RuntimeError if gnubg did not take it.
        (gnubg puts the higher die first; so does this, for the check.)"""
        state = replace(state, dice=tuple(sorted(state.dice, reverse=True)))
        want = f"{position_id(board)}:{match_id(state)}"
        with self.lock:
            said = self.command(f"set gnubgid {want}")
            got = self.gnubg.gnubgid()
        if got != want:
            raise RuntimeError(f"gnubg did not accept the position {want} (it holds {got}): {said.strip()}")

    def _setting(self, what: str, value) -> None:
        """``set evaluation WHAT VALUE`` (e.g. ``chequerplay evaluation plies`` 2), sent only when
        the value changes."""
        if self._settings.get(what) != value:
            self.command(f"set evaluation {what} {value}")
            self._settings[what] = value

    def cube_hint(self, board: np.ndarray, state: MatchState, plies: int, prune: bool = True) -> str:
        """gnubg's printed cube analysis of ``board`` for the player on roll, before rolling, at
        ``plies`` (with gnubg's pruning nets or not). ``state`` must have no double offered and no dice."""
        with self.lock:
            self._setting("cubedecision evaluation plies", int(plies))
            self._setting("cubedecision evaluation prune", "on" if prune else "off")
            self.set_position(board, state)
            return self.command("hint")

    def move_hint(self, board: np.ndarray, state: MatchState, plies: int, cubeful: bool, prune: bool = True) -> str:
        """gnubg's printed list of every legal move, best first, for ``board`` and ``state.dice``
        (which must be rolled) at ``plies``, cubeful or not, with gnubg's pruning nets or not."""
        with self.lock:
            self._setting("chequerplay evaluation plies", int(plies))
            self._setting("chequerplay evaluation cubeful", "on" if cubeful else "off")
            self._setting("chequerplay evaluation prune", "on" if prune else "off")
            self.set_position(board, state)
            return self.command("hint 10000")

_ENGINE = None


def engine() -> Engine:
    """The process's one :class:`Engine` (made, and gnubg imported, on first use)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


# ------------------------------------------------------------------------------ gnubg's dicts


def cube_info(state: MatchState) -> dict:
    """gnubg's cubeinfo dict for ``state``, seen by the player on roll (``state.on_roll``).

    gnubg.cubeinfo always applies the Jacoby rule to money; this sets ``jacoby`` from the state and,
    for money, the gammon prices gnubg's SetCubeInfoMoney gives: 0 while a centred cube makes
    gammons count single under Jacoby, else 1.
    """
    g = engine().gnubg
    ci = g.cubeinfo(state.cube, state.cube_owner, state.on_roll, state.match_length, tuple(state.score),
                    int(state.crawford), 0)
    ci["jacoby"] = int(state.jacoby)
    if state.match_length == 0:
        price = 0.0 if state.jacoby and state.cube_owner == -1 else 1.0
        ci["gammonprice"] = ((price, price), (price, price))
    return ci


def pos_info(state: MatchState) -> dict:
    """gnubg's posinfo dict for ``state``: whose turn, a double or resignation offered, the dice."""
    return engine().gnubg.posinfo(state.turn, state.resigned, int(state.doubled), state.game_state,
                                  tuple(state.dice))


def gnubg_match_id(state: MatchState) -> str:
    """The Match ID that gnubg itself writes for ``state`` (its ``matchid``)."""
    return engine().gnubg.matchid(cube_info(state), pos_info(state))


def eval_context(plies: int, cubeful: bool = True, prune: bool = True) -> dict:
    """gnubg's evalcontext: ``plies`` deep, cubeful or not, deterministic, with the pruning nets
    or not (gnubg's default: with; they pick each roll's play inside a search), no noise."""
    return engine().gnubg.evalcontext(int(bool(cubeful)), int(plies), 1, int(bool(prune)), 0.0)


def probabilities(board, plies: int = 0) -> np.ndarray:
    """gnubg's cubeless outcome probabilities of the player on roll (``board[1]``), before rolling,
    at ``plies``: float64 (5,) win, win gammon, win backgammon, lose gammon, lose backgammon
    (gammons include backgammons)."""
    b = as_board(board)
    g = engine().gnubg
    with engine().lock:
        out = g.evaluate(b.tolist(), cube_info(MONEY), eval_context(plies, cubeful=False))
    return np.asarray(out[:5], dtype=np.float64)


# ------------------------------------------------------------------------------ checker play


def move_steps(move) -> tuple[list[tuple[int, int]], bool]:
    """gnubg's move tuple as (from, to) steps, 1-based in the mover's numbering (25 = the bar,
    0 = off), and whether the tuple is complete.

    The binding ends the tuple at the first borne-off step (its C move ends at the first -1, the
    "off" destination): an odd length means the last point listed bore a checker off, and any
    steps gnubg listed after it are lost, e.g. (6,) for 6/off 5/off.
    """
    m = [int(x) for x in move]
    steps = [(m[k], m[k + 1]) for k in range(0, len(m) - 1, 2)]
    if len(m) % 2:
        return steps + [(m[-1], 0)], False
    return steps, True


def apply_move(board: np.ndarray, move) -> np.ndarray:
    """The board after the steps of gnubg's move tuple (:func:`move_steps`), mover still in
    ``board[1]``; a checker landing on a lone opposing checker sends it to the opponent's bar.
    Raises ValueError for a step that cannot be made on this board."""
    r = np.array(board, dtype=np.int8, copy=True)
    for frm, to in move_steps(move)[0]:
        src, dst = frm - 1, to - 1  # our indices: 0..23 points, 24 the bar, -1 off
        if not 0 <= src <= 24 or not -1 <= dst <= 23 or r[1, src] == 0:
            raise ValueError(f"gnubg move {tuple(move)}: step {frm}/{to} is not a move on this board")
        r[1, src] -= 1
        if dst >= 0:
            if r[0, 23 - dst] == 1:  # a blot: hit it
                r[0, 23 - dst] = 0
                r[0, 24] += 1
            r[1, dst] += 1
    return r


_MOVE_LINE = re.compile(r"^\s*\d+\.\s+.*?\d+-ply\s+(.+?)\s+Eq\.:\s*([+-]?\d+\.\d+)")


def parse_move_hint(text: str) -> list[tuple[str, float]]:
    """gnubg's printed move list (its ``hint`` after the roll) as [(move in gnubg's notation,
    equity), ...], best first."""
    return [(m.group(1), float(m.group(2))) for m in map(_MOVE_LINE.match, text.splitlines()) if m]


def _describe(board, dice, move=None) -> str:
    where = f"position {position_id(board)} with {dice[0]}{dice[1]}"
    if move is None:
        return where
    try:
        text = engine().gnubg.movetupletostring(tuple(move), board.tolist())
    except Exception:  # the text is only for the message
        text = str(tuple(move))
    return f"{where}, gnubg's move {text}"


class GnubgFullBot(Bot):
    """The full gnubg engine at ``plies`` (0 = its neural nets alone), checker play and cube.

    Checker play is gnubg's FindBestMove, cubeful (gnubg's way) unless ``cubeful=False``, in the
    cube context of the ``state`` given (a money game with the cube centred when none is).
    Cube decisions are gnubg's cube analysis at the same depth (:meth:`cube_analysis`). Searches
    (1 ply and more) pick each roll's play with gnubg's fast pruning nets unless ``prune=False``
    (gnubg's default is with them).

    Moves come from the binding's move tuples, fast; where a tuple lost steps after a checker
    borne off (:func:`move_steps`) and the steps kept do not make a legal play, from gnubg's
    printed move list instead (its ``hint``, the same search, slower).
    """

    def __init__(self, plies: int = 0, cubeful: bool = True, prune: bool = True):
        plies = int(plies)
        if not 0 <= plies <= MAX_PLIES:
            raise ValueError(f"gnubg-full plies must be 0..{MAX_PLIES}, got {plies}")
        self.engine = engine()
        self.gnubg = self.engine.gnubg
        self.plies = plies
        self.cubeful = bool(cubeful)
        self.prune = bool(prune)
        self.name = f"gnubg-full-{plies}ply"

    # ---------------------------------------------------------------- checker play

    def _context(self, state: MatchState | None):
        st = MONEY if state is None else state
        return (cube_info(replace(st, doubled=False, turn=st.on_roll)),
                eval_context(self.plies, self.cubeful, self.prune))

    def _resolve(self, board, dice, move, plays):
        """The play of ``plays`` that gnubg's ``move`` makes; None when the tuple lost steps (it
        was cut after a checker borne off and holds fewer steps than every legal play makes);
        RuntimeError when a whole move is not among them."""
        steps, complete = move_steps(move)
        if not complete and len(steps) < int((plays[0].moves[:, 0] >= 0).sum()):
            return None  # what was kept may even be another legal play: never guess
        target = apply_move(board, move).tobytes()
        for p in plays:
            if p.board.tobytes() == target:
                return p
        raise RuntimeError(f"{self.name}: {_describe(board, dice, move)} is not among the "
                           f"{len(plays)} legal plays given")

    def _ranked_by_hint(self, board, d1, d2, plays, state):
        """[(play, equity), ...] best first, from gnubg's printed move list."""
        st = replace(MONEY if state is None else state, doubled=False, dice=(d1, d2))
        st = replace(st, turn=st.on_roll)
        by_key = {p.board.tobytes(): p for p in plays}
        out = []
        for text, eq in parse_move_hint(self.engine.move_hint(board, st, self.plies, self.cubeful, self.prune)):
            try:
                play = by_key.get(parse_play(board, d1, d2, text).board.tobytes())
            except NotationError as e:
                raise RuntimeError(f"{self.name}: gnubg's move {text!r} in {_describe(board, (d1, d2))}: {e}") from None
            if play is None:
                raise RuntimeError(f"{self.name}: gnubg's move {text!r} in {_describe(board, (d1, d2))} "
                                   f"is not among the {len(plays)} legal plays given")
            out.append((play, eq))
        if not out:
            raise RuntimeError(f"{self.name}: gnubg listed no move in {_describe(board, (d1, d2))}")
        return out

    def rank(self, board, d1: int, d2: int, state: MatchState | None = None):
        """Every distinct legal play with gnubg's score, best first (gnubg's own list and order):
        the mover's equity after the play, cubeful unless ``cubeful=False``. At 1 ply and more
        the plays gnubg's move filters drop keep their shallower scores."""
        b = as_board(board)
        d1, d2 = check_dice(d1, d2)
        plays = legal_plays(b, d1, d2)
        if not plays:
            return []
        ci, ec = self._context(state)
        with self.engine.lock:
            found = self.gnubg.findbestmoves(b.tolist(), ci, ec, (d1, d2))
        ranked = [(self._resolve(b, (d1, d2), m["move"], plays), float(m["score"])) for m in found]
        if any(p is None for p, _ in ranked):
            ranked = self._ranked_by_hint(b, d1, d2, plays, state)
        if len(ranked) != len(plays) or len({p.board.tobytes() for p, _ in ranked}) != len(plays):
            raise RuntimeError(f"{self.name}: gnubg lists {len(ranked)} moves in {_describe(b, (d1, d2))}, "
                               f"the engine {len(plays)} distinct plays")
        return ranked

    def score_plays(self, board, plays, state: MatchState | None = None) -> np.ndarray:
        """gnubg's score of each play (as :meth:`rank` gives them); ``plays`` are the legal plays
        of ``board`` for one roll, which is found from them."""
        b = as_board(board)
        if len(plays) == 0:
            return np.empty(0)
        scores = {p.board.tobytes(): s for p, s in self.rank(b, *_dice_of(b, plays), state=state)}
        return np.array([scores[p.board.tobytes()] for p in plays])

    def best_move(self, board, d1: int, d2: int, plays=None, state: MatchState | None = None):
        """gnubg's choice (FindBestMove at ``plies``) as one of ``plays`` (the legal plays, made
        here when not given); None when no checker can move."""
        b = as_board(board)
        d1, d2 = check_dice(d1, d2)
        if plays is None:
            plays = legal_plays(b, d1, d2)
        if len(plays) <= 1:
            return plays[0] if len(plays) else None
        ci, ec = self._context(state)
        with self.engine.lock:
            move = self.gnubg.findbestmove(b.tolist(), ci, ec, (d1, d2))
        play = self._resolve(b, (d1, d2), move, plays)
        return play if play is not None else self._ranked_by_hint(b, d1, d2, plays, state)[0][0]

    def choose(self, board, d1: int, d2: int, rng=None, state: MatchState | None = None):
        """The play gnubg makes, or None when no checker can move (``rng`` is unused)."""
        return self.best_move(board, d1, d2, state=state)

    def pick(self, board, d1: int, d2: int, plays, state: MatchState | None = None):
        """gnubg's choice among the legal ``plays`` already generated for ``board`` and the dice."""
        return self.best_move(board, d1, d2, plays, state=state)

    # ---------------------------------------------------------------- the cube

    def cube_analysis(self, board, state: MatchState) -> "GnubgCubeAnalysis":
        """gnubg's cube analysis at ``plies`` from the view of the player who decides now.

        ``board`` is from the view of ``state.on_roll`` (the doubler). Without a double offered
        the decider is the player on roll (may it double?); with ``state.doubled`` it is the taker
        ``state.turn``, and the numbers are the doubler's negated (the proper action stays gnubg's
        wording for the whole decision, e.g. "Double, take"). The dice are ignored (a cube decision
        comes before the roll). Raises ValueError when the player on roll may not double (the
        other side owns the cube, the Crawford game, a dead cube) or the game is not in play.
        """
        b = as_board(board)
        st = _check_state(state)
        doubler = replace(st, doubled=False, turn=st.on_roll, dice=(0, 0), resigned=0)
        text = self.engine.cube_hint(b, doubler, self.plies, self.prune)
        where = f"position {position_id(b)}:{match_id(doubler)}"
        analysis = parse_cube_hint(text, where)
        return analysis.for_taker() if st.doubled else analysis

    def cube_action(self, board, state: MatchState) -> str:
        """"double" / "no double" for the player on roll (before rolling), "take" / "pass" for the
        taker when ``state.doubled``: gnubg's proper cube action at ``plies``.

        gnubg's "Optional double" (doubling changes nothing) doubles at 0 ply and not deeper, as
        gnubg itself plays. A player on roll who may not double answers "no double".
        """
        st = _check_state(state)
        if not st.doubled and cube_refusal(st):
            return "no double"
        return self.cube_analysis(board, st).action(self.plies)

    def __repr__(self):
        return f"GnubgFullBot(plies={self.plies}, cubeful={self.cubeful}, prune={self.prune})"


def _dice_of(board: np.ndarray, plays) -> tuple[int, int]:
    """The roll whose legal plays ``plays`` are: the 21 rolls are tried (a score needs the dice)."""
    given = {p.board.tobytes() for p in plays}
    for d1 in range(1, 7):
        for d2 in range(1, d1 + 1):
            if {p.board.tobytes() for p in legal_plays(board, d1, d2)} == given:
                return d1, d2
    raise ValueError(f"the plays given are not the legal plays of position {position_id(board)} for any roll")


def _check_state(state) -> MatchState:
    """``state`` if gnubg can be asked a cube decision of it (rules.cube.check_cube_state, and the
    game being played), else ValueError saying why not."""
    if isinstance(state, MatchState) and state.game_state != 1:
        raise ValueError(f"no cube decision: the game is {state.game_state_name!r}, not being played")
    return check_cube_state(state)


# ------------------------------------------------------------------------------ reading gnubg's analysis


@dataclass(frozen=True)
class GnubgCubeAnalysis(cube.CubeAnalysis):
    """gnubg's cube analysis, from the view of the player who decides: a
    :class:`~games.backgammon.rules.cube.CubeAnalysis` (nd, dt, dp, proper, taker and its methods)
    as gnubg printed it, with ``proper`` in gnubg's own words, e.g. "No double, take (28.0%)".

    Added: ``cubeless``, gnubg's cubeless equity, and ``probs`` (win, win gammon, win backgammon,
    lose gammon, lose backgammon), both for the decider; ``plies``, the depth gnubg searched.
    ``efficiency`` is None: gnubg picks its own by game phase and depth.
    """

    efficiency: float | None = None
    cubeless: float = field(kw_only=True)
    probs: tuple = field(kw_only=True)
    plies: int = field(kw_only=True)

    @property
    def verdict(self) -> str:
        """``proper`` without gnubg's percentage, e.g. "No double, take"."""
        return re.sub(r"\s*\(.*\)\s*$", "", self.proper)

    def _flipped(self) -> "GnubgCubeAnalysis":
        """The other player's view: also its cubeless equity and probabilities (none: none)."""
        other = super()._flipped()
        if not self.probs:
            return replace(other, cubeless=-self.cubeless)
        w, wg, wbg, lg, lbg = self.probs
        return replace(other, cubeless=-self.cubeless, probs=(1.0 - w, lg, lbg, wg, wbg))

    # gnubg plays by its verdict's words, which differ from rules.cube's rules in two places.

    def should_double(self, plies: int | None = None) -> bool:
        """As :meth:`rules.cube.CubeAnalysis.should_double`, except that an optional double (it
        changes nothing) doubles at 0 ply only: gnubg's own rule when it plays. ``plies``
        defaults to the analysis's depth."""
        if self.verdict.partition(",")[0].strip().lower().startswith("optional"):
            return self.may_double and (self.plies if plies is None else plies) == 0
        return super().should_double()

    def should_take(self) -> bool:
        """The taker takes unless gnubg's verdict says pass (its words, not the 5-digit printed
        equities, which may tie)."""
        return not self.verdict.partition(",")[2].strip().lower().startswith("pass")

    def action(self, plies: int | None = None) -> str:
        """The decider's action by gnubg's verdict: "double" / "no double" for the doubler,
        "take" / "pass" for the taker (``plies``: see :meth:`should_double`)."""
        if self.taker:
            return "take" if self.should_take() else "pass"
        return "double" if self.should_double(plies) else "no double"


CubeAnalysis = GnubgCubeAnalysis
"""The former name, kept for callers."""


_NUM = r"([+-]?\d+\.\d+)"
_HEADER = re.compile(r"^(\d+)-ply cubeless equity " + _NUM)
_PROBS = re.compile(r"^\s*" + r"\s+".join([_NUM] * 3) + r"\s+-\s+" + r"\s+".join([_NUM] * 3) + r"\s*$")
_OPTION = re.compile(r"^\d+\.\s+(.+?)\s+" + _NUM + r"(\s+\(" + _NUM + r"\))?\s*$")
_PROPER = re.compile(r"^Proper cube action:\s*(.+?)\s*$")
_LABELS = {"no double": "nd", "no redouble": "nd", "double, take": "dt", "redouble, take": "dt",
           "double, pass": "dp", "redouble, pass": "dp"}


def parse_cube_hint(text: str, where: str = "") -> GnubgCubeAnalysis:
    """Read gnubg's printed cube analysis (its ``hint`` before the roll) into a :class:`GnubgCubeAnalysis`
    for the player on roll. Raises ValueError, quoting gnubg, when the text holds no analysis (e.g.
    "You cannot double.") or a part is missing."""
    lines = text.splitlines()
    header = next((m for m in map(_HEADER.match, lines) if m), None)
    if header is None:
        said = " ".join(line.strip() for line in lines if line.strip() and "Setting GNUbg ID" not in line)
        raise ValueError(f"gnubg gave no cube analysis{' for ' + where if where else ''}: {said[:300]!r}")
    probs = next((m for m in map(_PROBS.match, lines) if m), None)
    values = {}
    for m in filter(None, map(_OPTION.match, lines)):
        key = _LABELS.get(m.group(1).strip().lower())
        if key:
            values[key] = float(m.group(2))
    proper = next((m.group(1) for m in map(_PROPER.match, lines) if m), None)
    missing = [k for k in ("nd", "dt", "dp") if k not in values] + (["probabilities"] if probs is None else []) \
        + (["proper cube action"] if proper is None else [])
    if missing:
        raise ValueError(f"gnubg's cube analysis{' for ' + where if where else ''} lacks {', '.join(missing)}: "
                         f"{text.strip()[:500]!r}")
    w, wg, wbg, _lose, lg, lbg = (float(x) for x in probs.groups())
    return GnubgCubeAnalysis(nd=values["nd"], dt=values["dt"], dp=values["dp"], proper=proper,
                             cubeless=float(header.group(2)), probs=(w, wg, wbg, lg, lbg), plies=int(header.group(1)))


__all__ = ["CubeAnalysis", "Engine", "GnubgCubeAnalysis", "GnubgFullBot", "MAX_PLIES", "MONEY", "apply_move",
           "cube_info", "cube_refusal", "engine", "eval_context", "gnubg_match_id", "import_gnubg_full",
           "move_steps", "parse_cube_hint", "parse_move_hint", "pos_info", "probabilities"]
