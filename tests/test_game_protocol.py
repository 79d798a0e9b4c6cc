"""The seam between the framework and the games: comparison/ never imports a game, backgammon
follows the game protocol and is found through its entry point, and a second game (a toy defined
here, registered in-process) trains through the same ``train`` command."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

import numpy as np
import pytest
import torch

from comparison import checkpoint, cli
from comparison.data import DecisionSet
from comparison.game import Command, Game, GameError, available_games, get_game, register, unregister

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ comparison/ never names a game

# a module path or file path inside the games package: "games.backgammon", "games/backgammon/..."
# ("the games/ folder" in prose is fine: nothing follows the separator)
GAMES_PATH = re.compile(r"(?<![\w./])games[./]\w")
IMPORTERS = {"import_module", "__import__"}


def games_references(source: str, filename: str = "<snippet>") -> list:
    """'file:line: what' for every import of the games package, and every string constant holding
    a module path into it, in Python ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] == "games"]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.split(".")[0] == "games":
                found.append(f"{where}: from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            arg = node.args[0] if node.args else None
            if (name in IMPORTERS and isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                    and arg.value.split(".")[0] == "games"):
                found.append(f"{where}: {name}({arg.value!r})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and GAMES_PATH.search(node.value):
            found.append(f"{where}: string {node.value[:80]!r}")
    return found


@pytest.mark.parametrize("snippet", [
    "import games",
    "import games.backgammon as bg",
    "import os, games.backgammon.learn.dataset",
    "from games.backgammon.learn.tokens import PHASE_ROUTER",
    "from games import backgammon",
    "import importlib\nm = importlib.import_module('games')",
    "from importlib import import_module\nm = import_module('games')",
    "m = __import__('games')",
    "SPEC = 'games.backgammon.ui.terminal'",
    "def f():\n    '''see games/backgammon/learn/tokens.py'''",
    "x = f'{1}games.backgammon.commands.match'",
])
def test_the_checker_catches_every_way_of_naming_a_game(snippet):
    assert games_references(snippet), snippet


def test_the_checker_leaves_innocent_code_alone():
    clean = ("from comparison.game import get_game\nimport mygames.x\nfrom . import games\n"
             "'''the games themselves live in the games/ folder; games. Full stop.'''\n"
             "name = 'minigames.x'\n")
    assert games_references(clean) == []


def test_comparison_never_imports_or_names_a_game():
    files = sorted((ROOT / "comparison").rglob("*.py"))
    assert len(files) > 10  # the walk found the framework
    found = [hit for f in files for hit in games_references(f.read_text(), str(f.relative_to(ROOT)))]
    assert found == []


# ------------------------------------------------------------------ backgammon follows the protocol


def test_backgammon_satisfies_the_protocol():
    from games.backgammon.learn.dataset import ENCODINGS
    from games.backgammon.learn.game import GAME, BackgammonGame
    from games.backgammon.learn.tokens import PHASE_ROUTER

    assert isinstance(GAME, Game) and isinstance(GAME, BackgammonGame)
    assert GAME.name == "backgammon"
    assert tuple(GAME.encodings) == tuple(ENCODINGS)  # the light list agrees with the dataset's
    assert GAME.default_encoding in GAME.encodings
    assert GAME.feature_shape("tesauro198") == (198,)
    assert len(GAME.feature_shape("tokens")) == 2
    from games.backgammon import start_board

    x = GAME.featurize("tesauro198")(start_board()[None])
    assert x.shape == (1, 198) and x.dtype == np.float32
    with pytest.raises(ValueError, match="tesauro198"):
        GAME.featurize("nonsense")
    assert GAME.router_options("phase") == PHASE_ROUTER
    assert GAME.router_options("token_choice") == {}
    assert Path(GAME.default_records()).is_dir()
    paths = {c.path for c in GAME.commands()}
    assert paths == {("play",), ("match",), ("records", "stats"), ("records", "convert"), ("records", "generate"),
                     ("records", "label"), ("bench", "accuracy"), ("bench", "cube"), ("bench", "speed")}
    assert set(GAME.command_groups()) == {"records", "bench"}


def test_not_every_object_is_a_game():
    assert not isinstance(object(), Game)


def test_backgammon_is_found_through_its_entry_point_and_the_registry():
    from games.backgammon.learn.game import GAME

    eps = [ep for d in distributions() for ep in d.entry_points
           if ep.group == "comparison.games" and ep.name == "backgammon"]
    assert eps, "no 'comparison.games' entry point: reinstall the package (pip install -e .)"
    assert eps[0].load() is GAME
    assert get_game("backgammon") is GAME
    assert get_game() is GAME  # the default game
    assert "backgammon" in available_games()


def test_the_backgammon_game_module_does_not_import_torch():
    code = "import sys, games.backgammon.learn.game; assert 'torch' not in sys.modules, 'torch imported'"
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr


def test_unknown_game_names_the_available_ones():
    with pytest.raises(GameError, match=r"unknown game 'chess'; available: .*backgammon"):
        get_game("chess")


def test_register_checks_the_protocol():
    class Half:
        name = "half"

        def featurize(self, encoding):
            return None

    with pytest.raises(GameError, match="lacks build_dataset, chronological_order"):
        register("half", Half())
    with pytest.raises(GameError, match="names must agree"):
        register("other", ToyGame)
    assert "half" not in available_games()


# ------------------------------------------------------------------ a second game: the race to 21

N = 21  # players take turns adding 1, 2 or 3 to a total; whoever reaches N wins


def best_move(total: int) -> int:
    """The winning reply: leave a total that N - total is a multiple of 4 for the opponent."""
    return total + (N - total) % 4


def winning_totals() -> list:
    """Totals with a winning reply and more than one legal move (a forced move teaches nothing)."""
    return [s for s in range(N - 1) if (N - s) % 4]


def candidates(total: int) -> list:
    return list(range(total + 1, min(total + 3, N) + 1))


def _onehot(items):
    """Candidate totals (M,) -> one-hot of the total (M, N + 1): the net must learn which totals win."""
    x = np.zeros((len(items), N + 1), np.float32)
    x[np.arange(len(items)), np.asarray(items, np.int64)] = 1
    return x


def _mod4(items):
    x = np.zeros((len(items), 4), np.float32)
    x[np.arange(len(items)), (N - np.asarray(items, np.int64)) % 4] = 1
    return x


class ToyGame:
    """Race to 21 as a comparison game. A record file is text: ``date YYYYMMDD``, then one line
    ``total chosen`` per decision of the expert."""

    name = "toy"
    encodings = ("onehot", "mod4")
    default_encoding = "onehot"
    ENCODERS = {"onehot": _onehot, "mod4": _mod4}

    def featurize(self, encoding):
        if encoding not in self.ENCODERS:
            raise ValueError(f"unknown toy encoding {encoding!r}; choose one of {', '.join(self.encodings)}")
        return self.ENCODERS[encoding]

    def feature_shape(self, encoding):
        return tuple(self.featurize(encoding)(np.zeros(1, np.int16)).shape[1:])

    def build_dataset(self, paths, cache_dir=None, workers=2, progress=True):
        files = []
        for p in map(Path, paths):
            if not p.exists():
                raise FileNotFoundError(f"{p}: no such file or folder")
            files += sorted(p.glob("*.race")) if p.is_dir() else [p]
        items, offsets, chosen, file_of, dates = [], [0], [], [], []
        for i, f in enumerate(files):
            lines = f.read_text().splitlines()
            date = int(lines[0].split()[1])
            for k, line in enumerate(lines[1:], start=2):
                try:
                    total, pick = map(int, line.split())
                    cand = candidates(total)
                    index = cand.index(pick)
                except ValueError:
                    raise ValueError(f"{f}:{k}: expected 'total chosen' with a legal move, got {line!r}") from None
                items += cand
                offsets.append(len(items))
                chosen.append(index)
                file_of.append(i)
                dates.append(date)
        if not chosen:
            raise ValueError("no toy decisions")
        meta = {"file": np.array(file_of, np.int32), "date": np.array(dates, np.int32)}
        return DecisionSet(np.array(items, np.int16), np.array(offsets), np.array(chosen), meta,
                           {"files": np.array([str(f) for f in files])})

    def chronological_order(self, data):
        return data.meta["date"].astype(np.int64)

    def default_records(self):
        raise FileNotFoundError("the toy game ships no records; give --records")

    def router_options(self, router):
        return {}

    def commands(self):
        return (Command(("play",), f"{__name__}:toy_play", "the toy's best move from a total"),
                Command(("race", "best"), f"{__name__}:toy_play", "the best move in the race to 21"))

    def command_groups(self):
        return {"race": "the race-to-21 toy"}


# the toy's command (module:prefix "toy_play")
def add_toy_play_arguments(p):
    p.add_argument("--total", type=int, required=True)


def run_toy_play_command(args):
    print(best_move(args.total))
    return 0


@pytest.fixture
def toy():
    register("toy", ToyGame)  # a factory (the class) is accepted like a game object
    yield get_game("toy")
    unregister("toy")


def write_records(folder: Path, n_files: int = 40, per_file: int = 10, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir()
    totals = winning_totals()
    for i in range(n_files):
        lines = [f"date {20240101 + i}"]
        lines += [f"{s} {best_move(s)}" for s in rng.choice(totals, per_file)]
        (folder / f"match-{i:03d}.race").write_text("\n".join(lines) + "\n")
    return folder


def test_the_toy_is_registered_in_process(toy):
    assert isinstance(toy, Game) and toy.name == "toy"
    assert available_games() == sorted({"backgammon", "backgammon-cube", "toy"})


def test_a_second_game_trains_through_the_same_command(toy, tmp_path, capsys):
    records = write_records(tmp_path / "records")
    out = tmp_path / "toy.pt"
    status = cli.main(["train", "--game", "toy", "--records", str(records), "--out", str(out), "--epochs", "2",
                       "--model", "linear", "--lr", "0.05", "--batch-size", "16", "--no-progress", "--plot", "none",
                       "--workers", "1"])
    assert status == 0, capsys.readouterr().err
    ck = checkpoint.load(out)
    assert ck.meta["game"] == "toy" and ck.meta["encoding"] == "onehot"  # the game's default encoding
    assert ck.meta["valid_decisions"] > 0  # --split date held out the latest files

    # every position with a winning reply, as held-out decisions: the winning move ranks first
    totals = winning_totals()
    with torch.no_grad():
        scores = [ck.model(torch.from_numpy(_onehot(candidates(s)))).numpy() for s in totals]
    picked = [candidates(s)[int(np.argmax(sc))] for s, sc in zip(totals, scores)]
    assert picked == [best_move(s) for s in totals]


def test_bad_toy_records_get_a_message_not_a_traceback(toy, tmp_path, capsys):
    bad = tmp_path / "bad.race"
    bad.write_text("date 20240101\n3 5\n7 seven\n")
    status = cli.main(["train", "--game", "toy", "--records", str(bad), "--out", str(tmp_path / "m.pt"),
                       "--no-progress", "--plot", "none"])
    assert status == 2
    assert f"train: {bad}:3: expected 'total chosen'" in capsys.readouterr().err
    status = cli.main(["train", "--game", "toy", "--encoding", "tesauro198", "--records", str(bad),
                       "--out", str(tmp_path / "m.pt"), "--no-progress"])
    assert status == 2
    assert "unknown toy encoding 'tesauro198'; choose one of onehot, mod4" in capsys.readouterr().err


def test_a_second_games_commands_join_the_command_line(toy, capsys):
    # "race best" is free: it is the toy's own; "play" is backgammon's, so the toy's goes under "toy"
    assert cli.main(["race", "best", "--total", "3"]) == 0
    assert capsys.readouterr().out.strip() == "5"
    assert cli.main(["toy", "play", "--total", "6"]) == 0
    assert capsys.readouterr().out.strip() == "9"
    with pytest.raises(SystemExit) as e:
        cli.main(["play", "--help"])
    assert e.value.code == 0
    assert "against a model or bot" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    top = capsys.readouterr().out
    assert "the race-to-21 toy" in top and "train" in top


# ------------------------------------------------------------------ the command line stays usable


def _comparison(*args):
    return subprocess.run([sys.executable, "-m", "comparison", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_help_still_works():
    p = _comparison("--help")
    assert p.returncode == 0, p.stderr
    assert all(word in p.stdout for word in ("train", "play", "match", "records", "bench"))
    p = _comparison("train", "--help")
    assert p.returncode == 0, p.stderr
    assert "--game {backgammon,backgammon-cube}" in p.stdout and "extended" in p.stdout


def test_unknown_game_is_a_usage_error(tmp_path):
    p = _comparison("train", "--game", "chess", "--out", str(tmp_path / "m.pt"))
    assert p.returncode == 2
    assert "invalid choice: 'chess'" in p.stderr and "backgammon" in p.stderr
    assert "Traceback" not in p.stderr
