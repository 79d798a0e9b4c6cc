"""Backgammon as a comparison game: the object :mod:`comparison.game` finds by the entry point

    [project.entry-points."comparison.games"]
    backgammon = "games.backgammon.learn.game:GAME"

It delegates to :mod:`.dataset` (records -> decision sets, encodings) and :mod:`.tokens` (where
the phase sits for the phase router). Importing this module is cheap: no torch, and the dataset
module (which needs torch through comparison.data) loads on first use.

The command-line entries below name the modules of the layers above (players, play, ui,
commands) as strings only; the command line imports them when it is built.
"""
from __future__ import annotations

from comparison.game import Command

from .tokens import PHASE_NAMES, PHASE_ROUTER

COMMANDS = (
    Command(("play",), "games.backgammon.ui.terminal", "play against a model or bot in the terminal"),
    Command(("match",), "games.backgammon.commands.match",
            "two players, many games: points per game with a 95%% confidence interval"),
    Command(("records", "stats"), "games.backgammon.commands.records:stats",
            "games, plays, decisions, players and errors of record files"),
    Command(("records", "convert"), "games.backgammon.commands.records:convert",
            "convert records between .mat and .sgf"),
    Command(("records", "generate"), "games.backgammon.play.generate", "write expert records by engine self-play"),
    Command(("records", "label"), "games.backgammon.play.generate:label",
            "gnubg's probabilities of every legal play of existing records, for train --targets engine:DIR"),
    Command(("bench", "accuracy"), "games.backgammon.commands.accuracy",
            "a model on records: agreement, top-k, MRR, equity loss, against pubeval and gnubg"),
    Command(("bench", "cube"), "games.backgammon.commands.cube",
            "cube decisions of people, theory and learned models, judged by gnubg's 4-ply cube analyses"),
    Command(("bench", "speed"), "games.backgammon.commands.speed",
            "backgammon engine speed against gnubg-nn and OpenSpiel, one core"),
)
GROUPS = {"records": "work with game records: stats, convert, generate, label",
          "bench": "benchmarks: accuracy, cube, speed"}


class BackgammonGame:
    """Backgammon for the comparison framework (see :class:`comparison.game.Game`).

    Candidates are result boards, int8 (2, 25) with the mover in row 1.
    """

    name = "backgammon"
    # the keys of dataset.ENCODINGS, listed here so that naming them does not import the dataset
    encodings = ("tesauro198", "pubeval122", "extended", "tokens")
    default_encoding = "extended"
    phase_names = PHASE_NAMES  # the experts of the phase router, in order
    # optional member: points of a single game, a gammon, a backgammon (comparison.outcomes' levels)
    outcome_levels = (1, 2, 3)

    def featurize(self, encoding: str):
        from .dataset import get_encoding

        return get_encoding(encoding)

    def feature_shape(self, encoding: str) -> tuple:
        from .dataset import feature_shape

        return feature_shape(encoding)

    def build_dataset(self, paths, cache_dir=None, workers: int = 2, progress: bool = True, targets=None):
        from .dataset import build_dataset

        return build_dataset(paths, cache_dir=cache_dir, workers=workers, progress=progress, targets=targets)

    def value_positions(self, data, targets: str):
        """``train --value-positions``: the positions after the forced plays and dances of ``data``'s
        record files, as one-candidate decisions with the engine's probabilities as targets
        (:func:`.dataset.forced_positions`), read where ``targets`` (the --targets spec) reads
        engine probabilities: ``engine`` or ``engine:DIR``."""
        from .dataset import forced_positions, parse_labels

        sources, _ = parse_labels(targets) if targets else ([], [])
        folders = [arg for kind, arg in sources if kind == "engine"]
        if not folders:
            raise ValueError("--value-positions: the positions after forced plays and dances take their targets "
                             "from engine probabilities; add engine or engine:DIR to --targets")
        return forced_positions(data, folders[0])

    def chronological_order(self, data):
        from .dataset import chronological_order

        return chronological_order(data)

    def default_records(self):
        from .dataset import default_records

        return default_records()

    def router_options(self, router: str) -> dict:
        # the phase router reads contact / race / bear-off from a one-hot in the point tokens
        return {**PHASE_ROUTER, "phase_features": list(PHASE_ROUTER["phase_features"])} if router == "phase" else {}

    def commands(self):
        return COMMANDS

    def command_groups(self):
        return dict(GROUPS)

    def __repr__(self) -> str:
        return "BackgammonGame()"


GAME = BackgammonGame()

__all__ = ["BackgammonGame", "COMMANDS", "GAME", "GROUPS"]
