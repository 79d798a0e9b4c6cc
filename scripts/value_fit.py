"""How close a model's outcome probabilities are to gnubg-nn's, on positions it never trained on.

    python scripts/value_fit.py [--model FILE ...] [--games 400 --seed 5 | --records DIR] [--json FILE]

The positions are every legal play of every non-forced decision of gnubg self-play games,
labelled by gnubg-nn at 0 ply (`records generate --label gnubg --label-candidates`): played here
into a temporary folder (dice seed 5: `scripts/train_default.py` trains on seeds 1, 2 and 4, and
seed 3's games chose its target weight), or read from
``--records`` (a folder written that way). For each model (default: the packaged one) it prints the
mean absolute error of the win and gammon probabilities and of the cubeless equity against the
labels, with the mean signed error of the win probability, in all positions, in races and in
contact (a race: no checker still has to pass an enemy one); then, apart, in the positions after
the games' forced plays and dances (``forced``: no decision shows them) and among those where the
mover is still on the bar after its own turn (``on bar``: what a take after a dance, and a search
that looks at the opponent's dances, evaluate).

This measures what lookahead and cube decisions need of a net: absolute values, comparable across
rolls. The calibration target of the README is measured elsewhere (`bench accuracy`, against
gnubg's 2- to 4-ply analyses of the people's test matches); this one needs no shared data, only
the gnubg-nn extra, and tells in minutes whether a training change fits the teacher better.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def value_errors(probs: np.ndarray, labels: np.ndarray) -> dict:
    """Errors of outcome probabilities (N, 5) against labels (N, 5), gnubg's order."""
    from games.backgammon.rules.scoring import cubeless_equity

    if not len(labels):
        return {"positions": 0}
    diff = probs - labels
    return {"positions": int(len(labels)),
            "win_mae": float(np.abs(diff[:, 0]).mean()),
            "win_bias": float(diff[:, 0].mean()),
            "gammon_mae": float(np.abs(diff[:, 1]).mean()),
            "equity_mae": float(np.abs(cubeless_equity(probs) - cubeless_equity(labels)).mean())}


def labelled_positions(folder) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every labelled candidate under ``folder``: boards (N, 2, 25) and gnubg's probabilities (N, 5);
    then the positions after forced plays and dances, boards (F, 2, 25) and probabilities (F, 5)."""
    from games.backgammon.learn.dataset import build_dataset, forced_positions

    quiet = lambda *a: None  # noqa: E731
    with tempfile.TemporaryDirectory() as cache:
        data = build_dataset([str(folder)], cache_dir=cache, workers=1, progress=False, targets="engine", log=quiet)
    known = ~np.isnan(data.targets).any(axis=1)
    if not known.any():
        raise SystemExit(f"{folder}: no labelled candidates (write them with records generate --label gnubg "
                         f"--label-candidates)")
    forced = forced_positions(data, log=quiet)
    return data.items[known], data.targets[known], forced.items, forced.targets


def fit_report(models, boards, labels, forced_boards=None, forced_labels=None) -> dict:
    """{model: {"all" / "race" / "contact" [/ "forced" / "on bar"]: value_errors}} of each model file
    (None: the default); the last two when the positions after forced plays and dances are given."""
    from games.backgammon.players.agent import load_agent
    from games.backgammon.rules.board import BAR
    from games.backgammon.rules.phases import race_flags

    race = race_flags(boards)
    report = {}
    for path in models:
        agent = load_agent(None if path in (None, "default") else path, threads=1)
        if not agent.has_outcomes:
            raise SystemExit(f"{path}: a model without outcome heads has no probabilities to compare")
        evaluate = lambda b: np.concatenate([agent.result_probabilities(b[i:i + 8192])  # noqa: E731
                                             for i in range(0, len(b), 8192)] or [np.zeros((0, 5))])
        probs = evaluate(boards)
        report[path or "default"] = parts = {part: value_errors(probs[sel], labels[sel])
                                             for part, sel in (("all", slice(None)), ("race", race), ("contact", ~race))}
        if forced_boards is not None:
            probs = evaluate(forced_boards)
            on_bar = forced_boards[:, 1, BAR] > 0    # the mover's bar: it danced, or entered one checker of two
            parts["forced"] = value_errors(probs, forced_labels)
            parts["on bar"] = value_errors(probs[on_bar], forced_labels[on_bar])
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", nargs="+", default=[None], help="model files, or default (the packaged model; the default)")
    p.add_argument("--records", help="a folder of labelled self-play (default: play --games new ones)")
    p.add_argument("--games", type=int, default=400, help="games to play and label (default 400)")
    p.add_argument("--seed", type=int, default=5,
                   help="their dice seed (default 5; training used 1, 2 and 4, and 3 chose the target weight)")
    p.add_argument("--json", help="write the report here too")
    args = p.parse_args(argv)
    from comparison.checkpoint import CheckpointError

    try:
        if args.records:
            positions = labelled_positions(args.records)
        else:
            from games.backgammon.play.generate import generate

            with tempfile.TemporaryDirectory() as tmp:
                generate(tmp, "gnubg", games=args.games, seed=args.seed, workers=1, progress=True, label="gnubg",
                         label_candidates=True)
                positions = labelled_positions(tmp)
        report = fit_report(args.model, *positions)
    except (CheckpointError, ValueError, OSError, ImportError) as e:   # a bad file or folder, no gnubg-nn
        print(f"value_fit: {e}", file=sys.stderr)
        return 2
    print(f"{len(positions[1]):,} labelled candidates and {len(positions[3]):,} positions after forced plays and "
          "dances (gnubg-nn 0 ply); mean absolute error (win bias = mean signed error)")
    print(f"{'model':<40} {'part':<8} {'positions':>9} {'win':>7} {'bias':>8} {'gammon':>7} {'equity':>7}")
    for name, parts in report.items():
        for part, e in parts.items():
            if not e["positions"]:
                continue
            print(f"{Path(name).name:<40} {part:<8} {e['positions']:>9,} {e['win_mae']:>7.4f} {e['win_bias']:>+8.4f} "
                  f"{e['gammon_mae']:>7.4f} {e['equity_mae']:>7.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"records": args.records, "games": None if args.records else args.games,
                                               "seed": None if args.records else args.seed, "models": report},
                                              indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
