"""The doubling cube in the one game loop (play/game.py), in matches (play/match.py, the match
command) and in the .mat files the loop's games are written to.

Oracles: GNU Backgammon itself (the optional ``gnubg`` module) says when a double is allowed (its
`double` command) and reads our .mat files back (its `import mat`); the package's own reader
(records.read_match) replays them; the cubeless loop, unchanged, is the reference for games where
nobody doubles.
"""
import json
import math

import numpy as np
import pytest

from games.backgammon import records
from games.backgammon.play.game import (
    CENTRED,
    CubeError,
    Dice,
    GameState,
    answer_double,
    ask_cube,
    checker_record,
    cube_refusal,
    cube_turn,
    game_points,
    match_state,
    may_double,
    new_game,
    offer_double,
    pass_double,
    play_turn,
    record_game,
    resign,
    take_double,
)
from games.backgammon.play.match import (
    CUBE_COLUMNS,
    MATCH_COLUMNS,
    CubeMatchResult,
    MatchSeriesResult,
    match_dice,
    play_cube_game,
    play_cube_games,
    play_games,
    play_matches,
    run_match,
    wilson_interval,
)
from games.backgammon.players.bots import Bot, PubevalBot, RandomBot
from games.backgammon.records import CubeAction
from games.backgammon.rules.board import pip_counts, start_board
from games.backgammon.rules.ids import MatchState, match_id


# ------------------------------------------------------------------ players for the tests


class RaceCube(PubevalBot):
    """pubeval's plays; doubles when its pip count is 10% shorter, takes unless 15% longer.
    Deterministic, so lockstep and one-at-a-time games must agree."""

    name = "racecube"

    def __init__(self, double_below=0.9, take_below=1.15):
        self.double_below, self.take_below = double_below, take_below

    def cube_action(self, board, ms):
        me, opp = pip_counts(board)          # board[1] is the doubler
        if ms.doubled:                       # the taker's view: it is board[0]
            return "take" if opp < self.take_below * me else "pass"
        return "double" if me < self.double_below * opp else "no double"


PAIRS = {  # (A, B): each side doubles in some pair, so no side's cube decisions go unchecked
    "race-pubeval": lambda: (RaceCube(), PubevalBot()),
    "pubeval-race": lambda: (PubevalBot(), RaceCube()),
    "race-bold": lambda: (RaceCube(), RaceCube(0.95, 1.3)),
}


class RandomCube(RandomBot):
    """Random plays and random cube decisions from its own stream; checks what the loop shows it."""

    name = "randomcube"

    def __init__(self, seed, p_double=0.2, p_take=0.6):
        super().__init__(seed)
        self.p_double, self.p_take = p_double, p_take
        self.asked = 0

    def cube_action(self, board, ms):
        check_cube_question(board, ms)
        self.asked += 1
        if ms.doubled:
            return "take" if self.rng.random() < self.p_take else "pass"
        return "double" if self.rng.random() < self.p_double else "no double"


class Always:
    """Decides every cube question the same way; plays pubeval."""

    def __init__(self, double="double", answer="take"):
        self.words = {False: double, True: answer}
        self.bot = PubevalBot()
        self.name = f"always-{double}-{answer}"

    def choose(self, board, d1, d2):
        return self.bot.choose(board, d1, d2)

    def choose_batch(self, boards, dice):
        return self.bot.choose_batch(boards, dice)

    def cube_action(self, board, ms):
        check_cube_question(board, ms)
        return self.words[ms.doubled]


def check_cube_question(board, ms: MatchState) -> None:
    """What the loop must show a cube decision: no dice, a legal moment, the doubler's board."""
    assert ms.dice == (0, 0), "a cube decision must not see the roll"
    assert ms.game_state == 1
    assert board.shape == (2, 25) and board[1].sum() > 0 and board[0].sum() > 0
    assert ms.cube_owner in (CENTRED, ms.on_roll), "asked to double without access to the cube"
    if ms.match_length:
        assert not ms.crawford, "asked about the cube in the Crawford game"
        assert ms.score[ms.on_roll] + ms.cube < ms.match_length, "asked to double a dead cube"
    assert ms.turn == (1 - ms.on_roll if ms.doubled else ms.on_roll)


# ------------------------------------------------------------------ the rules, one action at a time


def started(seed=0, **kw) -> GameState:
    """A game after its opening move (a double is possible from then on)."""
    dice = Dice(np.random.default_rng(seed))
    g = new_game(dice, **kw)
    play_turn(g, g.legal_plays()[0].board, dice)
    return g


def test_no_double_before_the_opening_move():
    g = new_game(Dice(np.random.default_rng(1)))
    assert not may_double(g) and "opening" in cube_refusal(g)
    with pytest.raises(CubeError, match="opening"):
        offer_double(g)


def test_double_take_pass():
    g = started(1)
    doubler = g.turn
    assert may_double(g) and g.cube_value == 1 and g.cube_owner == CENTRED
    offer_double(g)
    ms = match_state(g)
    assert ms.doubled and ms.turn == 1 - doubler and ms.on_roll == doubler and ms.dice == (0, 0)
    with pytest.raises(RuntimeError, match="take or pass"):
        play_turn(g, None, None)
    take_double(g)
    assert (g.cube_value, g.cube_owner, g.doubled, g.turn) == (2, 1 - doubler, False, doubler)
    assert not may_double(g) and "owns the cube" in cube_refusal(g)
    dice = Dice(np.random.default_rng(2))
    play_turn(g, g.legal_plays()[0].board, dice)   # the taker, now on roll, may redouble
    assert g.turn == 1 - doubler and may_double(g)
    offer_double(g)
    pass_double(g)
    assert g.over and g.winner == 1 - doubler and g.points == 2 and g.ended_by == "pass" and g.dice is None
    assert [(e.seat, e.kind, e.value) for e in g.cube_history] == [
        (doubler, "double", 2), (1 - doubler, "take", 2), (1 - doubler, "double", 4), (doubler, "pass", 2)]
    assert match_state(g).game_state == 4  # gnubg's "dropped"


@pytest.mark.parametrize("action, message", [
    (take_double, "no double is offered"), (pass_double, "no double is offered"),
    (lambda g: answer_double(g, "maybe"), "'take' or 'pass'"),
])
def test_answers_without_a_double_are_refused(action, message):
    g = started(3)
    before = (g.cube_value, g.cube_owner, list(g.cube_history))
    with pytest.raises(CubeError, match=message):
        action(g)
    assert (g.cube_value, g.cube_owner, list(g.cube_history)) == before and not g.over


def test_crawford_and_dead_cube():
    assert "Crawford" in cube_refusal(started(4, score=(4, 2), match_length=5, crawford=True))
    post = started(4, score=(4, 2), match_length=5)  # post-Crawford
    seat = post.turn
    post.score = (4, 2) if seat == 1 else (2, 4)      # the trailer on roll: may double
    assert may_double(post)
    post.score = (2, 4) if seat == 1 else (4, 2)      # the leader, one away: the cube is dead
    assert "dead" in cube_refusal(post)
    g = started(5, score=(1, 1), match_length=5)
    g.cube_value, g.cube_owner = 4, g.turn            # needs 4, the cube is at 4: dead
    assert "dead" in cube_refusal(g)
    g.cube_value = 2
    assert may_double(g)
    money = started(5)
    money.cube_value, money.cube_owner = 2048, money.turn
    assert may_double(money)
    money.cube_value = 4096
    assert "highest" in cube_refusal(money)


def reference_may_double(ms: MatchState) -> bool:
    """The rule, written out plainly from the match state alone."""
    if ms.cube_owner not in (-1, ms.on_roll):
        return False
    if ms.match_length == 0:
        return True
    return not ms.crawford and ms.score[ms.on_roll] + ms.cube < ms.match_length


def random_cube_states(n: int, seed: int):
    """GameStates after the opening at random match scores, cube values and owners (possible ones:
    the cube is 1 and centred in the Crawford game, and above 1 only when owned)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        length = int(rng.choice([0, 1, 2, 3, 5, 7, 11, 25]))
        score, crawford = (0, 0), False
        if length:
            score = tuple(int(x) for x in rng.integers(0, length, 2))
            crawford = bool((length - 1 in score) and score[0] != score[1] and rng.random() < 0.5)
        cube = 1 if crawford else int(2 ** rng.integers(0, 7))
        owner = -1 if cube == 1 else int(rng.integers(2))
        out.append(GameState(start_board(), int(rng.integers(2)), (3, 1), score, length, crawford, cube, owner,
                             plies=int(rng.integers(1, 40))))
    return out


def test_may_double_against_the_plain_rule():
    states = random_cube_states(3000, 7)
    assert [may_double(g) for g in states] == [reference_may_double(match_state(g)) for g in states]
    assert 0.2 < np.mean([may_double(g) for g in states]) < 0.8


@pytest.fixture(scope="module")
def gnubg_cli():
    """The full GNU Backgammon engine, both players human (nothing plays by itself)."""
    gnubg = pytest.importorskip("gnubg", reason="the gnubg module (the test extra) is not installed")
    for command in ("set display off", "set sound enable off", "set threads 1", "set player 0 human",
                    "set player 1 human", "new match 7"):
        gnubg.command(command)
    return gnubg


def test_may_double_agrees_with_gnubg(gnubg_cli):
    """gnubg's own `double` command accepts a double exactly when may_double says so."""
    checked = 0
    for g in random_cube_states(300, 8):
        mid = match_id(match_state(g))
        gnubg_cli.command(f"set matchid {mid}")
        assert gnubg_cli.matchid() == mid, "gnubg read another match state"
        gnubg_cli.command("double")
        assert bool(gnubg_cli.posinfo()["doubled"]) == may_double(g), (match_state(g), cube_refusal(g))
        checked += 1
    assert checked == 300


# ------------------------------------------------------------------ points


def finished_board(loser_row) -> np.ndarray:
    """The winner (board[1]) about to bear off its last checker; the loser's row as given."""
    b = np.zeros((2, 25), np.int8)
    b[1, 0] = 1
    b[0] = loser_row
    return b


@pytest.mark.parametrize("cube, jacoby, length, base, want", [
    (1, False, 0, 2, 2), (4, False, 0, 2, 8), (2, False, 0, 3, 6),
    (1, True, 0, 2, 1), (1, True, 0, 3, 1), (2, True, 0, 2, 4),      # Jacoby: gammons once the cube turned
    (2, False, 7, 2, 4), (1, False, 7, 3, 3),
])
def test_points_are_the_cube_times_the_result(cube, jacoby, length, base, want):
    row = np.zeros(25, np.int8)
    if base == 1:
        row[0] = 14          # one checker off
    elif base == 2:
        row[5] = 15
    else:
        row[20] = 15          # in the winner's home board
    g = started(6, match_length=length, jacoby=jacoby)
    g.cube_value, g.cube_owner = cube, (CENTRED if cube == 1 else g.turn)
    g.board = finished_board(row)
    assert game_points(g, base) == want
    play_turn(g, np.array([[*row], [0] * 25], np.int8), None)
    assert (g.over, g.points, g.ended_by) == (True, want, "bear-off")


def test_resign_loses_the_result_times_the_cube():
    g = started(7)
    g.cube_value, g.cube_owner = 2, 1 - g.turn
    loser = g.turn
    resign(g)
    assert g.winner == 1 - loser and g.points == 6 and g.ended_by == "resign"  # a backgammon, cube 2


# ------------------------------------------------------------------ the dice stream and the cubeless loop


def test_games_where_nobody_doubles_are_the_cubeless_games():
    a, b = PubevalBot(), RandomBot(3)
    cubeless = play_games(a, b, np.arange(40), 5)
    cube = play_cube_games(a, b, np.arange(40), 5)   # neither has cube_action
    assert cube[:, 0].tolist() == cubeless.tolist()
    nobody = play_cube_games(Always("no double"), Always("no double"), np.arange(40), 5)
    assert nobody[:, 0].tolist() == play_games(PubevalBot(), PubevalBot(), np.arange(40), 5).tolist()
    assert (nobody[:, 1] == 1).all() and (nobody[:, 2:] == 0).all()


def test_taken_doubles_change_nothing_but_the_stakes():
    """The cube never touches the dice: with plays that ignore the cube and every double taken,
    each game is the cubeless game, worth its points times the final cube."""
    n = 60
    cubeless = play_games(PubevalBot(), PubevalBot(), np.arange(n), 9)
    rows = play_cube_games(Always("double", "take"), Always("double", "take"), np.arange(n), 9)
    assert rows[:, 0].tolist() == (cubeless * rows[:, 1]).tolist()
    assert (rows[:, 1] > 1).all() and rows[:, 4:].sum() == 0


def test_passed_first_double_ends_every_game_at_one_point():
    rows = play_cube_games(Always("double", "pass"), Always("double", "pass"), np.arange(20), 2)
    for g, row in enumerate(rows):
        assert abs(row[0]) == 1 and row[1] == 1
        assert row[2] + row[3] == 1 and row[4] + row[5] == 1


# ------------------------------------------------------------------ lockstep = one game at a time


def one_cube_game_row(bot_a, bot_b, g: int, seed: int) -> list:
    s = play_cube_game(bot_a, bot_b, g % 2, (seed, g // 2))
    a_seat = g % 2
    counts = [0, 0, 0, 0]
    for e in s.cube_history:
        side = 0 if e.seat == a_seat else 1
        if e.kind == "double":
            counts[side] += 1
        elif e.kind == "pass":
            counts[2 + side] += 1
    return [s.points if s.winner == a_seat else -s.points, s.cube_value, *counts]


@pytest.mark.parametrize("pair", PAIRS)
def test_lockstep_cube_games_equal_one_at_a_time(pair):
    a, b = PAIRS[pair]()
    rows = play_cube_games(a, b, np.arange(50), 4)
    want = [one_cube_game_row(a, b, g, 4) for g in range(50)]
    assert rows.tolist() == want
    assert rows[:, 2:4].sum() > 5 and (rows[:, 1] > 1).any(), "the cube should have been used"
    # any subset, in any order, gives the same games
    idx = np.array([37, 2, 19, 4])
    assert play_cube_games(a, b, idx, 4).tolist() == rows[idx].tolist()


def one_match(bot_a, bot_b, m: int, length: int, seed: int) -> list:
    """A match one game at a time, with the Crawford rule written out plainly."""
    a_seat = m % 2
    score = [0, 0]
    crawford_played = False
    games = 0
    counts = [0, 0, 0, 0]
    while max(score) < length:
        crawford = not crawford_played and length - 1 in score
        crawford_played = crawford_played or crawford
        s = play_cube_game(bot_a, bot_b, a_seat, (seed, m // 2, games), score=tuple(score),
                           match_length=length, crawford=crawford)
        if crawford:
            assert not s.cube_history
        games += 1
        for e in s.cube_history:
            side = 0 if e.seat == a_seat else 1
            counts[side if e.kind == "double" else 2 + side] += e.kind != "take"
        score[s.winner] += s.points
    a, b = score[a_seat], score[1 - a_seat]
    return [int(a >= length), a, b, games, *counts]


@pytest.mark.parametrize("length", [1, 3, 7])
@pytest.mark.parametrize("pair", PAIRS)
def test_matches_equal_one_match_at_a_time(pair, length):
    a, b = PAIRS[pair]()
    rows = play_matches(a, b, np.arange(8), length, seed=3)
    assert rows.tolist() == [one_match(a, b, m, length, 3) for m in range(8)]
    assert ((rows[:, 1] >= length) != (rows[:, 2] >= length)).all()   # exactly one side reached the length


def test_the_same_player_in_both_seats_mirrors_every_pair():
    """Seats swapped on the same dice: identical deterministic players play each pair's two games
    (or matches) as mirror images, cube actions and all."""
    rows = play_cube_games(RaceCube(), RaceCube(), np.arange(30), 6)
    first, second = rows[0::2], rows[1::2]
    assert (first[:, 0] == -second[:, 0]).all() and (first[:, 1] == second[:, 1]).all()
    assert (first[:, [2, 3, 4, 5]] == second[:, [3, 2, 5, 4]]).all() and rows[:, 2:4].sum() > 5
    m = play_matches(RaceCube(), RaceCube(), np.arange(12), 5, seed=6)
    first, second = m[0::2], m[1::2]
    assert (first[:, 0] == 1 - second[:, 0]).all() and (first[:, 3] == second[:, 3]).all()
    assert (first[:, [1, 2, 4, 5, 6, 7]] == second[:, [2, 1, 5, 4, 7, 6]]).all()


def test_pairs_of_matches_share_their_dice():
    def rolls(m, k):
        d = match_dice(5, m, k)
        return [d.roll() for _ in range(20)]

    assert rolls(6, 2) == rolls(7, 2)                 # a pair: the same dice game by game
    assert rolls(6, 2) != rolls(8, 2) and rolls(6, 2) != rolls(6, 3)


def test_cube_decisions_come_only_when_allowed_and_without_the_dice():
    """Random cube players check every question they are asked (check_cube_question)."""
    a, b = RandomCube(1), RandomCube(2)
    rows = play_matches(a, b, np.arange(30), 5, seed=1)
    money = play_cube_games(a, b, np.arange(30), 1)
    assert a.asked > 50 and b.asked > 50
    assert rows[:, 4:6].sum() > 10 and rows[:, 6:].sum() > 3 and money[:, 4:].sum() > 3


# ------------------------------------------------------------------ results and the command


def test_wilson_interval():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0 and 0.27 < hi < 0.28              # the textbook value 0.2775
    lo, hi = wilson_interval(50, 100)
    assert math.isclose(lo + hi, 1.0) and 0.40 < lo < 0.41
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_result_texts():
    rows = play_cube_games(RaceCube(), PubevalBot(), np.arange(20), 0)
    res = CubeMatchResult("racecube", "pubeval", 0, rows)
    s = res.summary()
    assert s["games"] == 20 and s["doubles_a"] == rows[:, 2].sum() and len(CUBE_COLUMNS) == rows.shape[1]
    lo, hi = res.ci95
    assert lo < res.ppg < hi and "doubles offered: racecube" in res.text()
    m = play_matches(RaceCube(), PubevalBot(), np.arange(10), 3, seed=0)
    series = MatchSeriesResult("racecube", "pubeval", 0, 3, m)
    assert series.n_matches == 10 and series.wins == int((m[:, 0] == 1).sum()) and len(MATCH_COLUMNS) == m.shape[1]
    assert series.ci95 == wilson_interval(series.wins, 10)
    assert "matches won by racecube" in series.text() and "(Wilson)" in series.text()


def test_run_match_cube_and_points_in_one_and_two_processes():
    one, _ = run_match("pubeval", "random", 12, seed=2, workers=1, progress=False, batch=4, match_length=3)
    two, _ = run_match("pubeval", "random", 12, seed=2, workers=2, progress=False, batch=4, match_length=3)
    assert one.rows.tolist() == two.rows.tolist() and one.n_matches == 12 and one.share > 0.5
    cube, _ = run_match("pubeval", "random", 10, seed=2, workers=1, progress=False, cube=True)
    assert cube.points.tolist() == play_games(PubevalBot(), RandomBot(0), np.arange(10), 2).tolist()


def test_match_command_cube_and_points(capsys):
    from comparison import cli

    assert cli.main(["match", "pubeval", "random", "--games", "6", "--cube", "--json", "--no-progress",
                     "--workers", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cube"] is True and out["games"] == 6 and "doubles_a" in out and "ppg" in out
    assert cli.main(["match", "pubeval", "random", "--games", "4", "--points", "3", "--no-progress",
                     "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "4 matches to 3 points" in text and "matches won by pubeval" in text and "4 matches in" in text
    for bad, message in ((["--jacoby"], "--jacoby"), (["--points", "-1"], "--points must be at least 0"),
                         (["--cube", "--jacoby", "--points", "3"], "--jacoby")):
        assert cli.main(["match", "pubeval", "random", "--games", "2", *bad]) == 2
        assert message in capsys.readouterr().err


# ------------------------------------------------------------------ records of cube games


def random_cube_game(seed: int, score=(0, 0), length: int = 0, crawford: bool = False, jacoby: bool = False,
                     p_resign: float = 0.0):
    """A game of random legal plays and random cube decisions (and, rarely, a resignation)."""
    rng = np.random.default_rng([seed, 99])
    player = RandomCube(seed, p_double=0.25, p_take=0.7)
    dice = Dice(np.random.default_rng(seed))
    g = new_game(dice, score, length, crawford, jacoby)
    plays = []
    while not g.over:
        cube_turn(g, player, player)
        if g.over:
            break
        if g.plies > 2 and rng.random() < p_resign:
            resign(g)
            break
        legal = g.legal_plays()
        pick = legal[int(rng.integers(len(legal)))] if legal else None
        plays.append(checker_record(g, pick, len(legal)))
        play_turn(g, None if pick is None else pick.board, dice)
    return g, plays


def random_cube_match(seed: int, length: int) -> list:
    """A whole match of random cube games as records.Game values (Crawford rule)."""
    score, scores, out = [0, 0], [], []
    while max(score) < length:
        scores.append(tuple(score))
        crawford = records.model.crawford_flags(scores, length)[-1]
        g, plays = random_cube_game(seed * 1000 + len(out), tuple(score), length, crawford, p_resign=0.01)
        out.append(record_game(g, plays, len(out) + 1, ("left", "right")))
        score[g.winner] += g.points
    return out


def cube_actions(game) -> list:
    return [(a.player, a.kind, a.value) for a in game.actions if isinstance(a, CubeAction)]


def assert_same_games(games, back):
    assert not back.errors, back.errors[:3]
    assert len(back.games) == len(games)
    for g, b in zip(games, back.games):
        assert (b.winner, b.points, b.resigned, b.score, b.crawford) == (g.winner, g.points, g.resigned, g.score,
                                                                         g.crawford)
        assert cube_actions(b) == cube_actions(g)
        assert [a.kind for a in b.actions] == [a.kind for a in g.actions]
        assert [p.dice for p in b.plays] == [p.dice for p in g.plays]
        assert all(np.array_equal(x.result, y.result) for x, y in zip(b.plays, g.plays))
        assert [p.cube for p in b.plays] == [p.cube for p in g.plays]


@pytest.mark.parametrize("seed", range(6))
def test_money_cube_games_round_trip_through_mat(tmp_path, seed):
    games = []
    for k in range(8):
        g, plays = random_cube_game(100 * seed + k, jacoby=bool(k % 2), p_resign=0.01)
        games.append(record_game(g, plays, k + 1, ("left", "right")))
    assert any(cube_actions(g) for g in games)
    path = tmp_path / "money.mat"
    records.write_mat(games, path, players=("left", "right"), match_length=0)
    assert_same_games(games, records.read_match(path))


@pytest.mark.parametrize("seed, length", [(1, 3), (2, 5), (3, 7), (4, 9)])
def test_cube_matches_round_trip_through_mat(tmp_path, seed, length):
    games = random_cube_match(seed, length)
    path = tmp_path / "match.mat"
    records.write_mat(games, path, players=("left", "right"), match_length=length)
    back = records.read_match(path)
    assert_same_games(games, back)
    last = back.games[-1]
    assert last.score[last.winner] + last.points >= length > max(last.score)
    assert sum(g.crawford for g in back.games) <= 1


def test_written_cube_games_read_back_by_gnubg(tmp_path, gnubg_cli):
    """gnubg's own .mat import sees the same games: scores, Crawford, cube actions, who won what."""
    seen = {"double": 0, "take": 0, "drop": 0}
    for seed, length in ((11, 5), (12, 7), (13, 0)):
        if length:
            games = random_cube_match(seed, length)
        else:
            games = [record_game(*random_cube_game(seed * 10 + k), k + 1, ("left", "right")) for k in range(6)]
            score = [0, 0]
            for k, g in enumerate(games):   # a money session: the score runs on
                games[k] = records.Game(g.number, tuple(score), g.actions, g.players, 0, g.winner, g.points,
                                        False, g.resigned)
                score[g.winner] += g.points
        path = tmp_path / f"m{seed}.mat"
        records.write_mat(games, path, players=("left", "right"), match_length=length)
        gnubg_cli.command(f"import mat {path}")
        theirs = gnubg_cli.match()["games"]
        assert len(theirs) == len(games)
        for g, t in zip(games, theirs):
            info = t["info"]
            assert (info["score-X"], info["score-O"]) == g.score
            assert {"X": 0, "O": 1}[info["winner"]] == g.winner and info["points-won"] == g.points
            assert bool(info.get("crawford", False)) == g.crawford
            cube = [(a["action"], {"X": 0, "O": 1}[a["player"]]) for a in t["game"]
                    if a["action"] in ("double", "take", "drop")]
            assert cube == [(k, p) for p, k, _ in cube_actions(g)]
            for k, _ in cube:
                seen[k] += 1
            moves = [a for a in t["game"] if a["action"] == "move"]
            assert [tuple(a["dice"]) for a in moves] == [p.dice for p in g.plays]
    assert min(seen.values()) > 0, seen


def test_record_actions_put_cube_actions_before_their_turn():
    g, plays = random_cube_game(5)
    game = record_game(g, plays)
    assert g.cube_history
    ply = 0
    events = iter(g.cube_history)
    for a in game.actions:
        if isinstance(a, CubeAction):
            e = next(events)
            assert e.ply == ply and e.seat == a.player
        else:
            ply += 1
    assert next(events, None) is None and ply == g.plies
    with pytest.raises(ValueError, match="checker plays"):
        record_game(g, plays[:-1])


def test_ask_cube_rejects_words_outside_the_interface():
    g = started(2)
    with pytest.raises(CubeError, match="expected 'double' or 'no double'"):
        ask_cube(Always("take"), g)
    offer_double(g)
    with pytest.raises(CubeError, match="expected 'take' or 'pass'"):
        ask_cube(Always("double", "no double"), g)
    assert ask_cube(Always("double", "drop"), g) == "pass"
    assert ask_cube(PubevalBot(), g) == "take"


# ------------------------------------------------------------------ the rule lives in the rules layer


def test_game_refusal_delegates_to_the_rules_layer():
    """play.game.cube_refusal adds only the game's flow to rules.cube.cube_refusal."""
    from games.backgammon.rules import cube as rules_cube

    for g in random_cube_states(500, 21):
        assert cube_refusal(g) == rules_cube.cube_refusal(match_state(g))
    g = started(3)
    offer_double(g)
    assert "already offered" in cube_refusal(g) and rules_cube.cube_refusal(match_state(g)) == ""
    assert "over" in cube_refusal(pass_double(g))
    from games.backgammon.play import game as game_module

    assert game_module.MAX_CUBE == rules_cube.MAX_CUBE == 4096


def test_money_match_state_has_no_score():
    """A money session's running score is not part of gnubg's money state (its Match ID drops it)."""
    g = started(2, score=(5, 3))
    assert match_state(g).score == (0, 0)
    m = started(2, score=(2, 1), match_length=5)
    assert match_state(m).score == (2, 1)


# ------------------------------------------------------------------ checker plays at the score


class ScoreSpy(PubevalBot):
    """pubeval's plays (it ignores the state); records the match state of every checker play."""

    name = "scorespy"
    choose_batch = Bot.choose_batch     # one choose per position, so that every play is seen

    def __init__(self):
        self.seen = []

    def choose(self, board, d1, d2, rng=None, state=None):
        self.seen.append((np.array(board), (d1, d2), state))
        return super().choose(board, d1, d2)


class RaceCubeSpy(ScoreSpy, RaceCube):
    """RaceCube's cube decisions, pubeval's plays, and a record of the states of its plays."""

    def __init__(self):
        ScoreSpy.__init__(self)
        RaceCube.__init__(self)


def cube_value_at(history, ply: int, seat: int):
    """(cube value, owner) before turn ``ply`` from the game's cube history alone."""
    value, owner = 1, CENTRED
    for e in history:
        if e.ply <= ply and e.kind == "take":
            value, owner = e.value, e.seat
    return value, owner


def test_checker_plays_get_the_match_state():
    """A player whose choose takes ``state`` gets the state of every play: the roll, the cube as
    the game's cube history says it was then, the score before the game, the seat on roll."""
    plays = takes = 0
    for k in range(12):
        spy = RaceCubeSpy()
        s = play_cube_game(spy, RaceCube(0.95, 1.3), 0, (4, k), score=(1, 2), match_length=7)
        seen = iter(spy.seen)
        first = new_game(Dice(np.random.default_rng((4, k))), (1, 2), 7).turn
        for ply in range(s.plies):
            if (first + ply) % 2 != 0:          # the spy is seat 0
                continue
            board, dice, st = next(seen)
            assert st is not None and st.on_roll == 0 and st.turn == 0 and not st.doubled
            assert sorted(st.dice) == sorted(dice) and (st.match_length, st.score) == (7, (1, 2))
            assert (st.cube, st.cube_owner) == cube_value_at(s.cube_history, ply, 0)
            plays += 1
        assert next(seen, None) is None
        takes += sum(e.kind == "take" for e in s.cube_history)
    assert plays > 200 and takes >= 3


def test_lockstep_tables_pass_the_same_states_and_play_the_same():
    spy_lock, spy_one = RaceCubeSpy(), RaceCubeSpy()
    rows = play_matches(spy_lock, PubevalBot(), np.arange(4), 5, seed=2)
    want = [one_match(spy_one, PubevalBot(), m, 5, 2) for m in range(4)]
    assert rows.tolist() == want
    assert all(st is not None and st.match_length == 5 for _, _, st in spy_lock.seen)
    key = lambda seen: sorted((b.tobytes(), d, repr(st)) for b, d, st in seen)   # noqa: E731
    assert key(spy_lock.seen) == key(spy_one.seen)
    # the state changes nothing for a player that ignores it: the same matches as plain RaceCube
    assert rows.tolist() == play_matches(RaceCube(), PubevalBot(), np.arange(4), 5, seed=2).tolist()


def test_stateless_and_plain_scorers_get_no_state():
    from games.backgammon.play.game import plays_at_score

    assert plays_at_score(ScoreSpy()) and not plays_at_score(PubevalBot()) and not plays_at_score(RandomBot(1))

    class PlainScorer(ScoreSpy):
        has_outcomes = False

    plain = PlainScorer()
    assert not plays_at_score(plain)
    play_cube_games(plain, PubevalBot(), np.arange(4), 1)
    assert plain.seen and all(st is None for _, _, st in plain.seen)
    spy = ScoreSpy()
    play_games(spy, PubevalBot(), np.arange(4), 1)          # cubeless games never pass a state
    assert spy.seen and all(st is None for _, _, st in spy.seen)


def test_batches_that_take_states_get_them_in_one_call():
    class BatchSpy(PubevalBot):
        def __init__(self):
            self.calls = []

        def choose(self, board, d1, d2, rng=None, state=None):
            raise AssertionError("the batch takes states: choose should not be called")

        def choose_batch(self, boards, dice, states=None):
            self.calls.append(list(states))
            return PubevalBot().choose_batch(boards, dice)

    bot = BatchSpy()
    rows = play_cube_games(bot, RaceCube(), np.arange(6), 3)
    assert rows.tolist() == play_cube_games(PubevalBot(), RaceCube(), np.arange(6), 3).tolist()
    assert bot.calls and all(isinstance(st, MatchState) for call in bot.calls for st in call)


# ------------------------------------------------------------------ the cube for one side only


class NeverDoubleAlwaysTake(RaceCube):
    """RaceCube's plays with the cube decisions of a side that has none."""

    def cube_action(self, board, ms):
        check_cube_question(board, ms)
        return "take" if ms.doubled else "no double"


@pytest.mark.parametrize("side", ["A", "B"])
def test_cube_for_one_side_is_the_other_never_doubling_and_always_taking(side):
    bold = RaceCube(0.95, 1.05)                     # doubles early, passes often
    a, b = (bold, NeverDoubleAlwaysTake(0.95, 1.05)) if side == "A" else (NeverDoubleAlwaysTake(0.95, 1.05), bold)
    rows = play_cube_games(bold, bold, np.arange(40), 5, cube_for=side)
    assert rows.tolist() == play_cube_games(a, b, np.arange(40), 5).tolist()
    mine, other = (0, 1) if side == "A" else (1, 0)
    assert rows[:, 2 + mine].sum() > 5 and rows[:, 2 + other].sum() == 0     # only the listed side doubles
    assert rows[:, 4:].sum() == 0                                             # nobody passes
    both = play_cube_games(bold, bold, np.arange(40), 5)
    assert both[:, 4:].sum() > 0 and both.tolist() == play_cube_games(bold, bold, np.arange(40), 5,
                                                                      cube_for="both").tolist()
    m = play_matches(bold, bold, np.arange(8), 5, seed=1, cube_for=side)
    assert m.tolist() == play_matches(a, b, np.arange(8), 5, seed=1).tolist()
    assert m[:, 4 + mine].sum() > 0 and m[:, 4 + other].sum() == 0 and m[:, 6:].sum() == 0
    one = [one_cube_game_row(a, b, g, 5) for g in range(6)]
    assert [row for row in rows[:6].tolist()] == one


def test_cube_for_names():
    from games.backgammon.play.match import cube_for_name, cube_sides

    assert cube_sides("both") == (True, True) and cube_sides("a") == (True, False)
    assert cube_sides(" B ") == (False, True)
    assert cube_for_name((False, True)) == "B" and cube_for_name("BOTH") == "both"
    with pytest.raises(ValueError, match="both, A, B"):
        cube_sides("C")
    res, _ = run_match("pubeval", "pubeval", 4, seed=1, workers=1, progress=False, cube=True, cube_for="a")
    assert res.cube_for == "A" and res.summary()["cube_for"] == "A"
    assert "cube decisions by A (pubeval) only: B (pubeval) never doubles" in res.text()
    with pytest.raises(ValueError, match="cube_for"):
        run_match("pubeval", "pubeval", 2, workers=1, progress=False, cube=True, cube_for="nobody")


def test_match_command_cube_for(capsys):
    from comparison import cli

    assert cli.main(["match", "pubeval", "random", "--games", "4", "--points", "3", "--cube-for", "B", "--json",
                     "--no-progress", "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["cube_for"] == "B"
    for bad, message in ((["--cube-for", "A"], "use it with --cube or --points"),
                         (["--cube", "--cube-for", "C"], "--cube-for must be A, B or both")):
        assert cli.main(["match", "pubeval", "random", "--games", "2", *bad]) == 2
        assert message in capsys.readouterr().err


def test_gnubg_full_cube_for_one_side_in_a_match(gnubg_cli):
    """gnubg-full against itself, the cube decisions for A only: A doubles, B never does and never
    passes; gnubg-full's checker plays get the score and cube (it plays at the score)."""
    from games.backgammon.players import gnubg_full

    class Spy(gnubg_full.GnubgFullBot):
        def __init__(self):
            super().__init__(0)
            self.states = []

        def choose(self, board, d1, d2, rng=None, state=None):
            self.states.append(state)
            return super().choose(board, d1, d2, state=state)

    a, b = Spy(), Spy()
    rows = play_matches(a, b, np.arange(2), 5, seed=3, cube_for="A")
    assert rows[:, 5].sum() == 0 and rows[:, 6:].sum() == 0 and (rows[:, 0] >= 0).all()
    assert all(st is not None and st.match_length == 5 for st in a.states + b.states)
    assert rows[:, 4].sum() > 0 and any(st.cube > 1 for st in a.states + b.states)
