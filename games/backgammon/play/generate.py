"""``records generate``: expert records by engine self-play, written as gnubg .mat files.

One engine plays both sides in the project's own game loop (the move generator's legal plays,
the engine picks one), and the games are written as cubeless money sessions without
resignations: every game is played to the last checker, so its points are 1, 2 or 3.

With the cube (``--cube``) the games are money games with the doubling cube, played through the
same cube loop as matches (:func:`.game.cube_turn`: before each roll the engine on roll may double
when the rules allow it, and the engine on the other side takes or passes); the engine must make
cube decisions (``cube_action``: gnubg-full, a model with outcome heads). Its checker plays get the
match state (the cube's value and owner) where it plays at the score
(:func:`.game.plays_at_score`). The .mat files then carry the cube actions (`` Doubles => 2``,
`` Takes``, `` Drops``), a passed double ends the game for the cube's value, and the files are
named ``<engine>-cube-s<seed>-<file number>.mat``. Without ``--cube`` nothing changes: the files
are byte for byte those of the cubeless generator.

Reproducible: game ``i`` rolls its dice from ``numpy.random.default_rng([seed, i])``, so the same
seed gives the same files whatever the number of workers. Files hold ``games_per_file`` games
each (a money session: the score line carries the points won so far in that file) and are
named ``<engine>-s<seed>-<file number>.mat``.

Engines: any deterministic player of the one registry (:mod:`games.backgammon.players`):
``gnubg`` (GNU Backgammon's nets through the optional gnubg-nn module, at ``plies``; its own
best-move search, see :meth:`GnubgBot.best_move`), ``pubeval`` (Tesauro's linear baseline),
``default`` or a model file.

Engine labels (``--label gnubg[:N]``, the optional gnubg-nn module): beside each ``X.mat`` a file
``X.probs.jsonl`` (:data:`LABEL_SUFFIX`) with one JSON object per checker play, forced plays and
rolls without a move (dances: the result is the board unchanged) included, in the order played::

    {"game": 1, "move": 3, "player": 0, "dice": [6, 5], "position_id": "4HPwATDgc/ABMA",
     "result_id": "...", "probs": [0.61, 0.17, 0.01, 0.09, 0.004]}

``game`` is the game's number in the .mat file (`` Game N``), ``move`` the turn's place in the
game (1 = the opening play; rolls without a move count), ``player`` the side that moved (0 = the
left column), ``dice`` high die first, ``position_id`` the gnubg Position ID before the play (the
mover on roll), ``result_id`` the Position ID of the board after it with the mover still in
``board[1]`` (this project's orientation of results, not gnubg's on-roll one), and ``probs``
gnubg's cubeless outcome probabilities of that position for the mover, at N plies (default 0):
win, win gammon, win backgammon, lose gammon, lose backgammon (gammons include backgammons; a
play that bears off the last checker is a sure win of its points). ``train --targets engine``
reads them as targets. The .mat files are the same with or without labels.

With ``--label-candidates`` a non-forced play's line also carries gnubg's probabilities of every
legal result of the roll, in the move generator's order (``candidates``: a list of five-number
lists), and a CRC-32 of those results' int8 boards (``candidates_crc``) so that a reader can prove
the list is the one it generates. ``train --targets engine`` then labels every candidate of the
decision, not only the play made, and ``train --engine-pairs W --engine-source generated`` orders
the candidates by the equity of those probabilities: a distillation of the engine's preferences.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ..rules.legal import legal_plays
from ..records import CheckerPlay, CubeAction, Game, format_mat
from .game import Dice, accepts_keyword, cube_turn, match_state, new_game, play_turn, plays_at_score, record_game

MAX_PLIES = 10_000       # a guard: self-play games of these engines end in about 60 plies
LABEL_SUFFIX = ".probs.jsonl"   # the engine labels beside X.mat: X.probs.jsonl (see the module doc)


def engine_spec(engine: str, plies: int = 0) -> str:
    """The player name (:func:`..players.make_player`) of ``engine`` at ``plies`` (gnubg's depth)."""
    return f"gnubg:{plies}" if engine.strip().lower() == "gnubg" else engine


def engine_name(engine: str, plies: int = 0) -> str:
    """The engine's name in headers and file names: gnubg-0ply, pubeval, default, a model file's stem."""
    from ..players import parse_spec

    spec = parse_spec(engine_spec(engine, plies))
    if spec.kind == "gnubg":
        return f"gnubg-{spec.plies}ply"
    name = spec.path.stem if spec.kind == "file" else spec.kind
    return f"{name}-{spec.plies}ply" if spec.plies else name


class Chooser:
    """A player of the one registry (:func:`..players.make_player`) as a function
    (board, dice, legal plays) -> the chosen Play, through the bot's :meth:`~..players.bots.Bot.pick`.

    ``cube=True``: the engine must also decide the cube (its ``cube_action``, which
    :meth:`cube_action` passes on); ValueError says so for an engine that cannot.
    """

    def __init__(self, engine: str, plies: int = 0, cube: bool = False):
        from ..players import PlayerError, make_player, parse_spec

        try:
            if parse_spec(engine_spec(engine, plies)).kind == "random":
                # a random player's choices would depend on how games are spread over workers
                raise PlayerError("records generate needs a deterministic player; random is not one")
            self.bot = make_player(engine_spec(engine, plies))
        except PlayerError as e:
            raise ValueError(str(e)) from None
        self.name = engine_name(engine, plies)
        if cube and getattr(self.bot, "cube_action", None) is None:
            raise ValueError(f"records generate --cube: {self.name} makes no cube decisions; use an engine that "
                             "does (gnubg-full or gnubg-full:N, or a model with outcome heads)")
        # the match state goes to pick only where the engine plays at the score
        self.at_score = plays_at_score(self.bot) and accepts_keyword(self.bot.pick, "state")

    def __call__(self, board, d1, d2, plays, state=None):
        """The engine's play among ``plays`` (None when empty); ``state`` (a MatchState, optional)
        goes to an engine that plays at the score."""
        if not plays:
            return None
        if len(plays) == 1:
            return plays[0]
        if state is not None and self.at_score:
            return self.bot.pick(board, d1, d2, plays, state=state)
        return self.bot.pick(board, d1, d2, plays)

    def cube_action(self, board, state) -> str:
        """The engine's cube decision (see :func:`.game.ask_cube`)."""
        return self.bot.cube_action(board, state)


def self_play_game(chooser, seed: int, index: int, number: int = 1,
                   score: tuple[int, int] = (0, 0), cube: bool = False) -> Game:
    """Game ``index`` of the run seeded ``seed``: the same engine on both sides, played out in the
    one game loop (:mod:`.game`). ``chooser(board, d1, d2, plays)`` returns the play (None when
    ``plays`` is empty) and has a ``name``.

    ``cube``: a money game with the cube: before each roll :func:`.game.cube_turn` asks
    ``chooser.cube_action`` (for the doubler, then for the taker), and the checker plays get the
    match state (``chooser(..., state=...)``). The game's cube actions come before the turn they
    came before in the returned Game; a passed double ends it.

    Player 0, the left-hand column, throws the first die of the opening roll. Dice are written and
    played high die first, as gnubg writes them.
    """
    dice = Dice(np.random.default_rng([seed, index]))
    state = new_game(dice, score)
    plays = []
    while not state.over:
        if state.plies >= MAX_PLIES:
            raise RuntimeError(f"game {index} (seed {seed}) did not end in {MAX_PLIES} plies")
        if cube:
            cube_turn(state, chooser, chooser)
            if state.over:  # a double passed
                break
        plays.append(_checker_play(chooser, state, cube))
        play_turn(state, None if plays[-1].play is None else plays[-1].play.board, dice)
    return record_game(state, plays, number, (chooser.name, chooser.name))


def _checker_play(chooser, state, at_score: bool) -> CheckerPlay:
    """The engine's play for the roll of ``state`` as a records.CheckerPlay (before play_turn);
    ``at_score``: hand the chooser the match state."""
    hi, lo = max(state.dice), min(state.dice)
    board = state.board
    plays = legal_plays(board, hi, lo)
    if at_score:
        play = chooser(board, hi, lo, plays, state=match_state(state, with_dice=True))
    else:
        play = chooser(board, hi, lo, plays)
    result = play.board if play is not None else board.copy()
    # no text "as written": these plays were never written (the .mat writer spells them)
    return CheckerPlay(state.turn, (hi, lo), "", 0, board, result, play, len(plays), cube=state.cube_value)


def session(chooser: Chooser, seed: int, first: int, n_games: int, cube: bool = False) -> list[Game]:
    """Games ``first`` .. ``first + n_games - 1`` as one money session (scores accumulate);
    ``cube``: money games with the cube (:func:`self_play_game`)."""
    games = []
    score = [0, 0]
    for k in range(n_games):
        g = self_play_game(chooser, seed, first + k, number=k + 1, score=tuple(score), cube=cube)
        score[g.winner] += g.points
        games.append(g)
    return games


class Labeller:
    """gnubg-nn's cubeless probabilities of positions after a play (``--label gnubg[:N]``).

    ``spec`` is ``gnubg`` or ``gnubg:N`` (N plies, default 0). gnubg-nn is imported here, only when
    labels are asked for; without it the ImportError says how to install it. ``candidates``: label
    every legal result of each non-forced play too (``--label-candidates``)."""

    def __init__(self, spec: str, candidates: bool = False):
        self.candidates = bool(candidates)
        name, _, plies = spec.strip().lower().partition(":")
        if name != "gnubg" or (plies and not plies.isdigit()):
            raise ValueError(f"--label {spec!r}: labels come from gnubg or gnubg:N (N plies, e.g. gnubg:1)")
        from ..players.gnubg import GnubgBot

        self.bot = GnubgBot(int(plies or 0))
        self.name = self.bot.name

    def probabilities(self, results: np.ndarray) -> np.ndarray:
        """(K, 2, 25) results, the mover in row 1 -> (K, 5) the mover's outcome probabilities."""
        return self.bot.result_probabilities(results)


def label_lines(games: list[Game], labeller: Labeller) -> list[str]:
    """One JSON line per checker play of ``games``, dances included (see the module doc): the
    positions after forced plays and dances are never a decision, so these lines are the only
    place a training set sees a side on the bar after its own turn (``train --value-positions``)."""
    import json

    from ..rules.ids import position_id

    rows, results, plays = [], [], []
    for g in games:
        for move, a in enumerate((a for a in g.actions if isinstance(a, CheckerPlay)), start=1):
            rows.append({"game": g.number, "move": move, "player": a.player, "dice": list(a.dice),
                         "position_id": position_id(a.board), "result_id": position_id(a.result)})
            results.append(a.result)
            plays.append(a)
    if not rows:
        return []
    probs = labeller.probabilities(np.stack(results))
    for r, p in zip(rows, probs):
        r["probs"] = [round(float(x), 6) for x in p]
    if labeller.candidates:
        _label_candidates(rows, plays, labeller)
    return [json.dumps(r, separators=(",", ":")) for r in rows]


def _label_candidates(rows: list[dict], plays: list[CheckerPlay], labeller: Labeller) -> None:
    """Adds ``candidates`` and ``candidates_crc`` to the rows of non-forced plays: every legal
    result of the roll in the move generator's order, all labelled in one batch."""
    from ..rules.legal import legal_results_batch, results_crc

    picked = [i for i, a in enumerate(plays) if a.n_legal > 1]
    if not picked:
        return
    boards = np.stack([plays[i].board for i in picked])
    dice = np.array([plays[i].dice for i in picked], np.int8)
    results, offsets = legal_results_batch(boards, dice)
    probs = labeller.probabilities(results)
    for k, i in enumerate(picked):
        a, b = offsets[k], offsets[k + 1]
        rows[i]["candidates"] = [[round(float(x), 4) for x in p] for p in probs[a:b]]  # 1e-4: well inside gnubg's own error
        rows[i]["candidates_crc"] = results_crc(results[a:b])


def label_records(paths, out_dir, label: str = "gnubg", progress: bool = True) -> dict:
    """gnubg's probabilities of every legal play of every decision of existing records (the good
    games of each file under ``paths``), written into ``out_dir`` as X.probs.jsonl for each X.mat,
    in the format --label-candidates writes beside generated games: ``train --targets engine:DIR``
    then labels the records' candidates. Returns {"files", "plays", "labelled_files", "label"}.

    Only the decisions a training set holds get labels when training reads them, so labelling a
    whole folder does not leak its held-out matches. Two record files of one name (in different
    folders) would share a label file: a ValueError before anything is written."""
    from tqdm import tqdm

    from ..learn.dataset import record_files   # sorted, once each; a missing path is an error
    from ..records import read_match

    files = record_files(paths)
    stems = {}
    for f in files:
        if f.stem in stems:
            raise ValueError(f"{f} and {stems[f.stem]}: two record files named {f.stem}; their labels would share "
                             f"{f.stem}{LABEL_SUFFIX}")
        stems[f.stem] = f
    labeller = Labeller(label, candidates=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plays = written = 0
    for f in tqdm(files, desc=f"labelling with {labeller.name}", unit="file", disable=not progress, file=sys.stderr):
        lines = label_lines([g for g in read_match(f).games if g.ok], labeller)
        if lines:
            (out / (f.stem + LABEL_SUFFIX)).write_text("\n".join(lines) + "\n", encoding="utf-8")
            plays, written = plays + len(lines), written + 1
    return {"files": len(files), "plays": plays, "labelled_files": written, "label": labeller.name}


def label_path(mat_path) -> Path:
    """Where the labels of the record file ``mat_path`` (X.mat) go: X.probs.jsonl beside it."""
    p = Path(mat_path)
    return p.with_name(p.stem + LABEL_SUFFIX)


def session_text(games: list[Game], name: str, seed: int, first: int, cube: bool = False) -> str:
    from comparison import __version__

    kind = "money with the cube" if cube else "cubeless money"
    headers = {
        "Event": f"{name} self-play, seed {seed}, games {first + 1}-{first + len(games)} "
                 f"({kind}, no resignations)",
        "Player 1": name,
        "Player 2": name,
        "Variation": "Backgammon",
        "Transcriber": f"comparison-games {__version__} (records generate)",
    }
    return format_mat(games, (name, name), 0, headers)


def file_name(engine: str, plies: int, seed: int, index: int, cube: bool = False) -> str:
    """``<engine>-s<seed>-<index>.mat``; with the cube ``<engine>-cube-s<seed>-<index>.mat``."""
    return f"{engine_name(engine, plies)}{'-cube' if cube else ''}-s{seed}-{index:04d}.mat"


# --- running many files, in parallel ----------------------------------------------------------

_chooser = None     # one engine per worker process
_labeller = None    # and its labeller, when labels are asked for
_cube = False       # money games with the cube


def _init_worker(engine: str, plies: int, label: str | None = None, cube: bool = False,
                 label_candidates: bool = False) -> None:
    global _chooser, _labeller, _cube
    _chooser = Chooser(engine, plies, cube)
    _labeller = Labeller(label, label_candidates) if label else None
    _cube = bool(cube)


def _write_file(task) -> tuple[int, int, int, int, int]:
    """Play and write one file: task (path, seed, first game, games) -> (games, decisions,
    non-forced, doubles, passes)."""
    path, seed, first, n_games = task
    games = session(_chooser, seed, first, n_games, _cube)
    Path(path).write_text(session_text(games, _chooser.name, seed, first, _cube), encoding="utf-8")
    if _labeller is not None:
        lines = label_lines(games, _labeller)
        label_path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    plays = [a for g in games for a in g.plays]
    cube = [a.kind for g in games for a in g.actions if isinstance(a, CubeAction)]
    return (len(games), sum(a.n_legal > 0 for a in plays), sum(a.n_legal > 1 for a in plays),
            cube.count("double"), cube.count("drop"))


def generate(out_dir, engine: str = "gnubg", plies: int = 0, games: int = 100, seed: int = 0,
             workers: int = 2, games_per_file: int = 100, progress: bool = True, label: str | None = None,
             cube: bool = False, label_candidates: bool = False) -> dict:
    """Write ``games`` self-play games into ``out_dir`` as .mat files; returns a summary
    (files, games, decisions, non_forced, doubles, passes, seconds, games_per_second, label, cube).

    ``label``: ``gnubg`` or ``gnubg:N`` to write gnubg's probabilities of every position played
    beside each file (:data:`LABEL_SUFFIX`, see the module doc); None for none.
    ``label_candidates``: label every legal result of each non-forced play too. ``cube``: money
    games with the cube (the engine decides it; see the module doc); ValueError for an engine
    without cube decisions, before any game is played.

    ``workers`` > 1 starts worker processes with multiprocessing's "spawn": a script that calls
    this needs the usual ``if __name__ == "__main__":`` guard."""
    if games < 1 or games_per_file < 1:
        raise ValueError("games and games_per_file must be at least 1")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tasks = []
    for i, first in enumerate(range(0, games, games_per_file)):
        tasks.append((str(out / file_name(engine, plies, seed, i, cube)), seed, first,
                      min(games_per_file, games - first)))
    from tqdm import tqdm

    bar = tqdm(total=games, desc=f"{engine_name(engine, plies)} self-play", unit="game",
               disable=not progress, file=sys.stderr)
    totals = np.zeros(5, np.int64)
    start = time.perf_counter()
    workers = max(1, min(workers, len(tasks)))
    if label_candidates and not label:
        raise ValueError("label_candidates needs label (gnubg or gnubg:N)")
    if label:
        Labeller(label)  # a wrong spec or a missing gnubg-nn is said before any game is played
    if cube:
        Chooser(engine, plies, cube=True)  # an engine without cube decisions is said before any game
    if workers == 1:
        _init_worker(engine, plies, label, cube, label_candidates)
        results = map(_write_file, tasks)
        for r in results:
            totals += r
            bar.update(r[0])
    else:
        import multiprocessing

        # spawn: fresh interpreters. A forked worker inherits this process's engine (made above to
        # check the spec), and gnubg-full's engine, or torch's threads, hang in a forked copy
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(engine, plies, label, cube, label_candidates)) as pool:
            for r in pool.imap_unordered(_write_file, tasks):
                totals += r
                bar.update(r[0])
    seconds = time.perf_counter() - start
    bar.close()
    return {"engine": engine_name(engine, plies), "seed": seed, "out": str(out), "files": len(tasks),
            "games": int(totals[0]), "decisions": int(totals[1]), "non_forced": int(totals[2]),
            "doubles": int(totals[3]), "passes": int(totals[4]), "cube": bool(cube),
            "workers": workers, "seconds": seconds, "games_per_second": totals[0] / seconds,
            "label": Labeller(label).name if label else None, "label_candidates": bool(label and label_candidates)}


# --- the command ------------------------------------------------------------------------------

def add_arguments(p) -> None:
    from ..players import PLAYER_HELP

    p.add_argument("--engine", default="gnubg", metavar="PLAYER",
                   help=f"who plays both sides, any deterministic player: {PLAYER_HELP} (default gnubg)")
    p.add_argument("--plies", type=int, default=0, help="gnubg's search depth (0: its nets alone; default 0)")
    p.add_argument("--games", type=int, required=True, help="number of games")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the .mat files into")
    p.add_argument("--seed", type=int, default=0, help="dice seed (default 0); same seed, same files")
    p.add_argument("--workers", type=int, default=2, help="processes playing games (default 2)")
    p.add_argument("--games-per-file", type=int, default=100, metavar="K",
                   help="games per .mat file (default 100)")
    p.add_argument("--label", metavar="gnubg[:N]",
                   help="also write gnubg's cubeless probabilities of the position after every play, for the "
                        f"mover, at N plies (default 0), beside each X.mat as X{LABEL_SUFFIX} (one JSON line per "
                        "play: game, move, player, dice, position_id before, result_id after, probs: win, win "
                        "gammon, win backgammon, lose gammon, lose backgammon); needs the optional gnubg-nn; "
                        "train --targets engine reads them")
    p.add_argument("--label-candidates", action="store_true",
                   help="with --label: also label every legal play of each non-forced decision (its "
                        "probabilities for the mover), so train --targets engine labels every candidate and "
                        "--engine-source generated orders them by gnubg's equity")
    p.add_argument("--cube", action="store_true",
                   help="money games with the doubling cube, decided by the engine (which must make cube "
                        "decisions: gnubg-full[:N] or a model with outcome heads); the .mat files carry the "
                        "doubles, takes and drops and are named ENGINE-cube-sSEED-N.mat")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_label_arguments(p) -> None:
    p.add_argument("records", nargs="+", metavar="PATH", help="record files, or folders of them")
    p.add_argument("--out", required=True, metavar="DIR", help=f"folder for the X{LABEL_SUFFIX} files")
    p.add_argument("--label", default="gnubg", metavar="gnubg[:N]",
                   help="gnubg-nn at N plies (default gnubg: 0 ply); needs the optional gnubg-nn")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_label_command(args) -> int:
    """records label: gnubg's probabilities of every legal play of existing records."""
    try:
        s = label_records(args.records, args.out, args.label, progress=not args.no_progress)
    except (ValueError, ImportError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"labelled {s['plays']:,} plays of {s['labelled_files']:,} of {s['files']:,} record files with {s['label']} "
          f"into {args.out} (train --targets engine:{args.out})")
    return 0


def run_command(args) -> int:
    if args.games < 1 or args.games_per_file < 1 or args.workers < 1:
        print("--games, --games-per-file and --workers must be at least 1", file=sys.stderr)
        return 2
    if args.seed < 0 or args.plies < 0:
        print("--seed and --plies must be >= 0", file=sys.stderr)
        return 2
    if args.engine.strip().lower() != "gnubg" and args.plies:
        print(f"--plies applies to gnubg only (or name the depth: gnubg:N), not to {args.engine}", file=sys.stderr)
        return 2
    try:  # the player first: a missing gnubg-nn is said before any file is written
        Chooser(args.engine, args.plies, cube=args.cube)
        if args.label:
            Labeller(args.label)
        elif args.label_candidates:
            raise ValueError("--label-candidates needs --label gnubg[:N]")
    except (ValueError, ImportError) as exc:
        print(exc, file=sys.stderr)
        return 2
    s = generate(args.out, args.engine, args.plies, args.games, args.seed, args.workers,
                 args.games_per_file, progress=not args.no_progress, label=args.label, cube=args.cube,
                 label_candidates=args.label_candidates)
    print(f"wrote {s['games']:,} games ({s['decisions']:,} decisions, {s['non_forced']:,} non-forced) "
          f"in {s['files']} files to {s['out']}")
    if s["cube"]:
        print(f"cube: {s['doubles']:,} doubles, {s['passes']:,} passed")
    print(f"{s['engine']}: {s['games_per_second']:.1f} games/s with {s['workers']} worker(s) "
          f"({s['seconds']:.1f} s)")
    if s["label"]:
        every = "every play and every candidate of each decision" if s["label_candidates"] else "every play"
        print(f"labels: {s['label']} probabilities of {every} beside each file (*{LABEL_SUFFIX})")
    return 0
