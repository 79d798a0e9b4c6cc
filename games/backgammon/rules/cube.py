"""Cube decisions from cubeless outcome probabilities, for money and match play (numpy only).

Any evaluator that gives the cubeless outcome probabilities of the player on roll (win, win
gammon, win backgammon, lose gammon, lose backgammon; gnubg's convention: gammon figures include
backgammons) can decide the cube with this module. It follows GNU Backgammon's own 0-ply cube
evaluation (``eval.c``: Cl2CfMoney, Cl2CfMatch, GetPoints, FindBestCubeDecision), so that given
gnubg's probabilities it gives gnubg's 0-ply cube analysis; the tests check that against the
``gnubg`` module on many positions and scores.

Janowski's interpolation
------------------------
The cubeful equity is ``(1 - x) * dead + x * live``: ``dead`` is the cubeless value (nobody will
ever use the cube), ``live`` the value if the cube were perfectly efficient (a player doubles and
the other passes exactly at the cash point), which is linear in the winning chance between the
points where someone cashes. ``x``, the cube efficiency, is gnubg's by game phase
(:func:`cube_efficiency`): by default (:data:`GNUBG`) 0.68 in contact; in a race 0.55 + 0.00125 x
the pips of the player on roll, kept within 0.6..0.7; 0.6 in the bear-off. gnubg itself uses
livelier values (:data:`GNUBG_SHALLOW`, contact 0.76) for its 0- and 1-ply evaluations; with those
and gnubg's probabilities this module reproduces gnubg's 0-ply cube analysis.

- Money (Janowski 1993): the live equity is interpolated between -L (lose, with the average
  loss L = 1 + (lg + lbg) / (1 - w)), the take/cash points, and W = 1 + (wg + wbg) / w. With the
  Jacoby rule (``state.jacoby``) gammons count single while the cube is centred.
- Match ("Janowski for matches", Joern Thyssen's generalisation in gnubg): everything is a match
  winning chance (MWC) from the match equity table (:mod:`.met`). The cash points come from the
  MET at the score, through every higher cube level until the cube is dead (a doubled cube that
  would give someone the match is dead, and a player close to the end gets an automatic redouble).
  No doubling in the Crawford game; post-Crawford the leader may not double (its cube is dead) and
  the trailer may; gammons that bring nothing (the winner needs 1 point) are worth nothing.

Equities
--------
nd, dt, dp are the cubeful equities of no double, double/take and double/pass, normalised to the
current cube (dp = +1 in money for the doubler). In a match they are in gnubg's EMG units: the MWC
mapped so that losing the current cube's value is -1 and winning it +1 (:func:`.met.mwc_to_eq`).

Views (important)
-----------------
``probs`` and ``board`` are always from the view of the player on roll (``state.on_roll``), who is
the doubler; ``board[1]`` is that player, as the Position ID gives it. Without a double offered
the decider is that player ("double" / "no double"). With ``state.doubled`` the decider is the
taker (``state.turn``): :func:`cube_analysis` then returns the taker's view, the doubler's nd, dt,
dp negated (as the cube analysis file stores them), and the taker takes iff its dt > its dp (the
doubler's dt < dp; a tie is a pass, as gnubg decides).

Checker play at a score
-----------------------
:func:`outcome_values` gives the equity (EMG, cubeless) of each final outcome of the game for the
player on roll, so that a position is worth ``equity_at_score(probs, state)``: money gives
1, 2, 3 points (gammons count single under Jacoby with a centred cube); at double match point a
gammon is worth no more than a single game.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .ids import MatchState
from .met import MatchEquityTable, load_met, match_equity, mwc_to_eq
from .phases import BEAROFF, CONTACT, game_phase

# ---------------------------------------------------------------------------- cube efficiency


@dataclass(frozen=True)
class Efficiency:
    """gnubg's cube efficiency parameters (its ``set cubeefficiency ...``).

    Contact (and crashed) positions: ``contact``. Race: ``race_coefficient + race_factor x`` the
    pips of the player on roll, kept within ``race_min``..``race_max``. One-sided bear-off:
    ``bearoff``.
    """

    contact: float
    race_factor: float
    race_coefficient: float
    race_min: float
    race_max: float
    bearoff: float

    def of(self, board=None) -> float:
        """The efficiency for ``board`` (player on roll in ``board[1]``); contact's without one."""
        return cube_efficiency(board, self)


GNUBG = Efficiency(contact=0.68, race_factor=0.00125, race_coefficient=0.55, race_min=0.6, race_max=0.7,
                   bearoff=0.6)
"""gnubg's classic values (``eval.c``), which it keeps for evaluations 2 plies deep and more:
contact 0.68, race 0.55 + 0.00125 x pips within 0.6..0.7, bear-off 0.6. The default here."""

GNUBG_SHALLOW = Efficiency(contact=0.76, race_factor=0.0025, race_coefficient=0.60, race_min=0.6, race_max=0.8,
                           bearoff=0.6)
"""The values gnubg (1.1.0a16, the ``gnubg`` module) uses for 0- and 1-ply evaluations (its ``show
cubeefficiency``): contact
0.76, race 0.60 + 0.0025 x pips within 0.6..0.8, bear-off 0.6 (a livelier cube where no lookahead
sees the cube turns coming)."""

CONTACT_EFFICIENCY = GNUBG.contact

PROB_NAMES = ("win", "win_gammon", "win_backgammon", "lose_gammon", "lose_backgammon")
OUTCOMES = ("win single", "win gammon", "win backgammon", "lose single", "lose gammon", "lose backgammon")
"""The six final outcomes, in the order of :func:`outcome_values`."""


def cube_efficiency(board=None, params: Efficiency = GNUBG) -> float:
    """gnubg's cube efficiency x for ``board`` (player on roll in ``board[1]``), by game phase.

    Contact: ``params.contact`` (0.68). Race: 0.55 + 0.00125 x the pips of the player on roll
    (the bar counts 25), within 0.6..0.7. Bear-off (every checker of both sides home): 0.6. A
    finished game: 0 (the cube is dead). Without a board: the contact value. (gnubg values small
    two-sided bear-offs exactly from its database instead; that is not reproduced here.)
    """
    if board is None:
        return params.contact
    b = np.asarray(board)
    if b.shape != (2, 25):
        raise ValueError(f"board: expected shape (2, 25), got {b.shape}")
    if b[0].sum() == 0 or b[1].sum() == 0:
        return 0.0
    phase = game_phase(b)
    if phase == CONTACT:
        return params.contact
    if phase == BEAROFF:
        return params.bearoff
    pips = int(b[1].astype(np.int64) @ np.arange(1, 26))
    return min(params.race_max, max(params.race_min, params.race_coefficient + params.race_factor * pips))


# ---------------------------------------------------------------------------- inputs


def check_probs(probs) -> tuple[float, float, float, float, float]:
    """The five probabilities as floats, or ValueError naming the one that is wrong.

    Each must lie in 0..1, gammons within wins (losses), backgammons within gammons, up to 1e-6.
    """
    try:
        arr = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"probs must be 5 numbers ({', '.join(PROB_NAMES)}), got {probs!r}") from None
    if arr.shape != (5,):
        raise ValueError(f"probs must be 5 numbers ({', '.join(PROB_NAMES)}), got shape {arr.shape}")
    tol = 1e-6
    for name, v in zip(PROB_NAMES, arr):
        if not (-tol <= v <= 1.0 + tol):
            raise ValueError(f"probs: {name} = {v} is not a probability")
    w, wg, wbg, lg, lbg = (float(v) for v in arr)
    if wg > w + tol or wbg > wg + tol:
        raise ValueError(f"probs: win {w}, win_gammon {wg}, win_backgammon {wbg} are not nested "
                         "(gammons include backgammons and are part of the wins)")
    if lg > 1.0 - w + tol or lbg > lg + tol:
        raise ValueError(f"probs: lose {1 - w} (1 - win), lose_gammon {lg}, lose_backgammon {lbg} are not nested")
    return w, wg, wbg, lg, lbg


def _efficiency(efficiency, board) -> float:
    """x from a number, an :class:`Efficiency` (by the board's phase) or None (:data:`GNUBG`)."""
    if efficiency is None or isinstance(efficiency, Efficiency):
        return cube_efficiency(board, GNUBG if efficiency is None else efficiency)
    try:
        x = float(efficiency)
    except (TypeError, ValueError):
        raise ValueError(f"efficiency must be a number 0..1 or an Efficiency, got {efficiency!r}") from None
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"efficiency {x} must be between 0 and 1")
    return x


def check_cube_state(state) -> MatchState:
    """``state`` if a cube decision can be asked of it (a MatchState of a match not yet won),
    else ValueError saying why not."""
    if not isinstance(state, MatchState):
        raise ValueError(f"state must be a MatchState (games.backgammon.rules.ids), got {type(state).__name__}")
    if state.match_length and max(state.score) >= state.match_length:
        raise ValueError(f"the match to {state.match_length} is over (score {state.score}): no cube decision")
    return state


@dataclass(frozen=True)
class _Cube:
    """gnubg's cubeinfo: the cube seen by the absolute player ``move`` (0/1) who is on roll."""

    cube: int
    owner: int          # -1 centred, else the absolute player owning it
    move: int           # whose probabilities these are (on roll)
    length: int         # 0: money
    score: tuple        # by absolute player
    crawford: bool
    jacoby: bool
    met: MatchEquityTable

    @property
    def money(self) -> bool:
        return self.length == 0

    def away(self, k: int) -> int:
        """Points player k needs to win the match."""
        return self.length - self.score[k]

    def me(self, k: int, points: int) -> float:
        """Player k's MWC after this game ends with ``points`` for k (negative: k loses them)."""
        a, b = self.away(k), self.away(1 - k)
        return match_equity(a - max(points, 0), b - max(-points, 0),
                            crawford_done=self.crawford or a == 1 or b == 1, table=self.met)


def _cube_of(state: MatchState, jacoby: bool, met: MatchEquityTable | None) -> _Cube:
    return _Cube(cube=state.cube, owner=state.cube_owner, move=state.on_roll, length=state.match_length,
                 score=tuple(state.score), crawford=state.crawford, jacoby=bool(jacoby),
                 met=load_met() if met is None else met)


def _doubled(ci: _Cube) -> _Cube:
    """The cube after the player on roll doubles and the other takes: twice the value, theirs."""
    return replace(ci, cube=2 * ci.cube, owner=1 - ci.move)


# ---------------------------------------------------------------------------- money (Cl2CfMoney)


def _money_utility(p, ci: _Cube) -> float:
    """Cubeless equity per cube, with gammons worth nothing under Jacoby while the cube is centred."""
    w, wg, wbg, lg, lbg = p
    price = 0.0 if (ci.jacoby and ci.owner == -1) else 1.0
    return 2.0 * w - 1.0 + (wg - lg) * price + (wbg - lbg) * price


def _money_live(big_w: float, big_l: float, w: float, ci: _Cube) -> float:
    """Janowski's live-cube equity (per cube) at winning chance ``w``, average win W and loss L."""
    take = (big_l - 0.5) / (big_w + big_l + 0.5)   # where the opponent cashes (or I pass)
    cash = (big_l + 1.0) / (big_w + big_l + 0.5)   # where I cash
    if ci.owner == -1:
        if w < take:
            return -1.0 if ci.jacoby else -big_l + (-1.0 + big_l) * w / take
        if w < cash:
            return -1.0 + 2.0 * (w - take) / (cash - take)
        return 1.0 if ci.jacoby else 1.0 + (big_w - 1.0) * (w - cash) / (1.0 - cash)
    if ci.owner == ci.move:
        if w < cash:
            return -big_l + (1.0 + big_l) * w / cash
        return 1.0 + (big_w - 1.0) * (w - cash) / (1.0 - cash)
    if w < take:
        return -big_l + (-1.0 + big_l) * w / take
    return -1.0 + (big_w + 1.0) * (w - take) / (1.0 - take)


def _money_cubeful(p, ci: _Cube, x: float) -> float:
    """Money cubeful equity per cube: (1 - x) dead + x live (gnubg's Cl2CfMoney)."""
    w, wg, wbg, lg, lbg = p
    if w <= 1e-7 or w >= 0.9999999:  # no live cube left to use
        return _money_utility(p, ci)
    big_w = 1.0 + (wg + wbg) / w
    big_l = 1.0 + (lg + lbg) / (1.0 - w)
    return (1.0 - x) * _money_utility(p, ci) + x * _money_live(big_w, big_l, w, ci)


# ---------------------------------------------------------------------------- match (Cl2CfMatch)


def _ratios(p, ci: _Cube) -> tuple[list, list]:
    """Gammon (without backgammon) and backgammon shares of each absolute player's wins."""
    w, wg, wbg, lg, lbg = p
    mine = ((wg - wbg) / w, wbg / w) if w > 0.0 else (0.0, 0.0)
    theirs = ((lg - lbg) / (1.0 - w), lbg / (1.0 - w)) if w < 1.0 else (0.0, 0.0)
    g, bg = [0.0, 0.0], [0.0, 0.0]
    g[ci.move], bg[ci.move] = mine
    g[1 - ci.move], bg[1 - ci.move] = theirs
    return g, bg


def _expected_mwc(ci: _Cube, k: int, sign: int, stake: int, g: float, bg: float) -> float:
    """Player k's MWC when the game ends with ``stake`` for k (sign +1) or against k (sign -1),
    single, gammon or backgammon in the shares 1 - g - bg, g, bg."""
    return ((1.0 - g - bg) * ci.me(k, sign * stake) + g * ci.me(k, sign * 2 * stake)
            + bg * ci.me(k, sign * 3 * stake))


def _cash_points(p, ci: _Cube) -> tuple[float, float]:
    """Each absolute player's live-cube cash point (its winning chance where the other should
    pass a double) at the current cube level (gnubg's GetPoints).

    From the highest cube level that is still alive down to the current one: at a level where a
    doubled cube would be dead the cash point is the dead-cube one (with the opponent's automatic
    redouble when only the doubler is close to the end); below, the taker owns a live cube and
    the cash point follows from its own cash point one level up.
    """
    g, bg = _ratios(p, ci)
    i, j = ci.away(0) - 1, ci.away(1) - 1   # gnubg's normalised score
    top, n_max = ci.cube, 0
    while i >= 2 * top and j >= 2 * top:
        n_max += 1
        top *= 2
    live = {}
    for n in range(n_max, -1, -1):
        v = ci.cube << n
        prime = (2 * v if (i < 2 * v and j >= 2 * v) else v,   # player 0's stake after a take
                 2 * v if (j < 2 * v and i >= 2 * v) else v)
        for k in (0, 1):
            cash = ci.me(k, v)                                  # k cashes: wins v
            if i < 2 * v or j < 2 * v:                          # the doubled cube is dead
                s = prime[k]
                lose = _expected_mwc(ci, k, -1, 2 * s, g[1 - k], bg[1 - k])
                win = _expected_mwc(ci, k, +1, 2 * s, g[k], bg[k])
                live[k, n] = (lose - cash) / (lose - win)
            else:
                redouble_pass = ci.me(k, -2 * v)
                win = _expected_mwc(ci, k, +1, 2 * v, g[k], bg[k])
                live[k, n] = 1.0 - live[1 - k, n + 1] * (cash - win) / (redouble_pass - win)
    return live[0, 0], live[1, 0]


def _match_dead_mwc(p, ci: _Cube) -> float:
    """MWC of the player on roll with a dead cube: each outcome at the cube's value."""
    w, wg, wbg, lg, lbg = p
    k, c = ci.move, ci.cube
    return ((w - wg) * ci.me(k, c) + (wg - wbg) * ci.me(k, 2 * c) + wbg * ci.me(k, 3 * c)
            + (1.0 - w - lg) * ci.me(k, -c) + (lg - lbg) * ci.me(k, -2 * c) + lbg * ci.me(k, -3 * c))


def _cube_is_live(ci: _Cube) -> bool:
    """gnubg's fDoCubeful: no cube to use when it is dead for both, at 2-away 2-away (the double
    is automatic) and in the Crawford game."""
    n, (s0, s1) = ci.length, ci.score
    if s0 + ci.cube >= n and s1 + ci.cube >= n:
        return False
    if s0 == n - 2 and s1 == n - 2:
        return False
    return not ci.crawford


def _match_cubeful(p, ci: _Cube, x: float) -> float:
    """MWC of the player on roll with the cube ``ci``: (1 - x) dead + x live (gnubg's Cl2CfMatch)."""
    dead = _match_dead_mwc(p, ci)
    if not _cube_is_live(ci):
        return dead
    w = p[0]
    g, bg = _ratios(p, ci)
    k = ci.move
    cp = _cash_points(p, ci)
    cash, opp_cash = ci.me(k, ci.cube), ci.me(k, -ci.cube)
    lose = _expected_mwc(ci, k, -1, ci.cube, g[1 - k], bg[1 - k])
    win = _expected_mwc(ci, k, +1, ci.cube, g[k], bg[k])
    my_tg, opp_tg = cp[k], 1.0 - cp[1 - k]    # I cash above my_tg; the opponent cashes below opp_tg
    if ci.owner == -1:
        if w <= opp_tg:
            live = lose + (opp_cash - lose) * w / opp_tg if opp_tg > 0.0 else lose
        elif w < my_tg:
            live = opp_cash + (cash - opp_cash) * (w - opp_tg) / (my_tg - opp_tg)
        else:
            live = cash + (win - cash) * (w - my_tg) / (1.0 - my_tg) if my_tg < 1.0 else win
    elif ci.owner == k:
        if w <= my_tg:
            live = lose + (cash - lose) * w / my_tg if my_tg > 0.0 else lose
        else:
            live = cash + (win - cash) * (w - my_tg) / (1.0 - my_tg) if my_tg < 1.0 else win
    else:
        if w <= opp_tg:
            live = lose + (opp_cash - lose) * w / opp_tg if opp_tg > 0.0 else lose
        else:
            live = opp_cash + (win - opp_cash) * (w - opp_tg) / (1.0 - opp_tg)
    return (1.0 - x) * dead + x * live


MAX_CUBE = 4096
"""The highest cube value (gnubg's limit): no double beyond it."""


def cube_refusal(state: MatchState) -> str:
    """'' when the player on roll (``state.on_roll``) may double in ``state``; else a sentence
    saying why not. The one statement of the rule (the game loop, the cube analysis and the
    gnubg-full player all ask it):

    - the cube must be centred or owned by the player on roll;
    - in a match, not in the Crawford game, and not when the cube is dead for the doubler: its
      value already wins the match (this covers the post-Crawford leader, one point away);
    - never beyond :data:`MAX_CUBE` (a cube of 4096 cannot be doubled).

    Money play has no other limit. ``state.doubled`` and ``state.turn`` do not matter: the
    question is about the player on roll, the doubler, also while its double waits for an
    answer. Game-flow reasons (the game is over, before the first move) belong to the game loop
    (:func:`games.backgammon.play.game.cube_refusal`). Matches gnubg's own ``double`` command on
    random states (tests/test_cube_loop.py).
    """
    if not isinstance(state, MatchState):
        raise ValueError(f"state must be a MatchState (games.backgammon.rules.ids), got {type(state).__name__}")
    if state.cube_owner not in (-1, state.on_roll):
        return "the other side owns the cube"
    if state.match_length:
        if state.crawford:
            return "no doubling in the Crawford game"
        need = state.match_length - state.score[state.on_roll]
        if state.cube >= need:
            return (f"the cube is dead: winning at the cube's value ({state.cube}) already wins the match "
                    f"({need} point{'s' if need != 1 else ''} needed)")
    if state.cube * 2 > MAX_CUBE:
        return f"the cube is at its highest value ({state.cube})"
    return ""


def may_double(state: MatchState) -> bool:
    """Whether the player on roll may double in ``state`` (:func:`cube_refusal` is '')."""
    return not cube_refusal(state)


# ---------------------------------------------------------------------------- decisions


def _doubler_equities(p, ci: _Cube, x: float) -> tuple[float, float, float]:
    """(nd, dt, dp) of the player on roll, normalised to the current cube (EMG in a match)."""
    if ci.money:
        return _money_cubeful(p, ci, x), 2.0 * _money_cubeful(p, _doubled(ci), x), 1.0
    nd = _match_cubeful(p, ci, x)
    dt = _match_cubeful(p, _doubled(ci), x)
    dp = ci.me(ci.move, ci.cube)
    away_me, away_opp = ci.away(ci.move), ci.away(1 - ci.move)
    return tuple(float(mwc_to_eq(m, away_me, away_opp, ci.cube, ci.crawford, ci.met)) for m in (nd, dt, dp))


def _optional(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-5


def _proper(nd: float, dt: float, dp: float, ci: _Cube, may_double: bool, win_gammon: bool,
            beavers: bool) -> str:
    """gnubg's proper cube action (FindBestCubeDecision) in its words, for the doubler's nd, dt, dp."""
    r = "" if ci.owner == -1 else "re"              # "double" or "redouble" in the wording
    dbl = "Double" if ci.owner == -1 else "Redouble"
    if not may_double:
        if not ci.money and ci.owner in (-1, ci.move):
            return f"Never {r}double, take (dead cube)"
        return "Cube not available"
    beaver_ok = ci.money and beavers and -2.0 <= dt <= 0.0
    if dt >= nd and dp >= nd:                         # doubling is right
        if dp > dt:
            if beaver_ok:
                if 2.0 * dt < nd:
                    return "No double, beaver"
                return "Optional double, beaver" if _optional(dt, nd) else "Double, beaver"
            return f"Optional {r}double, take" if _optional(dt, nd) else f"{dbl}, take"
        if _optional(nd, dp) and win_gammon and (not ci.money or ci.owner != -1 or not ci.jacoby):
            return f"Optional {r}double, pass"
        return f"{dbl}, pass"
    if nd > dt:
        if dt > dp:                                   # nd > dt > dp
            return f"Too good to {r}double, pass" if win_gammon else f"{dbl}, pass"
        if nd > dp:                                   # nd > dp >= dt
            return f"Too good to {r}double, take" if win_gammon else f"No {r}double, take"
        return f"No {r}double, beaver" if beaver_ok else f"No {r}double, take"   # dp >= nd > dt
    return f"Too good to {r}double, pass" if win_gammon else f"{dbl}, pass"     # dt >= nd > dp


DOUBLER_ACTIONS = ("double", "no double")
TAKER_ACTIONS = ("take", "pass")


@dataclass(frozen=True)
class CubeAnalysis:
    """A cube decision analysed, from the view of the player who decides.

    ``nd``, ``dt``, ``dp``: cubeful equities of no double, double/take and double/pass,
    normalised to the current cube (EMG in a match). ``taker``: the decider is the taker (the
    numbers are then the doubler's negated, as in the cube analysis file). ``proper``: gnubg's
    verdict on the whole decision in its words ("No double, take", "Redouble, pass", "Too good
    to double, pass", ...). ``may_double``: the doubler has access to a live cube.
    ``efficiency``: the cube efficiency used.
    """

    nd: float
    dt: float
    dp: float
    proper: str
    taker: bool = False
    may_double: bool = True
    efficiency: float = CONTACT_EFFICIENCY

    def doubler_view(self) -> tuple[float, float, float]:
        """(nd, dt, dp) from the doubler's view."""
        return (-self.nd, -self.dt, -self.dp) if self.taker else (self.nd, self.dt, self.dp)

    def for_taker(self) -> "CubeAnalysis":
        """The same analysis seen by the taker."""
        return self if self.taker else self._flipped()

    def for_doubler(self) -> "CubeAnalysis":
        """The same analysis seen by the doubler (the player on roll)."""
        return self._flipped() if self.taker else self

    def _flipped(self) -> "CubeAnalysis":
        return replace(self, nd=-self.nd, dt=-self.dt, dp=-self.dp, taker=not self.taker)

    def should_double(self) -> bool:
        """Doubling is right by the verdict: "Double, ...", "Redouble, ..." or an optional double
        (doubling then changes nothing; gnubg doubles at 0 ply). That is dt >= nd and dp >= nd,
        except where gnubg's wording says otherwise: a double that would be beavered, or "too
        good" with no gammon to play for (then it doubles). Never when the cube is not available."""
        head = self.proper.split(",")[0].strip().lower()
        return self.may_double and (head in ("double", "redouble") or head.startswith("optional"))

    def should_take(self) -> bool:
        """The taker should take: its dt beats its dp (the doubler's dp > dt; a tie passes)."""
        nd, dt, dp = self.doubler_view()
        return dp > dt

    def action(self) -> str:
        """The decider's action: "double" / "no double" (a redouble is "double"; too good to
        double is "no double"), or "take" / "pass" for the taker."""
        if self.taker:
            return "take" if self.should_take() else "pass"
        return "double" if self.should_double() else "no double"

    def equity_of(self, action: str) -> float:
        """The decider's equity after ``action``: "no double" nd, "double" what the taker's best
        answer leaves (min of dt and dp for the doubler), "take" dt, "pass" dp."""
        a = str(action).strip().lower()
        if self.taker:
            if a not in TAKER_ACTIONS:
                raise ValueError(f"the taker's action is 'take' or 'pass', not {action!r}")
            return self.dt if a == "take" else self.dp
        if a not in DOUBLER_ACTIONS:
            raise ValueError(f"the doubler's action is 'double' or 'no double', not {action!r}")
        return self.nd if a == "no double" else min(self.dt, self.dp)

    def loss(self, action: str) -> float:
        """Equity given up by ``action`` against the best action (>= 0)."""
        actions = TAKER_ACTIONS if self.taker else (DOUBLER_ACTIONS if self.may_double else ("no double",))
        best = max(self.equity_of(a) for a in actions)
        return best - self.equity_of(action)

    @property
    def percent(self) -> float | None:
        """gnubg's percentage in "No double, take (25.6%)": for a no double, the share of the way
        from double/take to double/pass that no double lies (how many doubles should be passed
        before doubling is right); for too good / pass, the same from double/pass to double/take.
        None where gnubg shows none."""
        nd, dt, dp = self.doubler_view()
        head = self.proper.lower()
        if head.startswith("no ") and dp != dt:
            return (nd - dt) / (dp - dt)
        if head.startswith("too good") and head.endswith("pass") and nd <= dt and dt != dp:
            return (nd - dp) / (dt - dp)
        return None


def cube_analysis(probs, state: MatchState, board=None, efficiency: float | Efficiency | None = None,
                  jacoby: bool | None = None, beavers: bool = False,
                  met: MatchEquityTable | None = None) -> CubeAnalysis:
    """The cube decision of ``state`` from the cubeless ``probs`` of the player on roll.

    ``probs``: (win, win gammon, win backgammon, lose gammon, lose backgammon) of the player on
    roll (the doubler), whoever decides. ``board`` (that player in ``board[1]``) sets the cube
    efficiency by game phase unless ``efficiency`` is given: a number, or an :class:`Efficiency`
    parameter set (:data:`GNUBG` by default; contact's 0.68 without a board).
    ``jacoby``: the Jacoby rule in money play, ``state.jacoby`` unless given (a gnubg Match ID
    has it on unless it says otherwise). ``beavers``: money play with beavers (off here and in
    the game loop). ``met``: the match equity table, the packaged one unless given.

    Returns the decider's view: the player on roll's, or the taker's while a double is offered
    (``state.doubled``). See the module doc for the units.
    """
    p = check_probs(probs)
    st = check_cube_state(state)
    x = _efficiency(efficiency, board)
    ci = _cube_of(st, st.jacoby if jacoby is None else jacoby, met)
    nd, dt, dp = _doubler_equities(p, ci, x)
    may = may_double(st)
    proper = _proper(nd, dt, dp, ci, may, p[1] > 0.0, bool(beavers) and ci.money)
    doubler = CubeAnalysis(nd=nd, dt=dt, dp=dp, proper=proper, may_double=may, efficiency=x)
    return doubler.for_taker() if st.doubled else doubler


def cube_action(analysis_or_probs, state: MatchState, **options) -> str:
    """The decider's action in ``state``: "double" / "no double" for the player on roll, "take" /
    "pass" for the taker while a double is offered (``state.doubled``).

    Give a :class:`CubeAnalysis` of this decision, or the player on roll's probabilities (then
    ``options`` go to :func:`cube_analysis`: board, efficiency, jacoby, beavers, met).
    """
    st = check_cube_state(state)
    if isinstance(analysis_or_probs, CubeAnalysis):
        a = analysis_or_probs
        a = a.for_taker() if st.doubled else a.for_doubler()
    else:
        a = cube_analysis(analysis_or_probs, st, **options)
    return a.action()


# ---------------------------------------------------------------------------- the points


@dataclass(frozen=True)
class CubePoints:
    """Where the decision changes, as the doubler's winning chance with the gammon shares of
    its wins and losses held fixed (None where it never changes in 0..1).

    ``double_point``: double/take starts to beat no double (Janowski's doubling point).
    ``pass_point``: the taker should pass from here (its take point is ``1 - pass_point``,
    :attr:`take_point`). ``too_good_point``: no double beats double/pass from here (the too-good
    region is above it; None under the Jacoby rule with a centred cube, where gammons do not
    count). Doubling is right from ``double_point`` up to ``too_good_point``; with a perfectly
    efficient cube (x = 1) the three meet at the cash point and the window is empty.
    """

    double_point: float | None
    pass_point: float | None
    too_good_point: float | None

    @property
    def take_point(self) -> float | None:
        """The taker's lowest winning chance for a take."""
        return None if self.pass_point is None else 1.0 - self.pass_point


def _with_win(p, w: float) -> tuple:
    """``p`` with winning chance ``w`` and the same gammon / backgammon shares."""
    w0, wg, wbg, lg, lbg = p
    win = (wg / w0, wbg / w0) if w0 > 0.0 else (0.0, 0.0)
    loss = (lg / (1.0 - w0), lbg / (1.0 - w0)) if w0 < 1.0 else (0.0, 0.0)
    return w, w * win[0], w * win[1], (1.0 - w) * loss[0], (1.0 - w) * loss[1]


def _first_crossing(f, lo: float = 0.0, hi: float = 1.0, steps: int = 400) -> float | None:
    """The smallest w in [lo, hi] with f(w) >= 0, found on a grid then by bisection."""
    prev = lo
    if f(lo) >= 0.0:
        return lo
    for k in range(1, steps + 1):
        w = lo + (hi - lo) * k / steps
        if f(w) >= 0.0:
            a, b = prev, w
            for _ in range(50):
                m = 0.5 * (a + b)
                if f(m) >= 0.0:
                    b = m
                else:
                    a = m
            return b
        prev = w
    return None


def cube_points(probs, state: MatchState, board=None, efficiency: float | Efficiency | None = None,
                jacoby: bool | None = None, met: MatchEquityTable | None = None) -> CubePoints:
    """The double, pass (take) and too-good points of the player on roll in ``state``, with the
    gammon shares of ``probs`` (see :class:`CubePoints`). Money with x = 0 or 1 gives Janowski's
    dead and live points (e.g. take point (L - 1/2) / (W + L + 1/2) live)."""
    p = check_probs(probs)
    st = check_cube_state(replace(state, doubled=False, turn=state.on_roll) if isinstance(state, MatchState) else state)
    x = _efficiency(efficiency, board)
    ci = _cube_of(st, st.jacoby if jacoby is None else jacoby, met)
    may = may_double(st)

    def eq(w):
        return _doubler_equities(_with_win(p, w), ci, x)

    def doubling(w):
        nd, dt, dp = eq(w)
        return dt - nd

    def passing(w):
        nd, dt, dp = eq(w)
        return dt - dp

    def too_good(w):
        nd, dt, dp = eq(w)
        return nd - dp - 1e-12

    return CubePoints(double_point=_first_crossing(doubling) if may else None,
                      pass_point=_first_crossing(passing), too_good_point=_first_crossing(too_good))


# ---------------------------------------------------------------------------- checker play at a score


def outcome_values(state: MatchState, jacoby: bool | None = None, met: MatchEquityTable | None = None) -> np.ndarray:
    """Cubeless equity of each final outcome for the player on roll (``state.on_roll``): float64
    (6,) for (win single, gammon, backgammon, lose single, gammon, backgammon), normalised to the
    current cube (EMG in a match).

    Money: (1, 2, 3, -1, -2, -3), or all single (+-1) under the Jacoby rule (``state.jacoby``
    unless ``jacoby`` is given) with the cube centred. Match: the MWC after each outcome at the
    cube's value, mapped to EMG at the score (so 2-away 2-away with the cube at 1 or double match
    point give no more for a gammon than a single game).
    """
    st = check_cube_state(state)
    if st.match_length == 0:
        single = (st.jacoby if jacoby is None else jacoby) and st.cube_owner == -1
        win = (1.0, 1.0, 1.0) if single else (1.0, 2.0, 3.0)
        return np.array(win + tuple(-v for v in win))
    ci = _cube_of(st, False, met)
    k, c = ci.move, ci.cube
    mwc = [ci.me(k, n * c) for n in (1, 2, 3)] + [ci.me(k, -n * c) for n in (1, 2, 3)]
    return np.asarray(mwc_to_eq(np.array(mwc), ci.away(k), ci.away(1 - k), c, ci.crawford, ci.met))


def outcome_weights(state: MatchState, jacoby: bool | None = None,
                    met: MatchEquityTable | None = None) -> tuple[float, np.ndarray]:
    """(constant, weights (5,)) with equity = constant + probs @ weights for the five cumulative
    probabilities (win, win gammon, win backgammon, lose gammon, lose backgammon); the same value
    as :func:`outcome_values` over the six exclusive outcomes. Money: (-1, (2, 1, 1, -1, -1))."""
    v1, v2, v3, u1, u2, u3 = outcome_values(state, jacoby, met)
    return float(u1), np.array([v1 - u1, v2 - v1, v3 - v2, u2 - u1, u3 - u2])


def equity_at_score(probs, state: MatchState, jacoby: bool | None = None, met: MatchEquityTable | None = None):
    """Cubeless equity (EMG at the score, normalised to the cube) of the player on roll's outcome
    probabilities: one position (5,) -> float, or many (M, 5) -> float64 (M,)."""
    arr = np.asarray(probs, dtype=np.float64)
    if arr.shape[-1:] != (5,) or arr.ndim not in (1, 2):
        raise ValueError(f"probs must be (5,) or (M, 5) ({', '.join(PROB_NAMES)}), got shape {arr.shape}")
    const, weights = outcome_weights(state, jacoby, met)
    out = const + arr @ weights
    return float(out) if arr.ndim == 1 else out


__all__ = ["CONTACT_EFFICIENCY", "CubeAnalysis", "check_cube_state", "CubePoints", "Efficiency", "GNUBG", "GNUBG_SHALLOW", "MAX_CUBE",
           "OUTCOMES", "PROB_NAMES", "check_probs", "cube_action", "cube_analysis", "cube_efficiency", "cube_points",
           "cube_refusal", "equity_at_score", "may_double", "outcome_values", "outcome_weights"]
