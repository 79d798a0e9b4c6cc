"""The Jellyfish-style text match format (".mat", ".txt") in the dialects of gnubg and the sites.

The text is read line by line, one function per kind of line: header tags, the "N point match"
line, "Game N" headings, score lines (which give the two names and where the right-hand column
starts), numbered rows, and the "Wins"/"Losses" lines that end a game. A row is split into cells
at the tokens that can only start a cell (``52:``, ``Doubles => 2``, ``Takes``, ``Drops``,
``Wins 1 point`` ...) rather than at fixed columns, because the sites' column widths vary and long
plays push the right-hand cell along; a lone cell's column says whose it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .model import Match, RecordError, crawford_rule, with_crawford
from .replay import UNPLAYED_TEXT, Event, GameEnd, RawGame, replay_game

_TAG = re.compile(r'^;\s*\[\s*(?P<key>[^\]"]*?)\s+"(?P<value>.*)"\s*\]\s*$')
_MATCH_LENGTH = re.compile(r"^(?P<n>\d+)\s+points?\s+match\b", re.I)
_GAME = re.compile(r"^game\s+(?P<n>\d+)\s*$", re.I)
# names may be empty (" lasse : 0                        : 0")
_SCORE = re.compile(r"^\s*(?P<n0>.*?)\s*:\s*(?P<s0>\d+)(?P<gap>\s+)(?P<n1>.*?)\s*:\s*(?P<s1>\d+)\s*$")
_ROW = re.compile(r"^\s*(?P<n>\d{1,4})\)")

# Tokens that start a cell. Everything after a roll token up to the next token is its play.
_CELL = re.compile(
    r"""(?<!\S)(?:
        (?P<rownum>\d{1,4}\))(?=\s|$)
      | (?P<roll>(?P<dice>\d\d|\?\?\?\?|\?\?):)(?P<unplayed>\s*\?\?\?\?(?=\s|$))?
      | (?P<unknown>\?\?\?\?)(?=\s|$)
      | (?P<double>doubles?\s*=>\s*(?P<dval>\d+))
      | (?P<beaver>beavers?(?:\s*=>\s*(?P<bval>\d+))?)(?=\s|$)
      | (?P<take>takes?)(?=\s|$)
      | (?P<drop>drops?|pass(?:es)?)(?=\s|$)
      | (?P<wins>wins\s+(?P<wpts>\d+)\s+points?(?P<wmatch>\s+and\s+the\s+match)?)(?=\s|$)
      | (?P<losses>loses|losses|resigns)\s+(?P<lpts>\d+)\s+points?(?=\s|$)
    )""",
    re.X | re.I,
)

DEFAULT_RIGHT_COLUMN = 33  # gnubg: the right-hand cells start in column 33 (0-based)


@dataclass
class Cell:
    kind: str          # roll, unknown, double, beaver, take, drop, wins, losses
    side: int          # 0 = left-hand player, 1 = right-hand player
    col: int
    text: str          # the whole cell as written
    match: re.Match
    trailing: str      # text after the token (the play, for a roll)


class Unreadable(ValueError):
    pass


# --- one function per kind of line ------------------------------------------------------------

def header_tag(line: str) -> Optional[tuple[str, str]]:
    m = _TAG.match(line.strip())
    return (m.group("key"), m.group("value")) if m else None


def match_length(line: str) -> Optional[int]:
    m = _MATCH_LENGTH.match(line.strip())
    return int(m.group("n")) if m else None


def game_number(line: str) -> Optional[int]:
    m = _GAME.match(line.strip())
    return int(m.group("n")) if m else None


def score_line(line: str) -> Optional[tuple[tuple[str, str], tuple[int, int], int]]:
    """(names, scores, column where the right-hand cells start) of " lasse : 0    mglough : 0"."""
    if _ROW.match(line) or _CELL.search(line):
        return None
    m = _SCORE.match(line)
    if not m:
        return None
    right = m.start("n1") if m.group("n1") else m.end("gap") - 1
    return (m.group("n0"), m.group("n1")), (int(m.group("s0")), int(m.group("s1"))), right


def names_line(line: str) -> Optional[tuple[tuple[str, str], int]]:
    """gnubg's single-game export writes the names without scores: " gnubg        root"."""
    if _ROW.match(line) or _CELL.search(line) or ":" in line:
        return None
    m = re.match(r"^\s*(?P<n0>\S(?:.*?\S)?)\s{2,}(?P<n1>\S.*?)\s*$", line)
    if not m:
        return None
    return (m.group("n0"), m.group("n1")), m.start("n1")


def row_start(line: str) -> Optional[int]:
    """Where the cells of a numbered row begin ("  12) 52: ..." -> just after the ')')."""
    m = _ROW.match(line)
    return m.end() if m else None


def cells(line: str, start: int, threshold: int) -> list[Cell]:
    """Split ``line[start:]`` into cells; raise Unreadable on text that belongs to no cell."""
    found = [m for m in _CELL.finditer(line, start)]
    lead = line[start:found[0].start()] if found else line[start:]
    if lead.strip():
        raise Unreadable(f"cannot read {lead.strip()!r}")
    out = []
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(line)
        trailing = line[m.end():end]
        kind = _kind(m)
        if kind != "roll" and trailing.strip():
            raise Unreadable(f"cannot read {trailing.strip()!r} after {m.group(0).strip()!r}")
        if kind == "rownum":  # a stray row number in the middle of a row
            continue
        side = 1 if m.start() >= threshold else 0
        out.append(Cell(kind, side, m.start(), line[m.start():end].strip(), m, trailing.strip()))
    return out


_KINDS = ("rownum", "roll", "unknown", "double", "beaver", "take", "drop", "wins", "losses")


def _kind(m: re.Match) -> str:
    return next(k for k in _KINDS if m.group(k))


# --- cells into events ------------------------------------------------------------------------

def cell_event(cell: Cell, line: int) -> Optional[Event]:
    """The game action a cell writes (None for "Wins"/"Losses", which end the game)."""
    m = cell.match
    if cell.kind == "roll":
        dice_text = m.group("dice")
        play = UNPLAYED_TEXT if (m.group("unplayed") or "?" in dice_text) else cell.trailing
        dice = None if "?" in dice_text else (int(dice_text[0]), int(dice_text[1]))
        return Event(line, cell.side, "roll", cell.text, dice, play)
    if cell.kind == "unknown":
        return Event(line, cell.side, "roll", cell.text, None, UNPLAYED_TEXT)
    if cell.kind == "double":
        return Event(line, cell.side, "double", cell.text, value=int(m.group("dval")))
    if cell.kind == "beaver":
        return Event(line, cell.side, "beaver", cell.text, value=int(m.group("bval")) if m.group("bval") else None)
    if cell.kind in ("take", "drop"):
        return Event(line, cell.side, cell.kind, cell.text)
    return None


def game_end(row_cells: list[Cell], line: int, in_row: bool) -> Optional[GameEnd]:
    """The "Wins N point(s)" of a line, and who won.

    The column of "Wins" says who won (gnubg: 6 spaces = left, 34 = right) except where a site
    writes "Losses N point" in a numbered row: that cell marks the loser, and the "Wins" beside
    it stands at an arbitrary column.
    """
    wins = [c for c in row_cells if c.kind == "wins"]
    losses = [c for c in row_cells if c.kind == "losses"]
    if not wins and not (losses and in_row):
        return None
    if losses and in_row:
        winner = 1 - losses[-1].side
    else:
        winner = wins[-1].side
    points_cell = wins[-1] if wins else losses[-1]
    pts = points_cell.match.group("wpts") if wins else points_cell.match.group("lpts")
    return GameEnd(line, winner, int(pts), bool(wins and wins[-1].match.group("wmatch")))


# --- the file ---------------------------------------------------------------------------------

@dataclass
class _State:
    """What the line reader knows so far."""

    headers: dict = field(default_factory=dict)
    length: Optional[int] = None
    games: list = field(default_factory=list)
    game: Optional[RawGame] = None
    right_col: int = DEFAULT_RIGHT_COLUMN
    names_seen: bool = False


def parse_mat(text: str, path: str, strict: bool = False) -> Match:
    """Read a Jellyfish-style match text; replay every game (see :func:`read_match`)."""
    st = _State()
    lines = text.split("\n")
    for lineno, line in enumerate(lines, 1):
        _read_line(st, line, lineno, path)
    return _build_match(st, path, strict, len(lines))


def _read_line(st: _State, line: str, lineno: int, path: str) -> None:
    s = line.strip()
    if not s:
        return
    if s.startswith(";"):
        tag = header_tag(s)
        if tag and st.game is None:
            st.headers[tag[0]] = tag[1]
        return
    n = match_length(s)
    if n is not None and st.game is None and st.length is None:
        st.length = n
        return
    g = game_number(s)
    if g is not None:
        st.game = RawGame(g, lineno)
        st.games.append(st.game)
        st.names_seen = False
        return
    game = st.game
    if game is None or game.error is not None:
        return  # text before the first game, or the rest of a game that could not be read
    if not st.names_seen and not game.events:
        sc = score_line(line)
        if sc:
            game.players, game.score, st.right_col = sc
            st.names_seen = True
            return
        nl = names_line(line)
        if nl:
            game.players, st.right_col = nl
            st.names_seen = True
            return
    _read_cells(st, game, line, lineno, path)


def _read_cells(st: _State, game: RawGame, line: str, lineno: int, path: str) -> None:
    start = row_start(line)
    in_row = start is not None
    threshold = max(12, st.right_col - 10)
    try:
        row_cells = cells(line, start if in_row else 0, threshold)
    except Unreadable as exc:
        game.error = RecordError(path, lineno, line, str(exc), "unreadable")
        return
    if not row_cells and not in_row:
        game.error = RecordError(path, lineno, line, "cannot read this line", "unreadable")
        return
    for c in row_cells:
        ev = cell_event(c, lineno)
        if ev is None:
            continue
        if game.end is not None:
            game.error = RecordError(path, lineno, c.text, "action after the game ended", "after end")
            return
        game.events.append(ev)
    end = game_end(row_cells, lineno, in_row)
    if end is not None and game.end is None:
        game.end = end


def _build_match(st: _State, path: str, strict: bool, n_lines: int) -> Match:
    errors: list = []

    def on_error(err: RecordError) -> None:
        if strict:
            raise err
        errors.append(err)

    length = st.length if st.length is not None else 0
    players = _players(st)
    games = []
    for raw in st.games:
        if raw.players == ("", ""):
            raw.players = players
        game = replay_game(raw, path, length, on_error)
        games.append(game)
        if game.ok and game.winner is None:
            on_error(_unfinished(game, raw is st.games[-1], path))
    if not games:
        on_error(RecordError(path, n_lines, "", "no game found in the file", "truncated"))
    games = with_crawford(games, length, crawford_rule(st.headers))
    return Match(path, st.headers, length, players, games, tuple(errors))


def _unfinished(game, last_game: bool, path: str) -> RecordError:
    """A game whose plays are all legal but which never ends: nobody bore off, dropped or "Wins"."""
    line = max([a.line for a in game.actions] + [game.line])
    reason = (f"the record stops before game {game.number} ended" if last_game
              else f"game {game.number} has no end: no \"Wins\", nobody bore off or dropped")
    return RecordError(path, line, "", reason, "truncated")


def _players(st: _State) -> tuple[str, str]:
    for raw in st.games:
        if raw.players != ("", ""):
            return tuple(raw.players)
    return (st.headers.get("Player 1", ""), st.headers.get("Player 2", ""))
