"""Move notation: writing a play as gnubg does, and reading it as people write it.

A move is (src, dst, hit) in the mover's indices: src 0..23 or 24 for the bar, dst 0..23 or -1
for off. Written points are 1-based in the mover's numbering: ``bar`` = 25, ``off`` = 0.
"""
from __future__ import annotations

import re

import numpy as np

BAR_INDEX = 24
OFF_INDEX = -1


def point_name(index: int) -> str:
    if index == BAR_INDEX:
        return "bar"
    if index == OFF_INDEX:
        return "off"
    return str(index + 1)


def format_moves(moves) -> str:
    """gnubg's notation of a move sequence: ``24/18*/13``, ``13/7(2)``, ``bar/22``, ``6/off``.

    As gnubg's FormatMove: moves sorted by source then destination, highest first; each move
    continued by later moves of the same checker; parts stay in the order of their first move; equal parts are written once with
    ``(n)``, with ``*`` where any of them hit (``13/1*(2)``); intermediate points are written
    only where a checker hit.
    """
    moves = sorted(((int(s), int(d), bool(h)) for s, d, h in moves if s >= 0), reverse=True)
    if not moves:
        return ""
    used = [False] * len(moves)
    parts: list[list] = []  # each: [points, hits, count]
    for i, (src, dst, hit) in enumerate(moves):
        if used[i]:
            continue
        used[i] = True
        chain = [(src, False), (dst, hit)]
        while chain[-1][0] != OFF_INDEX:  # the same checker (or an equivalent one) moves on
            at = chain[-1][0]
            nxt = next((j for j in range(i + 1, len(moves)) if not used[j] and moves[j][0] == at), None)
            if nxt is None:
                break
            used[nxt] = True
            chain.append((moves[nxt][1], moves[nxt][2]))
        points = [p for p, _ in chain]
        hits = [h for _, h in chain]
        for part in parts:  # equal paths merge, hits or-ed: 3/2*/1* and 3/2/1 -> 3/2*/1*(2)
            if part[0] == points:
                part[1] = [a or b for a, b in zip(part[1], hits)]
                part[2] += 1
                break
        else:
            parts.append([points, hits, 1])
    out = []
    for points, hits, count in parts:
        last = len(points) - 1  # intermediate points are written only where the checker hit
        text = "/".join(point_name(p) + ("*" if h else "")
                        for k, (p, h) in enumerate(zip(points, hits)) if k in (0, last) or h)
        out.append(text + (f"({count})" if count > 1 else ""))
    return " ".join(out)


class NotationError(ValueError):
    """A play that cannot be read, is illegal, or is ambiguous; the message says why."""


_PART = re.compile(r"^(?P<path>(?:bar|b|off|o|\d{1,2})\*?(?:/(?:bar|b|off|o|\d{1,2})\*?)+)(?:\((?P<n>\d)\))?$")


def parse_point(token: str) -> int:
    """A written point to an index: 'bar'/'25' -> 24, 'off'/'0' -> -1, '13' -> 12."""
    t = token.lower().rstrip("*")
    if t in ("bar", "b"):
        return BAR_INDEX
    if t in ("off", "o"):
        return OFF_INDEX
    v = int(t)
    if v == 25:
        return BAR_INDEX
    if v == 0:
        return OFF_INDEX
    if not 1 <= v <= 24:
        raise NotationError(f"point {token!r} is outside 1..24 (bar = 25, off = 0)")
    return v - 1


def parse_parts(text: str) -> list[tuple[list[int], list[bool], int]]:
    """Split a written play into parts: (points visited, hit marks, repeat count).

    ``"24/18*/13 6/5(2)"`` -> ``[([23, 17, 12], [False, True, False], 1), ([5, 4], [False, False], 2)]``.
    """
    s = text.strip().lower().replace(",", " ")
    s = re.sub(r"\s*/\s*", "/", s)
    s = re.sub(r"\s+\(", "(", s)
    if not s:
        raise NotationError("empty play")
    parts = []
    for tok in s.split():
        m = _PART.match(tok)
        if not m:
            raise NotationError(f"cannot read {tok!r}: expected moves like 24/18, 13/7*, bar/22, 6/off, 8/5(2)")
        pts = m.group("path").split("/")
        points = [parse_point(p) for p in pts]
        hits = [p.endswith("*") for p in pts]
        count = int(m.group("n") or 1)
        if count < 1 or count > 4:
            raise NotationError(f"repeat count ({count}) in {tok!r} must be 1..4")
        for a, b in zip(points, points[1:]):
            if a == OFF_INDEX:
                raise NotationError(f"{tok!r}: nothing moves on from off")
            if b == BAR_INDEX:
                raise NotationError(f"{tok!r}: a checker cannot move to the bar")
            if b != OFF_INDEX and b >= a:
                raise NotationError(f"{tok!r}: checkers move from higher to lower points")
        parts.append((points, hits, count))
    return parts


def mover_row_after(board: np.ndarray, parts) -> np.ndarray:
    """The mover's row after the written parts (hits aside); raises when a source is empty."""
    row = board[1].astype(np.int64).copy()
    for points, _hits, count in parts:
        src, dst = points[0], points[-1]
        row[src] -= count
        if dst != OFF_INDEX:
            row[dst] += count
    if (row < 0).any():  # checked at the end: parts may come in any order
        src = int(np.argmax(row < 0))
        raise NotationError(f"not enough checkers to move from {point_name(src)}")
    return row
