"""Speed of the backgammon engine against its peers, measured in one run on one core.

What is measured (``run`` returns it all as a dict, and prints a table):

- move generation in batch: ``legal_results_batch`` in chunks of 10,000 positions, against
  gnubg-nn's ``gnubg_nn.moves`` called in a Python loop over the same positions (positions/s);
- one ``legal_plays`` call from Python against one ``gnubg_nn.moves`` call, on the same 3,000
  positions (microseconds per call, the board and dice checks included; best of alternating
  rounds, so both see the same machine);
- whole random games: the compiled ``random_games`` loop against OpenSpiel's backgammon played
  with uniformly random legal actions in a Python loop, chance nodes sampled by their
  probabilities (games/s);
- start-up: a fresh process with an empty Numba cache (compile time) and a second one with the
  cache warm, each timed from inside to the first legal play, plus the bare interpreter start
  timed from outside.

Peers that are not installed are reported as "skipped (not installed)". Nothing here asserts a
timing: targets are printed next to the figures for the reader.
"""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # effective only if numba is not imported yet

import importlib
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[3]  # commands/ < backgammon/ < games/ < the checkout
CHUNK = 10_000
FIRST_PLAY_CODE = (
    "import time; t=time.time(); import games.backgammon as bg; "
    "bg.legal_plays(bg.start_board(),3,1); print(time.time()-t)"
)
TARGETS = {"movegen_ratio": 2.0, "call_ratio": 3.0, "games_ratio": 20.0, "warm_start_s": 2.0}
CALL_POSITIONS = 3_000  # positions of the per-call comparison


def pin_one_core() -> int | None:
    """Pin this process (and the children it starts later) to one CPU; that CPU, or None."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def _peer(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _bench_batch(boards, dice) -> dict:
    from ..rules.legal import legal_results_batch

    legal_results_batch(boards[:10], dice[:10])  # compile or load from the cache first
    n = len(boards)
    t = time.perf_counter()
    results = 0
    for i in range(0, n, CHUNK):
        r, _ = legal_results_batch(boards[i : i + CHUNK], dice[i : i + CHUNK])
        results += len(r)
    dt = time.perf_counter() - t
    return {"positions": n, "results": results, "seconds": dt, "positions_per_s": n / dt}


def _bench_gnubg(gnubg_nn, boards, dice, seconds: float) -> dict:
    lists = [b.tolist() for b in boards]  # conversion is not part of gnubg's time
    d = dice.tolist()
    moves = gnubg_nn.moves
    n = len(lists)
    done = 0
    t = time.perf_counter()
    deadline = t + seconds
    while done < n:
        stop = min(n, done + 1000)
        for i in range(done, stop):
            moves(lists[i], d[i][0], d[i][1])
        done = stop
        if time.perf_counter() > deadline:
            break
    dt = time.perf_counter() - t
    return {"positions": done, "seconds": dt, "positions_per_s": done / dt}


def _count_agreement(gnubg_nn, boards, dice, offsets, n: int) -> dict:
    """How many of the first n positions have as many distinct results in gnubg as in ours."""
    counts = np.diff(offsets)
    n = min(n, len(boards))
    same = sum(
        len(set(gnubg_nn.moves(boards[i].tolist(), int(dice[i, 0]), int(dice[i, 1])))) == counts[i]
        for i in range(n)
    )
    return {"checked": n, "same_count": int(same)}


def _bench_calls(gnubg_nn, boards, dice, seconds: float) -> dict:
    """One ``legal_plays`` call against one ``gnubg_nn.moves`` call (None: ours only), per call.

    Both take the first CALL_POSITIONS positions as they would be held: ours a (2, 25) int8 array,
    gnubg-nn the same board as nested lists (same orientation; the conversion is not timed).
    Rounds over all of them alternate between the two until ``seconds`` have passed, and each
    side's best round counts: on a busy machine the best is what the code costs, and alternating
    gives both the same chances.
    """
    from ..rules.legal import legal_plays

    n = min(CALL_POSITIONS, len(boards))
    ours_in = list(boards[:n])
    peer_in = [b.tolist() for b in ours_in]
    d = dice[:n].tolist()
    legal_plays(ours_in[0], d[0][0], d[0][1])  # compile or load from the cache first
    moves = gnubg_nn.moves if gnubg_nn is not None else None  # a local, as legal_plays is
    timer = time.perf_counter
    ours, peer = [], []
    deadline = timer() + seconds
    while not ours or timer() < deadline:
        t = timer()
        for i in range(n):
            legal_plays(ours_in[i], d[i][0], d[i][1])
        ours.append(timer() - t)
        if moves is not None:
            t = timer()
            for i in range(n):
                moves(peer_in[i], d[i][0], d[i][1])
            peer.append(timer() - t)

    def figures(times):
        return {"positions": n, "rounds": len(times), "us_per_call": 1e6 * min(times) / n,
                "median_us_per_call": 1e6 * float(np.median(times)) / n}

    return {"ours": figures(ours), "gnubg": figures(peer) if peer else None}


def _bench_random_games(seed: int, seconds: float) -> dict:
    from ..rules.compiled_games import random_games

    random_games(10, seed)  # compile or load from the cache first
    n = 200
    while True:
        t = time.perf_counter()
        random_games(n, seed)
        dt = time.perf_counter() - t
        if dt >= 0.5 * seconds or n >= 10_000_000:
            break
        n = int(n * min(10.0, max(2.0, seconds / max(dt, 1e-6))))
    return {"games": n, "seconds": dt, "games_per_s": n / dt}


def _bench_openspiel(pyspiel, seed: int, seconds: float) -> dict:
    game = pyspiel.load_game("backgammon")
    rng = random.Random(seed)
    games = plies = 0
    t = time.perf_counter()
    deadline = t + seconds
    while games == 0 or time.perf_counter() < deadline:
        state = game.new_initial_state()
        while not state.is_terminal():
            if state.is_chance_node():
                actions, probs = zip(*state.chance_outcomes())
                state.apply_action(rng.choices(actions, weights=probs)[0])
            else:
                state.apply_action(rng.choice(state.legal_actions()))
                plies += 1
        games += 1
    dt = time.perf_counter() - t
    return {"games": games, "plies": plies, "seconds": dt, "games_per_s": games / dt}


def _time_process(code: str, env: dict) -> tuple[float, float, str]:
    """(outer wall seconds, the float the process printed or nan, stderr tail)."""
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    outer = time.perf_counter() - t
    try:
        inner = float(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        inner = float("nan")
    return outer, inner, p.stderr[-500:] if p.returncode else ""


def _bench_startup() -> dict:
    env = dict(os.environ)
    env["NUMBA_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    interp, _, _ = _time_process("pass", env)
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        cold_outer, cold_inner, err1 = _time_process(FIRST_PLAY_CODE, env)
        warm_outer, warm_inner, err2 = _time_process(FIRST_PLAY_CODE, env)
    out = {
        "interpreter_start_s": interp,
        "cold_first_play_s": cold_inner,  # import + compile + first play, from inside
        "cold_process_s": cold_outer,  # the whole process, from outside
        "warm_first_play_s": warm_inner,
        "warm_process_s": warm_outer,
        "warm_to_first_play_s": interp + warm_inner,  # interpreter start + import + first play
    }
    if err1 or err2:
        out["error"] = (err1 or err2).strip()
    return out


def run(n_positions: int = 200_000, seconds: float = 5.0, seed: int = 1, peers: bool = True,
        startup: bool = True, pin: bool = True, out=print) -> dict:
    """Measure everything once on one core; print a table through ``out``; return the figures.

    ``seconds`` bounds each timed loop that runs in Python (peers, ``legal_plays`` against
    gnubg-nn's ``moves``) and sizes the ``random_games`` run. ``peers=False`` skips gnubg-nn and
    OpenSpiel, ``startup=False`` the subprocess start-up measurements; ``pin=False`` leaves the
    CPU affinity alone (it is a process-wide setting, inherited by the start-up subprocesses).
    """
    cpu = pin_one_core() if pin else None
    from ..rules.compiled_games import random_positions
    from ..rules.legal import legal_results_batch

    boards, dice = random_positions(n_positions, seed)
    res: dict = {
        "cpu": cpu,
        "numba_num_threads": os.environ.get("NUMBA_NUM_THREADS"),
        "n_positions": n_positions,
        "seed": seed,
        "python": sys.version.split()[0],
    }
    gnubg_nn = _peer("gnubg_nn") if peers else None
    pyspiel = _peer("pyspiel") if peers else None
    skipped = "skipped (not installed)" if peers else "skipped (peers off)"

    res["batch"] = _bench_batch(boards, dice)
    if gnubg_nn is not None:
        res["gnubg_moves"] = _bench_gnubg(gnubg_nn, boards, dice, seconds)
        _, offsets = legal_results_batch(boards[:1000], dice[:1000])
        res["gnubg_count_agreement"] = _count_agreement(gnubg_nn, boards, dice, offsets, 1000)
        res["movegen_ratio"] = res["batch"]["positions_per_s"] / res["gnubg_moves"]["positions_per_s"]
    else:
        res["gnubg_moves"] = skipped
    calls = _bench_calls(gnubg_nn, boards, dice, seconds)
    res["legal_plays"] = calls["ours"]
    if calls["gnubg"] is not None:
        res["gnubg_moves_call"] = calls["gnubg"]
        res["call_ratio"] = res["legal_plays"]["us_per_call"] / res["gnubg_moves_call"]["us_per_call"]
    else:
        res["gnubg_moves_call"] = skipped
    res["random_games"] = _bench_random_games(seed, seconds)
    if pyspiel is not None:
        res["openspiel_games"] = _bench_openspiel(pyspiel, seed, seconds)
        res["games_ratio"] = res["random_games"]["games_per_s"] / res["openspiel_games"]["games_per_s"]
    else:
        res["openspiel_games"] = skipped
    res["startup"] = _bench_startup() if startup else "skipped (startup=False)"
    for line in format_table(res):
        out(line)
    return res


def _verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    ok = value >= target if higher_is_better else value <= target
    return f"(target {'>=' if higher_is_better else '<='} {target:g}: {'met' if ok else 'NOT met'})"


def _peer_lines(label, peer, rate_key, unit, count_key, peer_name, ratio, target, w, fmt) -> list[str]:
    """A peer's rate and our ratio to it; ``peer`` is its figures, or a string saying why it did not run."""
    if isinstance(peer, str):
        return [f"{label:<{w}} {peer}", f"{'  ratio ours / ' + peer_name:<{w}} n/a"]
    return [f"{label:<{w}} {peer[rate_key]:>14{fmt}} {unit}  ({peer[count_key]:,} {count_key})",
            f"{'  ratio ours / ' + peer_name:<{w}} {ratio:>14.1f} x  {_verdict(ratio, target)}"]


def format_table(res: dict) -> list[str]:
    """The figures of :func:`run` as lines of text."""
    w = 44
    lines = [
        f"backgammon engine speed, one core (cpu {res['cpu']}), NUMBA_NUM_THREADS={res['numba_num_threads']}, "
        f"{res['n_positions']:,} positions (seed {res['seed']}), Python {res['python']}",
        "-" * 96,
    ]
    b = res["batch"]
    lines.append(f"{'ours: legal_results_batch, chunks of 10,000':<{w}} {b['positions_per_s']:>14,.0f} positions/s"
                 f"  ({b['results']:,} results)")
    g = res["gnubg_moves"]
    lines += _peer_lines("gnubg-nn: gnubg_nn.moves loop", g, "positions_per_s", "positions/s", "positions",
                         "gnubg-nn", res.get("movegen_ratio"), TARGETS["movegen_ratio"], w, ",.0f")
    if not isinstance(g, str):
        a = res["gnubg_count_agreement"]
        lines.append(f"{'  same number of distinct results':<{w}} {a['same_count']:>14,} of {a['checked']:,} positions")
    lp = res["legal_plays"]
    lines.append(f"{'ours: one legal_plays call from Python':<{w}} {lp['us_per_call']:>14.1f} us/call"
                 f"  ({lp['positions']:,} positions, best of {lp['rounds']} rounds)")
    g = res["gnubg_moves_call"]
    if isinstance(g, str):
        lines += [f"{'gnubg-nn: one moves() call, same positions':<{w}} {g}",
                  f"{'  legal_plays / gnubg-nn moves(), per call':<{w}} n/a"]
    else:
        r = res["call_ratio"]
        lines += [f"{'gnubg-nn: one moves() call, same positions':<{w}} {g['us_per_call']:>14.1f} us/call",
                  f"{'  legal_plays / gnubg-nn moves(), per call':<{w}} {r:>14.2f} x  "
                  f"{_verdict(r, TARGETS['call_ratio'], higher_is_better=False)}"]
    rg = res["random_games"]
    lines.append(f"{'ours: random_games (compiled loop)':<{w}} {rg['games_per_s']:>14,.0f} games/s"
                 f"  ({rg['games']:,} games)")
    lines += _peer_lines("OpenSpiel: random legal actions, Python", res["openspiel_games"], "games_per_s", "games/s",
                         "games", "OpenSpiel", res.get("games_ratio"), TARGETS["games_ratio"], w, ",.1f")
    s = res["startup"]
    if isinstance(s, str):
        lines.append(f"{'start-up':<{w}} {s}")
    else:
        lines.append(f"{'interpreter start (python -c pass, outside)':<{w}} {s['interpreter_start_s']:>14.2f} s")
        lines.append(f"{'cold cache: import + compile + first play':<{w}} {s['cold_first_play_s']:>14.2f} s"
                     f"  (whole process {s['cold_process_s']:.2f} s)")
        lines.append(f"{'warm cache: import + first play':<{w}} {s['warm_first_play_s']:>14.2f} s"
                     f"  (whole process {s['warm_process_s']:.2f} s)")
        v = s["warm_to_first_play_s"]
        lines.append(f"{'warm: interpreter start + first play':<{w}} {v:>14.2f} s  "
                     f"{_verdict(v, TARGETS['warm_start_s'], higher_is_better=False)}")
        if "error" in s:
            lines.append(f"start-up subprocess failed: {s['error']}")
    return lines


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="Backgammon move generation and game speed against gnubg-nn and OpenSpiel, one core.")
    add_arguments(p)
    return run_command(p.parse_args(argv))


def add_arguments(p) -> None:
    p.add_argument("--positions", type=int, default=200_000, help="positions to generate moves for (default 200000)")
    p.add_argument("--seconds", type=float, default=5.0, help="time budget of each Python-loop measurement (default 5)")
    p.add_argument("--seed", type=int, default=1, help="seed of the positions and games (default 1)")
    p.add_argument("--no-peers", action="store_true", help="skip gnubg-nn and OpenSpiel")
    p.add_argument("--no-startup", action="store_true", help="skip the subprocess start-up measurements")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")


def run_command(args) -> int:
    res = run(n_positions=args.positions, seconds=args.seconds, seed=args.seed,
              peers=not args.no_peers, startup=not args.no_startup)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
