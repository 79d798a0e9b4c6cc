"""The Gymnasium environment: API conformance, reproducibility, rules of the interaction."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import games.backgammon as bg
from games.backgammon.players.bots import PubevalBot, RandomBot
from games.backgammon.ui.env import MAX_ACTIONS, BackgammonEnv, board_text


def play_game(env, seed, chooser=None):
    """One whole game; ``chooser(info, rng) -> action`` (uniformly random legal by default)."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    trace = [(obs, info["dice"])]
    while True:
        legal = np.flatnonzero(info["action_mask"])
        action = chooser(info, rng) if chooser else int(rng.choice(legal))
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs, info["dice"]))
        assert not truncated
        if terminated:
            return reward, info, trace
        assert reward == 0


def test_registered_on_import():
    assert "Backgammon-v0" in gym.registry
    env = gym.make("Backgammon-v0")
    obs, info = env.reset(seed=0)
    assert obs.shape == (198,) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)


@pytest.mark.parametrize("render_mode", [None, "ansi"])
def test_check_env(render_mode):
    """Gymnasium's own checker.

    It draws actions with ``action_space.sample()``, which here draws a legal action of the
    current decision. One caveat: its step-determinism check draws its action *before* its
    ``reset(seed=123)``, i.e. from the decision the earlier checks left; that index is legal after
    the reset because that first decision has 16 legal plays. A change in how the env consumes
    random numbers could in principle make this check draw an index that is illegal after reset.
    """
    env = gym.make("Backgammon-v0", render_mode=render_mode)
    check_env(env.unwrapped)


def test_observation_mask_and_dice():
    env = BackgammonEnv()
    for seed in range(30):
        obs, info = env.reset(seed=seed)
        board = bg.board_from_position_id(info["position_id"])
        np.testing.assert_array_equal(obs, bg.tesauro198(board[None])[0])
        d1, d2 = info["dice"]
        plays = bg.legal_plays(board, d1, d2)
        assert [p.key() for p in plays] == [p.key() for p in info["plays"]]
        mask = info["action_mask"]
        assert mask.dtype == np.int8 and mask.shape == (MAX_ACTIONS,)
        assert mask.sum() == len(plays) > 0 and mask[: len(plays)].all()


def test_opening_roll_is_never_a_double_for_the_first_mover():
    env = BackgammonEnv()
    for seed in range(60):
        _, info = env.reset(seed=seed)
        if not info["turns"]:  # the agent moves first, with the opening roll
            assert info["dice"][0] != info["dice"][1]
            assert info["position_id"] == "4HPwATDgc/ABMA"
        else:
            who, dice, _ = info["turns"][0]
            assert who == "opponent" and dice[0] != dice[1]


def test_reset_is_reproducible():
    env = BackgammonEnv(opponent=RandomBot())
    r1, _, t1 = play_game(env, seed=5)
    r2, _, t2 = play_game(env, seed=5)
    assert r1 == r2 and len(t1) == len(t2)
    for (o1, d1), (o2, d2) in zip(t1, t2):
        np.testing.assert_array_equal(o1, o2)
        assert d1 == d2
    first = [env.reset(seed=s)[1]["position_id"] + str(env.reset(seed=s)[1]["dice"]) for s in range(20)]
    assert len(set(first)) > 5  # different seeds, different games


def test_whole_games_end_with_a_signed_result():
    env = BackgammonEnv()
    rewards = []
    passes = 0
    for seed in range(40):
        reward, info, trace = play_game(env, seed)
        assert reward in (-3.0, -2.0, -1.0, 1.0, 2.0, 3.0)
        assert info["result"] == reward and info["plays"] == [] and info["dice"] is None
        assert info["action_mask"].sum() == 0
        board = bg.board_from_position_id(info["position_id"])
        assert bg.game_result(board) == reward
        rewards.append(reward)
    # a random agent against pubeval: about -2.5 points per game (shared/reference/pubeval.md)
    assert np.mean(rewards) < -1.0


def test_turns_without_a_play_pass_automatically():
    env = BackgammonEnv()
    seen_agent_pass = False
    for seed in range(40):
        obs, info = env.reset(seed=seed)
        while True:
            for who, dice, notation in info["turns"]:
                if who == "agent":
                    assert notation == ""
                    seen_agent_pass = True
            if info["dice"] is None:
                break
            obs, reward, done, _, info = env.step(0)
    assert seen_agent_pass


def test_pubeval_mirror_match_is_even_ish():
    """The agent playing pubeval's choice against pubeval: both sides win games."""
    bot = PubevalBot()
    env = BackgammonEnv(opponent=PubevalBot())

    def pubeval_choice(info, rng):
        board = bg.board_from_position_id(info["position_id"])
        best = bot.choose(board, *info["dice"])
        return next(i for i, p in enumerate(info["plays"]) if p == best)

    rewards = [play_game(env, seed, pubeval_choice)[0] for seed in range(30)]
    assert any(r > 0 for r in rewards) and any(r < 0 for r in rewards)


@pytest.mark.parametrize("action", [-1, 10_000, 1.5, "0", None])
def test_illegal_actions_raise(action):
    env = BackgammonEnv()
    _, info = env.reset(seed=1)
    with pytest.raises(ValueError, match="illegal action"):
        env.step(action)
    with pytest.raises(ValueError, match="illegal action"):
        env.step(len(info["plays"]))  # one past the last legal index
    env.step(np.int64(0))  # numpy integers are fine


def test_step_after_the_end_and_before_reset():
    env = BackgammonEnv(opponent=RandomBot())
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    play_game(env, seed=2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_opponent_argument():
    with pytest.raises(TypeError):
        BackgammonEnv(opponent="pubeval")
    env = gym.make("Backgammon-v0", opponent=RandomBot(seed=3))
    assert isinstance(env.unwrapped.opponent, RandomBot)


def test_sample_draws_legal_actions():
    env = BackgammonEnv()
    _, info = env.reset(seed=4)
    n = len(info["plays"])
    draws = {int(env.action_space.sample()) for _ in range(200)}
    assert draws <= set(range(n)) and len(draws) > 1
    assert env.action_space.sample(mask=np.eye(MAX_ACTIONS, dtype=np.int8)[7]) == 7


def test_render_ansi():
    env = BackgammonEnv(render_mode="ansi")
    _, info = env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str)
    lines = text.splitlines()
    assert lines[0].split() == [str(p) for p in range(13, 25)]
    assert lines[14].split() == [str(p) for p in range(12, 0, -1)]
    assert "BAR" in text and "pips" in text and "off" in text
    assert f"{info['dice'][0]}-{info['dice'][1]}" in text
    reward, _, _ = play_game(env, seed=0)
    assert "Game over" in env.render()
    assert BackgammonEnv().render() is None  # no render mode


def test_board_text_start_position():
    text = board_text(bg.start_board())
    assert "pips 167" in text
    # 13-point: five X; 24-point: two X; 19-point (O's 6-point): five O
    rows = text.splitlines()[2:7]
    assert [r[2:5].strip() for r in rows] == ["X"] * 5
    assert [r[40:43].strip() for r in rows[:2]] == ["X", "X"]


# --- Backgammon-v1: the dice in the observation -------------------------------------------------

@pytest.mark.parametrize("render_mode", [None, "ansi"])
def test_v1_check_env(render_mode):
    env = gym.make("Backgammon-v1", render_mode=render_mode)
    check_env(env.unwrapped)


def test_v1_observation_carries_board_and_dice():
    from games.backgammon.ui.env import BackgammonEnvV1

    env = BackgammonEnvV1()
    v0 = BackgammonEnv()
    for seed in range(12):
        obs, info = env.reset(seed=seed)
        obs0, info0 = v0.reset(seed=seed)
        while True:
            assert env.observation_space.contains(obs)
            board = bg.board_from_position_id(info["position_id"])
            np.testing.assert_array_equal(obs["board"], board)
            np.testing.assert_array_equal(obs["tesauro198"], obs0)  # the same game as v0, step by step
            if info["dice"] is None:
                assert obs["dice"].tolist() == [0, 0]
                break
            assert tuple(obs["dice"]) == info["dice"]
            # the observation alone gives the agent its legal plays
            plays = bg.legal_plays(obs["board"], *map(int, obs["dice"]))
            assert [p.key() for p in plays] == [p.key() for p in info["plays"]]
            a = len(plays) - 1
            obs, r, term, _, info = env.step(a)
            obs0, r0, term0, _, _ = v0.step(a)
            assert (r, term) == (r0, term0)
