"""Playing in the terminal: the Session driven directly, the board drawing read back, and the real
command driven through a pseudo-terminal as a person would (pexpect)."""
import itertools
import os
import re
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from games.backgammon import legal_plays, pip_counts, random_positions, records, start_board
from games.backgammon.rules.board import game_result
from games.backgammon.players.bots import PubevalBot, RandomBot
from games.backgammon.ui.terminal import Session, Style, draw_board

ROOT = Path(__file__).resolve().parents[1]
PROMPT = re.compile(r"Your play \((\d)(\d)\)> ")


def new_session(seed=3, points=1, bot=None, name="pubeval"):
    s = Session(bot or PubevalBot(), name, seed=seed, points=points, hint_bot=PubevalBot(), hint_name="pubeval")
    s.start()
    return s


def play_out(session, answer="1", limit=3000, roll="roll", double="take"):
    """Answer every question until the match ends: ``answer`` to a checker play, ``roll`` before
    a roll where the person may double, ``double`` to the computer's double; the outputs."""
    outs = []
    for _ in range(limit):
        if session.over:
            return outs
        outs.append(session.handle({"roll": roll, "answer": double}.get(session.phase, answer)))
    raise AssertionError("the match did not end")


# ------------------------------------------------------------------ the board drawing


def read_drawing(text: str):
    """Checker counts back from a drawn board: (mine (24,), theirs (24,), my bar, their bar, pips, off).

    Point p's cell is 3 characters wide; top row 13..18 | bar | 19..24, bottom 12..7 | bar | 6..1.
    """
    lines = text.splitlines()
    top, bottom = lines[2:7], lines[8:13][::-1]  # each from the board's edge inwards

    def column(p):
        if p >= 13:
            k = p - 13
        else:
            k = 12 - p
        return 2 + 3 * k + (5 if k >= 6 else 0)

    def count(rows, col):
        n = 0
        mark = None
        for r, line in enumerate(rows):
            cell = line[col : col + 3].strip()
            if not cell:
                break
            if cell.isdigit():
                assert r == 4, "a height is written in the fifth row"
                n = int(cell)
            else:
                mark = cell
                n += 1
        return n, mark

    mine, theirs = np.zeros(24, int), np.zeros(24, int)
    for p in range(1, 25):
        n, mark = count(top if p >= 13 else bottom, column(p))
        if n:
            (mine if mark == "X" else theirs)[p - 1] = n
    their_bar = count(top[::-1], 21)[0]
    my_bar = count(bottom[::-1], 21)[0]
    side = "\n".join(lines)
    pips = [int(x) for x in re.findall(r"pips (\d+)", side)]
    off = [int(x) for x in re.findall(r"off  (\d+)", side)]
    return mine, theirs, my_bar, their_bar, pips, off


def test_drawing_reads_back_to_the_position():
    boards, _ = random_positions(300, seed=5)
    for b in boards:
        mine, theirs, my_bar, their_bar, pips, off = read_drawing(draw_board(b, "You", "bot", Style(False)))
        assert mine.tolist() == b[1, :24].tolist()
        assert theirs.tolist() == b[0, 23::-1].tolist()  # the computer's point j is the person's 24 - j
        assert (my_bar, their_bar) == (b[1, 24], b[0, 24])
        you_pips, them_pips = pip_counts(b)
        assert pips == [them_pips, you_pips]
        assert off == [15 - b[0].sum(), 15 - b[1].sum()]


def test_colour_only_when_asked():
    plain = draw_board(start_board(), "You", "bot", Style(False))
    coloured = draw_board(start_board(), "You", "bot", Style(True))
    assert "\033[" not in plain and "\033[1;36m" in coloured and "\033[1;31m" in coloured
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain


# ------------------------------------------------------------------ the session


def test_start_shows_board_dice_and_prompt():
    s = Session(PubevalBot(), "pubeval", seed=3)
    out = s.start()
    assert "You (X) against pubeval (O)" in out and "dice seed 3" in out
    assert "13 14 15 16 17 18" in out and "BAR" in out
    d = s.dice
    assert f"You roll {d[0]}{d[1]}." in out and f"You to play {d[0]}{d[1]}" in out
    assert s.prompt == f"Your play ({d[0]}{d[1]})> "


def test_garbage_and_illegal_plays_are_refused_with_a_reason():
    s = new_session()
    pos, dice, actions = s.pos.copy(), s.dice, list(s.actions)
    assert all(a.player == 1 for a in actions)  # at most the bot's opening play so far
    for text, reason in [("hello", "cannot read 'hello'"), ("24/30", "outside 1..24"),
                         ("25/20", "bar"), ("0", "no play number 0"), ("99999", "numbered 1 to")]:
        out = s.handle(text)
        assert reason in out, out
        # a refused play changes nothing: same position, same dice, no action recorded
        assert np.array_equal(s.pos, pos)
        assert s.dice == dice
        assert len(s.actions) == len(actions)
    assert "Type a play" in s.handle("   ")


def test_moves_lists_every_legal_play_and_numbers_choose_them():
    s = new_session(seed=4)
    listed = re.findall(r"\s*(\d+)\. (\S+(?: \S+)*?)(?=\s{2,}|$)", s.handle("moves"), re.M)
    plays = legal_plays(s.pos, *s.dice)
    assert [t for _, t in listed] == [p.notation for p in plays]
    k = len(plays)
    out = s.handle(str(k))
    assert f"You play {plays[k - 1].notation}." in out
    mine = [a for a in s.actions if a.player == 0]
    assert np.array_equal(mine[-1].result, plays[k - 1].board)


def test_a_play_in_any_notation_is_taken():
    s = new_session(seed=4)
    plays = legal_plays(s.pos, *s.dice)
    p = plays[-1]
    text = " ".join(reversed(p.notation.split()))  # parts in another order
    out = s.handle(text)
    assert f"You play {p.notation}." in out


def test_hint_is_the_advisers_ranking():
    s = new_session(seed=6)
    out = s.handle("hint 3")
    ranked = PubevalBot().rank(s.pos, *s.dice)[:3]
    rows = re.findall(r"^\s+\d\. (.+?)\s+([+-]\d+\.\d+)\s+#(\d+)$", out, re.M)
    assert [r[0] for r in rows] == [p.notation for p, _ in ranked]
    assert [float(r[1]) for r in rows] == pytest.approx([sc for _, sc in ranked], abs=1e-4)
    plays = legal_plays(s.pos, *s.dice)
    assert [plays[int(r[2]) - 1].notation for r in rows] == [r[0] for r in rows]
    assert "hint takes a number" in s.handle("hint x")


def test_pip_counts():
    s = new_session(seed=2)
    mine, theirs = pip_counts(s.pos)
    assert f"Pips: You {mine}, pubeval {theirs}" in s.handle("pip")


def test_undo_restores_the_position_and_the_dice():
    s = new_session(seed=7)
    assert "Nothing to undo" in s.handle("undo")
    pos, dice, n = s.pos.copy(), s.dice, len(s.actions)
    first = s.handle("1")
    after = (s.pos.copy(), s.dice)
    out = s.handle("undo")
    assert "Undone: your" in out
    assert np.array_equal(s.pos, pos) and s.dice == dice and len(s.actions) == n
    # the same play again meets the same dice and the same reply
    assert s.handle("1") == first
    assert np.array_equal(s.pos, after[0]) and s.dice == after[1]


def test_two_sessions_with_one_seed_play_alike():
    a, b = new_session(seed=11, bot=RandomBot(1)), new_session(seed=11, bot=RandomBot(1))
    assert play_out(a) == play_out(b)


def test_whole_game_saved_and_read_back(tmp_path):
    s = new_session(seed=12)
    outs = play_out(s)
    assert s.over and len(s.finished) == 1
    game = s.finished[0]
    assert re.search(r"(You win|pubeval wins) [123] points?", outs[-1])
    # the last play ends the game with the points recorded
    last = game.plays[-1]
    assert game_result(last.result) == game.points
    assert s.score[game.winner] == game.points
    path = tmp_path / "game.mat"
    assert "Saved 1 game(s)" in s.save(path)
    back = records.read_match(path)
    assert not back.errors
    (g,) = back.games
    assert (g.winner, g.points, g.resigned) == (game.winner, game.points, False)
    assert [p.dice for p in g.plays] == [p.dice for p in game.plays]
    assert all(np.array_equal(x.result, y.result) for x, y in zip(g.plays, game.plays))
    assert back.players == ("You", "pubeval")


def test_match_to_three_points():
    s = new_session(seed=1, points=3)
    play_out(s)
    scores = [g.score for g in s.finished]
    assert scores[0] == (0, 0)
    for g, nxt in zip(s.finished, scores[1:] + [tuple(s.score)]):
        want = list(g.score)
        want[g.winner] += g.points
        assert tuple(want) == nxt
    assert max(s.score) >= 3 and s.finished[-1].match_won
    assert sum(1 for g in s.finished if g.match_won) == 1


def test_resign_loses_the_game_at_its_value(tmp_path):
    s = new_session(seed=9, points=5)
    s.handle("1")
    # the value: what the person would lose were the computer's checkers all off now
    finished = s.pos.copy()
    finished[0] = 0
    value = -game_result(finished)
    assert value == 3  # the person's back checkers are still in the computer's home board
    out = s.handle("resign")
    g = s.finished[0]
    assert g.resigned and g.winner == 1 and g.points == value
    assert "pubeval wins 3 points (a backgammon). (resigned)" in out and "Game 2" in out
    assert s.score == [0, 3]
    s.save(tmp_path / "r.mat")
    back = records.read_match(tmp_path / "r.mat")
    assert back.games[0].winner == 1 and back.games[0].points == 3 and back.games[0].resigned


def test_save_in_the_middle_of_a_game(tmp_path):
    s = new_session(seed=3)
    s.handle("1")
    s.handle("1")
    out = s.handle(f"save {tmp_path / 'mid.mat'}")
    assert "Saved 1 game(s)" in out and "reading it back differs" not in out
    back = records.read_match(tmp_path / "mid.mat")
    assert len(back.games[0].plays) == len(s.actions)
    assert "save takes a file name" in s.handle("save")
    assert "Cannot save" in s.handle(f"save {tmp_path / 'no' / 'such' / 'dir.mat'}")


def test_help_and_quit():
    s = new_session()
    assert "undo" in s.handle("help") and "resign" in s.handle("?")
    assert s.handle("quit") == "Goodbye." and s.over


# ------------------------------------------------------------------ the cube


class CubeBot(PubevalBot):
    """pubeval's plays; doubles whenever it may (or never), answers ``answers`` in turn, over and
    over; a fixed cube analysis."""

    name = "cubey"

    def __init__(self, double=True, answers=("take",)):
        self.double, self.answers, self.questions = double, itertools.cycle(answers), []

    def cube_action(self, board, ms):
        self.questions.append(ms)
        assert ms.dice == (0, 0)
        if ms.doubled:
            return next(self.answers)
        return "double" if self.double else "no double"

    def cube_analysis(self, board, ms):
        self.analysed = (board.copy(), ms)
        return SimpleNamespace(nd=0.125, dt=0.25, dp=1.0, proper="Double, take")


def cube_session(bot, seed=5, points=5, hint_bot=None):
    s = Session(bot, "cubey", seed=seed, points=points, hint_bot=hint_bot or bot, hint_name="cubey")
    s.start()
    return s


def advance_to(s, phase, limit=400):
    """Play on (first play, roll, take) until the person faces ``phase``."""
    for _ in range(limit):
        if s.phase == phase:
            return s
        assert not s.over, f"the match ended before {phase}"
        s.handle({"play": "1", "roll": "roll", "answer": "take"}[s.phase])
    raise AssertionError(f"never reached {phase}")


def snapshot(s):
    g = s.game
    return (s.pos.tolist(), s.dice, s.phase, g.cube_value, g.cube_owner, g.doubled, len(s.actions),
            list(g.cube_history), tuple(s.score), len(s.finished))


def test_the_person_doubles_and_the_computer_takes():
    s = advance_to(cube_session(CubeBot(double=False, answers=("take",))), "roll")
    assert s.dice is None and s.prompt == "Roll or double> " and "You roll" not in s.board()
    assert "Cube: 1, in the middle." in s.board()
    out = s.handle("double")
    assert "You double; cubey takes. The cube is at 2, cubey's." in out
    assert (s.game.cube_value, s.game.cube_owner) == (2, 1) and s.phase == "play"
    assert "Cube: 2, cubey's." in out and f"You roll {s.dice[0]}{s.dice[1]}." in out


def test_the_person_doubles_and_the_computer_passes():
    s = advance_to(cube_session(CubeBot(double=False, answers=("pass",))), "roll")
    out = s.handle("double")
    assert "You double; cubey passes." in out and "You win 1 point. (the double was passed)" in out
    assert s.score == [1, 0] and s.finished[0].winner == 0 and s.finished[0].points == 1
    assert [(a.player, a.kind) for a in s.finished[0].actions if a.kind in ("double", "drop")] == [
        (0, "double"), (1, "drop")]
    assert "Game 2" in out


def test_the_computer_doubles_and_the_person_answers():
    s = advance_to(cube_session(CubeBot(double=True)), "answer")
    assert s.prompt == "cubey doubles to 2: take or pass> " and s.dice is None
    out = s.handle("take")
    assert "You take: the cube is at 2, yours." in out
    assert (s.game.cube_value, s.game.cube_owner) == (2, 0)
    advance_to(s, "roll")                 # the person owns the cube: may redouble before rolling
    assert "Cube: 2, yours." in s.board()
    s.handle("double")                    # cubey takes: the cube at 4 is cubey's, which redoubles
    advance_to(s, "answer")
    assert s.game.cube_value == 4
    out = s.handle("pass")
    assert "cubey wins 4 points. (the double was passed)" in out and s.score == [0, 4]
    kinds = [(a.player, a.kind, a.value) for a in s.finished[0].actions if a.kind != "play"]
    assert kinds == [(1, "double", 2), (0, "take", None), (0, "double", 4), (1, "take", None),
                     (1, "double", 8), (0, "drop", None)]


def test_illegal_cube_actions_are_refused_and_change_nothing():
    s = advance_to(cube_session(CubeBot(double=True)), "play")
    for line, reason in [("double", "a double comes before rolling"), ("take", "no double to take"),
                         ("pass", "no double to pass"), ("roll", "rolled already")]:
        before = snapshot(s)
        assert reason in s.handle(line)
        assert snapshot(s) == before
    advance_to(s, "answer")
    for line, reason in [("double", "cubey has doubled"), ("roll", "Type `take` or `pass`"),
                         ("1", "Type `take` or `pass`"), ("8/5 6/5", "Type `take` or `pass`"),
                         ("moves", "Type `take` or `pass`"), ("resign", "`pass` gives up"), ("", "take")]:
        before = snapshot(s)
        assert reason in s.handle(line), line
        assert snapshot(s) == before
    s.handle("take")
    advance_to(s, "roll")
    for line, reason in [("1", "you have not rolled yet"), ("13/9", "you have not rolled yet"),
                         ("take", "no double to take"), ("moves", "you have not rolled yet"), ("", "roll")]:
        before = snapshot(s)
        assert reason in s.handle(line), line
        assert snapshot(s) == before


def test_double_refused_when_the_cube_is_not_the_persons():
    s = advance_to(cube_session(CubeBot(double=False)), "roll")
    s.handle("double")                                     # cubey takes and owns the cube
    advance_to(s, "play")
    s.handle("1")
    advance_to(s, "play")                                  # no roll-or-double question any more
    assert s.game.cube_owner == 1
    assert "the other side owns the cube" in s.handle("double")


def test_cube_hint_shows_the_analysis():
    bot = CubeBot(double=True)
    s = advance_to(cube_session(bot), "answer")
    out = s.handle("hint")
    assert "cubey's cube analysis of cubey's double" in out
    for text in ("no double    +0.1250", "double/take  +0.2500", "double/pass  +1.0000",
                 "proper action: Double, take"):
        assert text in out
    board, ms = bot.analysed
    assert ms.doubled and ms.turn == 0 and ms.on_roll == 1 and np.array_equal(board, s.game.board)
    s.handle("take")
    advance_to(s, "roll")
    assert "analysis of your double" in s.handle("hint")
    plain = advance_to(cube_session(CubeBot(double=False), hint_bot=PubevalBot()), "roll")
    assert "has no cube analysis" in plain.handle("hint")


def test_no_cube_question_in_the_crawford_game_or_with_a_dead_cube():
    # cubey doubles whenever it may and the person passes: 1-0, 2-0, then the Crawford game
    bot = CubeBot(double=True)
    s = cube_session(bot, seed=8, points=3)
    phases = []
    for _ in range(3000):
        if s.over:
            break
        g = s.game
        phases.append((s.phase, g.crawford, s.score[0] + g.cube_value >= 3))
        s.handle({"play": "1", "roll": "roll", "answer": "pass"}[s.phase])
    assert s.over and [g.score for g in s.finished][:3] == [(0, 0), (0, 1), (0, 2)]
    assert s.finished[2].crawford and any(c for _, c, _ in phases)
    assert not [p for p in phases if p[0] in ("roll", "answer") and (p[1] or (p[0] == "roll" and p[2]))]
    for ms in bot.questions:
        assert not ms.crawford and ms.score[ms.on_roll] + ms.cube < 3
    assert not any(a.kind != "play" for g in s.finished if g.crawford for a in g.actions)


@pytest.mark.parametrize("seed", [2, 3])
def test_cube_match_saved_and_read_back(tmp_path, seed):
    # both sides double now and then, take twice and pass once
    bot = CubeBot(double=True, answers=("take", "take", "pass"))
    s = cube_session(bot, seed=seed, points=7)
    answers, rolls = itertools.cycle(["take", "pass", "take"]), itertools.cycle(["roll", "roll", "double"])
    for _ in range(5000):
        if s.over:
            break
        s.handle({"play": "1", "roll": next(rolls), "answer": next(answers)}[s.phase])
    assert s.over
    path = tmp_path / "cube.mat"
    out = s.save(path)
    assert "Saved" in out and "differs" not in out, out
    back = records.read_match(path)
    assert not back.errors
    kinds = lambda g: [(a.player, a.kind) for a in g.actions]  # noqa: E731
    assert [kinds(g) for g in back.games] == [kinds(g) for g in s.finished]
    assert [(g.winner, g.points, g.score) for g in back.games] == [(g.winner, g.points, g.score) for g in s.finished]
    assert sum(a.kind == "drop" for g in back.games for a in g.actions) >= 2
    assert sum(a.kind == "take" for g in back.games for a in g.actions) >= 2


def test_a_one_point_match_never_asks_about_the_cube():
    bot = CubeBot(double=True)
    s = cube_session(bot, seed=4, points=1)
    outs = play_out(s, roll="double")
    assert not bot.questions and "Cube:" not in "".join(outs)


def test_no_cube_option():
    bot = CubeBot(double=True)
    s = Session(bot, "cubey", seed=5, points=5, cube=False)
    assert "no cube" in s.start()
    play_out(s, roll="double")
    assert not bot.questions and all(a.kind == "play" for g in s.finished for a in g.actions)


# ------------------------------------------------------------------ money games


def money_session(bot, seed=5, cube=True):
    s = Session(bot, "cubey", seed=seed, points=0, hint_bot=bot, hint_name="cubey", cube=cube)
    return s, s.start()


def signed(n):
    return f"{n:+d}" if n else "0"


def session_line(s, net, n_games):
    return f"Session: You {signed(net)}, cubey {signed(-net)} after {n_games} game{'' if n_games == 1 else 's'}."


def test_money_session_the_person_doubles_and_games_go_on(tmp_path):
    # cubey never doubles and answers take, pass, take, ...; the person doubles whenever they may
    bot = CubeBot(double=False, answers=("take", "pass"))
    s, head = money_session(bot, seed=5)
    assert "money games with the cube (Jacoby rule)" in head
    assert "Game 1. Session: You 0, cubey 0 after 0 games." in head
    outs = []
    while len(s.finished) < 4:
        assert not s.over and len(outs) < 3000
        outs.append(s.handle({"play": "1", "roll": "double", "answer": "take"}[s.phase]))
    text = "\n".join(outs)
    assert "You double; cubey takes. The cube is at 2, cubey's." in text and "Cube: 2, cubey's." in text
    assert "You double; cubey passes." in text
    # one double per game (a taken cube is cubey's, and cubey never redoubles): take, pass, take, pass
    kinds = [[(a.player, a.kind) for a in g.actions if a.kind != "play"] for g in s.finished]
    assert kinds == [[(0, "double"), (1, "take")], [(0, "double"), (1, "drop")]] * 2
    for g in s.finished[1::2]:                     # the passed doubles: 1 point to the person
        assert (g.winner, g.points) == (0, 1)
    for g in s.finished[::2]:                      # the taken ones: at least 2 points (cube 2)
        assert g.points in (2, 4, 6)
    # the running total: the finished games' points, signed for the person; the record's score
    # lines carry each side's points won so far, as gnubg's money sessions do
    nets, won = [0], [0, 0]
    for g in s.finished:
        assert g.match_length == 0 and g.score == tuple(won) and not g.match_won and not g.crawford
        won[g.winner] += g.points
        nets.append(won[0] - won[1])
    assert s.score == won and s.net == nets[-1]
    for k in range(1, 5):                          # said after each game and at the next one's start
        assert f"\n{session_line(s, nets[k], k)}\nGame {k + 1}. {session_line(s, nets[k], k)}" in text
    path = tmp_path / "money.mat"
    saved = s.save(path)
    assert "Saved" in saved and "differs" not in saved, saved
    assert s.handle("quit") == f"Goodbye. {session_line(s, nets[-1], 4)}" and s.over
    assert " 0 point match" in path.read_text()
    back = records.read_match(path)
    assert back.match_length == 0 and len(back.games) >= 4
    done = back.games[:4]
    assert [(g.winner, g.points, g.score) for g in done] == [(g.winner, g.points, g.score) for g in s.finished]
    assert [[(a.player, a.kind) for a in g.actions if a.kind != "play"] for g in done] == kinds
    for g, b in zip(s.finished, done):
        assert [p.dice for p in g.plays] == [p.dice for p in b.plays]
        assert all(np.array_equal(x.result, y.result) for x, y in zip(g.plays, b.plays))


def test_money_session_the_computer_doubles_and_the_person_passes():
    bot = CubeBot(double=True)
    s, _ = money_session(bot, seed=3)
    advance_to(s, "answer")
    assert s.prompt == "cubey doubles to 2: take or pass> " and "Cube: 1, in the middle." in s.board()
    out = s.handle("pass")
    assert "cubey wins 1 point. (the double was passed)" in out
    assert f"{session_line(s, -1, 1)}\nGame 2. {session_line(s, -1, 1)}" in out
    assert not s.over and s.game_number == 2
    # the cube questions are asked in money play: length 0, no score, no Crawford, the Jacoby rule
    ms = bot.questions[0]
    assert (ms.match_length, ms.score, ms.crawford, ms.jacoby, ms.cube) == (0, (0, 0), False, True, 1)


def test_money_session_resign_and_cube_hint():
    bot = CubeBot(double=True)
    s, _ = money_session(bot, seed=4)
    advance_to(s, "answer")
    assert "double/take  +0.2500" in s.handle("hint")
    _, ms = bot.analysed
    assert ms.match_length == 0 and ms.jacoby and ms.doubled
    s.handle("take")
    advance_to(s, "play")
    finished = s.pos.copy()
    finished[0] = 0
    value = -game_result(finished) * s.game.cube_value   # the cube was turned: gammons count
    out = s.handle("resign")
    g = s.finished[0]
    assert g.resigned and (g.winner, g.points) == (1, value) and s.net == -value
    assert f"cubey wins {value} points" in out and "(resigned)" in out and "Game 2." in out


def test_money_games_count_gammons_single_while_the_cube_is_centred():
    # nobody doubles: under the Jacoby rule every game is worth 1, gammon or not; without the cube
    # (no Jacoby rule then) the same dice give the gammons their due
    jacoby, _ = money_session(CubeBot(double=False), seed=1)
    outs = []
    while len(jacoby.finished) < 3:
        outs.append(jacoby.handle({"play": "1", "roll": "roll", "answer": "take"}[jacoby.phase]))
    on_board = [abs(game_result(g.plays[-1].result)) for g in jacoby.finished]
    assert on_board == [1, 2, 3]
    assert [g.points for g in jacoby.finished] == [1, 1, 1] and jacoby.net == -3
    assert "cubey wins 1 point (a gammon, counted single: Jacoby rule)." in "\n".join(outs)
    plain, head = money_session(CubeBot(double=False), seed=1, cube=False)
    assert "money games, no cube" in head and "Cube:" not in head
    while len(plain.finished) < 3:
        plain.handle("1")
    assert [g.points for g in plain.finished] == [1, 2, 3] and plain.net == -6
    assert "You cannot double: this session is played without the cube." in plain.handle("double")


def test_money_and_points_together_are_refused(capsys):
    import argparse

    from games.backgammon.ui.terminal import add_arguments, run_command

    p = argparse.ArgumentParser()
    add_arguments(p)
    assert run_command(p.parse_args(["--money", "--points", "3"])) == 2
    assert "--money and --points do not go together" in capsys.readouterr().err
    assert run_command(p.parse_args(["--points", "0"])) == 2
    assert "--points must be at least 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least 1"):
        Session(PubevalBot(), points=-1)


# ------------------------------------------------------------------ checker play at the score


class StateBot(PubevalBot):
    """pubeval's plays; records the match state its ``choose`` and ``rank`` are handed."""

    name = "stately"

    def __init__(self):
        self.states, self.ranked = [], []

    def choose(self, board, d1, d2, rng=None, state=None):
        self.states.append((state, (d1, d2)))
        return super().choose(board, d1, d2)

    def rank(self, board, d1, d2, state=None):
        self.ranked.append((state, (d1, d2)))
        return super().rank(board, d1, d2)


class PlainBot(PubevalBot):
    """A bot whose ``choose`` takes no state (nor rng)."""

    def __init__(self):
        self.calls = 0

    def choose(self, board, d1, d2):
        self.calls += 1
        return super().choose(board, d1, d2)


def test_the_computer_plays_at_the_match_score():
    from games.backgammon.rules.ids import MatchState

    bot = StateBot()
    s = Session(bot, "stately", seed=6, points=9, hint_bot=bot, hint_name="stately")
    s.start()
    advance_to(s, "roll")
    s.handle("double")                       # a bot without cube_action takes: cube 2, the computer's
    s.handle("1")                            # and plays at that cube
    n = len(bot.states)
    s.handle("resign")                       # 0-2, 0-4 or 0-6 after game 1: the match goes on
    lost = s.score[1]
    assert lost in (2, 4, 6) and s.score[0] == 0 and not s.over
    advance_to(s, "play")
    s.handle("1")
    assert bot.states and all(isinstance(ms, MatchState) for ms, _ in bot.states)
    for ms, dice in bot.states:              # the computer on roll, seen with its dice
        assert ms.match_length == 9 and ms.on_roll == 1 and ms.turn == 1 and ms.dice == dice
    first, second = bot.states[:n], bot.states[n:]
    assert first and second
    assert {ms.score for ms, _ in first} == {(0, 0)} and {ms.score for ms, _ in second} == {(0, lost)}
    assert (first[-1][0].cube, first[-1][0].cube_owner) == (2, 1)
    # the hint ranks at the score too, with the person on roll and their dice
    advance_to(s, "play")
    assert "stately's best plays for you" in s.handle("hint")
    ms, dice = bot.ranked[-1]
    assert isinstance(ms, MatchState) and ms.on_roll == 0 and ms.dice == dice == s.dice
    assert (ms.match_length, ms.score) == (9, (0, lost))


def test_money_play_hands_the_bot_the_money_state():
    bot = StateBot()
    s = Session(bot, "stately", seed=6, points=0)
    s.start()
    for _ in range(3000):
        if len(s.finished) >= 2:
            break
        s.handle({"play": "1", "roll": "roll", "answer": "take"}[s.phase])
    assert bot.states and {(ms.match_length, ms.score, ms.jacoby, ms.crawford) for ms, _ in bot.states} == {
        (0, (0, 0), True, False)}


def test_a_bot_without_the_state_keyword_still_plays():
    bot = PlainBot()
    s = Session(bot, "plain", seed=6, points=5)
    s.start()
    assert not s.bot_at_score
    advance_to(s, "roll")
    s.handle("resign")
    for _ in range(8):
        s.handle({"play": "1", "roll": "roll", "answer": "take"}[s.phase])
    # every turn of the computer's went through its choose, called with the board and dice alone
    turns = sum(a.player == 1 for g in s.games() for a in g.plays)
    assert len(s.finished) == 1 and bot.calls == turns and turns >= 4


# ------------------------------------------------------------------ the command in a pseudo-terminal

pexpect = pytest.importorskip("pexpect")


def spawn(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm")
    env.pop("NO_COLOR", None)
    # a background job of a non-interactive shell (CI launched with `&`) runs with SIGINT ignored, and
    # a child inherits that: give the session Ctrl-C as a terminal would
    return pexpect.spawn(sys.executable, ["-m", "comparison", "play", "--no-color", *args], cwd=str(tmp_path),
                         env=env, encoding="utf-8", timeout=60, dimensions=(60, 120),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def play_until_asked_to_roll_or_double(child, turns: int = 100):
    """Play move 1 of the list at every turn until the session asks "roll or double"."""
    for _ in range(turns):
        if child.expect([PROMPT, r"Roll or double> "]) == 1:
            return
        child.sendline("1")
    raise AssertionError(f"no cube decision in {turns} turns")


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_terminal_session_as_a_person(tmp_path):
    child = spawn(tmp_path, "--bot", "pubeval", "--seed", "5", "--save", "end.mat")
    child.expect(PROMPT)
    child.sendline("xyzzy plugh")
    child.expect("Illegal: cannot read 'xyzzy")
    child.expect(PROMPT)
    child.sendline("13/1")
    child.expect("Illegal: ")
    child.expect(PROMPT)
    child.sendline("hint")
    child.expect(r"best plays for you")
    child.expect(PROMPT)
    child.sendline("moves")
    child.expect(r"Your legal plays with \d\d:")
    child.expect(r" 1\. (\S+)")
    child.expect(PROMPT)
    child.sendline("1")
    child.expect("You play ")
    child.expect(PROMPT)
    child.sendline("undo")
    child.expect("Undone: your ")
    child.expect(PROMPT)
    child.sendline("1")
    child.expect(PROMPT)
    child.sendline("save mid.mat")
    child.expect(r"Saved 1 game\(s\), \d+ plays")
    child.expect(PROMPT)
    child.sendeof()  # Ctrl-D: the session ends and the match is saved
    child.expect("End of input")
    child.expect(r"Saved 1 game\(s\), \d+ plays, to \S*end\.mat")
    assert finish(child) == 0
    for name in ("mid.mat", "end.mat"):
        back = records.read_match(tmp_path / name)
        assert back.games and back.games[0].ok
    assert len(records.read_match(tmp_path / "end.mat").games[0].plays) >= 2


def test_terminal_whole_game_to_the_end(tmp_path):
    child = spawn(tmp_path, "--bot", "pubeval", "--seed", "21")
    n = 0
    while True:
        i = child.expect([PROMPT, r"(You win|pubeval wins) \d points?"])
        if i == 1:
            break
        child.sendline("1")
        n += 1
        assert n < 500
    child.expect(r"Saved 1 game\(s\), \d+ plays, to (\S+\.mat)")
    saved = child.match.group(1)
    assert finish(child) == 0
    back = records.read_match(saved)
    assert back.games[0].winner is not None and not back.errors


def test_terminal_ctrl_c_saves(tmp_path):
    child = spawn(tmp_path, "--bot", "random", "--seed", "2", "--save", "int.mat")
    child.expect(PROMPT)
    child.sendline("1")
    child.expect(PROMPT)
    child.sendintr()
    child.expect("Interrupted")
    child.expect("Saved 1 game")
    assert finish(child) == 0
    assert records.read_match(tmp_path / "int.mat").games[0].ok


def test_terminal_bad_opponent_says_why(tmp_path):
    child = spawn(tmp_path, "--model", "no-such-model.pt")
    child.expect("unknown player 'no-such-model.pt'")
    assert finish(child) == 2


def test_terminal_against_a_model_file(tmp_path):
    torch = pytest.importorskip("torch")
    from comparison import checkpoint, models

    torch.manual_seed(1)
    checkpoint.save(tmp_path / "tiny.pt", models.build_scorer("mlp", d_in=198, hidden=(8,)),
                    meta={"game": "backgammon", "encoding": "tesauro198"})
    child = spawn(tmp_path, "--model", "tiny.pt", "--seed", "4")
    child.expect("against tiny")
    child.expect(PROMPT)
    child.sendline("hint 2")
    child.expect(r"tiny's best plays for you with \d\d")
    child.expect(r"  1\. \S+.*[+-]\d\.\d{4}\s+#\d+")
    child.expect(PROMPT)
    child.sendline("quit")
    child.expect("Goodbye")
    assert finish(child) == 0


def test_terminal_money_session(tmp_path):
    child = spawn(tmp_path, "--bot", "pubeval", "--money", "--seed", "5", "--save", "money.mat")
    child.expect(r"money games with the cube \(Jacoby rule\)")
    child.expect(r"Game 1\. Session: You 0, pubeval 0 after 0 games\.")
    play_until_asked_to_roll_or_double(child)
    child.sendline("double")
    child.expect(r"You double; pubeval (takes|passes)")
    child.sendline("quit")
    child.expect(r"Goodbye\. Session: You [-+]?\d+, pubeval [-+]?\d+ after \d+ games?\.")
    child.expect(r"Saved \d+ game\(s\)")
    assert finish(child) == 0
    back = records.read_match(tmp_path / "money.mat")
    assert back.match_length == 0 and back.games
    assert [(a.player, a.kind) for a in back.games[0].actions if a.kind != "play"][:1] == [(0, "double")]


def test_terminal_money_and_points_refused(tmp_path):
    child = spawn(tmp_path, "--money", "--points", "3")
    child.expect("--money and --points do not go together")
    assert finish(child) == 2


def test_terminal_match_with_the_cube(tmp_path):
    child = spawn(tmp_path, "--bot", "pubeval", "--points", "3", "--seed", "5", "--save", "cube.mat")
    child.expect("a match to 3 points, with the cube")
    play_until_asked_to_roll_or_double(child)
    child.sendline("double")
    child.expect(r"You double; pubeval takes\. The cube is at 2, pubeval's\.")
    child.expect(r"Cube: 2, pubeval's\.")
    child.expect(PROMPT)
    child.sendline("double")
    child.expect(r"You cannot double: the other side owns the cube\.")
    child.expect(PROMPT)
    child.sendline("quit")
    child.expect("Goodbye")
    child.expect(r"Saved 1 game\(s\)")
    assert finish(child) == 0
    (game,) = records.read_match(tmp_path / "cube.mat").games
    assert [(a.player, a.kind) for a in game.actions if a.kind != "play"] == [(0, "double"), (1, "take")]
