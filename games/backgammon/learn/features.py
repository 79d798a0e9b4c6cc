"""Hand-made features of backgammon positions, in the spirit of Neurogammon and gnubg's inputs.

A scorer ranks the results of a play, so the features describe a RESULT: ``board[1]`` is the
player who just moved (the *mover*), ``board[0]`` the *opponent*, who rolls next. ``handmade``
takes boards (N, 2, 25) int8 and returns float32 (N, N_FEATURES) from one compiled loop, meant to
sit beside Tesauro's 198 inputs (``encode.tesauro198``) at a scorer's input.

Per side (``mover_*`` for ``board[1]``, then ``opp_*`` for ``board[0]``), each in its own numbering
(index 0 = its 1-point, 23 its 24-point, 24 its bar):

==================  ==========================================================  =======
name                meaning                                                     scale
==================  ==========================================================  =======
pips                pip count (a checker on point p counts p, the bar 25)       / 200
borne_off           checkers borne off                                          / 15
home                checkers in its home board (points 1..6)                    / 15
bearin_pips         pips still to travel to bring every checker home:           / 100
                    sum over checkers outside of (point - 6)
can_bear_off        1 when every checker left is home (bearing off is allowed)  0 / 1
bar                 checkers on the bar                                         / 2
back                checkers back: in the other side's home board or on the bar / 5
blots               points (1..24) holding exactly one checker                  / 5
points              points (1..24) holding two or more ("made")                 / 12
home_points         made points in its home board                               / 6
longest_prime       longest run of consecutive made points                      / 6
anchors             made points in the other side's home board (its 19..24)     / 3
rearmost            point of its rearmost checker (bar = 25, none left = 0)     / 25
escape_rolls        rolls, of 36, with which that rearmost checker could move   / 36
                    the whole roll by itself over points the other side has
                    not made (both dice through either intermediate point; all
                    four steps of a double; moving past the 1-point counts as
                    free). 36 in a race, 0 behind a full prime (gnubg's
                    "escapes", with doubles played out)
hit_rolls           rolls of the OTHER side, of 36, with a legal play that      / 36
                    hits at least one of this side's blots (see below)
==================  ==========================================================  =======

Then three features of the race: ``race_lead`` = (opponent's pips - mover's pips) / 100 (positive:
the mover is ahead), ``race_lead_relative`` = the same difference over the sum of both pip counts,
and ``contact`` (1 while some checker still has to pass an enemy checker, 0 in a pure race; the
complement of ``board.is_race``).

``mover_hit_rolls`` is the shot count that matters: the opponent rolls next, and a roll counts when
ANY of its legal plays sends one of the mover's blots to the bar (direct and indirect shots,
hits from the bar, blocked landing points, intermediate points of combinations and of every
step of a double, the bar rule, and the forced-play rules: as many dice as possible, the larger die
when only one can be played). ``opp_hit_rolls`` is the same count for the mover's rolls against
the opponent's blots as the board stands; the mover rolls only after the opponent has moved, so it
describes the position less directly.

How the shot count is computed: bit masks over the 24 points (the shooter's occupied points, the
target's blots and blocks), shifted by the dice. A hit found that way is part of a legal play
when the whole roll can be played around it, which the same masks prove in almost every case;
the rest (about 0.2% of the rolls of positions from random games: a hit that may leave a die
unplayable while another play might use more dice) is settled exactly by the engine's move
generator. So the count equals "some legal play hits" by construction; the tests check it
against the engine and against a plain-Python search of the rules.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..rules import movegen
from ..rules.phases import CONTACT, phase_of
from .encode import _as_boards

SIDE_FEATURES = (
    "pips", "borne_off", "home", "bearin_pips", "can_bear_off", "bar", "back", "blots", "points",
    "home_points", "longest_prime", "anchors", "rearmost", "escape_rolls", "hit_rolls",
)
RACE_FEATURES = ("race_lead", "race_lead_relative", "contact")
FEATURE_NAMES = (
    tuple(f"mover_{name}" for name in SIDE_FEATURES)
    + tuple(f"opp_{name}" for name in SIDE_FEATURES)
    + RACE_FEATURES
)
N_FEATURES = len(FEATURE_NAMES)
_N_SIDE = len(SIDE_FEATURES)

_ALL24 = np.int64((1 << 24) - 1)  # bits of the 24 points (bit 24 would be the bar)


# ---------------------------------------------------------------- counting features


@njit(cache=True)
def _side_features(boards, k, side, out, base):
    """The counting features of row ``side`` of board k, written to out[k, base : base + 13];
    returns its pip count. (The side's last two, escapes and shots, need both rows.)"""
    pips = 0
    left = 0
    home = 0
    outside_pips = 0
    blots = 0
    points = 0
    home_points = 0
    anchors = 0
    prime = 0
    run = 0
    rearmost = 0
    back = 0
    for i in range(25):
        n = np.int64(boards[k, side, i])
        left += n
        pips += n * (i + 1)
        if n > 0:
            rearmost = i + 1
        if i < 6:
            home += n
        else:
            outside_pips += n * (i - 5)
        if i >= 18:
            back += n
        if i < 24:
            if n == 1:
                blots += 1
            if n >= 2:
                points += 1
                run += 1
                if run > prime:
                    prime = run
                if i < 6:
                    home_points += 1
                if i >= 18:
                    anchors += 1
            else:
                run = 0
    out[k, base + 0] = pips / 200.0
    out[k, base + 1] = (15 - left) / 15.0
    out[k, base + 2] = home / 15.0
    out[k, base + 3] = outside_pips / 100.0
    out[k, base + 4] = 1.0 if outside_pips == 0 else 0.0
    out[k, base + 5] = boards[k, side, 24] / 2.0
    out[k, base + 6] = back / 5.0
    out[k, base + 7] = blots / 5.0
    out[k, base + 8] = points / 12.0
    out[k, base + 9] = home_points / 6.0
    out[k, base + 10] = prime / 6.0
    out[k, base + 11] = anchors / 3.0
    out[k, base + 12] = rearmost / 25.0
    return pips


@njit(cache=True)
def _escape_rolls(boards, k, side):
    """Rolls of 36 with which row ``side``'s rearmost checker can play the whole roll alone."""
    other = 1 - side
    rearmost = -1
    for i in range(25):
        if boards[k, side, i] > 0:
            rearmost = i
    if rearmost < 0:
        return 0
    # bit x + 24: the checker may stand on index x (x < 0: past the 1-point, always free)
    free = np.int64((1 << 24) - 1)
    for j in range(24):
        if boards[k, other, 23 - j] < 2:
            free |= np.int64(1) << (j + 24)
    start = rearmost + 24
    count = 0
    for d1 in range(1, 7):
        for d2 in range(d1, 7):
            if d1 == d2:
                ok = True
                for u in range(1, 5):
                    if not (free >> (start - u * d1)) & 1:
                        ok = False
            else:
                ok = ((free >> (start - d1 - d2)) & 1) == 1 and (
                    ((free >> (start - d1)) & 1) == 1 or ((free >> (start - d2)) & 1) == 1)
            if ok:
                count += 1 if d1 == d2 else 2
    return count


# ---------------------------------------------------------------- shots: masks

# In the shot kernels the *shooter* is the side that rolls and the *target* the side whose blots
# it aims at, all in the shooter's numbering: a shooter's checker on index j moves to j - die; the
# target's checkers on the shooter's index j are the target's index 23 - j.
#   occ    bit j: the shooter has a checker on j (0..23; the bar is counted separately)
#   multi  bit j: the shooter has two or more there
#   blots  bit j: the target has exactly one checker there (a blot the shooter can hit)
#   open_  bit j: the target has fewer than two there (the shooter may land)


@njit(cache=True)
def _highest_bit(mask):
    """Index of the highest set bit of a nonnegative mask (-1 for 0)."""
    i = -1
    while mask:
        mask >>= 1
        i += 1
    return i


@njit(cache=True)
def _can_play(after, open_, die):
    """Can the shooter, with no checker on the bar and checkers on ``after``, play ``die``?"""
    if after & (open_ << die):  # some checker j lands on an open j - die
        return True
    if (after >> 6) == 0 and after != 0:  # every checker home: bearing off is allowed
        if (after >> (die - 1)) & 1:  # an exact die
            return True
        if _highest_bit(after) < die - 1:  # a larger die, from the highest point
            return True
    return False


@njit(cache=True)
def _popcount(mask):
    n = 0
    while mask:
        mask &= mask - 1
        n += 1
    return n


@njit(cache=True)
def _steps_playable(occ, multi, open_, die, steps):
    """Can the shooter (nothing on the bar) surely play ``steps`` moves of ``die``?

    A lower bound on the moves available: checkers on different points move independently
    (their landing points do not depend on each other), so each point contributes how far one of
    its checkers can walk over open points, twice where it holds two or more. Bearing off is not
    counted; a False here only means "not proved".
    """
    walk = open_ << die  # bit j: a checker on j may step to the open point j - die
    chain = walk  # bit j: a checker on j can walk u steps in a row (u = 1, 2, ...)
    total = 0
    for _ in range(steps):
        total += _popcount(occ & chain) + _popcount(multi & chain)
        if total >= steps:
            return True
        chain = walk & (chain << die)
    return False


@njit(cache=True)
def _mixed_roll_hits(occ, multi, blots, open_, bar, a, b):
    """Roll a-b (a != b): 1 when a legal play hits, 0 when none can, -1 when the masks cannot tell."""
    if bar >= 2:
        # both dice must enter (a die that cannot enter is lost): only the entry points are hit
        if (blots >> (24 - a)) & 1 or (blots >> (24 - b)) & 1:
            return 1
        return 0
    undecided = False
    if bar == 1:
        for order in range(2):
            first = a if order == 0 else b
            second = b if order == 0 else a
            entry = 24 - first
            if not (open_ >> entry) & 1:
                continue
            after = (occ & _ALL24) | (np.int64(1) << entry)
            if (after >> second) & blots:
                return 1  # any checker, the one that entered too, hits with the second die
            if (blots >> entry) & 1:  # the entry itself hits ...
                if after & (open_ << second):  # ... and the second die is played after it
                    return 1  # (no bearing off: the entered checker is not home)
                undecided = True  # maybe legal, if no play uses both dice
        return -1 if undecided else 0
    for order in range(2):
        first = a if order == 0 else b
        second = b if order == 0 else a
        # one checker with both dice, hitting where it stops (a hit on the way is a direct hit)
        if (((occ >> first) & open_) >> second) & blots:
            return 1
    for order in range(2):
        first = a if order == 0 else b
        second = b if order == 0 else a
        hitters = occ & (blots << first)  # points a checker hits from with the first die
        while hitters:
            source = hitters & -hitters  # the lowest one, as a bit
            hitters ^= source
            after = occ | (source >> first)
            if not multi & source:
                after &= ~source
            if _can_play(after, open_, second):
                return 1  # the hit, then the other die: a play of both dice
            undecided = True
    return -1 if undecided else 0


@njit(cache=True)
def _double_roll_hits(occ, multi, blots, open_, bar, die):
    """Roll die-die: 1 when a legal play hits, 0 when none can, -1 when the masks cannot tell."""
    steps = 4
    sources = occ & _ALL24
    if bar > 0:
        entry = 24 - die
        if not (open_ >> entry) & 1:
            return 0  # nothing can move
        if (blots >> entry) & 1:
            return 1  # every play starts by entering there
        entering = min(bar, 4)
        steps = 4 - entering  # what is left for any checker once the bar is empty
        sources |= np.int64(1) << entry
        if entering >= 2:
            multi |= np.int64(1) << entry
    reach = sources
    for t in range(1, steps + 1):
        reach = (reach >> die) & open_  # where one checker stands after t steps of the die
        hits = reach & blots
        if hits:
            left = steps - t
            if left == 0:
                return 1
            spot = hits & -hits  # one blot hit after t steps (as a bit) ...
            start = spot << (t * die)  # ... by a checker from this point
            after = sources | spot
            if not multi & start:
                after &= ~start
            if _steps_playable(after, multi & ~start, open_, die, left):
                return 1  # the steps left can be played too: a play of four moves
            return -1
    return 0


@njit(cache=True)
def _shot_masks(boards, k, shooter):
    """The masks of board k with row ``shooter`` (0 or 1) rolling at the other row's blots:
    (occ, multi, blots, open_, checkers of the shooter on the bar)."""
    target = 1 - shooter
    occ = np.int64(0)
    multi = np.int64(0)
    blots = np.int64(0)
    open_ = np.int64(0)
    for j in range(24):
        bit = np.int64(1) << j
        n = boards[k, shooter, j]
        if n > 0:
            occ |= bit
        if n > 1:
            multi |= bit
        t = boards[k, target, 23 - j]
        if t == 1:
            blots |= bit
        if t < 2:
            open_ |= bit
    return occ, multi, blots, open_, np.int64(boards[k, shooter, 24])


@njit(cache=True)
def _mask_hit_rolls(occ, multi, blots, open_, bar):
    """The 21 rolls from the masks: (rolls of 36 that surely hit, bit mask of the rolls the masks
    cannot settle: bit 6 * (d1 - 1) + d2 - 1 for d1 <= d2)."""
    rearmost = 24 if bar > 0 else _highest_bit(occ)
    if rearmost < 0 or blots & ((np.int64(1) << rearmost) - 1) == 0:
        return 0, np.int64(0)  # every blot is behind every shooter's checker
    count = 0
    undecided = np.int64(0)
    for d1 in range(1, 7):
        for d2 in range(d1, 7):
            if d1 == d2:
                r = _double_roll_hits(occ, multi, blots, open_, bar, d1)
            else:
                r = _mixed_roll_hits(occ, multi, blots, open_, bar, d1, d2)
            if r > 0:
                count += 1 if d1 == d2 else 2
            elif r < 0:
                undecided |= np.int64(1) << (6 * (d1 - 1) + d2 - 1)
    return count, undecided


@njit(cache=True)
def _engine_hit_rolls(boards, k, shooter, undecided, pair, out_boards, out_moves, table, keys,
                      slots, work_board, work):
    """The exact answer for the undecided rolls, from the move generator: rolls of 36 (among
    them) with a legal play that sends a target's checker to the bar."""
    target = 1 - shooter
    for i in range(25):
        pair[1, i] = boards[k, shooter, i]
        pair[0, i] = boards[k, target, i]
    count = 0
    for d1 in range(1, 7):
        for d2 in range(d1, 7):
            if not (undecided >> (6 * (d1 - 1) + d2 - 1)) & 1:
                continue
            n = movegen.generate(pair, d1, d2, out_boards, out_moves, table, keys, slots,
                                 work_board, work)
            for m in range(n):
                if out_boards[m, 0, 24] > pair[0, 24]:
                    count += 1 if d1 == d2 else 2
                    break
    return count


@njit(cache=True)
def _hit_rolls_batch(boards):
    """(N, 2, 25) -> (N, 2) int64 rolls of 36: column 0 the opponent's (row 0) rolls hitting the
    mover (row 1), column 1 the other way round; and (2,) int64: rolls settled by the masks, rolls
    settled by the move generator."""
    n = boards.shape[0]
    out = np.zeros((n, 2), np.int64)
    stats = np.zeros(2, np.int64)
    pair = np.empty((2, 25), np.int8)
    out_b, out_m, table, keys, slots, work_board, work = movegen.new_buffers()
    for k in range(n):
        for shooter in range(2):
            occ, multi, blots, open_, bar = _shot_masks(boards, k, shooter)
            if blots == 0:
                stats[0] += 21
                continue
            count, undecided = _mask_hit_rolls(occ, multi, blots, open_, bar)
            if undecided:
                left = _popcount(undecided)
                stats[0] += 21 - left
                stats[1] += left
                count += _engine_hit_rolls(boards, k, shooter, undecided, pair, out_b, out_m,
                                           table, keys, slots, work_board, work)
            else:
                stats[0] += 21
            out[k, shooter] = count
    return out, stats


@njit(cache=True)
def _handmade(boards):
    n = boards.shape[0]
    out = np.zeros((n, N_FEATURES), np.float32)
    shots, _ = _hit_rolls_batch(boards)  # (N, 2): against the mover, against the opponent
    mover = 0
    opp = _N_SIDE
    race = 2 * _N_SIDE
    for k in range(n):
        mover_pips = _side_features(boards, k, 1, out, mover)
        opp_pips = _side_features(boards, k, 0, out, opp)
        out[k, mover + _N_SIDE - 2] = _escape_rolls(boards, k, 1) / 36.0
        out[k, opp + _N_SIDE - 2] = _escape_rolls(boards, k, 0) / 36.0
        out[k, mover + _N_SIDE - 1] = shots[k, 0] / 36.0
        out[k, opp + _N_SIDE - 1] = shots[k, 1] / 36.0
        out[k, race] = (opp_pips - mover_pips) / 100.0
        total = opp_pips + mover_pips
        out[k, race + 1] = (opp_pips - mover_pips) / total if total > 0 else 0.0
        out[k, race + 2] = 1 if phase_of(boards[k, 1], boards[k, 0]) == CONTACT else 0
    return out


def handmade(boards) -> np.ndarray:
    """Hand-made features of each result: (N, 2, 25) -> float32 (N, N_FEATURES); names in
    ``FEATURE_NAMES``, meanings in the module doc. ``board[1]`` is the side that just moved."""
    return _handmade(_as_boards(boards))


def handmade_one(board) -> np.ndarray:
    """:func:`handmade` of a single (2, 25) board -> float32 (N_FEATURES,)."""
    return handmade(np.asarray(board)[None])[0]


def hit_rolls(boards, return_stats: bool = False):
    """Shot counts in rolls of 36: (N, 2, 25) -> int64 (N, 2).

    Column 0: the opponent's (``board[0]``'s) rolls with a legal play hitting a mover's blot;
    column 1: the mover's rolls hitting an opponent's blot. With ``return_stats`` also (2,) int64:
    how many rolls the masks settled and how many went to the move generator.
    """
    counts, stats = _hit_rolls_batch(_as_boards(boards))
    return (counts, stats) if return_stats else counts


__all__ = ["FEATURE_NAMES", "N_FEATURES", "handmade", "handmade_one", "hit_rolls"]
