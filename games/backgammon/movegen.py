"""Legal plays: Numba kernels, arrays in and arrays out.

The kernels work on the (2, 25) int8 board with the mover in row 1. A move is (src, dst, hit):
src 0..23 a point index, 24 the bar; dst 0..23, or -1 for off; hit 1 when it hits a blot.
They check nothing: ``legal.py`` validates at the Python boundary.

How a roll is expanded (as GNU Backgammon does): a depth-first search over single-die moves,
both dice orders for a non-double and, for a double, sources in non-increasing order (every
set of equal-die moves can be played in that order, so nothing is lost and most permutations
are never visited). Leaves are kept only if they use the most pips: that plays as many dice as
possible and, when only one die of a non-double can be played, the larger one. Equal results
are merged through a small hash table.
"""
from __future__ import annotations

import numpy as np
from numba import njit

MAX_RESULTS = 4096  # the busiest positions known have under 1,000 distinct results
_HASH_SIZE = 8192   # open addressing, power of two, at least 2 x MAX_RESULTS
_NO_MOVE = -2


# Leaf hash: a weighted sum of the 50 cells with random odd 64-bit weights (wrapping); it
# vectorizes, and equal hashes are confirmed by comparing the boards.
_WEIGHTS = (np.random.default_rng(20261124).integers(0, 2**63, size=(2, 25), dtype=np.int64) | 1).astype(np.uint64)


@njit(cache=True, inline="always")
def _hash(me, opp):
    h = np.uint64(0)
    for i in range(25):
        h += _WEIGHTS[1, i] * np.uint64(me[i]) + _WEIGHTS[0, i] * np.uint64(opp[i])
    return h


@njit(cache=True, inline="always")
def _target(me, opp, outside, src, die):
    """Where a checker on ``src`` lands with ``die``: an index, -1 for off, -2 if it cannot."""
    if me[src] == 0:
        return _NO_MOVE
    dst = src - die
    if dst >= 0:
        return _NO_MOVE if opp[23 - dst] >= 2 else dst
    if outside > 0:  # bearing off needs every checker home
        return _NO_MOVE
    if dst < -1:  # a larger die bears off only from the highest occupied point
        for i in range(src + 1, 6):
            if me[i] > 0:
                return _NO_MOVE
    return -1


@njit(cache=True, inline="always")
def _make(me, opp, outside, src, dst):
    """Play src -> dst on the working board; returns (outside, hit)."""
    me[src] -= 1
    hit = 0
    if dst >= 0:
        if src >= 6 and dst < 6:
            outside -= 1
        j = 23 - dst
        if opp[j] == 1:
            hit = 1
            opp[j] = 0
            opp[24] += 1
        me[dst] += 1
    return outside, hit


@njit(cache=True, inline="always")
def _unmake(me, opp, outside, src, dst, hit):
    if dst >= 0:
        me[dst] -= 1
        if hit:
            j = 23 - dst
            opp[j] = 1
            opp[24] -= 1
        if src >= 6 and dst < 6:
            outside += 1
    me[src] += 1
    return outside


@njit(cache=True)
def generate(board, d1, d2, out_boards, out_moves, table, table_keys, slots):
    """Distinct legal results of ``board`` with dice d1, d2.

    board: (2, 25) int8. out_boards: (MAX_RESULTS, 2, 25) int8, out_moves: (MAX_RESULTS, 4, 3)
    int8 (one move sequence per result, padded with -1), table: (_HASH_SIZE,) int32 all -1 on
    entry and on return, table_keys (MAX_RESULTS,) uint64 and slots (MAX_RESULTS,) int64
    scratch. Returns the count n; when no die can be played n == 0. Results keep the mover in
    row 1.
    """
    # one working board, changed by make/unmake along the search path
    me = board[1].copy()
    opp = board[0].copy()
    outside = 0  # the mover's checkers outside its home board, bar included
    for i in range(6, 25):
        outside += me[i]
    path = np.full((4, 3), -1, np.int64)
    if d1 == d2:
        n = _expand_double(me, opp, outside, d1, path, out_boards, out_moves, table,
                           table_keys, slots)
    else:
        n = _expand_two(me, opp, outside, d1, d2, path, out_boards, out_moves, table,
                        table_keys, slots)
    for k in range(n):  # leave the table clean for the next call
        table[slots[k]] = -1
    return n


@njit(cache=True)
def _expand_two(me, opp, outside, d1, d2, path, out_boards, out_moves, table, table_keys,
                slots):
    n = 0
    best = 0  # pips of the kept plays: both dice > the larger die alone > the smaller alone
    for order in range(2):
        a = d1 if order == 0 else d2
        b = d2 if order == 0 else d1
        for s1 in range(24, -1, -1):
            if me[24] > 0 and s1 != 24:
                break
            t1 = _target(me, opp, outside, s1, a)
            if t1 == _NO_MOVE:
                continue
            outside, hit1 = _make(me, opp, outside, s1, t1)
            path[0, 0] = s1
            path[0, 1] = t1
            path[0, 2] = hit1
            second = False
            for s2 in range(24, -1, -1):
                if me[24] > 0 and s2 != 24:
                    break
                t2 = _target(me, opp, outside, s2, b)
                if t2 == _NO_MOVE:
                    continue
                second = True
                outside, hit2 = _make(me, opp, outside, s2, t2)
                path[1, 0] = s2
                path[1, 1] = t2
                path[1, 2] = hit2
                n, best = _keep(me, opp, path, 2, a + b, n, best, out_boards, out_moves,
                                table, table_keys, slots)
                outside = _unmake(me, opp, outside, s2, t2, hit2)
            if not second and best <= a:
                path[1, 0] = -1
                n, best = _keep(me, opp, path, 1, a, n, best, out_boards, out_moves,
                                table, table_keys, slots)
            outside = _unmake(me, opp, outside, s1, t1, hit1)
    return n


@njit(cache=True)
def _expand_double(me, opp, outside, d, path, out_boards, out_moves, table, table_keys,
                   slots):
    # Four levels written out; sources never increase from one level to the next (any set of
    # equal-die moves can be played in that order), which prunes most permutations.
    n = 0
    best = 0
    for s1 in range(24, -1, -1):
        if me[24] > 0 and s1 != 24:
            break
        t1 = _target(me, opp, outside, s1, d)
        if t1 == _NO_MOVE:
            continue
        outside, x1 = _make(me, opp, outside, s1, t1)
        path[0, 0] = s1
        path[0, 1] = t1
        path[0, 2] = x1
        more1 = False
        for s2 in range(s1, -1, -1):
            if me[24] > 0 and s2 != 24:
                break
            t2 = _target(me, opp, outside, s2, d)
            if t2 == _NO_MOVE:
                continue
            more1 = True
            outside, x2 = _make(me, opp, outside, s2, t2)
            path[1, 0] = s2
            path[1, 1] = t2
            path[1, 2] = x2
            more2 = False
            for s3 in range(s2, -1, -1):
                if me[24] > 0 and s3 != 24:
                    break
                t3 = _target(me, opp, outside, s3, d)
                if t3 == _NO_MOVE:
                    continue
                more2 = True
                outside, x3 = _make(me, opp, outside, s3, t3)
                path[2, 0] = s3
                path[2, 1] = t3
                path[2, 2] = x3
                more3 = False
                for s4 in range(s3, -1, -1):
                    if me[24] > 0 and s4 != 24:
                        break
                    t4 = _target(me, opp, outside, s4, d)
                    if t4 == _NO_MOVE:
                        continue
                    more3 = True
                    outside, x4 = _make(me, opp, outside, s4, t4)
                    path[3, 0] = s4
                    path[3, 1] = t4
                    path[3, 2] = x4
                    n, best = _keep(me, opp, path, 4, 4 * d, n, best, out_boards,
                                    out_moves, table, table_keys, slots)
                    outside = _unmake(me, opp, outside, s4, t4, x4)
                if not more3 and best <= 3 * d:
                    n, best = _keep(me, opp, path, 3, 3 * d, n, best, out_boards,
                                    out_moves, table, table_keys, slots)
                outside = _unmake(me, opp, outside, s3, t3, x3)
            if not more2 and best <= 2 * d:
                n, best = _keep(me, opp, path, 2, 2 * d, n, best, out_boards, out_moves,
                                table, table_keys, slots)
            outside = _unmake(me, opp, outside, s2, t2, x2)
        if not more1 and best <= d:
            n, best = _keep(me, opp, path, 1, d, n, best, out_boards, out_moves, table,
                            table_keys, slots)
        outside = _unmake(me, opp, outside, s1, t1, x1)
    return n


@njit(cache=True, inline="always")
def _keep(me, opp, path, n_moves, pips, n, best, out_boards, out_moves, table, table_keys,
          slots):
    """Add the working board to the results unless it is there already or too short a play."""
    if pips < best:
        return n, best
    if pips > best:
        # a longer (or larger-die) play exists: everything kept so far is illegal
        for k in range(n):
            table[slots[k]] = -1
        n = 0
        best = pips
    h = _hash(me, opp)
    mask = table.shape[0] - 1
    i = np.int64(h & np.uint64(mask))
    while table[i] != -1:
        j = table[i]
        if table_keys[j] == h and _same(out_boards[j], me, opp):
            return n, best
        i = (i + 1) & mask
    if n >= out_boards.shape[0]:
        return n, best  # cannot happen below MAX_RESULTS distinct results
    table[i] = n
    table_keys[n] = h
    slots[n] = i
    for p in range(25):
        out_boards[n, 0, p] = opp[p]
        out_boards[n, 1, p] = me[p]
    for k in range(4):
        if k < n_moves:
            out_moves[n, k, 0] = path[k, 0]
            out_moves[n, k, 1] = path[k, 1]
            out_moves[n, k, 2] = path[k, 2]
        else:
            out_moves[n, k, 0] = -1
            out_moves[n, k, 1] = -1
            out_moves[n, k, 2] = 0
    return n + 1, best


@njit(cache=True, inline="always")
def _same(stored, me, opp):
    for i in range(25):
        if stored[1, i] != me[i] or stored[0, i] != opp[i]:
            return False
    return True


def new_buffers():
    """Scratch arrays for ``generate`` (one set per thread)."""
    return (
        np.empty((MAX_RESULTS, 2, 25), np.int8),
        np.empty((MAX_RESULTS, 4, 3), np.int8),
        np.full(_HASH_SIZE, -1, np.int32),
        np.empty(MAX_RESULTS, np.uint64),
        np.empty(MAX_RESULTS, np.int64),
    )


@njit(cache=True)
def results_batch(boards, dice):
    """Distinct legal results of many positions: (N,2,25), (N,2) -> (M,2,25), offsets (N+1,).

    The results of position i are out[offsets[i]:offsets[i+1]]; a position with no legal play has
    none. The mover stays in row 1 of every result.
    """
    n_pos = boards.shape[0]
    buf_b = np.empty((MAX_RESULTS, 2, 25), np.int8)
    buf_m = np.empty((MAX_RESULTS, 4, 3), np.int8)
    table = np.full(_HASH_SIZE, -1, np.int32)
    keys = np.empty(MAX_RESULTS, np.uint64)
    slots = np.empty(MAX_RESULTS, np.int64)
    offsets = np.empty(n_pos + 1, np.int64)
    cap = max(16, n_pos * 24)
    out = np.empty((cap, 2, 25), np.int8)
    m = 0
    offsets[0] = 0
    for p in range(n_pos):
        k = generate(boards[p], dice[p, 0], dice[p, 1], buf_b, buf_m, table, keys, slots)
        if m + k > cap:
            while m + k > cap:
                cap *= 2
            grown = np.empty((cap, 2, 25), np.int8)
            grown[:m] = out[:m]
            out = grown
        out[m:m + k] = buf_b[:k]
        m += k
        offsets[p + 1] = m
    return out[:m].copy(), offsets
