"""Backgammon's cube decisions as a comparison game, ``backgammon-cube``:

    python -m comparison train --game backgammon-cube --records ../shared/data/human-records --out cube.pt

trains a cube scorer with the framework's own trainer: every cube decision is a group of two
candidates (double / no double, take / pass; :mod:`.cube_data`), and the scorer learns to rank
the chosen alternative above the other, split by date (the latest matches held out) like the
checker game. The installed registry finds it through the entry point

    [project.entry-points."comparison.games"]
    backgammon-cube = "games.backgammon.learn.cube_game:GAME"

and :func:`register` makes it known in-process (tests, notebooks).

Sources of the chosen alternative (``build_dataset(..., source=...)``): ``people`` (default: the
records' own cube actions), ``engine`` (gnubg's better alternative from its cube analyses of the
same records) or ``both``. From the command line (:func:`label_options`):

    train --game backgammon-cube ...                                   # people
    train --game backgammon-cube --engine-pairs 1 ...                  # people + gnubg's preferences
    train --game backgammon-cube --engine-pairs 1 --engine-source engine ...   # gnubg's only
 Importing this module is cheap: no torch, no numpy work.
"""
from __future__ import annotations

GAME_NAME = "backgammon-cube"


class BackgammonCubeGame:
    """Cube decisions for the comparison framework (see :class:`comparison.game.Game`).

    Candidates are compact int16 rows (``cube_data.ITEM_WIDTH``): the position and the cube
    context of one alternative.
    """

    name = GAME_NAME
    encodings = ("extended", "tesauro198", "extended-plain")   # the keys of cube_data.ENCODINGS
    default_encoding = "extended"

    def __init__(self, source: str = "people", analysis=None):
        self.source = source       # the default source of build_dataset
        self.analysis = analysis   # the cube-analysis file for engine preferences (None: the shared one)

    def featurize(self, encoding: str):
        from .cube_data import get_encoding

        return get_encoding(encoding)

    def feature_shape(self, encoding: str) -> tuple:
        from .cube_data import feature_shape

        return feature_shape(encoding)

    def build_dataset(self, paths, cache_dir=None, workers: int = 2, progress: bool = True, targets=None,
                      source: str | None = None, analysis=None):
        """The cube decisions of the records under ``paths`` (:func:`cube_data.build_cube_dataset`).

        ``source``: people, engine or both (default: this game's own, ``people``). ``targets``:
        what ``train`` asks beyond the choices, comma-separated (see :func:`label_options`)."""
        from .cube_data import build_cube_dataset

        options = label_options(targets)
        return build_cube_dataset(paths, source=options.get("source") or source or self.source,
                                  analysis=options.get("analysis") or analysis or self.analysis,
                                  values=options.get("values", False), cache_dir=cache_dir, workers=workers,
                                  progress=progress)

    def chronological_order(self, data):
        from .cube_data import chronological_order

        return chronological_order(data)

    def default_records(self):
        """The shared human match records when present (the bundled self-play corpus is cubeless),
        else the bundled corpus (which then yields no decisions, an error that says so)."""
        from ..records import corpus_dir
        from .cube_data import default_human_records

        shared = default_human_records()
        return shared if shared.is_dir() else corpus_dir()

    def router_options(self, router: str) -> dict:
        return {}

    def commands(self):
        # ``bench cube`` is listed with the backgammon game's commands (games.backgammon.learn.game)
        return ()

    def command_groups(self):
        return {}

    def __repr__(self) -> str:
        return f"BackgammonCubeGame(source={self.source!r})"


ENGINE_SOURCES = ("pairs", "pairs:PATH", "engine", "engine:PATH")


def label_options(spec) -> dict:
    """The keyword options of ``build_cube_dataset`` that ``train``'s label spec asks for.

    ``train --engine-pairs W --engine-source SOURCE`` passes SOURCE here (joined by commas after
    any ``--targets``): ``pairs`` / ``pairs:PATH``: the people's decisions, with gnubg's equities
    of both alternatives as engine values where it analysed them (the people's choices plus
    gnubg's preferences, weight W); ``engine`` / ``engine:PATH``: gnubg's analysed decisions
    only, the chosen alternative gnubg's better one (its values attached too). PATH is a
    cube-analysis file (default the shared one). A cube game has no absolute targets: any other
    component is an error."""
    out: dict = {}
    for part in filter(None, (p.strip() for p in str(spec or "").split(","))):
        kind, _, path = part.partition(":")
        if kind not in ("pairs", "engine"):
            raise ValueError(f"game {GAME_NAME!r}: {part!r} is not a label source it offers; engine sources "
                             f"(--engine-source): {', '.join(ENGINE_SOURCES)}; it has no absolute targets (--targets)")
        out["values"] = True
        if kind == "engine":
            out["source"] = "engine"
        if path:
            out["analysis"] = path
    return out


GAME = BackgammonCubeGame()


def register() -> None:
    """Make ``backgammon-cube`` known to :mod:`comparison.game` in this process."""
    from comparison.game import register as register_game

    register_game(GAME_NAME, GAME)


__all__ = ["BackgammonCubeGame", "ENGINE_SOURCES", "GAME", "GAME_NAME", "label_options", "register"]
