"""A board as a set of tokens, one per place, for mixture-of-experts scorers.

A mixture routes inside one position (``comparison.moe``), so a position is split into tokens:
one per point of the board, one for the bar and one for the borne-off checkers. The view is
``board[1]``'s, the player who has just moved when the board is the result of a play (the
thing a move chooser scores); tokens 0..23 are its points 1..24 in its own numbering.

Every token has ``D_TOKEN`` = 12 features:

=======  ======================================================================================
units    meaning
=======  ======================================================================================
0..3     ``board[1]``'s checkers here, Tesauro's units: points [n >= 1, n >= 2, n >= 3,
         (n - 3) / 2 if n > 3]; the bar token [n / 2, 0, 0, 0]; the borne-off token
         [n / 15, 0, 0, 0] (exactly TD-Gammon's raw inputs, regrouped by place)
4..7     ``board[0]``'s checkers here, same units (its checkers on the mover's point p stand on
         its own point 25 - p); the bar token holds its bar, the borne-off token its borne off
8        where the token is: p / 25 for the point p, 1 for the bar, 0 for the borne-off token
9..11    the position's phase, one-hot (contact, race, bear-off); the same in every token
=======  ======================================================================================

The phase is GNU Backgammon's choice of evaluator (``ClassifyPosition``), three classes:
contact while some checker of one side still has to pass a checker of the other (gnubg: the
rearmost checkers' indices, bar = 24, sum to more than 22); otherwise bear-off when both sides
have every checker left in their home boards (gnubg's bear-off databases, which cover both
sides), else race. gnubg's fourth net, "crashed", is a kind of contact and is not separated.
A finished game (the mover has borne off all) falls under the same rules: no contact, and the
mover's home board holds all of its (zero) checkers.

Since every token carries the phase, a token router can route by it too; the hard phase router
reads it from token ``PHASE_TOKEN`` at features ``PHASE_FEATURES`` (``PHASE_ROUTER`` holds the
keyword arguments for ``moe.build_scorer(router="phase", ...)``).

Flattened, ``point_tokens(b).reshape(N, N_TOKENS * D_TOKEN)`` is an input for a dense scorer
that holds all of ``tesauro198`` but the turn units, plus the place constants and the phase.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..rules.phases import BEAROFF, CONTACT, GAME_PHASES, RACE, game_phases, phase_of
from .encode import _as_boards, point_units

N_TOKENS = 26  # 24 points, bar, borne off
D_TOKEN = 12
BAR_TOKEN = 24
OFF_TOKEN = 25

MOVER_UNITS = slice(0, 4)
OPPONENT_UNITS = slice(4, 8)
PLACE_FEATURE = 8
# the game phase (rules.phases: contact / race / bear-off, both sides home) as the phase router reads it
PHASE_CONTACT, PHASE_RACE, PHASE_BEAROFF = CONTACT, RACE, BEAROFF
PHASE_NAMES = GAME_PHASES
PHASE_TOKEN = 0
PHASE_FEATURES = (9, 10, 11)  # one-hot over PHASE_NAMES
PHASE_ROUTER = {"phase_token": PHASE_TOKEN, "phase_features": list(PHASE_FEATURES)}


@njit(cache=True)
def _point_tokens(boards):
    n = boards.shape[0]
    out = np.zeros((n, N_TOKENS, D_TOKEN), np.float32)
    for k in range(n):
        me = boards[k, 1]
        opp = boards[k, 0]
        tok = out[k]
        my_left = 0
        opp_left = 0
        for i in range(24):
            point_units(me[i], tok[i], 0)
            point_units(opp[23 - i], tok[i], 4)  # the mover's point i + 1 is the opponent's 24 - i
            tok[i, PLACE_FEATURE] = (i + 1) / 25.0
            my_left += me[i]
            opp_left += opp[i]
        my_left += me[24]
        opp_left += opp[24]
        tok[BAR_TOKEN, 0] = me[24] / 2.0
        tok[BAR_TOKEN, 4] = opp[24] / 2.0
        tok[BAR_TOKEN, PLACE_FEATURE] = 1.0
        tok[OFF_TOKEN, 0] = (15 - my_left) / 15.0
        tok[OFF_TOKEN, 4] = (15 - opp_left) / 15.0
        tok[OFF_TOKEN, PLACE_FEATURE] = 0.0
        f = 9 + phase_of(me, opp)
        for t in range(N_TOKENS):
            tok[t, f] = 1.0
    return out


def point_tokens(boards) -> np.ndarray:
    """Tokens of each board from ``board[1]``'s view: (N, 2, 25) -> float32 (N, N_TOKENS, D_TOKEN)."""
    return _point_tokens(_as_boards(boards))


def point_tokens_one(board) -> np.ndarray:
    """:func:`point_tokens` of a single (2, 25) board -> float32 (N_TOKENS, D_TOKEN)."""
    return point_tokens(np.asarray(board)[None])[0]


def phases(boards) -> np.ndarray:
    """Game phase of each board (PHASE_CONTACT, PHASE_RACE, PHASE_BEAROFF): (N, 2, 25) -> int8 (N,)."""
    return game_phases(_as_boards(boards))


__all__ = [
    "BAR_TOKEN", "D_TOKEN", "N_TOKENS", "OFF_TOKEN", "PHASE_BEAROFF", "PHASE_CONTACT",
    "PHASE_FEATURES", "PHASE_NAMES", "PHASE_RACE", "PHASE_ROUTER", "PHASE_TOKEN", "phases",
    "point_tokens", "point_tokens_one",
]
