"""``python -m comparison play``: a person against a model or bot in the terminal.

:class:`Session` holds a whole match (to N points, with the doubling cube unless ``cube=False``),
or a money session (``points=0``: games for points one after another until the person quits, with
the cube and the Jacoby rule unless ``cube=False``), and answers one line of the person's input at
a time: ``handle(line) -> text to show``. It never reads or prints itself, so tests drive it
directly; :func:`run_command` is the terminal loop around it (prompt, end-of-file, Ctrl-C, save on
exit).

The cube, through the one game loop's rules (:mod:`games.backgammon.play.game`): when the person
may double, their turn starts with the question "roll or double" before the dice are shown; the
computer doubles and answers through its ``cube_action`` (a bot without one never doubles and
always takes). In a 1-point match the cube is dead from the start, so a single game goes as it
always did.

The computer plays its checkers at the score (:func:`~games.backgammon.play.game.choose_play`):
a bot that takes the match state values gammons as the match (or the Jacoby rule) makes them
worth, and so does the hint.

The person is X, moving from their 24-point down to their 1-point, and the board is numbered from
their side. Positions are kept from the person's side: ``pos[1]`` the person's checkers, ``pos[0]``
the computer's (each row in its owner's numbering, the engine's layout). In the records the person
is player 0 (the left column of a .mat file) and the computer player 1.
"""
from __future__ import annotations

import importlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..play.game import (
    CENTRED,
    CubeError,
    Dice,
    GameState,
    accepts_keyword,
    answer_double,
    ask_cube,
    checker_record,
    choose_play,
    cube_refusal,
    match_state,
    new_game,
    offer_double,
    play_turn,
    plays_at_score,
    record_game,
    resign,
)
from ..records.model import crawford_flags
from ..rules.board import pip_counts, start_board, swap_sides
from ..rules.legal import NotationError, Play, legal_plays, parse_play
from ..rules.scoring import points_won
from .drawing import Style, draw_board

HELP = """\
Type your play as people write it: 8/5 6/5, 24/18*/13, bar/22, 6/off, 13/9(2); parts in any
order, * optional, bar = 25, off = 0. Or type a number from the `moves` list.
Commands:
  moves       list your legal plays, numbered
  hint [N]    the computer's N best plays for you, with scores (default 5)
  pip         pip counts
  board       show the board again
  undo        take back your last play (the dice stay the same)
  save FILE   save the match (or money session) so far as a .mat file
  resign      give up this game (you lose what you would lose if the computer bore off now)
The cube (in a match longer than 1 point, and in money games unless --no-cube):
  roll        roll the dice (asked before your roll whenever you may double)
  double      offer the computer a double, before rolling
  take, pass  answer the computer's double (drop = pass)
  hint        at a cube decision: the adviser's cube analysis (no double, double/take,
              double/pass, and the proper action)
  quit        end the session (the match is saved; in money games, the way to stop)
  help        this text
End-of-file (Ctrl-D) or Ctrl-C also end the session and save the match."""

COMMANDS = ("help", "moves", "hint", "pip", "board", "undo", "save", "resign", "quit", "exit",
            "roll", "double", "take", "pass", "drop")

ROLL, PLAY, ANSWER = "roll", "play", "answer"
"""The person's pending decision: roll or double, a checker play, or take or pass."""

YOU, THEM = 0, 1  # player numbers in the records: the person is the left column


def mirror_moves(play: Play) -> str:
    """The computer's single moves in the person's numbering (its 24-point is the person's 1-point)."""
    parts = []
    for src, dst, hit in play.moves:
        if src < 0:
            continue
        a = "bar" if src == 24 else str(24 - int(src))
        b = "off" if dst < 0 else str(24 - int(dst))
        parts.append(f"{a}/{b}{'*' if hit else ''}")
    return " ".join(parts)


# ---------------------------------------------------------------------------------- the session


@dataclass
class _Snapshot:
    """What undo restores: the game and the dice's stream before one of the person's plays."""

    game: GameState
    n_actions: int
    rng_state: dict


class Session:
    """A match (or a money session, ``points=0``) between a person and a bot, one input line at a time.

    ``start()`` opens the match and returns the text up to the first question; then ``handle(line)``
    returns what to show after each line. ``prompt`` is the question to ask next, ``over`` says when
    the match (or the session) has ended, ``phase`` which decision of the person's is pending
    (:data:`ROLL`, :data:`PLAY`, :data:`ANSWER` or None). Nothing is printed or read here.
    ``points`` is the match length, 0 for money games (played until the person quits).
    """

    def __init__(self, opponent, name: str = "computer", seed: Optional[int] = None, points: int = 1,
                 color: bool = False, you: str = "You", hint_bot=None, hint_name: Optional[str] = None,
                 cube: bool = True):
        if points < 0:
            raise ValueError(f"points must be at least 1 (or 0 for money games), got {points}")
        self.bot = opponent
        # asked once: whether each bot's checker play takes the match state (gammons at the score)
        self.bot_at_score = plays_at_score(opponent)
        self.them = name
        self.you = you
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.length = points
        self.cube = bool(cube)
        self.style = Style(color)
        self.hint_bot = hint_bot if hint_bot is not None else opponent
        self.hint_name = hint_name or name
        self.hint_at_score = plays_at_score(self.hint_bot) and accepts_keyword(
            getattr(self.hint_bot, "rank", None), "state")
        self.score = [0, 0]            # points won by each side (in money games too, as gnubg keeps them)
        self.finished: list = []       # records.Game of every finished game
        self.over = False
        self.game_number = 0
        self.dice_source = Dice(self.rng)
        self.game: Optional[GameState] = None  # the game in progress (the one game loop)
        self.actions: list = []        # records.CheckerPlay of every turn of the game in progress
        self.plays: list[Play] = []    # the person's legal plays for self.dice
        self.phase: Optional[str] = None
        self.undo_stack: list[_Snapshot] = []

    # -------------------------------------------------------------- the flow of a match

    @property
    def money(self) -> bool:
        """Money games (match length 0): played until the person quits."""
        return self.length == 0

    @property
    def cube_live(self) -> bool:
        """Whether the cube is in play at all (not in a 1-point match, nor with ``cube=False``)."""
        return self.cube and self.length != 1

    def start(self) -> str:
        if self.money:
            what = "money games" + (" with the cube (Jacoby rule)" if self.cube else ", no cube")
        else:
            what = ((f"a match to {self.length} points" if self.length > 1 else "one game")
                    + (", with the cube" if self.cube_live else ", no cube"))
        head = f"{self.you} (X) against {self.them} (O): {what}; dice seed {self.seed}. Type `help` for the commands."
        return head + "\n" + self._new_game()

    @property
    def prompt(self) -> str:
        if self.over:
            return "> "
        if self.phase == ROLL:
            return "Roll or double> "
        if self.phase == ANSWER:
            return f"{self.them} doubles to {self.game.cube_value * 2}: take or pass> "
        if self.dice is None:
            return "> "
        return f"Your play ({self.dice[0]}{self.dice[1]})> "

    @property
    def pos(self) -> np.ndarray:
        """The position from the person's side: ``pos[1]`` the person's checkers, ``pos[0]`` the computer's."""
        if self.game is None:
            return start_board()
        g = self.game
        return g.board if g.turn == YOU else swap_sides(g.board)

    @property
    def dice(self) -> Optional[tuple[int, int]]:
        """The person's roll to play, or None when no checker play of the person's is pending (the
        roll, thrown early by the game loop, stays hidden until the person rolls)."""
        return self.game.dice if self.phase == PLAY else None

    def _new_game(self) -> str:
        self.game_number += 1
        self.actions = []
        self.undo_stack = []
        out = []
        if self.money:
            out.append(f"Game {self.game_number}. {self._session_text()}.")
        elif self.length > 1:
            out.append(f"Game {self.game_number}. Score: {self._score_text()}.")
        scores = [g.score for g in self.finished] + [tuple(self.score)]
        crawford = self.length > 1 and crawford_flags(scores, self.length)[-1]
        if crawford:
            out.append("This is the Crawford game: no doubling.")
        # money: the score only fills the record's score lines (the cube ignores it); the Jacoby
        # rule only with the cube, since without one a gammon would never count
        self.game = new_game(self.dice_source, tuple(self.score), self.length, crawford,
                             jacoby=self.money and self.cube)
        mine, theirs = self.game.opening
        first = "you play first" if self.game.turn == YOU else f"{self.them} plays first"
        out.append(f"You roll {mine}, {self.them} rolls {theirs}: {first}.")
        out.append(self._advance())
        return "\n".join(t for t in out if t)

    def _may_double(self) -> bool:
        return self.cube and not cube_refusal(self.game)

    def _advance(self, rolled: bool = False) -> str:
        """Play on until the person has a decision to make, or the match ends.

        ``rolled``: the person, on roll, has already chosen to roll (or doubled and was taken).
        """
        out = []
        g = self.game
        self.plays, self.phase = [], None
        while not g.over:
            if g.turn == THEM:
                said = self._computer_turn()
                if self.phase == ANSWER:  # the computer doubled: the person answers
                    out += [self.board(), said]
                    return "\n".join(out)
                out.append(said)
                continue
            if not rolled and self._may_double():
                self.phase = ROLL
                out.append(self.board())
                out.append("Your turn: `roll`, or `double` to offer the cube at "
                           f"{g.cube_value * 2}.")
                return "\n".join(out)
            rolled = False
            d = g.dice
            plays = g.legal_plays()
            if not plays:
                out.append(f"You roll {d[0]}{d[1]}: no legal play.")
                self.actions.append(checker_record(g, None, 0))
                play_turn(g, None, self.dice_source)
                continue
            self.plays, self.phase = plays, PLAY
            out.append(self.board())
            out.append(f"You roll {d[0]}{d[1]}." + (" (only one legal play)" if len(plays) == 1 else ""))
            return "\n".join(out)
        out.append(self._end_game())  # ends the game and opens the next one (or the match)
        return "\n".join(out)

    def _computer_turn(self) -> str:
        """The computer's turn: a double (which the person must answer), or its roll and play."""
        g = self.game
        if self._may_double() and ask_cube(self.bot, g) == "double":
            offer_double(g)
            self.phase = ANSWER
            return f"{self.them} doubles to {g.cube_value * 2}. `take` or `pass`?"
        return self._computer_plays(g.dice)

    def _computer_plays(self, d) -> str:
        g = self.game
        view = g.board  # the computer's side: it in row 1
        play = choose_play(self.bot, g, at_score=self.bot_at_score)
        self.actions.append(checker_record(g, play, len(legal_plays(view, *d))))
        play_turn(g, None if play is None else play.board, self.dice_source)
        if play is None:
            return f"{self.them} rolls {d[0]}{d[1]}: no legal play."
        return f"{self.them} rolls {d[0]}{d[1]} and plays {play.notation}  (on your board: {mirror_moves(play)})"

    def _end_game(self) -> str:
        """Record the game that just ended (borne off, passed or resigned); start the next one."""
        g = self.game
        winner, pts = g.winner, g.points
        self.finished.append(record_game(g, self.actions, self.game_number, (self.you, self.them)))
        self.score[winner] += pts
        match_won = not self.money and self.score[winner] >= self.length
        self.actions, self.plays, self.undo_stack, self.phase = [], [], [], None
        base = pts // g.cube_value
        kind = {1: "", 2: " (a gammon)", 3: " (a backgammon)"}[base] if g.ended_by != "pass" else ""
        if g.jacoby and g.cube_value == 1 and g.ended_by == "bear-off":
            # the Jacoby rule made a gammon single: say so, or the person may think it a miscount
            full = int(points_won(np.ascontiguousarray(g.board[0])))  # the loser's row, the winner's view
            kind = {2: " (a gammon, counted single: Jacoby rule)",
                    3: " (a backgammon, counted single: Jacoby rule)"}.get(full, kind)
        how = {"resign": " (resigned)", "pass": " (the double was passed)"}.get(g.ended_by, "")
        who = "You win" if winner == YOU else f"{self.them} wins"
        out = [self.board(), f"{who} {pts} point{'s' if pts > 1 else ''}{kind}.{how}"]
        if match_won:
            self.over = True
            if self.length > 1:
                out.append(f"Final score: {self._score_text()}. "
                           + ("You win the match." if winner == YOU else f"{self.them} wins the match."))
            return "\n".join(out)
        if self.money:
            out.append(f"{self._session_text()}.")
        else:
            out.append(f"Score: {self._score_text()} (match to {self.length}).")
        out.append(self._new_game())
        return "\n".join(out)

    def _score_text(self) -> str:
        return f"{self.you} {self.score[YOU]}, {self.them} {self.score[THEM]}"

    @property
    def net(self) -> int:
        """The person's running total of a money session: points won less points lost."""
        return self.score[YOU] - self.score[THEM]

    def _session_text(self) -> str:
        """"Session: You +3, computer -3 after 2 games" (a money session's running total)."""
        n = len(self.finished)
        mine, theirs = (f"{v:+d}" if v else "0" for v in (self.net, -self.net))
        return f"Session: {self.you} {mine}, {self.them} {theirs} after {n} game{'' if n == 1 else 's'}"

    def _cube_text(self) -> str:
        """The cube's value and owner, as shown under the board."""
        g = self.game
        if g is None:
            return ""
        owner = {CENTRED: "in the middle", YOU: "yours", THEM: f"{self.them}'s"}[g.cube_owner]
        return f"Cube: {g.cube_value}, {owner}." + (" Crawford game: no doubling." if g.crawford else "")

    # -------------------------------------------------------------- input

    def handle(self, line: str) -> str:
        """The answer to one line of input."""
        if self.over:
            return "The session is over."
        text = line.strip()
        if not text:
            return {ROLL: "Type `roll` or `double` (or `help`).",
                    ANSWER: "Type `take` or `pass` (or `help`)."}.get(
                self.phase, "Type a play (e.g. 8/5 6/5), a number from `moves`, or `help`.")
        word, _, rest = text.partition(" ")
        if word.lower() in COMMANDS:
            return getattr(self, f"_cmd_{word.lower()}")(rest.strip())
        if word == "?":
            return HELP
        if self.phase != PLAY:
            return self._not_now("a play")
        if text.isdigit():
            k = int(text)
            if not 1 <= k <= len(self.plays):
                return f"There is no play number {k}: the legal plays are numbered 1 to {len(self.plays)} (type `moves`)."
            return self._human_plays(self.plays[k - 1])
        try:
            play = parse_play(self.pos, *self.dice, text)
        except NotationError as e:
            return f"Illegal: {e}"
        return self._human_plays(play)

    def _not_now(self, what: str) -> str:
        """Why ``what`` cannot be done now, and what can."""
        if self.phase == ROLL:
            return f"Not now: you have not rolled yet. Type `roll` or `double` before {what}."
        if self.phase == ANSWER:
            return f"Not now: {self.them} has doubled. Type `take` or `pass` before {what}."
        return f"Not now: no {what} is pending."

    def _human_plays(self, play: Play) -> str:
        self.undo_stack.append(_Snapshot(self.game.copy(), len(self.actions), self.rng.bit_generator.state))
        self.actions.append(checker_record(self.game, play, len(self.plays)))
        play_turn(self.game, play.board, self.dice_source)
        out = [f"You play {play.notation}."]
        out.append(self._advance())
        return "\n".join(out)

    # -------------------------------------------------------------- the cube

    def _cmd_roll(self, _rest) -> str:
        if self.phase != ROLL:
            return ("Your dice are rolled already." if self.phase == PLAY else self._not_now("rolling"))
        return self._advance(rolled=True)

    def _cmd_double(self, _rest) -> str:
        g = self.game
        if self.phase != ROLL:
            if self.phase == ANSWER:
                return f"You cannot double now: {self.them} has doubled. Type `take` or `pass`."
            if not self.cube:
                return "You cannot double: this session is played without the cube."
            why = cube_refusal(g) if g is not None and not g.over else "the game is over"
            if why:
                return f"You cannot double: {why}."
            return "You cannot double now: a double comes before rolling, and your dice are rolled."
        try:
            offer_double(g)
        except CubeError as e:
            return f"You {e}."
        answer = ask_cube(self.bot, g)
        answer_double(g, answer)
        if answer == "pass":
            return f"You double; {self.them} passes.\n" + self._end_game()
        return f"You double; {self.them} takes. The cube is at {g.cube_value}, {self.them}'s.\n" + \
            self._advance(rolled=True)

    def _answer(self, answer: str) -> str:
        if self.phase != ANSWER:
            return f"There is no double to {answer}: {self.them} has not doubled."
        g = self.game
        answer_double(g, answer)
        if answer == "pass":
            return "You pass.\n" + self._end_game()
        return (f"You take: the cube is at {g.cube_value}, yours.\n" + self._computer_plays(g.dice)
                + "\n" + self._advance())

    def _cmd_take(self, _rest) -> str:
        return self._answer("take")

    def _cmd_pass(self, _rest) -> str:
        return self._answer("pass")

    _cmd_drop = _cmd_pass

    # -------------------------------------------------------------- other commands

    def _cmd_help(self, _rest) -> str:
        return HELP

    def _cmd_moves(self, _rest) -> str:
        if self.phase != PLAY:
            return self._not_now("listing your plays")
        return self._numbered([p.notation for p in self.plays], f"Your legal plays with {self.dice[0]}{self.dice[1]}:")

    @staticmethod
    def _numbered(items: list[str], title: str) -> str:
        cells = [f"{i + 1:>3}. {t}" for i, t in enumerate(items)]
        width = max(len(c) for c in cells) + 2
        per_line = max(1, 78 // width)
        rows = [title]
        for k in range(0, len(cells), per_line):
            rows.append("".join(c.ljust(width) for c in cells[k : k + per_line]).rstrip())
        return "\n".join(rows)

    def _cmd_hint(self, rest) -> str:
        if self.phase in (ROLL, ANSWER):
            return self._cube_hint()
        if self.phase != PLAY:
            return self._not_now("a hint")
        n = 5
        if rest:
            if not rest.isdigit() or int(rest) < 1:
                return "hint takes a number of plays, e.g. `hint 3`."
            n = int(rest)
        # a bot that plays at the score ranks at it too: the person is on roll, so the state's on_roll
        at_score = {"state": match_state(self.game, with_dice=True)} if self.hint_at_score else {}
        ranked = self.hint_bot.rank(self.pos, *self.dice, **at_score)[:n]
        number = {p.key(): i + 1 for i, p in enumerate(self.plays)}
        # a model with outcome heads says how good each result is: equity and your chances, as gnubg shows
        probs = getattr(self.hint_bot, "result_probabilities", lambda r: None)(
            np.stack([p.board for p, _ in ranked])) if ranked else None
        what = "equity, win and gammon chances" if probs is not None else "score"
        lines = [f"{self.hint_name}'s best plays for you with {self.dice[0]}{self.dice[1]} ({what}, move number):"]
        for i, (play, score) in enumerate(ranked):
            chances = "" if probs is None else f"  win {100 * probs[i, 0]:5.1f}%  gammon {100 * probs[i, 1]:5.1f}%"
            lines.append(f"  {i + 1}. {play.notation:<24} {score:+.4f}{chances}   #{number[play.key()]}")
        return "\n".join(lines)

    def _cube_hint(self) -> str:
        """The adviser's cube analysis of the person's decision (double now, or take the double)."""
        analyse = getattr(self.hint_bot, "cube_analysis", None)
        if analyse is None:
            return f"{self.hint_name} has no cube analysis to give."
        g = self.game
        a = analyse(g.board, match_state(g))   # the doubler's view, whoever decides
        decision = "your double" if self.phase == ROLL else f"{self.them}'s double"
        return (f"{self.hint_name}'s cube analysis of {decision} (cubeful equities for you):\n"
                f"  no double    {a.nd:+.4f}\n  double/take  {a.dt:+.4f}\n  double/pass  {a.dp:+.4f}\n"
                f"  proper action: {a.proper}")

    def _cmd_pip(self, _rest) -> str:
        mine, theirs = pip_counts(self.pos)
        lead = theirs - mine
        where = "even" if lead == 0 else (f"you lead by {lead}" if lead > 0 else f"you trail by {-lead}")
        return f"Pips: {self.you} {mine}, {self.them} {theirs} ({where})."

    def _cmd_board(self, _rest) -> str:
        return self.board() + ("" if self.dice is None else f"\nYou roll {self.dice[0]}{self.dice[1]}.")

    def _cmd_undo(self, _rest) -> str:
        if not self.undo_stack:
            return "Nothing to undo in this game."
        snap = self.undo_stack.pop()
        taken = [a.notation or "no move" for a in self.actions[snap.n_actions :]]
        self.game = snap.game
        del self.actions[snap.n_actions :]
        self.rng.bit_generator.state = snap.rng_state  # the same dice come again
        self.plays, self.phase = self.game.legal_plays(), PLAY
        return (f"Undone: your {taken[0]}" + (f" and the {len(taken) - 1} play(s) after it" if len(taken) > 1 else "")
                + ".\n" + self.board() + f"\nYou roll {self.dice[0]}{self.dice[1]}.")

    def _cmd_save(self, rest) -> str:
        if not rest:
            return "save takes a file name, e.g. `save mygame.mat`."
        return self.save(rest)

    def _cmd_resign(self, _rest) -> str:
        if self.phase == ANSWER:
            return f"{self.them} has doubled: `pass` gives up this game at the cube's value."
        # what the person would lose if the computer had just borne off its last checker
        resign(self.game, YOU)
        return self._end_game()

    def _cmd_quit(self, _rest) -> str:
        self.over = True
        return f"Goodbye. {self._session_text()}." if self.money else "Goodbye."

    _cmd_exit = _cmd_quit

    def board(self) -> str:
        status = f"{self.you} to play {self.dice[0]}{self.dice[1]}" if self.dice else ""
        drawing = draw_board(self.pos, self.you, self.them, self.style, status)
        return drawing + "\n" + self._cube_text() if self.cube_live else drawing

    # -------------------------------------------------------------- records

    def games(self) -> list:
        """records.Game of every game so far: the finished ones and the one in progress (if begun)."""
        out = list(self.finished)
        if self.actions or (self.game is not None and self.game.cube_history and not self.game.over):
            out.append(record_game(self.game, self.actions, self.game_number, (self.you, self.them)))
        return out

    def save(self, path) -> str:
        """Write the match so far as a .mat file (a money session as a "0 point match", as gnubg
        writes one) and check that it reads back to the same plays."""
        from .. import records

        games = self.games()
        if not games:
            return "Nothing to save yet: no play has been made."
        path = Path(path).expanduser().absolute()
        headers = {"Player 1": self.you, "Player 2": self.them, "Event": "comparison play",
                   "EventDate": time.strftime("%Y.%m.%d"), "Variation": "Backgammon", "Seed": str(self.seed)}
        try:
            records.write_mat(games, path, players=(self.you, self.them), match_length=self.length, headers=headers)
        except OSError as e:
            return f"Cannot save to {path}: {e.strerror or e}"
        back = records.read_match(path)
        problem = _compare_games(games, back)
        n_plays = sum(len(g.plays) for g in games)
        if problem:
            return f"Saved {len(games)} game(s) to {path}, but reading it back differs: {problem}"
        return f"Saved {len(games)} game(s), {n_plays} plays, to {path}."


def _compare_games(games: list, back) -> str:
    """'' when the match read back from a file has the same plays as ``games``; else what differs."""
    if len(back.games) != len(games):
        errors = "; ".join(str(e) for e in back.errors[:2])
        return f"{len(back.games)} games instead of {len(games)}" + (f" ({errors})" if errors else "")
    for g, b in zip(games, back.games):
        if b.error is not None:
            return str(b.error)
        if len(b.plays) != len(g.plays):
            return f"game {g.number}: {len(b.plays)} plays instead of {len(g.plays)}"
        for x, y in zip(g.plays, b.plays):
            if x.dice != y.dice or not np.array_equal(x.result, y.result):
                return f"game {g.number}: the play {x.dice[0]}{x.dice[1]} {x.notation} reads back as {y.notation}"
        cube, cube_back = _cube_actions(g), _cube_actions(b)
        if cube != cube_back:
            return f"game {g.number}: the cube actions {cube} read back as {cube_back}"
        if g.winner is not None and (b.winner, b.points) != (g.winner, g.points):
            return f"game {g.number}: ends {b.winner, b.points} instead of {g.winner, g.points}"
    return ""


def _cube_actions(game) -> list:
    """(player, kind) of a game's cube actions, in order."""
    from ..records import CubeAction

    return [(a.player, a.kind) for a in game.actions if isinstance(a, CubeAction)]


# ---------------------------------------------------------------------------------- command line


def add_arguments(p) -> None:
    from ..players import PLAYER_HELP

    who = p.add_mutually_exclusive_group()
    who.add_argument("--model", metavar="FILE", help="play against a trained model file")
    who.add_argument("--bot", metavar="NAME", default=None,
                     help="play against a bot: pubeval, random, gnubg or gnubg:N (default: the packaged "
                          "model when there is one, else pubeval)")
    p.add_argument("--seed", type=int, default=None, help="seed of the dice (default: a fresh one, printed)")
    p.add_argument("--points", type=int, default=None,
                   help="match length in points (default 1: one game); longer matches are played with the "
                        "doubling cube and the Crawford rule")
    p.add_argument("--money", action="store_true",
                   help="money games, one after another until you type quit: with the doubling cube and the "
                        "Jacoby rule (no Crawford, no beavers) unless --no-cube")
    p.add_argument("--no-cube", action="store_true", help="play without the doubling cube")
    p.add_argument("--save", metavar="FILE", default=None,
                   help="where the match is saved on exit (default: comparison-DATE-TIME.mat here)")
    p.add_argument("--name", default="You", help="your name in the saved record (default: You)")
    p.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR set, or not a terminal)")
    p.epilog = f"Players: {PLAYER_HELP}."


def _opponent(args):
    """(bot, name, hint bot, hint name, note) for the arguments; PlayerError when it cannot be built."""
    from ..players import PlayerError, make_player, parse_spec, player_name

    note, bot = "", None
    if args.model:
        spec = args.model
    elif args.bot:
        spec = args.bot
        try:
            kind = parse_spec(spec).kind
        except PlayerError:
            kind = None  # not a player name of the registry
        if kind in (None, "file"):
            raise PlayerError(f"--bot {spec!r}: expected pubeval, random, gnubg or gnubg:N (--model for a file)")
    else:
        spec = "default"
        try:
            bot = make_player(spec)
        except PlayerError as e:
            spec, note = "pubeval", f"No default model ({e}); playing pubeval."
    bot = bot or make_player(spec, seed=args.seed)
    name = player_name(bot, spec)
    if spec.lower() == "random":  # random scores are no hint: pubeval advises instead
        return bot, name, make_player("pubeval"), "pubeval", note
    return bot, name, bot, name, note


def _use_color(args) -> bool:
    return (not args.no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
            and os.environ.get("TERM", "") != "dumb")


def run_command(args) -> int:
    from ..players import PlayerError

    if getattr(args, "money", False) and args.points is not None:
        print("play: --money and --points do not go together: money games have no match length "
              "(they go on until you quit)", file=sys.stderr)
        return 2
    if args.points is not None and args.points < 1:
        print(f"play: --points must be at least 1, got {args.points}", file=sys.stderr)
        return 2
    if args.seed is not None and args.seed < 0:
        print(f"play: --seed must be at least 0, got {args.seed}", file=sys.stderr)
        return 2
    try:
        bot, name, hint, hint_name, note = _opponent(args)
    except PlayerError as e:
        print(f"play: {e}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 1_000_000)
    save_path = args.save or f"comparison-{time.strftime('%Y%m%d-%H%M%S')}.mat"
    points = 0 if getattr(args, "money", False) else (args.points or 1)  # 0: money games
    session = Session(bot, name, seed=seed, points=points, color=_use_color(args), you=args.name,
                      hint_bot=hint, hint_name=hint_name, cube=not args.no_cube)
    try:  # line editing and history for input(), where the platform has it
        importlib.import_module("readline")
    except ImportError:  # pragma: no cover - not on every platform
        pass
    ending = ""
    try:
        if note:
            print(note)
        print(session.start(), flush=True)
        while not session.over:
            try:
                line = input(session.prompt)
            except EOFError:
                ending = "End of input: the session ends."
                break
            print(session.handle(line), flush=True)
    except KeyboardInterrupt:
        ending = "Interrupted: the session ends."
    if ending:
        print("\n" + ending)
    if session.games():
        print(session.save(save_path))
    return 0
