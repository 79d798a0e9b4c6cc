"""gnubg's SGF (GM[6]): a collection of game trees, one per game, read along the main line.

A play is ``B[52lqac]``: the dice, then from/to letter pairs. gnubg writes player 0 (W) with
``a`` = its 1-point and player 1 (B) with ``a`` = its 24-point (``x`` - index), ``y`` = bar,
``z`` = off. Cube actions are ``double``, ``take``, ``drop`` (the cube values they imply are filled in, as a .mat file writes
them). ``A[i][moves E ... equity ...]`` lists the candidate plays gnubg analysed; they are kept as
labels on the play. ``RU[Crawford]`` says the match uses the Crawford rule and
``RU[Crawford:CrawfordGame]`` marks the Crawford game; gnubg writes one of them in every game of a
match with the rule, so a gnubg file without either has no Crawford game.
"""
from __future__ import annotations

import bisect
import re
from typing import Optional

from .model import Match, RecordError, with_crawford
from .replay import Event, GameEnd, RawGame, replay_game

_VALUE_END = re.compile(r"[\\\]]")
_IDENT = re.compile(r"[A-Za-z]+")
_PLAY = re.compile(r"^(?P<d1>\d)(?P<d2>\d)(?P<moves>[a-z]*)$")
_RESULT = re.compile(r"^(?P<who>[WB])\+(?P<points>\d+)?(?P<resign>R)?", re.I)
_HEADER_PROPS = {"PC": "Site", "EV": "Event", "RO": "Round", "AN": "Transcriber", "DT": "EventDate"}


class SgfSyntax(ValueError):
    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.pos = pos


class _Reader:
    """A small recursive-descent SGF reader keeping, for each game tree, its main line."""

    def __init__(self, text: str):
        self.t = text
        self.i = 0
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def line_at(self, pos: int) -> int:
        return bisect.bisect_right(self._newlines, pos - 1) + 1

    def _ws(self) -> None:
        while self.i < len(self.t) and self.t[self.i].isspace():
            self.i += 1

    def _peek(self) -> str:
        return self.t[self.i] if self.i < len(self.t) else ""

    def collection(self) -> list[list[tuple[int, dict]]]:
        """The main line of every game tree. On a syntax error, ``self.trees`` keeps what was read."""
        self.trees: list = []
        self._ws()
        while self.i < len(self.t):
            if self._peek() != "(":
                raise SgfSyntax(f"expected '(' to open a game tree, found {self._peek()!r}", self.i)
            nodes: list = []
            self.trees.append(nodes)
            self._tree(nodes)
            self._ws()
        return self.trees

    def _tree(self, nodes: list) -> None:
        """Read one game tree, appending its main line to ``nodes``."""
        self.i += 1
        self._ws()
        while self._peek() == ";":
            nodes.append(self._node())
            self._ws()
        first = True
        while self._peek() == "(":
            self._tree(nodes if first else [])  # the main line; later variations are ignored
            first = False
            self._ws()
        if self._peek() != ")":
            raise SgfSyntax("game tree not closed with ')' (truncated file?)" if not self._peek()
                            else f"unexpected {self._peek()!r} in a game tree", self.i)
        self.i += 1

    def _node(self) -> tuple[int, dict]:
        line = self.line_at(self.i)
        self.i += 1
        props: dict = {}
        self._ws()
        while True:
            m = _IDENT.match(self.t, self.i)
            if not m:
                break
            self.i = m.end()
            self._ws()
            values = []
            while self._peek() == "[":
                values.append(self._value())
                self._ws()
            if not values:
                raise SgfSyntax(f"property {m.group(0)} has no value", self.i)
            props.setdefault(m.group(0), []).extend(values)
        return line, props

    def _value(self) -> str:
        start = self.i
        self.i += 1
        out = []
        while True:
            m = _VALUE_END.search(self.t, self.i)
            if not m:
                raise SgfSyntax("property value not closed with ']' (truncated file?)", start)
            out.append(self.t[self.i:m.start()])
            if m.group(0) == "]":
                self.i = m.end()
                return "".join(out)
            nxt = self.t[m.end():m.end() + 1]
            if nxt != "\n":  # an escaped character; an escaped newline is a soft line break
                out.append(nxt)
            self.i = m.end() + 1


def letters_to_notation(moves: str, player: int) -> str:
    """gnubg SGF letter pairs -> notation in the mover's numbering ("lqac" for B -> "13/8 24/22")."""
    def point(c: str) -> str:
        if c == "y":
            return "bar"
        if c == "z":
            return "off"
        idx = ord(c) - ord("a") if player == 0 else ord("x") - ord(c)
        if not 0 <= idx <= 23:
            raise ValueError(f"{c!r} is not a point letter")
        return str(idx + 1)

    if len(moves) % 2:
        raise ValueError(f"{moves!r}: from/to letters must come in pairs")
    return " ".join(f"{point(moves[k])}/{point(moves[k + 1])}" for k in range(0, len(moves), 2))


def _candidates(values: list[str], player: int) -> list[tuple[str, float]]:
    """A[i][moves E ... p1 p2 p3 p4 p5 equity ...] -> [(notation, equity), ...]."""
    out = []
    for v in values[1:]:
        moves, _, rest = v.partition(" ")
        toks = rest.split()
        if not toks or toks[0] != "E":
            continue
        k = 1
        if len(toks) > 2 and toks[1] == "ver":
            k = 3
        try:
            nums = [float(x) for x in toks[k:k + 6]]
            out.append((letters_to_notation(moves, player), nums[5]))
        except (ValueError, IndexError):
            continue
    return out


def _node_events(line: int, props: dict) -> tuple[list[Event], Optional[str]]:
    """The actions of one node, or an error message."""
    events = []
    if any(k in props for k in ("AE", "AW", "AB")):
        return events, "position edited by hand (AE/AW/AB): not a replayable game"
    if "DI" in props:  # dice set but never played (gnubg: before a resignation)
        who = props.get("PL", ["W"])[0].upper()
        d = props["DI"][0]
        if len(d) == 2 and d.isdigit():
            events.append(Event(line, 1 if who == "B" else 0, "roll", f"DI[{d}]", (int(d[0]), int(d[1])), "????"))
    for colour in ("W", "B"):
        if colour not in props:
            continue
        player = 0 if colour == "W" else 1
        value = props[colour][0].strip()
        text = f"{colour}[{value}]"
        low = value.lower()
        if low in ("double", "take", "drop", "beaver"):
            events.append(Event(line, player, low, text))
            continue
        m = _PLAY.match(value)
        if not m:
            return events, f"cannot read the play {value!r}"
        try:
            play_text = letters_to_notation(m.group("moves"), player)
        except ValueError as exc:
            return events, str(exc)
        cands = _candidates(props["A"], player) if "A" in props else None
        events.append(Event(line, player, "roll", text, (int(m.group("d1")), int(m.group("d2"))),
                            play_text, candidates=cands))
    return events, None


def _mi(props: dict) -> dict:
    out = {}
    for v in props.get("MI", []):
        k, _, val = v.partition(":")
        out[k.strip()] = val.strip()
    return out


def _raw_game(nodes: list, index: int, path: str) -> tuple[RawGame, dict]:
    root_line, root = nodes[0]
    mi = _mi(root)

    def num(key, default=0):
        try:
            return int(mi.get(key, default))
        except ValueError:
            return default

    raw = RawGame(num("game", index) + 1, root_line, (num("ws"), num("bs")),
                  (root.get("PW", [""])[0], root.get("PB", [""])[0]))
    gm = root.get("GM", ["6"])[0].strip()
    if gm != "6":
        raw.error = RecordError(path, root_line, f"GM[{gm}]", "not a backgammon SGF (GM must be 6)", "format")
        return raw, root
    for line, props in nodes:
        events, why = _node_events(line, props)
        raw.events.extend(events)
        if why:
            raw.error = RecordError(path, line, _node_text(props), why, "unreadable")
            break
    _fill_cube_values(raw.events)
    m = _RESULT.match(root.get("RE", [""])[0].strip())
    if m:
        pts = int(m.group("points")) if m.group("points") else None
        raw.end = GameEnd(root_line, 0 if m.group("who").upper() == "W" else 1, pts, False, bool(m.group("resign")))
    return raw, root


def _fill_cube_values(events: list) -> None:
    """SGF writes ``double`` without a value: give doubles and beavers the value they propose."""
    cube, offered = 1, None
    for ev in events:
        if ev.kind == "double":
            ev.value = ev.value or cube * 2
            offered = ev.value
        elif ev.kind == "beaver":
            ev.value = ev.value or (offered or cube * 2) * 2
            cube, offered = ev.value, None
        elif ev.kind == "take":
            cube, offered = offered or cube, None


def _crawford_said(root: dict) -> Optional[bool]:
    """True for RU[Crawford:CrawfordGame], False for RU[Crawford], None without either."""
    rules = [v.strip().lower() for v in root.get("RU", [])]
    if "crawford:crawfordgame" in rules:
        return True
    return False if "crawford" in rules else None


def _node_text(props: dict) -> str:
    return "".join(f"{k}[{v[0][:40]}]" for k, v in props.items() if k in ("W", "B", "AE", "AW", "AB"))


def parse_sgf(text: str, path: str, strict: bool = False) -> Match:
    """Read gnubg SGF text; replay every game (see :func:`read_match`)."""
    errors: list = []

    def on_error(err: RecordError) -> None:
        if strict:
            raise err
        errors.append(err)

    reader = _Reader(text)
    syntax_error = None
    try:
        trees = reader.collection()
    except SgfSyntax as exc:
        trees = reader.trees
        kind = "truncated" if "truncated" in str(exc) else "unreadable"
        syntax_error = RecordError(path, reader.line_at(exc.pos), text[exc.pos:exc.pos + 40], str(exc), kind)
    games, headers, length, players = [], {}, 0, ("", "")
    said, by_gnubg = [], False
    for index, nodes in enumerate(t for t in trees if t):
        raw, root = _raw_game(nodes, index, path)
        if index == 0:
            headers = _headers(root)
            mi_length = _mi(root).get("length", "0")
            length = int(mi_length) if mi_length.isdigit() else 0
            players = raw.players
            by_gnubg = root.get("AP", [""])[0].startswith("GNU Backgammon")
        said.append(_crawford_said(root))
        games.append(replay_game(raw, path, length, on_error))
    if syntax_error is not None:
        on_error(syntax_error)
    elif not games:
        on_error(RecordError(path, 1, "", "no game found in the file", "truncated"))
    rule = any(s is not None for s in said)
    if rule and length > 1:
        headers["Crawford"] = "On"
    games = with_crawford(games, length, rule or not by_gnubg, said)
    return Match(path, headers, length, tuple(players), games, tuple(errors))


def _headers(root: dict) -> dict:
    """The root's match information under the .mat tag names gnubg writes (names are in players)."""
    h = {}
    for prop, key in _HEADER_PROPS.items():
        if prop in root:
            v = root[prop][0]
            h[key] = v.replace("-", ".") if prop == "DT" else v
    return h
