"""``python -m comparison bench cube``: every source of cube judgement on the people's analysed
cube decisions, judged by GNU Backgammon's 4-ply cubeful analyses.

    python -m comparison bench cube --players people never gnubg cube.pt

On the cube decisions of ``lasse-4ply-cube.jsonl.gz`` (by default only the test part: the
analysed decisions of the latest matches by date, the matches ``train --game backgammon-cube``
holds out for testing with the same ``--test-fraction``; see :func:`test_files`), each player
decides every decision, and gnubg's analysis says what the choice costs. Reported per player:
mean equity lost per decision (mEMG, gnubg's judgement) on (a) all double decisions, (b) the
"window" where gnubg (ties included) or the person doubled, (c) take decisions; agreement with the
person and with gnubg (a choice gnubg rates best, ties either way), with the decision counts.

Players:

- ``people``: the person's own choice; ``never``: never double, always take;
- a model file trained by ``train --game backgammon-cube`` (a learned cube scorer: the
  alternative it scores higher);
- any player with a cube judgement of its own (``cube_action(board, state)``): ``default`` or a
  model file with outcome heads (cubeful theory from its probabilities), ``gnubg-full`` ...;
- ``gnubg`` / ``gnubg:N``: gnubg-nn's cubeless probabilities put through the same cube theory
  (rules.cube), when gnubg-nn is installed.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

DEFAULT_PLAYERS = ("people", "never", "gnubg")
FIXED = ("people", "never")


def add_arguments(p) -> None:
    p.add_argument("--players", "--model", dest="players", nargs="+", metavar="PLAYER",
                   default=list(DEFAULT_PLAYERS),
                   help="people, never (never double, always take), a cube model file (train --game backgammon-cube), "
                        "default or an outcome model file (cube theory), gnubg[:N] (gnubg-nn + cube theory), or any "
                        "player with a cube decision (default: people never gnubg)")
    p.add_argument("--analysis", metavar="FILE",
                   help="gnubg's cube analyses (.jsonl.gz; default ../shared/data/human-analysis/"
                        "lasse-4ply-cube.jsonl.gz)")
    p.add_argument("--records", nargs="+", metavar="PATH",
                   help="the analysed matches' records, for dates and the held-out part (default "
                        "../shared/data/human-records)")
    p.add_argument("--split", default="date", choices=("date", "valid", "none"),
                   help="judge only the test part of train's date split, the latest matches (default); its "
                        "validation part, the next latest 10%% (for choosing between cube players); or every "
                        "analysed decision")
    p.add_argument("--test-fraction", type=float, default=0.1,
                   help="the latest share of the records' cube decisions held out, whole matches (default 0.1, "
                        "train's test part)")
    p.add_argument("--limit", type=int, help="judge at most this many decisions (a random sample)")
    p.add_argument("--cache", metavar="DIR", help="decision cache folder")
    p.add_argument("--workers", type=int, default=2, help="processes reading records (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--no-progress", action="store_true")


# ------------------------------------------------------------------------------ the decisions


def test_files(records, test_fraction: float, cache_dir=None, workers: int = 2, progress: bool = True,
               part: str = "test", valid_fraction: float = 0.1) -> set:
    """Names of the record files train's date split holds out for testing: the latest matches
    (date, then the site's match number: the checker benchmark's order) that hold about
    ``test_fraction`` of the records' cube decisions (``train --game backgammon-cube``'s test part
    with its default source). A model trained by ``train`` with the same fraction never saw them,
    whatever its source: gnubg's analyses cover only some matches, and of the latest ones fewer,
    so the engine's and both sources' held-out parts contain these matches. ``part="valid"``
    gives the validation part instead: the next latest ``valid_fraction``, where train chose its
    epoch and where cube players are compared before the test part is read."""
    from comparison.data import split_three

    from ..learn.cube_data import build_cube_dataset, chronological_order

    data = build_cube_dataset(records, source="people", cache_dir=cache_dir, workers=workers, progress=progress)
    _, valid, test = split_three(data, chronological_order(data), data.meta["file"], valid_fraction, test_fraction)
    held = test if part == "test" else valid
    return {Path(str(f)).name for f in data.tables["files"][np.unique(held.meta["file"])]}


def bench_decisions(analysis, records=None, split: str = "date", test_fraction: float = 0.1, cache_dir=None,
                    workers: int = 2, progress: bool = True) -> list:
    """The analysed cube decisions to judge (AnalysedCube, file order): all of them, with
    ``split="date"`` those of the held-out test matches (:func:`test_files`), with
    ``split="valid"`` those of the validation matches."""
    from ..learn.cube_data import read_cube_analysis

    if split == "none":
        return read_cube_analysis(analysis)
    part = "valid" if split == "valid" else "test"
    return read_cube_analysis(analysis, files=test_files(records, test_fraction, cache_dir, workers, progress, part))


# ------------------------------------------------------------------------------ the players


def _choices_of(kinds, first: np.ndarray) -> list:
    """Alternative names from kinds and a bool per decision: the first alternative (double / take)?"""
    return [("double" if f else "no double") if k == "double" else ("take" if f else "pass")
            for k, f in zip(kinds, first)]


def learned_choices(path, rows) -> list:
    """The choices of a learned cube scorer (a model file of game backgammon-cube): per decision,
    the alternative it scores higher (ties: double / take)."""
    import torch

    from comparison import checkpoint

    from ..learn.cube_data import decision_items, get_encoding

    ck = checkpoint.load(path)
    featurize = get_encoding(ck.meta.get("encoding") or "extended")
    if not rows:
        return []
    items = np.concatenate([decision_items(r.decision()) for r in rows])
    with torch.inference_mode():
        scores = ck.model.eval()(torch.from_numpy(featurize(items))).numpy().reshape(-1, 2)
    return _choices_of([r.kind for r in rows], scores[:, 0] >= scores[:, 1])


def theory_choices(player, rows, progress: bool = True, desc: str = "") -> list:
    """The choices of a player with its own cube judgement, ``player.cube_action(board, state)``
    (board as the Position ID gives it, the state gnubg's: a take decision's taker is state.turn)."""
    from tqdm import tqdm

    out = []
    for r in tqdm(rows, desc=desc or "cube decisions", unit="decision", disable=not progress, file=sys.stderr):
        out.append(player.cube_action(r.board, r.state))
    return out


class GnubgTheory:
    """gnubg-nn's cubeless probabilities (of the player on roll, before rolling) put through the
    package's cube theory (:mod:`games.backgammon.rules.cube`), as a cube player."""

    def __init__(self, plies: int = 0):
        from ..players.gnubg import import_gnubg

        self.gnubg = import_gnubg()
        self.plies = int(plies)
        self.name = f"gnubg-{self.plies}ply theory"

    def probabilities(self, board) -> np.ndarray:
        """(win, win gammon, win backgammon, lose gammon, lose backgammon) of board[1], on roll."""
        return np.asarray(self.gnubg.probabilities(np.asarray(board).tolist(), self.plies), np.float64)

    def cube_action(self, board, state) -> str:
        from ..rules.cube import cube_action, cube_analysis

        return cube_action(cube_analysis(self.probabilities(board), state, board), state)


def make_cube_player(spec: str):
    """(kind, player) for a bench player name: ("fixed", name) for people / never, ("learned", path)
    for a cube model file, ("theory", bot) for a player with a cube judgement. Raises PlayerError
    (a ValueError) with the reason when the name is none of these."""
    from ..players import PlayerError, make_player, parse_spec

    name = spec.strip()
    if name.lower() in FIXED:
        return "fixed", name.lower()
    if name.lower() == "theory":
        name = "default"
    parsed = parse_spec(name)
    if parsed.kind == "file":
        game = _model_game(parsed.path)
        if game == "backgammon-cube":
            if parsed.plies:
                raise PlayerError(f"{spec}: a cube model decides at once; drop the ':{parsed.plies}'")
            return "learned", parsed.path
    if parsed.kind == "gnubg":
        try:
            return "theory", GnubgTheory(parsed.plies)
        except ImportError as e:
            raise PlayerError(str(e)) from None
    bot = make_player(name, 0)
    _check_outcome_heads(spec, bot)
    if not hasattr(bot, "cube_action"):
        raise PlayerError(f"{spec}: this player has no cube judgement (cube_action); bench cube takes people, never, "
                          "a backgammon-cube model, gnubg[:N], or a model with outcome heads")
    return "theory", bot


def _model_game(path) -> str:
    """The game a model file was trained for (its meta), read safely."""
    from comparison import checkpoint

    from ..players import PlayerError

    try:
        return checkpoint.load(path).meta.get("game", "backgammon")
    except checkpoint.CheckpointError as e:
        raise PlayerError(str(e)) from None


def _check_outcome_heads(spec, bot) -> None:
    """A trained agent's cube theory needs outcome probabilities: say so at once, not per decision."""
    from ..players import PlayerError

    model = getattr(bot, "model", None)
    if model is not None and getattr(model, "probabilities", None) is None:
        raise PlayerError(f"{spec}: the model has no outcome heads (train it with --model outcome), so it has no "
                          "cube theory; give a backgammon-cube model or an outcome model")


def player_choices(spec: str, rows, progress: bool = True) -> list:
    """Each decision's choice by player ``spec`` (one of ALTERNATIVES per row)."""
    return _choices(*make_cube_player(spec), rows, progress, spec)


def _choices(kind: str, player, rows, progress: bool, spec: str) -> list:
    if kind == "fixed":
        if player == "people":
            return [r.action for r in rows]
        return ["no double" if r.kind == "double" else "take" for r in rows]
    if kind == "learned":
        return learned_choices(player, rows)
    return theory_choices(player, rows, progress, desc=spec)


# ------------------------------------------------------------------------------ the judgement


def _mean_memg(losses: np.ndarray) -> float:
    return 1000 * float(losses.mean()) if len(losses) else float("nan")


def judge(rows, choices) -> dict:
    """Losses and agreements of ``choices`` (one per row of ``rows``) by gnubg's analyses.

    Keys: ``double`` / ``window`` / ``take`` -> {"n", "loss_memg"}; ``agree_person``,
    ``agree_gnubg`` (fractions over every decision) and the same per kind (``*_double``, ``*_take``).
    """
    valid = {"double": ("double", "no double"), "take": ("take", "pass")}
    for r, c in zip(rows, choices):
        if c not in valid[r.kind]:
            raise ValueError(f"{r.file} game {r.game} move {r.move}: the choice {c!r} is not one of "
                             f"{valid[r.kind]} for a {r.kind} decision")
    loss = np.array([r.loss(c) for r, c in zip(rows, choices)], np.float64)
    double = np.array([r.kind == "double" for r in rows], bool)
    window = np.array([r.in_window for r in rows], bool)
    same = np.array([c == r.action for r, c in zip(rows, choices)], bool)
    best = loss <= 1e-12
    out = {"double": {"n": int(double.sum()), "loss_memg": _mean_memg(loss[double])},
           "window": {"n": int(window.sum()), "loss_memg": _mean_memg(loss[window])},
           "take": {"n": int((~double).sum()), "loss_memg": _mean_memg(loss[~double])}}
    for name, hit in (("person", same), ("gnubg", best)):
        out[f"agree_{name}"] = float(hit.mean()) if len(hit) else float("nan")
        out[f"agree_{name}_double"] = float(hit[double].mean()) if double.any() else float("nan")
        out[f"agree_{name}_take"] = float(hit[~double].mean()) if (~double).any() else float("nan")
    return out


def roller_win(player, board) -> float | None:
    """The win probability ``player`` gives the player on roll of ``board`` (board[1]), before the
    roll; None for a player without probabilities."""
    evaluate = getattr(player, "evaluate", None)
    if evaluate is not None and getattr(player, "has_outcomes", True):
        return float(evaluate(board).win)
    probabilities = getattr(player, "probabilities", None)
    return None if probabilities is None else float(probabilities(board)[0])


def calibration(player, rows) -> dict | None:
    """How far ``player``'s win probability of the player on roll is from gnubg's analysed 4-ply
    one, per kind of decision: {"double" / "take": {"n", "win_mae", "win_bias"}}, over the rows
    whose analyses give probabilities; None for a player without probabilities."""
    out = {}
    for kind in ("double", "take"):
        ours, theirs = [], []
        for r in rows:
            if r.kind == kind and r.roller_probs is not None:
                win = roller_win(player, r.board)
                if win is None:
                    return None
                ours.append(win)
                theirs.append(r.roller_probs[0])
        err = np.asarray(ours) - np.asarray(theirs)
        out[kind] = {"n": len(err), "win_mae": float(np.abs(err).mean()) if len(err) else float("nan"),
                     "win_bias": float(err.mean()) if len(err) else float("nan")}
    return out


def run(players, rows, progress: bool = True, log=None) -> dict:
    """The judgement of every player on ``rows`` (AnalysedCube); a player with probabilities also
    gets their ``calibration`` against gnubg's."""
    log = log or (lambda s: None)
    res = {"decisions": len(rows), "matches": len({r.file for r in rows}), "players": {}}
    for name in players:
        log(f"cube decisions of {name} ...")
        kind, player = make_cube_player(name)
        res["players"][name] = judge(rows, _choices(kind, player, rows, progress, name))
        fit = calibration(player, rows) if kind == "theory" else None
        if fit is not None:
            res["players"][name]["calibration"] = fit
    return res


def format_table(res: dict) -> str:
    first = next(iter(res["players"].values()), None)
    counts = (f": {first['double']['n']:,} double decisions ({first['window']['n']:,} in the window), "
              f"{first['take']['n']:,} take decisions" if first else "")
    lines = [f"{res['decisions']:,} analysed cube decisions of {res['matches']:,} matches{counts}"]
    head = (f"{'player':<24} {'double':>8} {'window':>8} {'take':>8} {'agree person':>13} {'agree gnubg':>12}")
    lines += [head, "-" * len(head)]
    for name, r in res["players"].items():
        lines.append(f"{Path(name).name[:24]:<24} {r['double']['loss_memg']:8.1f} {r['window']['loss_memg']:8.1f} "
                     f"{r['take']['loss_memg']:8.1f} {100 * r['agree_person']:12.1f}% {100 * r['agree_gnubg']:11.1f}%")
    lines.append("losses: mean equity lost per decision in mEMG by gnubg's 4-ply cubeful match-aware analyses "
                 "(doubling is worth min(double/take, double/pass)); window: the double decisions where gnubg or the "
                 "person doubled; agree gnubg: a choice gnubg rates best")
    fits = {name: r["calibration"] for name, r in res["players"].items() if "calibration" in r}
    if fits:
        lines.append("the player on roll's win probability against gnubg's 4-ply (mean absolute error, mean signed "
                     "error):")
        for name, fit in fits.items():
            lines.append(f"  {Path(name).name[:24]:<24} " + "  ".join(
                f"{kind} {f['win_mae']:.4f} ({f['win_bias']:+.4f}, {f['n']:,})" for kind, f in fit.items()))
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the command


def check_arguments(args) -> str | None:
    """Why the arguments cannot work, or None; cheap, before any file is read. Every player is
    built once (a model file read without running code), so a bad name fails at once."""
    import importlib.util

    from ..learn.cube_data import default_cube_analysis_path, default_human_records
    from ..players import PlayerError

    for name, value, ok, want in (("--limit", args.limit, lambda v: v >= 1, "at least 1"),
                                  ("--workers", args.workers, lambda v: v >= 1, "at least 1"),
                                  ("--test-fraction", args.test_fraction, lambda v: 0 < v < 1,
                                   "between 0 and 1 (exclusive)")):
        if value is not None and not ok(value):
            return f"{name} must be {want}, got {value}"
    args.analysis = args.analysis or str(default_cube_analysis_path())
    if not Path(args.analysis).is_file():
        return f"--analysis {args.analysis}: no such file"
    if args.split in ("date", "valid"):
        args.records = args.records or [str(default_human_records())]
        for path in args.records:
            if not Path(path).exists():
                return f"--records {path}: no such file or folder (needed for --split date or valid; or --split none)"
    if importlib.util.find_spec("gnubg_nn") is None:   # as bench accuracy: leave gnubg out and say so
        dropped = [s for s in args.players if s.strip().lower().split(":")[0] == "gnubg"]
        if dropped:
            print(f"bench cube: gnubg-nn is not installed: {', '.join(dropped)} left out", file=sys.stderr)
            args.players = [s for s in args.players if s not in dropped]
    for spec in args.players:
        try:
            make_cube_player(spec)
        except (PlayerError, ValueError) as e:
            return f"{e}\n(bench cube also takes: people, never, a model file of train --game backgammon-cube)"
    return None


def run_command(args) -> int:
    from comparison.checkpoint import CheckpointError

    progress = not args.no_progress
    log = (lambda s: None) if args.no_progress else (lambda s: print(s, file=sys.stderr))
    problem = check_arguments(args)
    if problem:
        print(f"bench cube: {problem}", file=sys.stderr)
        return 2
    try:
        rows = bench_decisions(args.analysis, args.records, args.split, args.test_fraction, args.cache, args.workers,
                               progress)
    except (ValueError, FileNotFoundError) as e:
        print(f"bench cube: {e}", file=sys.stderr)
        return 2
    if not rows:
        print("bench cube: no analysed cube decision in the held-out matches (try --split none)", file=sys.stderr)
        return 2
    if args.limit and args.limit < len(rows):
        keep = np.sort(np.random.default_rng(args.seed).choice(len(rows), args.limit, replace=False))
        rows = [rows[i] for i in keep]
    try:
        res = run(args.players, rows, progress, log)
    except (CheckpointError, ValueError) as e:
        print(f"bench cube: {e}", file=sys.stderr)
        return 2
    res["split"] = args.split
    res["analysis"] = str(args.analysis)
    print(format_table(res))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


__all__ = ["DEFAULT_PLAYERS", "GnubgTheory", "bench_decisions", "check_arguments", "format_table", "judge",
           "learned_choices", "make_cube_player", "player_choices", "run", "test_files", "theory_choices"]
