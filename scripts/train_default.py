"""Train the default model that ships inside the package (games/backgammon/data/default-model.pt).

    python scripts/train_default.py            # needs ../shared/data (the human records and analyses)

Every candidate configuration below is trained by one `python -m comparison train` command (printed
first) on the same three-way date split of the records, whole matches at a time:

- test: the latest matches holding 10% of the decisions of the human records and the bundled corpus;
  nothing here reads them (`bench accuracy` reports on the latest 10% of the human records, a part
  of them);
- validation: the next latest matches holding as many; it chooses each run's epoch;
- train: the rest, with the gnubg self-play (no dates: it sorts first, so always trains).
  gnubg's analysed probabilities (--targets analysis) come only from the training matches.

Candidates marked "labelled" also train on gnubg's own judgements of generated positions: the
bundled corpus played again (the same seed, the same files) and more gnubg self-play games (6,000;
labelled16k-*: 14,000), written
by `records generate --label gnubg --label-candidates` into runs/labels/ (made here when missing,
about 15 games/s on one core): gnubg-nn's probabilities of every legal play of every decision, as
targets for the outcome heads (and, with --engine-pairs, engine preference pairs). None of it
comes from the human matches, so the split is untouched. Labels and selection games need the
gnubg-nn extra (`make install` installs it).

Candidates marked "tuned" start from another candidate's model file (`train --init-from`, TUNED_FROM,
trained first) and go on for a few epochs on the people's matches alone, the same matches held out.

The chosen candidate is copied into the package. Each candidate plays 2,000 selection games
against gnubg 0-ply (cubeless money, seat-swapped dice pairs, dice seed 2; the README's strength
figures use seed 1, other dice) searching 1 ply (NAME:1), so its values decide as lookahead and the
cube read them. The candidates within SEARCH_TIE (0.03 points per game, about the games' standard
error of a difference) of the best of them are level, and the best validation agreement with the
people among them wins (the rule since 2026-12-08; from 2026-12-07 the best 1-ply result alone, which
chose among candidates the games could not tell apart). `--select strength` takes the best result at
0 ply (the rule of 2026-12-02), `--select agreement` the best validation agreement (the rule
before). The measures are printed for every candidate. Each run resumes from its
runs/default-NAME.pt.last file (a finished run has nothing left to do; delete it to train afresh);
a selection match is kept beside the model (runs/default-NAME.select.json, .select1.json at 1 ply)
until the model changes.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HUMAN = ROOT.parent / "shared" / "data" / "human-records"
CORPUS = ROOT / "games" / "backgammon" / "data" / "corpus"
TARGET = ROOT / "games" / "backgammon" / "data" / "default-model.pt"
LABELS = ROOT / "runs" / "labels"
# (folder, seed, games) of the labelled self-play: the corpus again (seed 1), then new games;
# candidates named labelled16k-* add MORE_LABELLED
LABELLED = [(LABELS / "corpus", 1, 2000), (LABELS / "gnubg-s2", 2, 6000)]
MORE_LABELLED = [(LABELS / "gnubg-s4", 4, 8000)]
TUNED_FROM = ROOT / "runs" / "default-labelled-w200-listwise-forced-wide.pt"   # the tuned-* candidates start here
HUMAN_LABELS = LABELS / "human"   # gnubg-nn's labels of the human records (records label), for engine:DIR
GAMES_PER_FILE = 100  # as the bundled corpus: the same seed then writes the same files
COMMON = ["--encoding", "extended", "--hidden", "256,256", "--epochs", "10", "--patience", "3", "--seed", "1",
          "--threads", "1"]
HELD_OUT = 0.1  # validation and test: each the latest matches holding 10% of the human records and corpus
# name -> the options that differ (later options win: --epochs); every one is an outcome model
# (probabilities, equity, search, cube)
CANDIDATES = {
    "outcome-w1": ["--model", "outcome", "--targets", "analysis", "--target-weight", "1"],
    "outcome-w5": ["--model", "outcome", "--targets", "analysis", "--target-weight", "5"],
    "outcome-w20": ["--model", "outcome", "--targets", "analysis", "--target-weight", "20"],
    "outcome-w20-pairs": ["--model", "outcome", "--targets", "analysis", "--target-weight", "20", "--engine-pairs", "1"],
    "outcome-w20-e16": ["--model", "outcome", "--targets", "analysis", "--target-weight", "20", "--epochs", "16"],
    "outcome-w20-results": ["--model", "outcome", "--targets", "analysis,results", "--target-weight", "20"],
    "outcome-w20-listwise": ["--model", "outcome", "--targets", "analysis", "--target-weight", "20",
                             "--loss", "listwise"],
    # labelled: the human records with the labelled self-play instead of the bare corpus
    "labelled-w20-listwise": ["--model", "outcome", "--targets", "analysis,engine", "--target-weight", "20",
                              "--loss", "listwise"],
    "labelled-w20": ["--model", "outcome", "--targets", "analysis,engine", "--target-weight", "20"],
    # weight 200: at 20 the comparison loss bends the values (an ad-hoc fit to gnubg-nn on held-out
    # generated positions: win error 0.036 at weight 20, 0.022 at 200, 3 epochs of the corpus);
    # a larger step size fits faster
    "labelled-w200-listwise": ["--model", "outcome", "--targets", "analysis,engine", "--target-weight", "200",
                               "--loss", "listwise", "--lr", "3e-3"],
    # forced: the positions after forced plays and dances too, as value-only items (a side on the bar
    # after its own turn, which no decision shows: the net was off by 0.136 in win probability at
    # takes after the taker danced, 0.010 elsewhere; bench cube's calibration, 2026-12-02)
    "labelled-w200-listwise-forced": ["--model", "outcome", "--targets", "analysis,engine", "--target-weight",
                                      "200", "--loss", "listwise", "--lr", "3e-3", "--value-positions"],
    # wide: twice the width (the values underfit: training error = held-out error, 2026-12-02)
    "labelled-w200-listwise-forced-wide": ["--model", "outcome", "--targets", "analysis,engine", "--target-weight",
                                           "200", "--loss", "listwise", "--lr", "3e-3", "--value-positions",
                                           "--hidden", "512,512"],
    # human: gnubg-nn's labels of every play of the people's matches too (engine:DIR; training
    # matches only are read), so their forced plays and dances join the value positions
    "labelled-human-w200-listwise-forced": ["--model", "outcome", "--targets", f"analysis,engine:{HUMAN_LABELS}",
                                            "--target-weight", "200", "--loss", "listwise", "--lr", "3e-3",
                                            "--value-positions"],
    # tuned: the 512-512 net above fine-tuned (--init-from) for 3 epochs at a tenth of its step size
    # on the people's matches alone, so the comparisons are the people's only (the generated
    # self-play's comparisons are gnubg's choices: they pulled agreement down from 73.2%, 2026-12-07);
    # -values keeps the value positions and gnubg-nn's labels of the people's plays, -analysis only
    # gnubg's analyses of them
    "tuned-values": ["--model", "outcome", "--targets", f"analysis,engine:{HUMAN_LABELS}", "--target-weight", "200",
                     "--loss", "listwise", "--lr", "3e-4", "--epochs", "3", "--value-positions", "--hidden", "512,512",
                     "--init-from", str(TUNED_FROM)],
    "tuned-analysis": ["--model", "outcome", "--targets", "analysis", "--target-weight", "200", "--loss", "listwise",
                       "--lr", "3e-4", "--epochs", "3", "--hidden", "512,512", "--init-from", str(TUNED_FROM)],
    "labelled16k-w200-listwise": ["--model", "outcome", "--targets", "analysis,engine", "--target-weight", "200",
                                  "--loss", "listwise", "--lr", "3e-3"],
    # labelled-corpus: the bundled corpus's games alone, labelled (the same decisions as the outcome-* ones)
    "labelled-corpus-w20-listwise": ["--model", "outcome", "--targets", "analysis,engine", "--target-weight", "20",
                                     "--loss", "listwise"],
    "labelled-corpus-w50-listwise": ["--model", "outcome", "--targets", "analysis,engine", "--target-weight", "50",
                                     "--loss", "listwise"],
}


def labelled_records(corpus_only: bool = False, more: bool = False) -> list[str]:
    """The folders of gnubg self-play labelled at every candidate, generated where missing;
    ``corpus_only``: the bundled corpus's games alone; ``more``: MORE_LABELLED too."""
    wanted = LABELLED[:1] if corpus_only else LABELLED + (MORE_LABELLED if more else [])
    for folder, seed, games in wanted:
        if len(list(folder.glob("*.probs.jsonl"))) * GAMES_PER_FILE < games:
            cmd = [sys.executable, "-m", "comparison", "records", "generate", "--engine", "gnubg", "--games",
                   str(games), "--seed", str(seed), "--games-per-file", str(GAMES_PER_FILE), "--out", str(folder),
                   "--label", "gnubg", "--label-candidates", "--workers", "1"]
            print(" ".join(cmd), flush=True)
            subprocess.check_call(cmd, cwd=ROOT)
    return [str(folder) for folder, _, _ in wanted]


def human_labels() -> None:
    """gnubg-nn's labels of every play of the human records in HUMAN_LABELS (``records label``),
    made when missing (some minutes on one core). The held-out matches get label files too, but
    training reads labels only for the decisions of its own part."""
    if not any(HUMAN_LABELS.glob("*.probs.jsonl")):
        cmd = [sys.executable, "-m", "comparison", "records", "label", str(HUMAN), "--out", str(HUMAN_LABELS)]
        print(" ".join(cmd), flush=True)
        subprocess.check_call(cmd, cwd=ROOT)


def split_options(records: list[str]) -> list[str]:
    """--valid-fraction / --test-fraction that hold out the same matches for every candidate.

    The split takes fractions of all decisions, and generated games have no date (they always
    train), so more of them would move the human matches' boundaries. The parts are fixed as
    counts instead, 10% each of the human records with the bundled corpus, and given as the
    fractions of these ``records``' decisions (the counts come from the decision cache)."""
    from games.backgammon.learn.dataset import build_dataset

    def count(paths):
        return len(build_dataset(paths, workers=2, progress=False, log=lambda *a: None))

    base, ours = count([str(HUMAN), str(CORPUS)]), count(records)
    fraction = repr(HELD_OUT if ours == base else HELD_OUT * base / ours)
    return ["--valid-fraction", fraction, "--test-fraction", fraction]


def best_valid_agreement(path: Path) -> float:
    from comparison import checkpoint

    history = checkpoint.load(path).meta.get("history", [])
    return max((r.get("valid_top1", float("nan")) for r in history), default=float("nan"))


SELECTION = ["gnubg", "--games", "2000", "--seed", "2"]   # the selection match: opponent, games, dice


def selection_strength(path: Path, plies: int = 0) -> float:
    """Points per game of the model ``path``, searching ``plies`` (0: the 0-ply player), against
    gnubg 0-ply in the selection match (kept in <path stem>.select.json, .select1.json for 1 ply,
    while the model file is unchanged)."""
    import json

    kept = path.with_suffix(".select.json" if plies == 0 else f".select{plies}.json")
    if kept.exists() and kept.stat().st_mtime >= path.stat().st_mtime:
        return json.loads(kept.read_text())["ppg"]
    player = str(path) if plies == 0 else f"{path}:{plies}"
    cmd = [sys.executable, "-m", "comparison", "match", player, *SELECTION, "--workers", "1", "--json",
           "--no-progress"]
    print(" ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    kept.write_text(result)
    return json.loads(result)["ppg"]


# --select search: candidates this close to the best 1-ply result are level (about one standard error
# of the difference between two candidates over the same 2,000 selection games: each result's 95%
# interval is +/-0.055), and the best validation agreement among them is chosen (since 2026-12-08)
SEARCH_TIE = 0.03


def choose(scores: dict[str, dict], select: str) -> str:
    """The chosen candidate's name. ``scores``: name -> {"agreement", "strength", "search"} (validation
    agreement, points per game in the selection games at 0 and at 1 ply). ``agreement`` and
    ``strength``: the best of that measure, exact ties to the other; ``search``: the best validation
    agreement among the candidates within SEARCH_TIE of the best 1-ply result."""
    if select == "agreement":
        return max(scores, key=lambda n: (scores[n]["agreement"], scores[n]["strength"]))
    if select == "strength":
        return max(scores, key=lambda n: (scores[n]["strength"], scores[n]["agreement"]))
    top = max(m["search"] for m in scores.values())
    level = [n for n, m in scores.items() if m["search"] >= top - SEARCH_TIE - 1e-9]
    return max(level, key=lambda n: (scores[n]["agreement"], scores[n]["search"]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=sorted(CANDIDATES),
                   help="train only these candidates; nothing is copied into the package (the best of a subset "
                        "is not the best of all: compare with the packaged model, then copy by hand)")
    p.add_argument("--no-copy", action="store_true", help="do not copy the best candidate into the package")
    p.add_argument("--select", choices=("search", "strength", "agreement"), default="search",
                   help="search: the best validation agreement among the candidates within SEARCH_TIE of the best "
                        "points per game against gnubg 0-ply in the selection match, each searching 1 ply (NAME:1), "
                        "which reads the values as lookahead and the cube do (default); "
                        "strength: the same at 0 ply; agreement: the best validation agreement with the people")
    args, extra = p.parse_known_args(argv)  # anything else goes to every train command
    if not HUMAN.is_dir():
        print(f"{HUMAN}: the shared human records are needed to train the default model", file=sys.stderr)
        return 2
    scores = {}
    for name in args.only or CANDIDATES:
        out = ROOT / "runs" / f"default-{name}.pt"
        if name.startswith("tuned") and not TUNED_FROM.exists():
            print(f"{name}: fine-tunes {TUNED_FROM}, which is not trained yet (train its candidate first)",
                  file=sys.stderr)
            return 2
        corpus = (labelled_records(name.startswith("labelled-corpus"), name.startswith("labelled16k"))
                  if name.startswith("labelled") else [] if name.startswith("tuned") else [str(CORPUS)])
        if name.startswith(("labelled-human", "tuned-values")):
            human_labels()
        records = [str(HUMAN), *corpus]
        cmd = [sys.executable, "-m", "comparison", "train", "--records", *records, *COMMON, *split_options(records),
               *CANDIDATES[name], "--out", str(out), *extra]
        if Path(f"{out}.last").exists():  # finished runs resume to nothing to do; interrupted ones go on
            cmd.append("--resume")
        print(" ".join(cmd), flush=True)
        rc = subprocess.call(cmd, cwd=ROOT)
        if rc:
            return rc
        agreement = best_valid_agreement(out)
        strength = selection_strength(out)
        searched = selection_strength(out, plies=1) if args.select == "search" else float("nan")
        scores[name] = {"agreement": agreement, "strength": strength, "search": searched}
        print(f"{name}: best validation agreement {100 * agreement:.2f}%, {strength:+.3f} points per game "
              f"against gnubg 0-ply (selection games)"
              + (f", {searched:+.3f} searching 1 ply" if args.select == "search" else ""), flush=True)
    best = choose(scores, args.select)
    print(f"best candidate by {args.select}: {best}")
    if args.only:
        print(f"--only: nothing copied; the packaged model stays {TARGET}")
    elif not args.no_copy:
        shutil.copyfile(ROOT / "runs" / f"default-{best}.pt", TARGET)
        print(f"copied runs/default-{best}.pt -> {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
