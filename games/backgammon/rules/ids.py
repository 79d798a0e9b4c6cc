"""gnubg Position IDs and Match IDs, as the GNU Backgammon manual defines them.

These two short strings are how positions travel between programs: gnubg, eXtreme Gammon and the
analysis sites all read and write them, and the shared analysis data stores them. Writing our own
codec (rather than calling gnubg) keeps the GPL oracle out of the package's runtime code.

Position ID (14 characters): the board as 80 bits. For ``board[0]`` (the opponent) and then
``board[1]`` (the player on roll), each of the 25 indices (1-point .. 24-point, bar) is written as
one 1-bit per checker followed by a 0-bit; the bits are packed least significant bit first into
10 bytes, which are written in standard base64 without the trailing ``==``.

Match ID (12 characters): 66 bit fields packed least significant bit first into 9 bytes, base64:

===========  =====  =====================================================
bits         width  field
===========  =====  =====================================================
0-3          4      log2 of the cube value
4-5          2      cube owner: 0, 1, or 3 = centred
6            1      player on roll (who rolls / rolled the dice)
7            1      Crawford game
8-10         3      game state: 0 none, 1 playing, 2 over, 3 resigned, 4 dropped
11           1      turn: the player who must act now (e.g. answer a double)
12           1      a double is being offered
13-14        2      resignation offered: 0 none, 1 single, 2 gammon, 3 backgammon
15-17        3      die 1 (0 = not rolled)
18-20        3      die 2
21-35        15     match length (0 = money game)
36-50        15     score of player 0
51-65        15     score of player 1
66           1      Jacoby rule *off* (gnubg writes ``!fJacoby``)
===========  =====  =====================================================
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

import numpy as np

from .board import as_board

_B64_CHARS = re.compile(r"^[A-Za-z0-9+/]*$")

POSITION_ID_LENGTH = 14
MATCH_ID_LENGTH = 12

GAME_STATES = ("none", "playing", "over", "resigned", "dropped")
"""Names of the game-state codes 0..4 (gnubg's ``gamestate``)."""


def _decode_base64(text: str, length: int, n_bytes: int, what: str) -> bytes:
    """Strict length and alphabet checks with messages people can act on, then base64."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a string, got {type(text).__name__}")
    if len(text) != length:
        raise ValueError(f"{what} {text!r} has {len(text)} characters; a {what} has exactly {length}")
    if not _B64_CHARS.match(text):
        bad = sorted({c for c in text if not re.match(r"[A-Za-z0-9+/]", c)})
        raise ValueError(f"{what} {text!r} contains characters outside base64 (A-Z a-z 0-9 + /): {bad}")
    pad = "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text + pad, validate=True)
    except binascii.Error as exc:  # pragma: no cover - the checks above leave nothing to fail
        raise ValueError(f"{what} {text!r} is not valid base64 ({exc})") from None
    return raw[:n_bytes]


def _bits_of(raw: bytes) -> list[int]:
    """Bits of ``raw``, least significant bit of byte 0 first (gnubg's order)."""
    return [(byte >> k) & 1 for byte in raw for k in range(8)]


def _bytes_of(bits: list[int], n_bytes: int) -> bytes:
    out = bytearray(n_bytes)
    for i, bit in enumerate(bits):
        if bit:
            out[i // 8] |= 1 << (i % 8)
    return bytes(out)


# ---------------------------------------------------------------------------- Position ID


def position_id(board) -> str:
    """The gnubg Position ID of ``board`` (player on roll in ``board[1]``), e.g. "4HPwATDgc/ABMA".

    Raises ValueError when ``board`` is not a valid board.
    """
    b = as_board(board)
    bits: list[int] = []
    for side in (0, 1):
        for n in b[side].tolist():
            bits.extend([1] * n)
            bits.append(0)
    raw = _bytes_of(bits, 10)
    return base64.b64encode(raw).decode("ascii")[:POSITION_ID_LENGTH]


def board_from_position_id(pid: str) -> np.ndarray:
    """The (2, 25) int8 board that a gnubg Position ID describes.

    Raises ValueError for a wrong length, characters outside base64, or bits that do not make a
    valid board (more than 15 checkers on a side, both sides on one point, checkers past the
    end). Like gnubg, the 4 unused low bits of the last character are ignored.
    """
    raw = _decode_base64(pid, POSITION_ID_LENGTH, 10, "Position ID")
    board = np.zeros((2, 25), dtype=np.int64)
    side, idx = 0, 0
    for bit in _bits_of(raw):
        if bit:
            if side >= 2:
                raise ValueError(f"Position ID {pid!r} has checkers after both sides' 25 points")
            board[side, idx] += 1
        else:
            idx += 1
            if idx == 25:
                side, idx = side + 1, 0
    if side < 2:  # 80 bits always hold 50 zeros unless there are over 30 checkers
        raise ValueError(f"Position ID {pid!r} holds more than 30 checkers")
    try:
        return as_board(board, name=f"Position ID {pid!r}")
    except ValueError as exc:
        raise ValueError(f"{exc} (not a valid position)") from None


# ---------------------------------------------------------------------------- Match ID


@dataclass(frozen=True)
class MatchState:
    """What a gnubg Match ID records (gnubg's ``matchstate``, without the board).

    Players are gnubg's 0 and 1; the Position ID that goes with a Match ID is from the view of
    ``on_roll``. ``cube_owner`` is -1 while the cube is centred. ``dice`` is (0, 0) before the roll.
    ``match_length`` 0 means a money game. ``game_state`` indexes :data:`GAME_STATES`.
    """

    cube: int = 1
    cube_owner: int = -1
    on_roll: int = 0
    crawford: bool = False
    game_state: int = 1
    turn: int = 0
    doubled: bool = False
    resigned: int = 0
    dice: tuple[int, int] = (0, 0)
    match_length: int = 0
    score: tuple[int, int] = (0, 0)
    jacoby: bool = False

    def __post_init__(self):
        for name in ("cube", "cube_owner", "on_roll", "game_state", "turn", "resigned", "match_length"):
            object.__setattr__(self, name, int(getattr(self, name)))
        cube = self.cube
        if cube < 1 or cube & (cube - 1) or cube > 2**15:
            raise ValueError(f"cube value {self.cube} is not a power of two from 1 to 32768")
        if self.cube_owner not in (-1, 0, 1):
            raise ValueError(f"cube owner {self.cube_owner} is not -1 (centred), 0 or 1")
        for name in ("on_roll", "turn"):
            if getattr(self, name) not in (0, 1):
                raise ValueError(f"{name} = {getattr(self, name)} is not player 0 or 1")
        if not 0 <= self.game_state < len(GAME_STATES):
            raise ValueError(f"game state {self.game_state} is not one of 0..4 {GAME_STATES}")
        if not 0 <= self.resigned <= 3:
            raise ValueError(f"resigned = {self.resigned} is not 0 (none), 1, 2 or 3 points")
        d = tuple(int(x) for x in self.dice)
        if len(d) != 2 or not all(0 <= x <= 6 for x in d) or (0 in d and d != (0, 0)):
            raise ValueError(f"dice {self.dice} must be two values 1..6, or (0, 0) before the roll")
        s = tuple(int(x) for x in self.score)
        if len(s) != 2 or not all(0 <= x < 2**15 for x in s):
            raise ValueError(f"score {self.score} must be two values 0..32767")
        if not 0 <= self.match_length < 2**15:
            raise ValueError(f"match length {self.match_length} must be 0 (money) .. 32767")
        object.__setattr__(self, "dice", d)
        object.__setattr__(self, "score", s)
        object.__setattr__(self, "crawford", bool(self.crawford))
        object.__setattr__(self, "doubled", bool(self.doubled))
        object.__setattr__(self, "jacoby", bool(self.jacoby))

    @property
    def game_state_name(self) -> str:
        return GAME_STATES[self.game_state]


_FIELDS = (  # (attribute, first bit, width) in gnubg's order
    ("cube_log", 0, 4),
    ("cube_owner", 4, 2),
    ("on_roll", 6, 1),
    ("crawford", 7, 1),
    ("game_state", 8, 3),
    ("turn", 11, 1),
    ("doubled", 12, 1),
    ("resigned", 13, 2),
    ("die1", 15, 3),
    ("die2", 18, 3),
    ("match_length", 21, 15),
    ("score0", 36, 15),
    ("score1", 51, 15),
    ("no_jacoby", 66, 1),
)


def match_id(state: MatchState | None = None, **fields) -> str:
    """The 12-character gnubg Match ID of ``state`` (or of ``MatchState(**fields)``).

    >>> match_id(on_roll=1, turn=1, dice=(4, 1), match_length=5)
    'cAmmAAAAAAAE'
    """
    if state is None:
        state = MatchState(**fields)
    elif fields:
        raise TypeError("match_id: give a MatchState or keyword fields, not both")
    values = {
        "cube_log": state.cube.bit_length() - 1,
        "cube_owner": 3 if state.cube_owner == -1 else state.cube_owner,
        "on_roll": state.on_roll,
        "crawford": int(state.crawford),
        "game_state": state.game_state,
        "turn": state.turn,
        "doubled": int(state.doubled),
        "resigned": state.resigned,
        "die1": state.dice[0],
        "die2": state.dice[1],
        "match_length": state.match_length,
        "score0": state.score[0],
        "score1": state.score[1],
        "no_jacoby": int(not state.jacoby),
    }
    bits = [0] * 72
    for name, start, width in _FIELDS:
        v = values[name]
        for k in range(width):
            bits[start + k] = (v >> k) & 1
    return base64.b64encode(_bytes_of(bits, 9)).decode("ascii")


def parse_match_id(mid: str) -> MatchState:
    """Decode a gnubg Match ID, e.g. "cAmmAAAAAAAE" -> player 1 on roll with 4-1 in a 5-point match.

    Raises ValueError for a wrong length, characters outside base64, or fields that cannot occur
    (cube owner 2, game state above 4, a die of 7, one die rolled and not the other).
    """
    raw = _decode_base64(mid, MATCH_ID_LENGTH, 9, "Match ID")
    bits = _bits_of(raw)
    v = {name: sum(bits[start + k] << k for k in range(width)) for name, start, width in _FIELDS}
    if v["cube_owner"] == 2:
        raise ValueError(f"Match ID {mid!r}: cube owner code 2 is not 0, 1 or 3 (centred)")
    try:
        return MatchState(
            cube=1 << v["cube_log"],
            cube_owner=-1 if v["cube_owner"] == 3 else v["cube_owner"],
            on_roll=v["on_roll"],
            crawford=bool(v["crawford"]),
            game_state=v["game_state"],
            turn=v["turn"],
            doubled=bool(v["doubled"]),
            resigned=v["resigned"],
            dice=(v["die1"], v["die2"]),
            match_length=v["match_length"],
            score=(v["score0"], v["score1"]),
            jacoby=not v["no_jacoby"],
        )
    except ValueError as exc:
        raise ValueError(f"Match ID {mid!r}: {exc}") from None


__all__ = [
    "GAME_STATES",
    "MatchState",
    "board_from_position_id",
    "match_id",
    "parse_match_id",
    "position_id",
]
