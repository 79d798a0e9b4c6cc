"""Replaying a game's written actions with the engine: the part every record format shares.

A reader turns a file into :class:`RawGame` values (who did what, as written, with line numbers);
:func:`replay_game` checks every play against the move generator and builds the :class:`Game`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..rules.board import game_result, start_board, swap_sides
from ..rules.legal import NotationError, legal_plays
from .model import CheckerPlay, CubeAction, Game, RecordError, Unplayed
from .written import index_of_written

UNPLAYED_TEXT = "????"


@dataclass
class Event:
    """One written action, before replay.

    kind: "roll" (dice and a play text; text "????" = never played), "double", "take", "drop",
    "beaver". ``play_text`` is what the engine's parser reads (for SGF, the moves turned into
    notation); ``text`` is the action as written, kept for errors and for the record.
    """

    line: int
    player: int
    kind: str
    text: str = ""
    dice: Optional[tuple] = None      # (d1, d2) as written; None for "????"/"??"
    play_text: str = ""
    value: Optional[int] = None       # cube value for cube actions
    candidates: Optional[list] = None  # SGF analysis: [(moves text, equity), ...]


@dataclass
class GameEnd:
    """How the record says the game ended: "Wins N point(s)" and who won."""

    line: int
    winner: Optional[int]
    points: Optional[int]
    match_won: bool = False
    resigned: bool = False            # the format says so explicitly (SGF's RE[..R])


@dataclass
class RawGame:
    number: int
    line: int
    score: tuple = (0, 0)
    players: tuple = ("", "")
    events: list = field(default_factory=list)
    end: Optional[GameEnd] = None
    error: Optional[RecordError] = None   # a reading error: replay stops there


_NO_MOVE_WORDS = ("cannot move", "no move", "cant move", "can not move", "no legal moves")


class _Stop(Exception):
    """Raised inside the replay at the first error of a game."""

    def __init__(self, error: RecordError):
        self.error = error


def _oriented(board_p0: np.ndarray, player: int) -> np.ndarray:
    """The position from ``player``'s side (that player in row 1), given player 0's view."""
    return board_p0 if player == 0 else swap_sides(board_p0)


class _Replay:
    """The state of one game while its written actions are replayed, one method per action."""

    def __init__(self, raw: RawGame, file: str):
        self.raw = raw
        self.file = file
        self.pos = start_board()            # player 0's view: player 0 in row 1
        self.actions: list = []
        self.cube = 1
        self.owner: Optional[int] = None     # the player who owns the cube; None while centred
        self.offered: Optional[int] = None   # the value of a double waiting for its answer
        self.doubler: Optional[int] = None
        self.last_roller: Optional[int] = None
        self.over: Optional[tuple] = None    # (winner, points) once someone has borne off
        self.dropped_by: Optional[int] = None
        self.rolls_left = sum(1 for e in raw.events if e.kind == "roll")

    def stop(self, ev: Event, reason: str, kind: str):
        raise _Stop(RecordError(self.file, ev.line, ev.text, reason, kind))

    def run(self) -> Optional[RecordError]:
        """Replay every event; return the first error (None when the whole game replays)."""
        try:
            for ev in self.raw.events:
                if self.over is not None or self.dropped_by is not None:
                    self.stop(ev, "action after the game ended", "after end")
                if ev.kind == "roll":
                    self.roll(ev)
                else:
                    self.cube_action(ev)
        except _Stop as stop:
            return stop.error
        return self.raw.error

    def roll(self, ev: Event) -> None:
        self.rolls_left -= 1
        if self.last_roller == ev.player:
            who = "left" if ev.player == 0 else "right"
            self.stop(ev, f"the {who}-hand player rolls twice in a row", "out of turn")
        self.last_roller = ev.player
        if ev.dice is None or ev.play_text.strip() == UNPLAYED_TEXT:
            if self.rolls_left > 0:
                self.stop(ev, "a roll that was never played (????) is followed by more plays", "unreadable")
            self.actions.append(Unplayed(ev.player, ev.dice, ev.line, ev.text))
            return
        d1, d2 = ev.dice
        if not (1 <= d1 <= 6 and 1 <= d2 <= 6):
            self.stop(ev, f"dice {d1}{d2} are not two numbers 1..6", "unreadable")
        board = _oriented(self.pos, ev.player)
        # the roll's legal results, generated once: the written play and the SGF analysis's
        # candidates are read against them, and the decision keeps them
        plays = legal_plays(board, d1, d2)
        results = plays.boards
        results.flags.writeable = False   # shared by the plays, the decision and its chosen board
        n = len(results)
        text = ev.play_text.strip()
        if text == "" and n and self.rolls_left == 0:
            # gnubg writes the dice rolled before a resignation as an empty "dd:"
            self.actions.append(Unplayed(ev.player, ev.dice, ev.line, ev.text))
            return
        index = self.match_play(ev, board, results, text)
        if index is None:
            play, result = None, board.copy()
        else:
            play, result = plays[index], results[index]
        self.actions.append(CheckerPlay(ev.player, (d1, d2), ev.text, ev.line, board, result, play,
                                        n, self.cube, _candidates(board, ev, results),
                                        results=results, chosen_index=index))
        self.pos = _oriented(result, ev.player)
        r = game_result(result)
        if r:
            self.over = (ev.player if r > 0 else 1 - ev.player, abs(r) * self.cube)

    def match_play(self, ev: Event, board: np.ndarray, results: np.ndarray, text: str) -> Optional[int]:
        """The index in ``results`` of the play the text describes (None for no move, when no
        move is possible); stops the replay when it names no legal play."""
        d1, d2 = ev.dice
        try:
            if not len(results) and text.lower().replace("'", "") in _NO_MOVE_WORDS + ("",):
                return None
            return index_of_written(board, d1, d2, text, results)
        except NotationError as exc:
            self.stop(ev, str(exc), "illegal play")

    def cube_action(self, ev: Event) -> None:
        """A written cube action, checked against the cube's state: a double by the side that may
        not (the other side owns the cube) or while a double waits, an answer without a double,
        or a player answering its own double stops the game with the reason."""
        who = "left" if ev.player == 0 else "right"
        if ev.kind == "double":
            if self.offered is not None:
                self.stop(ev, f"the {who}-hand player doubles while a double waits for its answer", "illegal cube")
            if self.owner is not None and self.owner != ev.player:
                self.stop(ev, f"the {who}-hand player doubles, but the other side owns the cube", "illegal cube")
            self.offered, self.doubler = (ev.value if ev.value else self.cube * 2), ev.player
        elif ev.kind in ("take", "drop", "beaver"):
            if self.offered is None:
                self.stop(ev, f"the {who}-hand player answers ({ev.kind}) but no double was offered", "illegal cube")
            if ev.player == self.doubler:
                self.stop(ev, f"the {who}-hand player answers its own double", "illegal cube")
            if ev.kind == "beaver":    # takes and redoubles at once: the doubler owns the cube
                self.cube = ev.value if ev.value else self.offered * 2
                self.owner = self.doubler
            elif ev.kind == "take":
                self.cube, self.owner = self.offered, ev.player
            else:
                self.dropped_by = ev.player
            self.offered = None
        self.actions.append(CubeAction(ev.player, ev.kind, ev.value, ev.line, ev.text))

    def finish(self, error: Optional[RecordError], match_length: int) -> Game:
        """Who won and how: the written "Wins" first, else the board or the drop."""
        raw, end = self.raw, self.raw.end
        winner = points = None
        match_won = resigned = False
        if self.over is not None:
            winner, points = self.over
        elif self.dropped_by is not None:
            winner, points = 1 - self.dropped_by, self.cube
        if end is not None:
            if end.winner is not None and self.dropped_by is None:
                winner = end.winner
            if end.points is not None:
                points = end.points
            match_won = end.match_won
            played_out = self.over is not None or self.dropped_by is not None
            resigned = not played_out and (end.resigned or (error is None and end.winner is not None))
        return Game(raw.number, tuple(raw.score), tuple(self.actions), tuple(raw.players), match_length,
                    winner, points, match_won, resigned, error, raw.line)


def replay_game(raw: RawGame, file: str, match_length: int,
                on_error: Optional[Callable[[RecordError], None]] = None) -> Game:
    """Replay ``raw`` from the starting position and build the Game.

    The first error (illegal play, play out of turn, action after the end, or the reader's own
    error) stops the replay: the game keeps the actions before it and carries the error.
    ``on_error`` is called with it (strict reading raises there).
    """
    replay = _Replay(raw, file)
    error = replay.run()
    if error is not None and on_error is not None:
        on_error(error)
    return replay.finish(error, match_length)


def _candidates(board: np.ndarray, ev: Event, results: np.ndarray) -> Optional[tuple]:
    """SGF analysis: each candidate's result board (its notation when it cannot be replayed),
    read against the roll's legal results."""
    if not ev.candidates:
        return None
    out = []
    d1, d2 = ev.dice
    for text, equity in ev.candidates:
        try:
            index = index_of_written(board, d1, d2, text, results)
        except NotationError:
            out.append((text, equity))
            continue
        out.append((results[index] if index is not None else board.copy(), equity))  # None: no move
    return tuple(out)
