"""Match records: reading every dialect of the Jellyfish-style .mat text and gnubg's SGF,
replaying each play with the engine, the decisions they contain, and writing gnubg's .mat.

    from games.backgammon import records
    match = records.read_match(path)          # lenient: bad games carry an error, others are kept
    for d in records.decisions(match):        # every checker play of every good game
        d.board, d.dice, d.chosen, d.player, d.forced
        d.results, d.chosen_index             # the roll's legal results; d.results[d.chosen_index] equals d.chosen
    records.write_mat(match, "out.mat")       # gnubg's layout
    records.write_sgf(match, "out.sgf")       # gnubg's SGF
    records.corpus_dir()                      # the bundled gnubg self-play records

The formats and their dialects are described in the shared reference, formats.md.
"""
from __future__ import annotations

from pathlib import Path

from .decisions import decisions
from .mat import parse_mat
from .model import CheckerPlay, CubeAction, Decision, Game, Match, RecordError, Unplayed
from .sgf import parse_sgf
from .sgf_writer import format_sgf, write_sgf
from .source import read_text
from .writer import format_mat, write_mat

RECORD_SUFFIXES = (".mat", ".txt", ".sgf")


def read_match(path, strict: bool = False) -> Match:
    """Read a match record (.mat/.txt Jellyfish-style text in any dialect, or gnubg .sgf).

    Every play is replayed from the starting position and matched to a legal result. A play that
    cannot be matched is a RecordError (file, line, text, reason) for its game: the rest of that
    game is skipped, every other game kept (``match.errors``, ``game.error``). An empty, binary or
    truncated file gives a Match whose errors say so, never an exception. With ``strict=True`` the
    first RecordError is raised instead.
    """
    name = str(path)
    text, error = read_text(path)
    if error is not None:
        if strict:
            raise error
        return Match(name, errors=(error,))
    if _is_sgf(name, text):
        return parse_sgf(text, name, strict)
    return parse_mat(text, name, strict)


NOT_RECORDS = ("readme", "license", "licence", "copying")


def record_files(paths) -> list[Path]:
    """The record files named by ``paths``: files as given, folders searched recursively for
    .mat, .txt and .sgf files (sorted; README, LICENSE and COPYING files are not records, even as
    .txt). A path that does not exist is kept, so that reading it reports it."""
    out = []
    for p in map(Path, [paths] if isinstance(paths, (str, Path)) else paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in RECORD_SUFFIXES
                              and not f.stem.lower().startswith(NOT_RECORDS)))
        else:
            out.append(p)
    return out


def corpus_dir() -> Path:
    """The folder of the bundled default corpus: gnubg 0-ply self-play records (.mat), shipped
    inside the package (see its README.txt)."""
    from importlib import resources

    return Path(str(resources.files("games.backgammon").joinpath("data", "corpus")))


def shared_data_dir() -> Path:
    """The project's shared data (human records, gnubg's analyses) in a source checkout:
    ``$COMPARISON_SHARED_DATA``, else ``../shared/data`` beside the checkout. It may not exist."""
    import os

    env = os.environ.get("COMPARISON_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "data"


def default_analysis_path() -> Path:
    """GNU Backgammon's 4-ply analyses of the shared human matches (checker plays)."""
    return shared_data_dir() / "human-analysis" / "lasse-4ply.jsonl.gz"


def _is_sgf(name: str, text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith("(;") or (Path(name).suffix.lower() == ".sgf" and head.startswith("("))


__all__ = [
    "default_analysis_path",
    "shared_data_dir",
    "read_match",
    "decisions",
    "write_mat",
    "format_mat",
    "write_sgf",
    "format_sgf",
    "record_files",
    "corpus_dir",
    "Match",
    "Game",
    "Decision",
    "RecordError",
    "CheckerPlay",
    "CubeAction",
    "Unplayed",
]
