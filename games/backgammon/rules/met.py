"""Match equity: the chance of winning a match from a score, and equities at a score.

A match equity table (MET) gives the match winning chance (MWC) of a player who needs ``a``
more points against one who needs ``b``, at the start of a game. Cube decisions in a match
compare MWCs, and GNU Backgammon reports them in "EMG" (equivalent-to-money-game) units: the
MWC mapped linearly so that losing the cube's value is -1 and winning it is +1. This module
holds the table and those conversions; :mod:`.cube` builds the cube decisions on them.

The table
---------
The packaged table is Neil Kazaross's XG2 table (rolled out by eXtreme Gammon to 9 points,
extended by GNU Backgammon rollouts to 15 and by projected take points to 25), converted to JSON
from GNU Backgammon's ``met/Kazaross-XG2.xml`` (:func:`met_from_gnubg_xml`). It has

- ``pre_crawford[i][j]``: MWC of the player needing ``i + 1`` points against one needing
  ``j + 1``, before the Crawford game has been played (so a 1-away entry is the MWC at the
  start of the Crawford game);
- ``post_crawford[i]``: MWC of the trailer needing ``i + 1`` points against the leader needing 1
  after the Crawford game (the trailer may double, the leader gets a free drop).

Like gnubg, :func:`load_met` extends both to :data:`MAX_AWAY` points (gnubg's ``MAXSCORE``): the
pre-Crawford table with David Montgomery's normal-distribution formula (gnubg's ``ExtendMET``),
the post-Crawford row from its second-to-last entry on with Zadeh's recursion (gnubg's
``initPostCrawfordMET``, gammon rate 0.25, free drops 1.5% and 0.4%). The tests check every
entry against the ``gnubg`` module's own table.

Whose game is next
------------------
After a game, the next game is post-Crawford when the game just played was the Crawford game or
already post-Crawford (a player was 1-away at its start); when a player has just reached 1-away
from further, the next game is the Crawford game (the pre-Crawford table's 1-away entries).
:func:`mwc_after` follows that rule, as gnubg's ``getME`` does.
"""
from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

MAX_AWAY = 64
"""The longest distance to the match's end the table covers (gnubg's ``MAXSCORE``)."""

DEFAULT_MET = "kazaross-xg2.json"
"""The packaged table, in ``games/backgammon/data/met``."""

# gnubg's ExtendMET: the standard deviation of the points won per game, by match length
_STDDEV = (0.0, 1.24, 1.27, 1.47, 1.50, 1.60, 1.61, 1.66, 1.68, 1.70, 1.72, 1.77)
# gnubg's initPostCrawfordMET defaults (GAMMONRATE, free drop at 2-away and at 4-away)
_POST_GAMMON_RATE, _FREE_DROP_2, _FREE_DROP_4 = 0.25, 0.015, 0.004


@dataclass(frozen=True)
class MatchEquityTable:
    """A match equity table extended to :data:`MAX_AWAY` points (see the module doc).

    ``pre[i, j]``: float64 (MAX_AWAY, MAX_AWAY), MWC of the player needing i + 1 points against
    one needing j + 1, pre-Crawford. ``post[i]``: float64 (MAX_AWAY,), MWC of the trailer needing
    i + 1 points against the leader needing 1, post-Crawford. ``length``: how many points the
    source table itself covered (the rest is gnubg's extension).
    """

    name: str
    source: str
    description: str
    length: int
    pre: np.ndarray
    post: np.ndarray


# ---------------------------------------------------------------------------- loading


def default_met_path() -> Path:
    """Where the packaged table lives."""
    return Path(str(resources.files("games.backgammon").joinpath("data", "met", DEFAULT_MET)))


def _check_table(data: dict, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The (n, n) pre-Crawford and (n,) post-Crawford arrays of a table dict, or ValueError
    naming the file and the field that is wrong."""
    for field in ("name", "length", "pre_crawford", "post_crawford"):
        if field not in data:
            raise ValueError(f"{where}: field {field!r} missing")
    n = data["length"]
    if not isinstance(n, int) or not 2 <= n <= MAX_AWAY:
        raise ValueError(f"{where}: field 'length' must be an integer 2..{MAX_AWAY}, got {n!r}")
    try:
        pre = np.asarray(data["pre_crawford"], dtype=np.float64)
        post = np.asarray(data["post_crawford"], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: the tables must hold numbers ({exc})") from None
    if pre.shape != (n, n):
        raise ValueError(f"{where}: field 'pre_crawford' is {pre.shape}, expected ({n}, {n}) for length {n}")
    if post.shape != (n,):
        raise ValueError(f"{where}: field 'post_crawford' is {post.shape}, expected ({n},) for length {n}")
    for name, arr in (("pre_crawford", pre), ("post_crawford", post)):
        if not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0:
            raise ValueError(f"{where}: field {name!r} must hold chances between 0 and 1")
    return pre, post


def _normal_area(lo: float, hi: float, sigma: float) -> float:
    """P(lo < X < hi) for X ~ N(0, sigma^2) (gnubg's NormalDistArea with mean 0)."""
    return 0.5 * (math.erf(hi / sigma / math.sqrt(2.0)) - math.erf(lo / sigma / math.sqrt(2.0)))


def _extend_pre(pre: np.ndarray, n: int) -> None:
    """gnubg's ExtendMET, in place on the (MAX_AWAY, MAX_AWAY) table whose first n rows and
    columns are the source's: a player needing a points against one needing b wins with the
    chance that a normal walk of the point difference goes the right way."""
    for i in range(n, MAX_AWAY):
        a = i + 1
        sd_a = _STDDEV[a] if a <= 10 else 1.77
        for j in range(i + 1):
            b = j + 1
            sd_b = _STDDEV[b] if b <= 10 else 1.77
            sigma = math.sqrt(sd_a * sd_a + sd_b * sd_b) * math.sqrt((a + b) / 2.0)
            pre[i, j] = _normal_area(a - b, 6.0 * sigma, sigma) if 6.0 * sigma > a - b else 0.0
    for i in range(MAX_AWAY):
        for j in range(max(n, i + 1), MAX_AWAY):
            pre[i, j] = 1.0 - pre[j, i]


def _extend_post(post: np.ndarray, start: int) -> None:
    """gnubg's initPostCrawfordMET from index ``start`` on, in place: the trailer wins the next
    game (a gammon with the rate 0.25) or not, with the free drop at 2- and 4-away."""
    for i in range(start, MAX_AWAY):
        gammon = post[i - 4] if i >= 4 else 1.0
        single = post[i - 2] if i >= 2 else 1.0
        post[i] = _POST_GAMMON_RATE * 0.5 * gammon + (1.0 - _POST_GAMMON_RATE) * 0.5 * single
        if i == 1:
            post[i] -= _FREE_DROP_2
        if i == 3:
            post[i] -= _FREE_DROP_4


def table_from_dict(data: dict, where: str = "match equity table") -> MatchEquityTable:
    """A :class:`MatchEquityTable` from the JSON form (see ``data/met``), extended as gnubg does.

    As gnubg, the post-Crawford row is kept up to its second-to-last entry only and recomputed
    from there (a table for n points need not hold a meaningful post-Crawford n-away entry).
    """
    pre_n, post_n = _check_table(data, where)
    n = int(data["length"])
    pre = np.zeros((MAX_AWAY, MAX_AWAY))
    pre[:n, :n] = pre_n
    _extend_pre(pre, n)
    post = np.zeros(MAX_AWAY)
    post[: n - 1] = post_n[: n - 1]
    _extend_post(post, n - 1)
    pre.setflags(write=False)
    post.setflags(write=False)
    return MatchEquityTable(name=str(data["name"]), source=str(data.get("source", "")),
                            description=str(data.get("description", "")), length=n, pre=pre, post=post)


def read_met(path) -> MatchEquityTable:
    """A table from a JSON file in the packaged form; ValueError naming the file when it is not one."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{p}: cannot read the match equity table ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{p}: a match equity table is a JSON object, got {type(data).__name__}")
    return table_from_dict(data, where=str(p))


@lru_cache(maxsize=1)
def load_met() -> MatchEquityTable:
    """The packaged Kazaross-XG2 table, read once on first use."""
    return read_met(default_met_path())


def met_from_gnubg_xml(path) -> dict:
    """The JSON form of a GNU Backgammon MET file with explicit tables (e.g. gnubg's
    ``met/Kazaross-XG2.xml``): name, description, length, pre_crawford, post_crawford.

    ``source`` (and any credit) is for the caller to add. ValueError, naming the file, for a
    file that is not such a table (a table given by parameters, or post-Crawford rows that
    differ between the players, which the JSON form does not hold).
    """
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ValueError(f"{p}: not a readable MET XML file ({exc})") from None
    info = root.find("info")
    pre_el = root.find("pre-crawford-table")
    posts = root.findall("post-crawford-table")
    if root.tag != "met" or info is None or pre_el is None or not posts:
        raise ValueError(f"{p}: expected <met> with <info>, <pre-crawford-table> and <post-crawford-table>")
    if pre_el.get("type", "explicit") != "explicit" or any(t.get("type", "explicit") != "explicit" for t in posts):
        raise ValueError(f"{p}: only explicit tables can be converted (this one is generated from parameters)")
    if len(posts) != 1 or posts[0].get("player", "both") != "both":
        raise ValueError(f"{p}: the post-Crawford table must be one row for both players")

    def row(el) -> list[float]:
        return [float(me.text) for me in el.findall("me")]

    pre = [row(r) for r in pre_el.findall("row")]
    post_rows = posts[0].findall("row")
    if len(post_rows) != 1:
        raise ValueError(f"{p}: the post-Crawford table must hold one row, found {len(post_rows)}")
    return {
        "name": (info.findtext("name") or "").strip(),
        "description": (info.findtext("description") or "").strip(),
        "length": int(info.findtext("length") or len(pre)),
        "pre_crawford": pre,
        "post_crawford": row(post_rows[0]),
    }


# ---------------------------------------------------------------------------- match winning chances


def _check_away(name: str, away) -> int:
    a = int(away)
    if a != away:
        raise ValueError(f"{name} = {away!r} must be a whole number of points")
    if a > MAX_AWAY:
        raise ValueError(f"{name} = {a}: the match equity table covers at most {MAX_AWAY} points to go")
    return a


def match_equity(away0: int, away1: int, crawford_done: bool = False, table: MatchEquityTable | None = None) -> float:
    """MWC of the player needing ``away0`` points against one needing ``away1``, at the start of
    a game.

    A player needing 0 points (or fewer) has won: 1.0 (0.0 for the other). A score where someone
    needs 1 point is the Crawford game unless ``crawford_done`` (then post-Crawford: the
    trailer may double). ``table``: the packaged table unless given.
    """
    a = _check_away("away0", away0)
    b = _check_away("away1", away1)
    if a <= 0:
        return 1.0
    if b <= 0:
        return 0.0
    met = load_met() if table is None else table
    if crawford_done and (a == 1 or b == 1):
        if a == 1:
            return 1.0 - float(met.post[b - 1])
        return float(met.post[a - 1])
    return float(met.pre[a - 1, b - 1])


def mwc_after(away_me: int, away_opp: int, points: int, crawford: bool = False,
              table: MatchEquityTable | None = None) -> float:
    """My MWC after the game in progress ends with ``points`` for me (``-points``: I lose them).

    ``away_me``, ``away_opp``: the points each needs now; ``crawford``: the game in progress is
    the Crawford game. The next game is post-Crawford when this one is the Crawford game or
    someone already needs 1 point (gnubg's getME).
    """
    a = _check_away("away_me", away_me)
    b = _check_away("away_opp", away_opp)
    if a <= 0 or b <= 0:
        raise ValueError(f"the match is over (points to go: {a} and {b}); no game is in progress")
    pts = int(points)
    after_me = a - max(pts, 0)
    after_opp = b - max(-pts, 0)
    return match_equity(after_me, after_opp, crawford_done=bool(crawford) or a == 1 or b == 1, table=table)


def _win_lose(away_me: int, away_opp: int, cube: int, crawford: bool, table) -> tuple[float, float]:
    """My MWC when I win the cube's value, and when I lose it."""
    cube = int(cube)
    if cube < 1:
        raise ValueError(f"cube value {cube} must be at least 1")
    win = mwc_after(away_me, away_opp, cube, crawford, table)
    lose = mwc_after(away_me, away_opp, -cube, crawford, table)
    return win, lose


def eq_to_mwc(equity, away_me: int, away_opp: int, cube: int = 1, crawford: bool = False,
              table: MatchEquityTable | None = None):
    """The MWC that an equity (EMG: -1 = I lose the cube's value, +1 = I win it) stands for, at
    the score (points to go) and cube level; arrays work elementwise (gnubg's eq2mwc)."""
    win, lose = _win_lose(away_me, away_opp, cube, crawford, table)
    return 0.5 * (np.asarray(equity, dtype=np.float64) * (win - lose) + (win + lose)) if np.ndim(equity) \
        else 0.5 * (float(equity) * (win - lose) + (win + lose))


def mwc_to_eq(mwc, away_me: int, away_opp: int, cube: int = 1, crawford: bool = False,
              table: MatchEquityTable | None = None):
    """The equity (EMG, normalised to the cube) of an MWC at the score and cube level: the
    inverse of :func:`eq_to_mwc` (gnubg's mwc2eq)."""
    win, lose = _win_lose(away_me, away_opp, cube, crawford, table)
    if win == lose:
        raise ValueError(f"at {away_me}-away, {away_opp}-away with the cube at {cube} winning and losing "
                         "give the same MWC: no equity scale")
    if np.ndim(mwc):
        return (2.0 * np.asarray(mwc, dtype=np.float64) - (win + lose)) / (win - lose)
    return (2.0 * float(mwc) - (win + lose)) / (win - lose)


__all__ = ["DEFAULT_MET", "MAX_AWAY", "MatchEquityTable", "default_met_path", "eq_to_mwc", "load_met",
           "match_equity", "met_from_gnubg_xml", "mwc_after", "mwc_to_eq", "read_met", "table_from_dict"]
