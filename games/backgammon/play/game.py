"""The one game loop: the state of a game and the rules of a turn.

Every driver plays through this module: matches (:mod:`.match`, many games in lockstep), record
generation (:mod:`.generate`), the Gymnasium environments and the terminal session. The rules of
the flow live here once:

- the opening roll (:meth:`Dice.opening`): one die each, ties thrown again; the higher die moves
  first, playing both dice;
- a turn: the player on roll plays one of the legal plays of its dice (or nothing, when no checker
  can move); if it has borne off all its checkers the game ends and it wins
  :func:`~games.backgammon.rules.scoring.points_won`; else the board turns to the other side's view
  (:func:`~games.backgammon.rules.board.swap_sides`) and the other side rolls;
- the cube (:func:`cube_turn`): before rolling, the player on roll may double when
  :func:`may_double` allows it; the other side takes (the cube doubles and the taker owns it) or
  passes (the game ends: the doubler wins the cube's value before the double). A game won by
  bearing off is worth :func:`~games.backgammon.rules.scoring.points_won` times the cube value
  (with the Jacoby rule in a money game, a single game while the cube was never turned);
- a resignation (:func:`resign`): the other side wins what bearing off now would win it.

``state.ended_by`` says how a game ended; ``state.cube_history`` lists its cube actions, and
:func:`record_game` turns a game (its checker plays, from :func:`checker_record`, and its cube
actions) into the records.Game that :func:`records.write_mat` writes.

A state is seen from the player on roll: ``board[1]`` is the side whose ``turn`` it is (seat 0 or
1; seat 0 throws the first die of the opening roll). It also carries the match score, the match
length (0 = money), the Crawford flag and the cube. A driver that never calls the cube functions
plays exactly the cubeless games it always did.

The dice: :func:`play_turn` throws the next player's roll at the end of the turn, so
``state.dice`` already holds the roll while that player makes its cube decision. A cube decision
must never look at it: :func:`cube_turn` shows the players only the board and
:func:`match_state`, whose dice are (0, 0) (not yet rolled). Throwing the roll early keeps the
dice stream of every game the same with and without the cube.

:class:`Games` is the same loop over many games at once, as arrays, so that a player can choose
for all the games where it is on roll in one call (one forward pass of a network).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..rules.board import start_board, swap_sides
from ..rules.cube import MAX_CUBE  # noqa: F401 - the highest cube, re-exported for the game's users
from ..rules.cube import cube_refusal as rules_cube_refusal
from ..rules.ids import MatchState
from ..rules.legal import legal_plays
from ..rules.scoring import points_won, points_won_batch

CENTRED = -1
"""``cube_owner`` while the cube is in the middle."""

ENDINGS = ("bear-off", "pass", "resign")
"""How a game can end (``GameState.ended_by``)."""


class CubeError(ValueError):
    """A cube action the rules do not allow now (the message says why), or a player's cube answer
    that is not one of the words of the cube interface."""


@dataclass(frozen=True)
class CubeEvent:
    """One cube action of a game, in order: ``kind`` "double", "take" or "pass" by ``seat``.

    ``ply`` is the number of turns played before it (a cube action comes before that turn's
    roll); ``value`` the cube value the double proposes, the take accepts, or the pass gives up
    (the value before the refused double).
    """

    ply: int
    seat: int
    kind: str
    value: int


class Dice:
    """Dice thrown from a NumPy Generator: two at a time, ``integers(1, 7, size=2)``."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def roll(self) -> tuple[int, int]:
        d = self.rng.integers(1, 7, size=2)
        return int(d[0]), int(d[1])

    def opening(self) -> tuple[int, int]:
        """The opening roll (seat 0's die, seat 1's die): one die each, ties thrown again."""
        d0, d1 = self.roll()
        while d0 == d1:
            d0, d1 = self.roll()
        return d0, d1


@dataclass
class GameState:
    """One game: the board from the view of the player on roll, whose turn, its dice, the match.

    ``dice`` is None once the game is over; ``winner`` (a seat), ``points`` and ``ended_by`` are
    set then. While ``doubled`` is True the player on roll has doubled and the other side
    (``1 - turn``) must take or pass before anything else happens. ``cube_history`` lists the
    game's cube actions (:class:`CubeEvent`) in order.
    """

    board: np.ndarray                  # (2, 25) int8, board[1] = the player on roll
    turn: int                          # seat on roll: 0 or 1
    dice: Optional[tuple[int, int]]    # the roll to play
    score: tuple[int, int] = (0, 0)    # match score before this game, by seat
    match_length: int = 0              # 0 = money play
    crawford: bool = False             # this is the Crawford game
    cube_value: int = 1
    cube_owner: int = CENTRED          # a seat, or CENTRED
    winner: Optional[int] = None
    points: int = 0                    # points the winner won: single 1, gammon 2, backgammon 3, x the cube
    plies: int = 0                     # turns played
    opening: tuple[int, int] = field(default=(0, 0))  # the opening roll (seat 0's die, seat 1's die)
    jacoby: bool = False               # money play: gammons count only once the cube was turned
    doubled: bool = False              # the player on roll has doubled; the other side must answer
    ended_by: Optional[str] = None     # once over: one of ENDINGS
    cube_history: list = field(default_factory=list)  # CubeEvent, in order

    @property
    def over(self) -> bool:
        return self.winner is not None

    def legal_plays(self):
        """The legal plays of the player on roll for its dice ([] when none; [] once the game is over)."""
        return [] if self.dice is None else legal_plays(self.board, *self.dice)

    def copy(self) -> "GameState":
        return GameState(**{**self.__dict__, "board": self.board.copy(), "cube_history": list(self.cube_history)})


def new_game(dice: Dice, score=(0, 0), match_length: int = 0, crawford: bool = False,
             jacoby: bool = False) -> GameState:
    """A game at the opening position after the opening roll: the higher die's seat is on roll.

    ``crawford`` marks the Crawford game of a match (no doubling); ``jacoby`` the Jacoby rule of
    money play (ignored in a match).
    """
    d0, d1 = dice.opening()
    turn = 0 if d0 > d1 else 1
    return GameState(start_board(), turn, (d0, d1), tuple(score), match_length, crawford, opening=(d0, d1),
                     jacoby=bool(jacoby) and match_length == 0)


def play_turn(state: GameState, result: Optional[np.ndarray], dice: Optional[Dice]) -> GameState:
    """The player on roll ends its turn with the board ``result`` (None: no checker could move).

    If it has borne off all its checkers the game ends (winner, points); else the other side is on
    roll and throws ``dice`` (pass None to set ``state.dice`` yourself). Changes ``state`` in place
    and returns it.
    """
    if state.over:
        raise RuntimeError("the game is over")
    if state.doubled:
        raise RuntimeError("a double is offered: the other side must take or pass before the roll is played")
    state.plies += 1
    board = state.board if result is None else np.asarray(result, dtype=np.int8)
    if result is not None and board[1].sum() == 0:  # the mover has borne off all 15
        state.board = board
        _finish(state, state.turn, game_points(state, points_won(np.ascontiguousarray(board[0]))), "bear-off")
        return state
    state.board = swap_sides(board)
    state.turn ^= 1
    state.dice = dice.roll() if dice is not None else None
    return state


# ------------------------------------------------------------------------------ points and endings


def game_points(state: GameState, base: int) -> int:
    """What a game worth ``base`` cubeless points (1 single, 2 gammon, 3 backgammon) pays now:
    ``base`` times the cube value; with the Jacoby rule (money play) a single game while the
    cube was never turned."""
    if state.jacoby and state.match_length == 0 and state.cube_value == 1:
        base = 1
    return int(base) * state.cube_value


def _finish(state: GameState, winner: int, points: int, how: str) -> None:
    """End the game: ``winner`` (a seat) wins ``points`` (the cube counted already), ended ``how``."""
    state.winner, state.points, state.ended_by = winner, int(points), how
    state.dice, state.doubled = None, False


def resign_points(state: GameState, loser: Optional[int] = None) -> int:
    """What ``loser`` (default: the player on roll) loses by resigning now: what it would lose if
    the other side bore off its last checker at once, times the cube (:func:`game_points`)."""
    loser = state.turn if loser is None else loser
    row = state.board[1] if loser == state.turn else state.board[0]
    return game_points(state, int(points_won(np.ascontiguousarray(row))))


def resign(state: GameState, loser: Optional[int] = None) -> GameState:
    """``loser`` (default: the player on roll) gives up: the other side wins :func:`resign_points`.
    Changes ``state`` in place and returns it."""
    if state.over:
        raise RuntimeError("the game is over")
    loser = state.turn if loser is None else loser
    _finish(state, 1 - loser, resign_points(state, loser), "resign")
    return state


# ------------------------------------------------------------------------------ the cube


def cube_refusal(state: GameState) -> str:
    """'' when the player on roll may double now (before its roll); else a sentence saying why not.

    The game's flow first: not once the game is over, not while a double waits for its answer,
    not before the opening move (the opening roll is thrown already). The cube's rules (who owns
    it, the Crawford game, a dead cube in a match, :data:`MAX_CUBE`) are the rules layer's
    :func:`games.backgammon.rules.cube.cube_refusal`, asked of :func:`match_state`.
    """
    if state.over:
        return "the game is over"
    if state.doubled:
        return "a double is already offered"
    if state.plies == 0:
        return "the opening roll is already thrown: no double before the first move"
    return rules_cube_refusal(match_state(state))


def may_double(state: GameState) -> bool:
    """Whether the player on roll may double now (see :func:`cube_refusal` for the rules)."""
    return not cube_refusal(state)


def offer_double(state: GameState) -> GameState:
    """The player on roll doubles; the other side must answer (:func:`answer_double`).
    Raises :class:`CubeError` when the rules do not allow it."""
    why = cube_refusal(state)
    if why:
        raise CubeError(f"cannot double: {why}")
    state.doubled = True
    state.cube_history.append(CubeEvent(state.plies, state.turn, "double", state.cube_value * 2))
    return state


def _check_offered(state: GameState, what: str) -> None:
    if state.over:
        raise CubeError(f"cannot {what}: the game is over")
    if not state.doubled:
        raise CubeError(f"cannot {what}: no double is offered")


def take_double(state: GameState) -> GameState:
    """The other side takes the double: the cube doubles and the taker owns it; the doubler rolls on."""
    _check_offered(state, "take")
    state.doubled = False
    state.cube_value *= 2
    state.cube_owner = 1 - state.turn
    state.cube_history.append(CubeEvent(state.plies, 1 - state.turn, "take", state.cube_value))
    return state


def pass_double(state: GameState) -> GameState:
    """The other side passes (drops) the double: the game ends and the doubler wins the cube's
    value before the double (gammons do not count)."""
    _check_offered(state, "pass")
    state.cube_history.append(CubeEvent(state.plies, 1 - state.turn, "pass", state.cube_value))
    _finish(state, state.turn, state.cube_value, "pass")
    return state


ANSWERS = {"take": take_double, "pass": pass_double, "drop": pass_double}


def answer_double(state: GameState, answer: str) -> GameState:
    """Apply the answer to a double: "take", or "pass" (also "drop")."""
    how = ANSWERS.get(str(answer).strip().lower())
    if how is None:
        raise CubeError(f"the answer to a double is 'take' or 'pass', not {answer!r}")
    return how(state)


def match_state(state: GameState, with_dice: bool = False) -> MatchState:
    """The gnubg match state of ``state``: players are seats, ``on_roll`` the seat on roll (whose
    view ``state.board`` is), ``turn`` the seat that must act (the taker while a double waits).

    The dice are (0, 0) unless ``with_dice``: a cube decision comes before the roll, and the
    roll that :func:`play_turn` threw early must stay unseen. In money play the score is (0, 0)
    whatever a money session has won so far (gnubg's money state has no score: its Match ID
    drops it, and no decision depends on it).
    """
    if not state.over:
        game_state = 1
    else:
        game_state = {"pass": 4, "resign": 3}.get(state.ended_by, 2)
    money = state.match_length == 0
    return MatchState(
        cube=state.cube_value, cube_owner=state.cube_owner, on_roll=state.turn,
        crawford=state.crawford and not money, game_state=game_state,
        turn=1 - state.turn if state.doubled else state.turn, doubled=state.doubled,
        dice=state.dice if with_dice and state.dice is not None else (0, 0),
        match_length=state.match_length, score=(0, 0) if money else tuple(state.score),
        jacoby=state.jacoby and money)


DOUBLE_WORDS = ("double", "no double")
ANSWER_WORDS = ("take", "pass")


def ask_cube(player, state: GameState) -> str:
    """The cube decision that is ``player``'s now: "double" / "no double" when no double is
    offered (``player`` is on roll), "take" / "pass" while one is (``player`` is the taker).

    The player's ``cube_action(board, match_state)`` sees ``state.board`` (the player on roll,
    the doubler, in ``board[1]``) and :func:`match_state` without the dice. A player without
    ``cube_action`` never doubles and always takes. Raises :class:`CubeError` when the player
    answers anything else ("drop" is read as "pass").
    """
    words = ANSWER_WORDS if state.doubled else DOUBLE_WORDS
    act = getattr(player, "cube_action", None)
    if act is None:
        return "take" if state.doubled else "no double"
    said = act(state.board, match_state(state))
    word = said.strip().lower() if isinstance(said, str) else said
    if word == "drop" and state.doubled:
        word = "pass"
    if word not in words:
        name = getattr(player, "name", type(player).__name__)
        raise CubeError(f"{name}.cube_action answered {said!r}; expected {words[0]!r} or {words[1]!r} here")
    return word


def cube_turn(state: GameState, doubler, taker) -> str:
    """The cube decision before the player on roll's roll, asked of both players and applied.

    ``doubler`` is the player on roll (seat ``state.turn``), ``taker`` the other side. Returns ''
    when no double is allowed (nobody is asked), else "no double", "take" or "pass" (the game is
    over then). Both players see ``state.board`` (the doubler in ``board[1]``) and
    :func:`match_state` without the dice (see the module's note on the dice), via :func:`ask_cube`.
    """
    if not may_double(state):
        return ""
    if ask_cube(doubler, state) == "no double":
        return "no double"
    offer_double(state)
    answer = ask_cube(taker, state)
    answer_double(state, answer)
    return answer


class NoCube:
    """A cube decider that never doubles and always takes: it stands in, in :func:`cube_turn`, for
    a side given no cube decisions (``match --cube-for``), whatever its own ``cube_action``."""

    name = "no cube decisions"

    def cube_action(self, board, state: MatchState) -> str:
        return "take" if state.doubled else "no double"


NO_CUBE = NoCube()


# ------------------------------------------------------------------------------ checker play at the score


def accepts_keyword(method, name: str) -> bool:
    """Whether ``method`` takes a parameter called ``name`` (False for None or no signature)."""
    if method is None:
        return False
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def plays_at_score(player) -> bool:
    """Whether ``player``'s checker play depends on the match state: its ``choose`` takes a
    ``state`` keyword (a gnubg-full player, a trained agent), so the game loop hands it
    :func:`match_state` and it values gammons at the score and cube.

    A player that says ``has_outcomes`` is False (a plain comparison scorer) ranks plays the same
    at every score: it is left to its faster stateless path (the plays are the same).
    Inspect once per player, not once per position.
    """
    if getattr(player, "has_outcomes", True) is False:
        return False
    return accepts_keyword(getattr(player, "choose", None), "state")


def choose_play(player, state: GameState, rng=None, at_score: bool | None = None):
    """``player``'s checker play for the roll ``state.dice`` (a Play, or None when no checker can
    move). A player that :func:`plays_at_score` gets ``state=match_state(state, with_dice=True)``
    (the roll is known by now); ``rng`` goes to players whose ``choose`` takes one. ``at_score``:
    :func:`plays_at_score`'s answer when the caller has it already."""
    choose = player.choose
    kw = {}
    if rng is not None and accepts_keyword(choose, "rng"):
        kw["rng"] = rng
    if at_score is None:
        at_score = plays_at_score(player)
    if at_score:
        kw["state"] = match_state(state, with_dice=True)
    return choose(state.board, *state.dice, **kw)


# ------------------------------------------------------------------------------ records of a game


def checker_record(state: GameState, play, n_legal: int):
    """The records.CheckerPlay of the player on roll playing ``play`` (None: no move) with its
    dice now, before :func:`play_turn`; ``n_legal`` the roll's number of distinct legal plays."""
    from ..records import CheckerPlay

    result = state.board if play is None else play.board
    return CheckerPlay(state.turn, tuple(state.dice), play.notation if play is not None else "", 0,
                       np.array(state.board), np.array(result), play, n_legal if play is not None else 0,
                       cube=state.cube_value)


_RECORD_KIND = {"double": "double", "take": "take", "pass": "drop"}


def record_actions(state: GameState, plays) -> tuple:
    """The game's actions in order for a record: ``plays`` (one records.CheckerPlay per turn
    played, in order) with the cube actions of ``state.cube_history`` put before the turn they
    came before."""
    from ..records import CubeAction

    plays = list(plays)
    if len(plays) != state.plies:
        raise ValueError(f"{len(plays)} checker plays for a game of {state.plies} turns")
    cube = list(state.cube_history)
    out, k = [], 0
    for ply in range(len(plays) + 1):
        while k < len(cube) and cube[k].ply == ply:
            e = cube[k]
            out.append(CubeAction(e.seat, _RECORD_KIND[e.kind], e.value if e.kind == "double" else None, 0))
            k += 1
        if ply < len(plays):
            out.append(plays[ply])
    return tuple(out)


def record_game(state: GameState, plays, number: int = 1, players: tuple[str, str] = ("", "")):
    """The game as a records.Game (what :func:`records.write_mat` writes): the actions of
    :func:`record_actions`, the score before it, and how it ended once over."""
    from ..records import Game

    over = state.over
    match_won = bool(over and state.match_length and state.score[state.winner] + state.points >= state.match_length)
    return Game(number, tuple(state.score), record_actions(state, plays), tuple(players), state.match_length,
                state.winner if over else None, state.points if over else None, match_won,
                state.ended_by == "resign", crawford=bool(state.crawford and state.match_length))


class Games:
    """Many games in lockstep, as arrays: the loop of :func:`new_game` / :func:`play_turn`.

    ``boards`` (n, 2, 25) from each mover's view, ``turn`` (n,) seats on roll, ``dice`` (n, 2),
    ``active`` the indices of games not yet over, ``points`` (n,) signed from seat 0's view once
    over. Game i throws its dice from ``dice_rngs[i]``, exactly as a :class:`GameState` with
    ``Dice(dice_rngs[i])`` would.
    """

    def __init__(self, dice_rngs):
        self.dice_sources = [Dice(r) for r in dice_rngs]
        n = len(self.dice_sources)
        self.boards = np.repeat(start_board()[None], n, axis=0)
        self.dice = np.empty((n, 2), np.int64)
        self.turn = np.empty(n, np.int8)
        for i, d in enumerate(self.dice_sources):
            self.dice[i] = d.opening()
            self.turn[i] = 0 if self.dice[i, 0] > self.dice[i, 1] else 1
        self.points = np.zeros(n, np.int8)
        self.active = np.arange(n)

    def on_roll(self, seat: int) -> np.ndarray:
        """Indices of the active games where ``seat`` is on roll."""
        return self.active[self.turn[self.active] == seat]

    def play(self, results: np.ndarray) -> np.ndarray:
        """Every active game's mover ends its turn with ``results`` (len(active), 2, 25) (the board
        itself where no checker could move); returns the indices of the games that ended."""
        idx = self.active
        self.boards[idx] = results
        won = self.boards[idx, 1].sum(axis=1) == 0  # the mover has borne off all
        done = idx[won]
        if len(done):
            pts = points_won_batch(np.ascontiguousarray(self.boards[done, 0]))
            self.points[done] = np.where(self.turn[done] == 0, pts, -pts)
            idx = idx[~won]
            self.active = idx
        self.boards[idx] = swap_sides(self.boards[idx])
        self.turn[idx] ^= 1
        for i in idx:
            self.dice[i] = self.dice_sources[i].roll()
        return done


__all__ = [
    "CENTRED", "ENDINGS", "MAX_CUBE", "NO_CUBE", "CubeError", "CubeEvent", "Dice", "GameState", "Games",
    "NoCube", "accepts_keyword", "answer_double", "ask_cube", "checker_record", "choose_play", "cube_refusal",
    "cube_turn", "game_points", "match_state", "may_double", "new_game", "offer_double", "pass_double",
    "play_turn", "plays_at_score", "record_actions", "record_game", "resign", "resign_points", "take_double",
]
