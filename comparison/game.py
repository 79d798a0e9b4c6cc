"""The game protocol the framework consumes, and the registry of games.

comparison/ never imports a game. A game is an object with the members of :class:`Game`; it is
found by name, through

- an entry point of group ``comparison.games`` in an installed package's metadata::

      [project.entry-points."comparison.games"]
      mygame = "mypackage.game:GAME"     # the game object, or a zero-argument factory (e.g. a class)

- or :func:`register` (in-process: tests, notebooks, a game under development).

Then ``get_game("mygame")`` hands it to the trainer and ``python -m comparison train --game mygame``
trains on it; the game's own commands (:meth:`Game.commands`) join the command line. Entry points
load lazily, when a game is first asked for, so listing the games imports nothing.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, NamedTuple, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:  # the protocol's types only; importing this module stays free of numpy and torch
    import numpy as np

    from comparison.data import DecisionSet

ENTRY_POINT_GROUP = "comparison.games"
DEFAULT_GAME = "backgammon"
"""The game ``train --game`` picks when none is named, and whose commands win a clash of names."""


class Command(NamedTuple):
    """One command-line entry a game adds to ``python -m comparison``.

    ``path`` is the words that call it, e.g. ``("records", "stats")``. ``spec`` is
    ``"package.module"`` or ``"package.module:prefix"``: that module provides ``add_arguments(parser)``
    and ``run_command(args) -> exit status`` (with a prefix, ``add_<prefix>_arguments`` and
    ``run_<prefix>_command``). ``help`` is one line, argparse-escaped (``%%`` for a percent sign).
    """

    path: tuple
    spec: str
    help: str


@runtime_checkable
class Game(Protocol):
    """What the framework needs from a game to train a scorer on its expert records.

    Candidates are kept in the game's compact form (``DecisionSet.items``); an encoding turns a
    batch of them into features for the network.
    """

    name: str
    """The registry name, e.g. ``"backgammon"``; stored in every model file trained on it."""
    encodings: Sequence[str]
    """Names of the candidate encodings ``featurize`` accepts."""
    default_encoding: str
    """The encoding ``train`` uses when ``--encoding`` is not given."""

    def featurize(self, encoding: str) -> Callable[[np.ndarray], np.ndarray]:
        """``encoding`` -> a function: candidates (M, ...) in compact form -> float32 features (M, ...).
        An unknown name raises ValueError naming the known ones."""

    def feature_shape(self, encoding: str) -> tuple:
        """Shape of one candidate's features under ``encoding``: (F,) flat, (T, d) for tokens."""

    def build_dataset(self, paths: Sequence, cache_dir=None, workers: int = 2,
                      progress: bool = True) -> DecisionSet:
        """The decisions of every record file under ``paths`` (files or folders).

        ``meta["file"]`` (G,) must give each decision's record file as an int (held-out validation
        takes whole files). Missing paths raise FileNotFoundError, unusable records ValueError.
        A game that offers absolute targets per candidate (``DecisionSet.targets``) takes a
        keyword ``targets=SOURCE`` too; ``train --targets`` passes it only when asked."""

    def chronological_order(self, data: DecisionSet) -> np.ndarray:
        """A per-decision sort key (G,): larger = later (``--split date`` holds out the latest files)."""

    def default_records(self) -> Path:
        """Records to train on when ``--records`` is not given (e.g. a corpus shipped with the game)."""

    def router_options(self, router: str) -> dict:
        """Extra keyword arguments of ``comparison.moe.build_scorer`` the game supplies for ``router``:
        for ``"phase"``, where the phase one-hot sits in its tokens (``phase_token``,
        ``phase_features``); ``{}`` for routers that need nothing from the game."""

    def commands(self) -> Sequence[Command]:
        """The game's own command-line entries (``train`` is the framework's).

        Optional, outside the protocol: ``outcome_levels``, the increasing points a game can be won
        by (backgammon (1, 2, 3)), which ``train --model outcome`` reads; plain win / loss without it;
        ``value_positions(data, targets)``, positions with targets but no choice (backgammon: those after
        forced plays and dances) of the record files of ``data``, as one-candidate decisions, which
        ``train --value-positions`` adds to the training part."""

    def command_groups(self) -> Mapping[str, str]:
        """One-line help of each command group in :meth:`commands`, keyed by the group's words
        joined by spaces, e.g. ``{"records": "work with game records"}``."""


# The members a game must have, for error messages (typing lists them itself only from 3.12 on).
MEMBERS = tuple(sorted({*Game.__annotations__,
                        *(k for k, v in vars(Game).items() if callable(v) and not k.startswith("_"))}))


class GameError(ValueError):
    """An unknown game name, or a game that does not load or does not follow the protocol."""


_registered: dict = {}   # name -> game, from register(); these take precedence over entry points
_loaded: dict = {}       # name -> game, entry points already loaded


def missing_members(obj) -> list:
    """The protocol members ``obj`` lacks ([] for a game)."""
    return [m for m in MEMBERS if not hasattr(obj, m)]


def _instantiate(name: str, obj, source: str):
    """The game object from what a registration gives: the object itself or a zero-argument factory."""
    # a class is a factory even though it has every member as an attribute
    if isinstance(obj, type) or (not isinstance(obj, Game) and callable(obj)):
        try:
            obj = obj()
        except Exception as e:
            raise GameError(f"game {name!r} ({source}): its factory failed: {type(e).__name__}: {e}") from e
    missing = missing_members(obj)
    if missing:
        raise GameError(f"game {name!r} ({source}) is not a comparison game: it lacks {', '.join(missing)}")
    if obj.name != name:
        raise GameError(f"game {name!r} ({source}) calls itself {obj.name!r}; the names must agree")
    return obj


def register(name: str, game) -> None:
    """Make ``game`` (an object following :class:`Game`, or a zero-argument factory of one) known
    as ``name`` in this process, in place of any installed game of that name."""
    if not isinstance(name, str) or not name.strip():
        raise GameError(f"a game needs a non-empty name, got {name!r}")
    _registered[name] = _instantiate(name, game, "registered in-process")


def unregister(name: str) -> None:
    """Forget a game given to :func:`register` (installed games stay)."""
    _registered.pop(name, None)


def _entry_points() -> dict:
    from importlib.metadata import distributions

    # Every copy of every distribution's metadata, not importlib's entry_points(), which keeps one
    # copy per name: a stale *.egg-info left in a source checkout (on sys.path when run from it)
    # would then hide the installed metadata and its games. The first copy of a name wins.
    found = {}
    for dist in distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:
                found.setdefault(ep.name, ep)
    return found


def available_games() -> list:
    """Names of every game, installed or registered in-process, sorted (nothing is imported)."""
    return sorted({*_entry_points(), *_registered})


def get_game(name: str | None = None) -> Game:
    """The game called ``name`` (default :data:`DEFAULT_GAME`); GameError when there is none."""
    name = DEFAULT_GAME if name is None else name
    if name in _registered:
        return _registered[name]
    if name in _loaded:
        return _loaded[name]
    eps = _entry_points()
    if name not in eps:
        known = available_games()
        hint = (f"available: {', '.join(known)}" if known else
                f"no game is installed (install the package, e.g. pip install -e ., so its "
                f"{ENTRY_POINT_GROUP!r} entry points exist)")
        raise GameError(f"unknown game {name!r}; {hint}")
    ep = eps[name]
    try:
        obj = ep.load()
    except Exception as e:
        raise GameError(f"game {name!r}: entry point {ep.value!r} failed to load: {type(e).__name__}: {e}") from e
    _loaded[name] = game = _instantiate(name, obj, f"entry point {ep.value!r}")
    return game


def games_in_command_order() -> list:
    """The games whose commands join the command line: the default game first, then the rest by
    name. A game that fails to load is left out with a note on stderr, so that one broken
    installed package does not take the whole command line down."""
    names = available_games()
    names.sort(key=lambda n: (n != DEFAULT_GAME, n))
    out = []
    for n in names:
        try:
            out.append(get_game(n))
        except GameError as e:
            print(f"comparison: warning: {e}", file=sys.stderr)
    return out


__all__ = ["Command", "DEFAULT_GAME", "ENTRY_POINT_GROUP", "Game", "GameError", "MEMBERS", "available_games",
           "games_in_command_order", "get_game", "missing_members", "register", "unregister"]
