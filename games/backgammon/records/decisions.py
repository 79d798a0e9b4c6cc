"""Decisions from records: every checker play of every good game, with its context."""
from __future__ import annotations

from typing import Iterable, Iterator, Union

from ..rules.legal import legal_results_batch
from .model import CheckerPlay, Decision, Game, Match
from .written import index_of_result


def decisions(match: Union[Match, Game, Iterable[Match]]) -> Iterator[Decision]:
    """Yield a Decision for every checker play of every good game, forced ones included
    (``d.forced``); rolls that allowed no move at all are not decisions and are left out.
    Each carries the roll's legal results (``d.results``) and the chosen one's index
    (``d.chosen_index``), as the replay generated them.

    Accepts a Match, a single Game, or an iterable of matches.
    """
    if isinstance(match, Game):
        yield from _game_decisions(match, "")
        return
    matches = [match] if isinstance(match, Match) else match
    for m in matches:
        for game in m.games:
            yield from _game_decisions(game, m.path)


def _game_decisions(game: Game, path: str) -> Iterator[Decision]:
    if not game.ok:
        return
    for a in game.actions:
        if not isinstance(a, CheckerPlay) or a.n_legal == 0:
            continue
        p = a.player
        results, index = a.results, a.chosen_index
        if results is None:  # a play made outside replay (a game being played, generated games)
            results, index = _results_of(a)
        yield Decision(
            board=a.board,
            dice=a.dice,
            chosen=a.result,
            player=game.players[p],
            player_index=p,
            score=(game.score[p], game.score[1 - p]),
            match_length=game.match_length,
            forced=a.n_legal == 1,
            n_legal=a.n_legal,
            cube=a.cube,
            candidates=a.candidates,
            file=path,
            game=game.number,
            line=a.line,
            text=a.text,
            crawford=game.crawford,
            results=results,
            chosen_index=index,
        )


def _results_of(a: CheckerPlay) -> tuple:
    """The legal results of a play that did not keep them, and the index of its result."""
    results, _ = legal_results_batch(a.board[None], [a.dice])
    results.flags.writeable = False
    return results, index_of_result(results, a.result, f"line {a.line}: the played result")
