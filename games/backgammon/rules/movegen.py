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


# Leaf hash: a weighted sum of the 50 cells with random odd 64-bit weights (wrapping), kept
# incrementally as checkers move; equal hashes are confirmed by comparing the boards.
_WEIGHTS = (np.random.default_rng(20261124).integers(0, 2**63, size=(2, 25), dtype=np.int64) | 1).astype(np.uint64)

# Index of the lowest set bit of a 32-bit power of two (de Bruijn multiplication).
_DEBRUIJN = np.array([0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8, 31, 27, 13, 23,
                      21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9], dtype=np.int64)
# Highest set bit of a 6-bit home-board mask (-1 for none).
_HIGHEST6 = np.array([-1] + [int(x).bit_length() - 1 for x in range(1, 64)], dtype=np.int64)
_BAR_BIT = np.int64(1 << 24)
_HOME = np.int64(63)


@njit(cache=True)
def generate(board, d1, d2, out_boards, out_moves, table, table_keys, slots, work_board, work):
    """Distinct legal results of ``board`` with dice d1, d2.

    board: (2, 25) int8. out_boards: (MAX_RESULTS, 2, 25) int8, out_moves: (MAX_RESULTS, 4, 3)
    int8 (one move sequence per result, padded with -1), table: (_HASH_SIZE,) int32 all -1 on
    entry and on return; table_keys (MAX_RESULTS,) uint64, slots (MAX_RESULTS,) int64,
    work_board (2, 25) int8 and work (17,) int64 are scratch (``new_buffers`` makes them all).
    Returns the count n; when no die can be played n == 0. Results keep the mover in row 1.

    One function body on purpose: every array handed to a helper inside the search loop costs
    Numba a pair of atomic reference-count updates, more than the search itself.
    """
    # the working board, changed by make/unmake along the search path (scratch, not allocated:
    # allocation is a large share of a call that finds few plays)
    me = work_board[1]
    opp = work_board[0]
    for i in range(25):
        me[i] = board[1, i]
        opp[i] = board[0, i]
    occ = np.int64(0)  # bit i: the mover has a checker on index i (24 = bar)
    blocked = np.int64(0)  # bit t: the opponent holds the mover's index t with 2+
    h = np.uint64(0)
    for i in range(25):
        if me[i] > 0:
            occ |= np.int64(1) << i
        h += _WEIGHTS[1, i] * np.uint64(me[i]) + _WEIGHTS[0, i] * np.uint64(opp[i])
    for t in range(24):
        if opp[23 - t] >= 2:
            blocked |= np.int64(1) << t
    double = d1 == d2
    n_dice = 4 if double else 2
    bar_at_start = me[24] > 0
    todo = work[0:5]  # sources still to try at each depth, as bit masks
    path = work[5:17].reshape((4, 3))  # (src, dst, hit) of the moves on the search path
    mask = table.shape[0] - 1
    n = 0
    best = 0  # pips of the kept plays: more dice beat fewer; one die alone: the larger
    for order in range(1 if double else 2):
        first = d1 if order == 0 else d2
        second = d2 if order == 0 else d1
        depth = 0
        fresh = True  # todo[depth] is still to be computed
        while True:
            die = first if depth == 0 else second
            if fresh:
                fresh = False
                cand = np.int64(0)
                if depth < n_dice:
                    # sources a checker can leave with this die; for doubles no higher than
                    # the last one moved (equal-die moves can always be played in that order)
                    limit = path[depth - 1, 0] if (double and depth > 0) else 24
                    movers = _BAR_BIT if occ & _BAR_BIT else occ  # the bar enters first
                    movers &= (np.int64(2) << limit) - 1
                    cand = movers & ~(blocked << die) & ~((np.int64(1) << die) - 1)
                    if (occ >> 6) == 0:  # every checker home: bearing off
                        cand |= movers & (np.int64(1) << (die - 1))
                        hi = _HIGHEST6[occ & _HOME]  # a larger die: the highest point only
                        if 0 <= hi < die - 1:
                            cand |= movers & (np.int64(1) << hi)
                todo[depth] = cand
                if order == 1 and depth == 1 and not bar_at_start and path[0, 1] >= 0:
                    # second order, second die: two ordinary moves of different checkers were
                    # already found the other way round (without the bar and bearing off, a
                    # move's legality does not depend on the other one), so only the checker
                    # that just moved, or a bear-off, can give a new result
                    todo[depth] = cand & ((np.int64(1) << path[0, 1]) | ((np.int64(1) << die) - 1))
                if cand == 0 and depth > 0:
                    # a leaf: nothing more can (or need) be played
                    if double:
                        pips = depth * first
                    else:
                        pips = first + second if depth == 2 else first
                    if pips > best:
                        # a longer (or larger-die) play exists: all kept so far is illegal
                        for k in range(n):
                            table[slots[k]] = -1
                        n = 0
                        best = pips
                    if pips == best:
                        i = np.int64((h ^ (h >> np.uint64(29))) & np.uint64(mask))
                        dup = False
                        while table[i] != -1:
                            j = table[i]
                            if table_keys[j] == h:
                                dup = True
                                for p in range(25):
                                    if out_boards[j, 1, p] != me[p] or out_boards[j, 0, p] != opp[p]:
                                        dup = False
                                        break
                                if dup:
                                    break
                            i = (i + 1) & mask
                        if not dup and n < min(out_boards.shape[0], out_moves.shape[0]):
                            table[i] = n
                            table_keys[n] = h
                            slots[n] = i
                            for p in range(25):
                                out_boards[n, 0, p] = opp[p]
                                out_boards[n, 1, p] = me[p]
                            for k in range(4):
                                if k < depth:
                                    out_moves[n, k, 0] = path[k, 0]
                                    out_moves[n, k, 1] = path[k, 1]
                                    out_moves[n, k, 2] = path[k, 2]
                                else:
                                    out_moves[n, k, 0] = -1
                                    out_moves[n, k, 1] = -1
                                    out_moves[n, k, 2] = 0
                            n += 1
            if todo[depth] == 0:
                # this depth is done: step back, undoing the move that led here
                if depth == 0:
                    break
                depth -= 1
                src = path[depth, 0]
                dst = path[depth, 1]
                if dst >= 0:
                    me[dst] -= 1
                    h -= _WEIGHTS[1, dst]
                    if me[dst] == 0:
                        occ &= ~(np.int64(1) << dst)
                    if path[depth, 2]:
                        j = 23 - dst
                        opp[j] = 1
                        opp[24] -= 1
                        h -= _WEIGHTS[0, 24] - _WEIGHTS[0, j]
                me[src] += 1
                h += _WEIGHTS[1, src]
                occ |= np.int64(1) << src
                continue
            # take the lowest untried source and make its move
            bit = todo[depth] & -todo[depth]
            todo[depth] ^= bit
            src = _DEBRUIJN[((bit * 0x077CB531) & 0xFFFFFFFF) >> 27]
            dst = src - die if src >= die else -1
            me[src] -= 1
            h -= _WEIGHTS[1, src]
            if me[src] == 0:
                occ &= ~(np.int64(1) << src)
            hit = 0
            if dst >= 0:
                j = 23 - dst
                if opp[j] == 1:
                    hit = 1
                    opp[j] = 0
                    opp[24] += 1
                    h += _WEIGHTS[0, 24] - _WEIGHTS[0, j]
                me[dst] += 1
                h += _WEIGHTS[1, dst]
                occ |= np.int64(1) << dst
            path[depth, 0] = src
            path[depth, 1] = dst
            path[depth, 2] = hit
            depth += 1
            fresh = True
    for k in range(n):  # leave the table clean for the next call
        table[slots[k]] = -1
    return n


@njit(cache=True)
def valid_board(board):
    """True when ``board`` passes the checks of ``board.as_board``: shape (2, 25), no negative
    count, at most 15 checkers a side, no point held by both sides. Compiled, so a call from
    Python need not pay for several NumPy passes; ``as_board`` still words the error."""
    if board.shape[0] != 2 or board.shape[1] != 25:
        return False
    for side in range(2):
        total = 0
        for i in range(25):
            if board[side, i] < 0:
                return False
            total += board[side, i]
        if total > 15:
            return False
    for i in range(24):  # the mover's index i faces the opponent's 23 - i
        if board[1, i] > 0 and board[0, 23 - i] > 0:
            return False
    return True


@njit(cache=True)
def new_buffers():
    """Scratch arrays for ``generate``, in its argument order after the dice (one per thread):
    out_boards, out_moves, table, table_keys, slots, work_board, work."""
    return (
        np.empty((MAX_RESULTS, 2, 25), np.int8),
        np.empty((MAX_RESULTS, 4, 3), np.int8),
        np.full(_HASH_SIZE, -1, np.int32),
        np.empty(MAX_RESULTS, np.uint64),
        np.empty(MAX_RESULTS, np.int64),
        np.empty((2, 25), np.int8),
        np.empty(17, np.int64),
    )


@njit(cache=True)
def results_batch(boards, dice):
    """Distinct legal results of many positions: (N,2,25), (N,2) -> (M,2,25), offsets (N+1,).

    The results of position i are out[offsets[i]:offsets[i+1]]; a position with no legal play has
    none. The mover stays in row 1 of every result.
    """
    n_pos = boards.shape[0]
    _, moves, table, keys, slots, work_board, work = new_buffers()
    offsets = np.empty(n_pos + 1, np.int64)
    cap = n_pos * 20 + MAX_RESULTS
    out = np.empty((cap, 2, 25), np.int8)
    m = 0
    offsets[0] = 0
    for p in range(n_pos):
        if m + MAX_RESULTS > cap:  # room for the busiest position, written in place
            cap = 2 * cap
            grown = np.empty((cap, 2, 25), np.int8)
            grown[:m] = out[:m]
            out = grown
        m += generate(boards[p], dice[p, 0], dice[p, 1], out[m:], moves, table, keys, slots,
                      work_board, work)
        offsets[p + 1] = m
    return out[:m], offsets
