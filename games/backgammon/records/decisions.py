"""Decisions from records: every checker play of every good game, with its context."""
from __future__ import annotations

from typing import Iterable, Iterator, Union

from .model import CheckerPlay, Decision, Game, Match


def decisions(match: Union[Match, Game, Iterable[Match]]) -> Iterator[Decision]:
    """Yield a Decision for every checker play of every good game, forced ones included
    (``d.forced``); rolls that allowed no move at all are not decisions and are left out.

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
        )
