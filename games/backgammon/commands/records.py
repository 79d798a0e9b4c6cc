"""``records stats`` and ``records convert``: the command-line face of the record reader.

Both read files leniently: a file that is empty, binary, truncated or holds an illegal play is
reported as ``file:line: reason: text`` and the rest goes on; neither ever shows a traceback for
a bad record. The exit status is 1 only when nothing at all could be read (no good game in any
file), 2 for a wrong command line.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

FORMATS = {".sgf": "sgf", ".mat": "mat", ".txt": "mat"}


# --- stats -------------------------------------------------------------------------------------

def add_stats_arguments(p) -> None:
    p.add_argument("paths", nargs="+", metavar="FILE|DIR",
                   help="record files, or folders searched recursively for .mat, .txt and .sgf files")
    p.add_argument("--json", action="store_true", help="print the statistics as one JSON object")
    p.add_argument("--workers", type=int, default=2, help="processes reading files (default 2)")
    p.add_argument("--players", type=int, default=20, metavar="N",
                   help="list the N players with most decisions (0: all; default 20)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def file_stats(path) -> dict:
    """The statistics of one file, as plain data (cheap to send between processes)."""
    from ..records import decisions, read_match

    m = read_match(path)
    good = m.good_games
    players: dict = {}
    for g in good:
        for name in set(g.players):
            players.setdefault(name, [0, 0, 0])[0] += 1
    n_decisions = n_non_forced = 0
    for d in decisions(m):
        n_decisions += 1
        n_non_forced += not d.forced
        counts = players.setdefault(d.player, [0, 0, 0])
        counts[1] += 1
        counts[2] += not d.forced
    return {
        "file": str(path),
        "games": len(m.games),
        "good_games": len(good),
        "broken_games": len(m.games) - len(good),
        "crawford_games": sum(g.crawford for g in good),
        "checker_plays": sum(len(g.plays) for g in good),
        "decisions": n_decisions,
        "non_forced": n_non_forced,
        "players": players,
        "errors": [{"file": e.file, "line": e.line, "kind": e.kind, "reason": e.reason,
                    "text": e.text.strip(), "message": str(e)} for e in m.errors],
    }


def merge_stats(per_file) -> dict:
    """Totals over files: counts summed, players merged, every error kept in file order."""
    total = {"files": 0, "files_with_good_games": 0, "games": 0, "good_games": 0, "broken_games": 0,
             "crawford_games": 0, "checker_plays": 0, "decisions": 0, "non_forced": 0}
    players: dict = {}
    errors = []
    for s in per_file:
        total["files"] += 1
        total["files_with_good_games"] += s["good_games"] > 0
        for k in ("games", "good_games", "broken_games", "crawford_games", "checker_plays", "decisions",
                  "non_forced"):
            total[k] += s[k]
        for name, (g, d, nf) in s["players"].items():
            c = players.setdefault(name, {"games": 0, "decisions": 0, "non_forced": 0})
            c["games"] += g
            c["decisions"] += d
            c["non_forced"] += nf
        errors.extend(s["errors"])
    total["players"] = dict(sorted(players.items(), key=lambda kv: (-kv[1]["decisions"], kv[0])))
    total["error_kinds"] = dict(Counter(e["kind"] for e in errors).most_common())
    total["errors"] = errors
    return total


def _map_files(function, files, workers: int, progress: bool, desc: str):
    """``function`` over the files, in order, on ``workers`` processes, with a progress bar."""
    from tqdm import tqdm

    bar = tqdm(total=len(files), desc=desc, unit="file", disable=not progress, file=sys.stderr)
    try:
        if workers > 1 and len(files) >= 8:
            import multiprocessing

            chunk = max(1, min(16, len(files) // (workers * 8)))
            with multiprocessing.Pool(min(workers, len(files))) as pool:
                for result in pool.imap(function, files, chunksize=chunk):
                    bar.update(1)
                    yield result
        else:
            for f in files:
                result = function(f)
                bar.update(1)
                yield result
    finally:
        bar.close()


def stats(paths, workers: int = 2, progress: bool = False) -> dict:
    """Statistics of the record files under ``paths`` (see :func:`file_stats`, :func:`merge_stats`)."""
    from ..records import record_files

    files = [str(f) for f in record_files(paths)]
    return merge_stats(_map_files(file_stats, files, workers, progress, "reading"))


def format_stats(s: dict, n_players: int = 20) -> str:
    def n(x):
        return f"{x:,}"

    lines = [
        f"files          {n(s['files']):>10}   ({n(s['files_with_good_games'])} with good games)",
        f"games          {n(s['games']):>10}   ({n(s['good_games'])} good, {n(s['broken_games'])} broken; "
        f"{n(s['crawford_games'])} Crawford games)",
        f"checker plays  {n(s['checker_plays']):>10}   (in good games, 'cannot move' included)",
        f"decisions      {n(s['decisions']):>10}   ({n(s['non_forced'])} non-forced)",
        f"players        {n(len(s['players'])):>10}",
    ]
    shown = list(s["players"].items())
    if n_players > 0:
        shown = shown[:n_players]
    if shown:
        width = max(12, *(len(name) for name, _ in shown))
        lines.append(f"  {'name':<{width}} {'games':>8} {'decisions':>10} {'non-forced':>11}")
        for name, c in shown:
            lines.append(f"  {name or '(no name)':<{width}} {n(c['games']):>8} {n(c['decisions']):>10} "
                         f"{n(c['non_forced']):>11}")
        if len(shown) < len(s["players"]):
            lines.append(f"  ... {len(s['players']) - len(shown)} more (--players 0 lists them all)")
    kinds = ", ".join(f"{v} {k}" for k, v in s["error_kinds"].items())
    lines.append(f"errors         {n(len(s['errors'])):>10}" + (f"   ({kinds})" if kinds else ""))
    lines.extend(f"  {e['message']}" for e in s["errors"])
    return "\n".join(lines)


def run_stats_command(args) -> int:
    progress = not args.no_progress and any(Path(p).is_dir() for p in args.paths)
    s = stats(args.paths, workers=max(1, args.workers), progress=progress)
    if args.json:
        print(json.dumps(s, indent=1))
    else:
        print(format_stats(s, args.players))
    if s["files"] == 0:
        print("no record files found (.mat, .txt, .sgf) in: " + ", ".join(args.paths), file=sys.stderr)
    if s["good_games"] == 0:
        print("nothing could be read: no good game in any file", file=sys.stderr)
        return 1
    return 0


# --- convert -----------------------------------------------------------------------------------

def add_convert_arguments(p) -> None:
    p.add_argument("source", metavar="IN", help="a record file, or a folder of them (searched recursively)")
    p.add_argument("target", metavar="OUT",
                   help="the file to write (its extension, .sgf or .mat, says the format), or a folder")
    p.add_argument("--to", choices=("mat", "sgf"),
                   help="the format to write (needed when OUT is a folder; else taken from OUT's extension)")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _plan(source: Path, target: Path, to) -> tuple[list, str]:
    """[(input file, output file, format)], or [] and a message saying why nothing can be done."""
    from ..records import record_files

    if not source.exists():
        return [], f"{source}: no such file or folder"
    if source.is_dir():
        if target.exists() and not target.is_dir():
            return [], f"{target}: is a file; converting the folder {source} needs a folder to write into"
        if to is None:
            return [], "converting a folder needs --to mat or --to sgf"
        files = record_files([source])
        return [(f, target / f.relative_to(source).with_suffix("." + to), to) for f in files], ""
    if target.is_dir():
        if to is None:
            to = "mat" if FORMATS.get(source.suffix.lower()) == "sgf" else "sgf"
        return [(source, target / source.with_suffix("." + to).name, to)], ""
    fmt = to or FORMATS.get(target.suffix.lower())
    if fmt is None:
        return [], f"{target}: cannot tell the format from the extension; name it .sgf or .mat, or give --to"
    return [(source, target, fmt)], ""


def convert_file(source: Path, target: Path, fmt: str) -> tuple[int, list]:
    """Read ``source`` and write its good games to ``target`` as ``fmt``: (games written, errors)."""
    from ..records import read_match, write_mat, write_sgf

    m = read_match(source)
    good = m.good_games
    if good:
        target.parent.mkdir(parents=True, exist_ok=True)
        (write_sgf if fmt == "sgf" else write_mat)(m, target)
    return len(good), list(m.errors)


def run_convert_command(args) -> int:
    from tqdm import tqdm

    source, target = Path(args.source), Path(args.target)
    plan, why = _plan(source, target, args.to)
    if why:
        print(why, file=sys.stderr)
        return 2
    if not plan:
        print(f"{source}: no record files (.mat, .txt, .sgf) in it", file=sys.stderr)
        return 1
    existing = [t for _s, t, _f in plan if t.exists()]
    if existing and not args.force:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        print(f"{existing[0]}: exists{more}; use --force to overwrite", file=sys.stderr)
        return 2
    same = [s for s, t, _f in plan if s.resolve() == t.resolve()]
    if same:
        print(f"{same[0]}: would be overwritten by its own conversion; write elsewhere", file=sys.stderr)
        return 2
    files_written = games_written = 0
    n_errors = 0
    bar = tqdm(plan, desc="converting", unit="file", file=sys.stderr,
               disable=args.no_progress or not source.is_dir())
    for s, t, fmt in bar:
        n_games, errors = convert_file(s, t, fmt)
        for e in errors:
            tqdm.write(str(e), file=sys.stderr)
        n_errors += len(errors)
        if n_games:
            files_written += 1
            games_written += n_games
        else:
            tqdm.write(f"{s}: no good game to write; {t} not written", file=sys.stderr)
    where = target if source.is_dir() else plan[0][1]
    print(f"wrote {games_written:,} games in {files_written:,} of {len(plan):,} files to {where}"
          + (f"; {n_errors:,} errors (games with an error are left out)" if n_errors else ""))
    return 0 if files_written else 1
