"""``python -m comparison bench accuracy``: how well players predict expert plays, and what their
choices cost.

    python -m comparison bench accuracy --model default pubeval gnubg --records ../shared/data/human-records

On the non-forced decisions of the records (by default the test part of ``train``'s date split:
the latest 10% of the decisions, whole matches, which neither trained a model nor chose its epoch), every player ranks every candidate; reported per player:
top-1 agreement with the recorded play, top-3, mean reciprocal rank; mean equity loss of its
choice judged by gnubg 0-ply (cubeless money equity; needs the gnubg-nn extra) and by GNU
Backgammon's 4-ply analyses of the same decisions where they exist (match-aware; the people's
own loss is shown beside); and top-1 by kind of decision (contact, race, bearing off: a race with all the mover's checkers home).

Players: model files, ``default`` (the packaged model), ``pubeval``, ``gnubg`` (0-ply), ``random``;
``gnubg:N`` and a model searching N plies (``default:1``, ``model.pt:2``; outcome models). A
searched player ranks its move filter's plays by their searched values, above the rest by their
0-ply values, exactly as it plays; its probabilities (calibration, reliability) are its net's at
0 ply. Searching costs time per decision (``default:1``: some milliseconds; 2 plies: seconds).

``--plot PNG`` adds a reliability diagram: for every player with outcome probabilities (models
with outcome heads, gnubg), its predicted win probability of the position after the play the
person made (for the mover) against whether the mover went on to win that game, in ten bins, with
the diagonal and the counts. A game ended by a refused double counts as won by the doubler; games
without a known winner are left out. The diagram's numbers go into ``--json`` too.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ..records import default_analysis_path

# decisions by kind: contact, race, and races where the mover bears off (rules.phases.mover_bearing_off);
# not the game phase the phase router reads, whose "bear-off" needs both sides home
PHASES = ("contact", "race", "bearing off")
DEFAULT_ANALYSIS = default_analysis_path()


def add_arguments(p) -> None:
    p.add_argument("--model", nargs="+", default=["default", "pubeval", "gnubg"], metavar="PLAYER",
                   help="players: model files, default, pubeval, gnubg, random (default: default pubeval gnubg)")
    p.add_argument("--records", nargs="+", metavar="PATH", help="record files or folders (default: the bundled corpus)")
    p.add_argument("--split", default="date", choices=("date", "valid", "none"),
                   help="evaluate on the test part of train's date split, the latest matches (default); on its "
                        "validation part, the next latest matches holding as many decisions (for choosing between "
                        "players before the test part is read); or on all decisions")
    p.add_argument("--test-fraction", "--valid-fraction", dest="test_fraction", type=float, default=0.1,
                   help="the latest share of decisions with --split date (default 0.1, train's test part; "
                        "--valid-fraction is its old name)")
    p.add_argument("--analysis", metavar="FILE",
                   help="gnubg analyses (.jsonl.gz) of the records (default: ../shared/data/human-analysis/"
                        "lasse-4ply.jsonl.gz when present; 'none' to skip)")
    p.add_argument("--limit", type=int, help="evaluate at most this many decisions (a random sample)")
    p.add_argument("--cache", metavar="DIR", help="decision cache folder")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--plot", metavar="PNG",
                   help="also draw a reliability diagram: each player's predicted win probability after the play "
                        "made against the game's result, binned, with counts (players with probabilities: models "
                        "with outcome heads, gnubg; default: no diagram)")
    p.add_argument("--no-progress", action="store_true")


# ------------------------------------------------------------------------------ scorers


def player_scores(name: str, data, seed: int = 0, progress: bool = False) -> np.ndarray:
    """Every candidate's score by player ``name`` (higher = preferred), (M,)."""
    from ..players import parse_spec

    spec = parse_spec(name)
    if spec.kind == "pubeval":
        from ..players.bots import pubeval_scores
        from ..rules.phases import race_flags

        race = np.repeat(race_flags(data.meta["board"]), data.sizes)
        return pubeval_scores(data.items, race).astype(np.float64)
    if spec.kind == "random":
        return np.random.default_rng(seed).random(data.n_items)
    if spec.kind == "gnubg":
        from ..players.gnubg import GnubgBot

        return GnubgBot(spec.plies).result_equities(data.items)
    if spec.plies:
        return searched_scores(name, data, progress)
    from comparison.evaluate import score_set

    from ..players.agent import load_agent

    agent = load_agent(None if spec.kind == "default" else spec.path)
    return score_set(agent.model, data, agent.featurize).astype(np.float64)


def searched_scores(name: str, data, progress: bool = True) -> np.ndarray:
    """Scores (M,) whose order within each decision is a searched model player's order
    (players.search.SearchAgent.rank_keys), one decision at a time."""
    from tqdm import tqdm

    from ..players import make_player

    bot = make_player(name, 0)
    out = np.empty(data.n_items, np.float64)
    for g in tqdm(range(len(data)), desc=f"searching ({name})", unit="decision", disable=not progress,
                  file=sys.stderr, leave=False):
        lo, hi = data.offsets[g], data.offsets[g + 1]
        out[lo:hi] = bot.rank_keys(data.items[lo:hi])
    return out


def player_probabilities(name: str, results: np.ndarray):
    """Outcome probabilities (K, 5) of the mover after each result by player ``name``, or None
    when the player has none (pubeval, random, a model without outcome heads)."""
    from ..players import parse_spec

    spec = parse_spec(name)
    if spec.kind == "gnubg":
        from ..players.gnubg import GnubgBot

        return GnubgBot(spec.plies).result_probabilities(results)
    if spec.kind not in ("default", "file"):
        return None
    import torch

    from ..players.agent import load_agent

    agent = load_agent(None if spec.kind == "default" else spec.path)
    probabilities = getattr(agent.model, "probabilities", None)
    if probabilities is None:
        return None
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(agent.featurize(results), dtype=np.float32))
        return probabilities(x).numpy().astype(np.float64)


def calibration(probs: np.ndarray, targets: np.ndarray) -> dict:
    """Mean absolute errors of outcome probabilities (K, 5) against targets (K, 5): win, gammon
    (win gammon and lose gammon, averaged) and the cubeless equity they give."""
    from ..rules.scoring import cubeless_equity

    eq = np.array([cubeless_equity(p) for p in probs])
    eq_t = np.array([cubeless_equity(p) for p in targets])
    return {"candidates": int(len(probs)), "mae_win": float(np.abs(probs[:, 0] - targets[:, 0]).mean()),
            "mae_gammon": float(np.abs(probs[:, [1, 3]] - targets[:, [1, 3]]).mean()),
            "mae_equity": float(np.abs(eq - eq_t).mean())}


def analysed_candidates(data, analyses) -> tuple[np.ndarray, np.ndarray]:
    """(rows into data.items, gnubg's probabilities (K, 5)) of every analysed candidate with probabilities."""
    rows, probs = [], []
    for g, a in enumerate(analyses):
        if a is None or a.probs is None:
            continue
        ok = (a.indices >= 0) & ~np.isnan(a.probs).any(axis=1)
        rows.append(data.offsets[g] + a.indices[ok])
        probs.append(a.probs[ok])
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 5))
    return np.concatenate(rows), np.concatenate(probs).astype(np.float64)


def phases(boards: np.ndarray) -> np.ndarray:
    """0 contact, 1 race, 2 bearing off (a race with every mover checker home) of positions (G, 2, 25)."""
    from ..rules.phases import mover_bearing_off, race_flags

    return np.where(mover_bearing_off(boards), 2, np.where(race_flags(boards), 1, 0))


# ------------------------------------------------------------------------------ the benchmark


def chosen_results(data) -> tuple[np.ndarray, np.ndarray]:
    """(the result each decision's player chose (G, 2, 25), whether the mover won that game (G,):
    1.0 / 0.0, NaN when the game's winner is unknown)."""
    results = data.items[data.offsets[:-1] + data.chosen]
    won = np.asarray(data.meta["result"], np.float64)[:, 0] if "result" in data.meta else np.full(len(data), np.nan)
    return results, won


def run(players, data, analyses=None, gnubg_equities=None, seed: int = 0, log=None,
        reliability: bool = False, progress: bool = False) -> dict:
    """Metrics of each player on ``data``; ``analyses``: one Analysis or None per decision;
    ``gnubg_equities``: gnubg 0-ply equity of every candidate (M,) or None; ``reliability``: also
    each player's reliability table (comparison.plots.reliability_table) of its win probability
    after the chosen play against the game's result, for players with probabilities."""
    from comparison.evaluate import expert_ranks, picks, rank_metrics

    log = log or (lambda s: None)
    phase = phases(data.meta["board"])
    starts = data.offsets[:-1]
    out = {"decisions": len(data), "players": {}}
    calib_rows = calib_targets = None
    if analyses is not None:
        human = [a.loss(data.items[s + c]) for a, s, c in zip(analyses, starts, data.chosen) if a is not None]
        out["analysed_decisions"] = len(human)
        out["human_loss_4ply_memg"] = 1000 * float(np.mean([x for x, _ in human])) if human else float("nan")
        calib_rows, calib_targets = analysed_candidates(data, analyses)
    for name in players:
        log(f"scoring with {name} ...")
        reuse = name in ("gnubg", "gnubg:0") and gnubg_equities is not None
        scores = gnubg_equities if reuse else player_scores(name, data, seed, progress)
        row = rank_metrics(scores, data.offsets, data.chosen)
        ranks = expert_ranks(scores, data.offsets, data.chosen)
        row["top1_by_phase"] = {ph: float((ranks[phase == k] == 1).mean()) if (phase == k).any() else float("nan")
                                for k, ph in enumerate(PHASES)}
        pick = picks(scores, data.offsets)
        if gnubg_equities is not None:
            best = np.maximum.reduceat(gnubg_equities, starts)
            row["loss_0ply_memg"] = 1000 * float(np.mean(best - gnubg_equities[starts + pick]))
        if analyses is not None:
            lost = [a.loss(data.items[s + k]) for a, s, k in zip(analyses, starts, pick) if a is not None]
            if lost:
                row["loss_4ply_memg"] = 1000 * float(np.mean([x for x, _ in lost]))
                row["listed_4ply"] = float(np.mean([ok for _, ok in lost]))
        if calib_rows is not None and len(calib_rows):
            probs = player_probabilities(name, data.items[calib_rows])
            if probs is not None:  # against gnubg's analysed (2- to 4-ply mostly) probabilities
                row["calibration"] = calibration(probs, calib_targets)
        if reliability:
            from comparison.plots import reliability_table

            results, won = chosen_results(data)
            probs = player_probabilities(name, results)
            if probs is not None:
                row["reliability"] = reliability_table(probs[:, 0], won)
        out["players"][name] = row
    return out


def format_table(res: dict) -> str:
    lines = [f"{res['decisions']:,} non-forced decisions"
             + (f", {res['analysed_decisions']:,} with gnubg 4-ply analyses (the people's own loss "
                f"{res['human_loss_4ply_memg']:.1f} mEMG)" if "analysed_decisions" in res else "")]
    head = f"{'player':<22} {'top-1':>7} {'top-3':>7} {'MRR':>6} {'loss 0-ply':>10} {'loss 4-ply':>10}  top-1 contact/race/bearing off"
    lines += [head, "-" * len(head)]
    for name, r in res["players"].items():
        ph = "/".join(f"{100 * r['top1_by_phase'][p]:.1f}" for p in PHASES)
        l0 = f"{r['loss_0ply_memg']:.1f}" if "loss_0ply_memg" in r else "-"
        l4 = f"{r['loss_4ply_memg']:.1f}" if "loss_4ply_memg" in r else "-"
        lines.append(f"{Path(name).name[:22]:<22} {100 * r['top1']:6.2f}% {100 * r['top3']:6.2f}% {r['mrr']:6.3f} "
                     f"{l0:>10} {l4:>10}  {ph}")
    calibrated = {n: r["calibration"] for n, r in res["players"].items() if "calibration" in r}
    if calibrated:
        k = next(iter(calibrated.values()))["candidates"]
        lines.append(f"calibration against gnubg's analysed probabilities of {k:,} candidates (mean absolute error):")
        for name, c in calibrated.items():
            lines.append(f"  {Path(name).name[:22]:<22} win {c['mae_win']:.4f}  gammon {c['mae_gammon']:.4f}  "
                         f"equity {c['mae_equity']:.4f}")
    lines.append("loss: mean equity lost by the player's choice, in millipoints (mEMG); 0-ply: gnubg 0-ply cubeless "
                 "money equity; 4-ply: gnubg's cubeful match-aware analyses (unlisted choices charged the worst "
                 "listed loss, a lower bound)")
    return "\n".join(lines)


def check_arguments(args) -> str | None:
    """Why the arguments cannot work, or None; cheap, so it runs before any record is read or scored.

    Every player is built once here (a model file is read, without running code from it), so a
    missing or foreign model file is reported at once rather than after minutes of gnubg
    equities. Built-in names are normalised in ``args.model`` to the spelling ``player_scores`` knows.
    """
    import importlib.util

    from ..players import PlayerError, make_player, parse_spec

    for name, value, ok, want in (("--limit", args.limit, lambda v: v >= 1, "at least 1"),
                                  ("--workers", args.workers, lambda v: v >= 1, "at least 1"),
                                  ("--test-fraction", args.test_fraction, lambda v: 0 < v < 1,
                                   "between 0 and 1 (exclusive)")):
        if value is not None and not ok(value):
            return f"{name} must be {want}, got {value}"
    for path in args.records or []:
        if not Path(path).exists():
            return f"{path}: no such file or folder"
    if args.analysis and args.analysis != "none" and not Path(args.analysis).is_file():
        return f"--analysis {args.analysis}: no such file"
    plot = getattr(args, "plot", None)
    if plot and (Path(plot).is_dir() or Path(plot).suffix.lower() not in (".png", ".pdf", ".svg", ".jpg")):
        return f"--plot {plot}: name a picture file (.png, .pdf, .svg or .jpg)"
    have_gnubg = importlib.util.find_spec("gnubg_nn") is not None
    names = []
    for spec in args.model:
        try:
            parsed = parse_spec(spec)
            kind = parsed.kind
            # without gnubg-nn the run leaves gnubg players out and says so, as it always did
            if kind != "gnubg" or have_gnubg:
                make_player(spec, 0)
        except PlayerError as e:
            return str(e)
        names.append(spec.strip().lower() if kind != "file" else spec)
    args.model = names
    return None


def run_command(args) -> int:
    from comparison.checkpoint import CheckpointError
    from comparison.data import split_latest, split_three

    from ..learn.dataset import build_dataset, chronological_order, default_records
    from ..players import parse_spec

    log = (lambda s: None) if args.no_progress else (lambda s: print(s, file=sys.stderr))
    problem = check_arguments(args)
    if problem:
        print(f"bench accuracy: {problem}", file=sys.stderr)
        return 2
    try:
        data = build_dataset(args.records or [default_records()], cache_dir=args.cache, workers=args.workers,
                             progress=not args.no_progress)
    except (ValueError, FileNotFoundError) as e:
        print(f"bench accuracy: {e}", file=sys.stderr)
        return 2
    if args.split == "date":
        # records train never read with the same --test-fraction: the bundled corpus has no dates and
        # sorts first, so a training set that adds it holds out a superset of these matches
        _, data = split_latest(data, chronological_order(data), data.meta["file"], args.test_fraction)
    elif args.split == "valid":
        _, data, _ = split_three(data, chronological_order(data), data.meta["file"], args.test_fraction,
                                 args.test_fraction)
    if args.limit and args.limit < len(data):
        data = data.subset(np.sort(np.random.default_rng(args.seed).choice(len(data), args.limit, replace=False)))
    analyses = None
    analysis_path = args.analysis or (str(DEFAULT_ANALYSIS) if DEFAULT_ANALYSIS.exists() else None)
    if analysis_path and analysis_path != "none":
        from ..learn.dataset import analyses_of_dataset

        log(f"matching decisions to {analysis_path} ...")
        analyses = analyses_of_dataset(data, analysis_path)
        if not any(a is not None for a in analyses):
            analyses = None
    gnubg_equities = None
    try:
        from ..players.gnubg import GnubgBot

        log("gnubg 0-ply equities of every candidate ...")
        gnubg_equities = GnubgBot(0).result_equities(data.items)
    except ImportError:
        log("gnubg-nn is not installed: no 0-ply equity loss, no gnubg player")
        args.model = [m for m in args.model if parse_spec(m).kind != "gnubg"]
    try:
        res = run(args.model, data, analyses, gnubg_equities, args.seed, log, reliability=bool(args.plot),
                  progress=not args.no_progress)
    except CheckpointError as e:
        print(f"bench accuracy: {e}", file=sys.stderr)
        return 2
    print(format_table(res))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    if args.plot:
        draw_reliability(res, args.plot)
    return 0


def draw_reliability(res: dict, png) -> None:
    """The reliability diagram of :func:`run`'s results (players with a ``reliability`` table) to ``png``."""
    from comparison.plots import plot_reliability

    tables = {Path(name).name: r["reliability"] for name, r in res["players"].items() if "reliability" in r}
    if not tables:
        print("bench accuracy: no reliability diagram: no player has outcome probabilities (models with outcome "
              "heads, gnubg)", file=sys.stderr)
        return
    n = next(iter(tables.values()))["n"]
    plot_reliability(tables, png, title=f"win probability after the play made, {n:,} decisions of finished games")
    print(f"reliability diagram: {png}")


__all__ = ["PHASES", "check_arguments", "chosen_results", "draw_reliability", "format_table", "phases",
           "player_scores", "run"]
