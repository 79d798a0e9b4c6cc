"""Game phases: the one definition of contact, race and bear-off, and of a mover bearing off.

Two different questions, with different names:

- the **game phase** of a position (``game_phase`` / ``game_phases``): ``contact`` while some
  checker of one side stands behind a checker of the other; ``race`` once they have passed each
  other; ``bear-off`` when, besides, every checker of *both* sides is in its home board. This is
  how GNU Backgammon picks its nets, and what the phase router and pubeval's weights read.
- whether the **mover is bearing off** (``mover_bearing_off``): a race in which every checker of
  the player on roll is home, so it may bear off. ``bench accuracy`` reports agreement on such
  decisions, whatever the opponent's checkers are doing.

Compiled kernels (arrays in, numbers out) shared by the encoders and bots; Python wrappers below.
"""
from __future__ import annotations

import numpy as np
from numba import njit

CONTACT, RACE, BEAROFF = 0, 1, 2
GAME_PHASES = ("contact", "race", "bear-off")


@njit(cache=True)
def rearmost(row) -> int:
    """Index of a side's rearmost checker in its own numbering (bar = 24); -1 when none is left."""
    back = -1
    for i in range(25):
        if row[i] > 0:
            back = i
    return back


@njit(cache=True)
def phase_of(me, opp) -> int:
    """CONTACT, RACE or BEAROFF of a position with rows ``me`` (on roll) and ``opp``."""
    my_back = rearmost(me)
    opp_back = rearmost(opp)
    # the opponent's index j faces the mover's 23 - j: contact while my rearmost is beyond it
    if my_back >= 0 and opp_back >= 0 and my_back + opp_back > 22:
        return CONTACT
    if my_back <= 5 and opp_back <= 5:  # every checker left on points 1..6
        return BEAROFF
    return RACE


@njit(cache=True)
def _phases(boards):
    out = np.empty(boards.shape[0], np.int8)
    for k in range(boards.shape[0]):
        out[k] = phase_of(boards[k, 1], boards[k, 0])
    return out


def game_phases(boards) -> np.ndarray:
    """Game phase of each of (N, 2, 25) boards: int8 CONTACT / RACE / BEAROFF."""
    return _phases(np.ascontiguousarray(boards, dtype=np.int8).reshape(-1, 2, 25))


def game_phase(board) -> int:
    """Game phase of one (2, 25) board: CONTACT, RACE or BEAROFF."""
    b = np.ascontiguousarray(board, dtype=np.int8)
    return int(phase_of(b[1], b[0]))


def is_race(board) -> bool:
    """True when contact is over: no checker of one side stands behind a checker of the other."""
    return game_phase(board) != CONTACT


def race_flags(boards) -> np.ndarray:
    """``is_race`` of each of (N, 2, 25) boards."""
    return game_phases(boards) != CONTACT


def mover_bearing_off(boards) -> np.ndarray:
    """Of each of (N, 2, 25) boards: a race with every checker of the player on roll home."""
    b = np.ascontiguousarray(boards, dtype=np.int8).reshape(-1, 2, 25)
    home = b[:, 1, 6:].sum(axis=1) == 0
    return race_flags(b) & home


__all__ = ["BEAROFF", "CONTACT", "GAME_PHASES", "RACE", "game_phase", "game_phases", "is_race",
           "mover_bearing_off", "phase_of", "race_flags", "rearmost"]
