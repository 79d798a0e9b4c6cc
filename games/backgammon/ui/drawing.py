"""The board drawing, the one for every screen: the terminal session and the envs' ``render``.

The position is drawn from ``board[1]``'s side (X), moving from its 24-point down to its 1-point,
home board bottom right; ``board[0]`` is O. Points 13-24 run along the top, 12-1 along the bottom,
the bar in the middle; five checkers per point are drawn and a taller stack shows its height.
"""
from __future__ import annotations

import numpy as np

from ..rules.board import pip_counts


class Style:
    """ANSI colours, or none. X is the person, O the computer."""

    def __init__(self, color: bool):
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def x(self, text: str) -> str:
        return self._wrap("1;36", text)

    def o(self, text: str) -> str:
        return self._wrap("1;31", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


def _cell(count: int, row: int, mark: str, paint) -> str:
    """The 3-character cell of a point at ``row`` (0 = the board's edge) with ``count`` checkers."""
    if count <= row:
        return "   "
    if row == 4 and count > 5:  # the fifth row of a tall stack shows its height
        return paint(f"{count:^3}")
    return " " + paint(mark) + " "


def draw_board(pos: np.ndarray, you: str, them: str, style: Style, status: str = "") -> str:
    """The position from the person's side: X moves 24 -> 1, home bottom right; O the reverse.

    ``pos[1]`` the person's checkers, ``pos[0]`` the computer's, each in its owner's numbering;
    ``status`` (whose turn, the dice) is written beside the bar.
    """
    mine = [int(pos[1, p - 1]) for p in range(1, 25)]       # by the person's point 1..24
    theirs = [int(pos[0, 24 - p]) for p in range(1, 25)]    # the computer's checkers on the same point
    you_bar, them_bar = int(pos[1, 24]), int(pos[0, 24])
    you_pips, them_pips = pip_counts(pos)
    you_off, them_off = 15 - int(pos[1].sum()), 15 - int(pos[0].sum())

    def point_cell(p: int, row: int) -> str:
        if mine[p - 1]:
            return _cell(mine[p - 1], row, "X", style.x)
        return _cell(theirs[p - 1], row, "O", style.o)

    def numbers(left, right) -> str:
        plain = "  " + "".join(f"{p:^3}" for p in left) + "     " + "".join(f"{p:^3}" for p in right)
        return style.dim(plain.rstrip())

    top_left, top_right = range(13, 19), range(19, 25)
    bottom_left, bottom_right = range(12, 6, -1), range(6, 0, -1)
    frame = " +" + "-" * 18 + "+---+" + "-" * 18 + "+"
    lines = [numbers(top_left, top_right), frame]
    # beside the board: the computer's figures at the top, the person's at the bottom
    side_top = [f"{style.o('O')} {them}", f"  pips {them_pips}", f"  off  {them_off}", "", ""]
    side_bottom = ["", "", f"  off  {you_off}", f"  pips {you_pips}", f"{style.x('X')} {you}"]
    for row in range(5):  # top half: row 0 at the edge, stacks grow down
        bar = _cell(them_bar, 4 - row, "O", style.o)  # the computer's bar checkers, near the middle
        lines.append(" |" + "".join(point_cell(p, row) for p in top_left) + "|" + bar + "|"
                     + "".join(point_cell(p, row) for p in top_right) + "|   " + side_top[row])
    lines.append(" |" + " " * 18 + "|BAR|" + " " * 18 + "|   " + (style.bold(status) if status else ""))
    for k, row in enumerate(range(4, -1, -1)):  # bottom half: row 0 at the edge, stacks grow up
        bar = _cell(you_bar, 4 - row, "X", style.x)
        lines.append(" |" + "".join(point_cell(p, row) for p in bottom_left) + "|" + bar + "|"
                     + "".join(point_cell(p, row) for p in bottom_right) + "|   " + side_bottom[k])
    lines.append(frame)
    lines.append(numbers(bottom_left, bottom_right))
    return "\n".join(line.rstrip() for line in lines)


def board_text(board: np.ndarray, status: str = "", names=("player on roll", "opponent")) -> str:
    """:func:`draw_board` without colours, ``names`` (X's, O's), ending with a newline."""
    return draw_board(board, names[0], names[1], Style(False), status) + "\n"


__all__ = ["Style", "board_text", "draw_board"]
