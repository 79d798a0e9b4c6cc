"""``python -m comparison train``: expert records -> a model file.

    python -m comparison train --records DIR... --out model.pt [--model mlp --hidden 128 --loss pairwise]

Builds (or reuses) the decision cache of the records, splits them by date, whole matches at a time
(``--split date``): the latest 10% of the decisions are a test part that nothing here ever reads
(``bench accuracy`` reports on it), the next latest 10% validate (choosing the epoch), the rest
trains. It trains with comparison.train.Trainer, writes the best model to ``--out``, the
resume state to ``<out>.last`` and the training curves to ``<out>.png``.

The game comes from the registry (``--game``, :mod:`comparison.game`): its records, encodings and
the options of its routers all go through the game protocol, so this command serves any game.

Besides the people's choices, two optional signals, both taken from the training part only:
absolute targets (``--targets``: an outcome model's probabilities are pinned to an engine's
evaluations or to the games' results) and an engine's preferences (``--engine-pairs``: the pairs
among the plays an engine valued, ordered by its values, as a second kind of expert in the same
pairwise loss; any scorer). The game supplies both through ``build_dataset(..., targets=SPEC)``:
the comma-separated target sources, then the engine's value source. The model file's meta
records which were used (``targets``, ``target_weight``, ``engine_pairs``, ``engine_source``).
"""
from __future__ import annotations

import json
import sys

from comparison.game import DEFAULT_GAME, GameError, available_games, get_game


def _hidden(text: str):
    try:
        widths = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"--hidden: expected widths like 128 or 256,64, got {text!r}") from None
    if any(w < 1 for w in widths):
        raise ValueError(f"--hidden: widths must be positive, got {text!r}")
    return widths


def _encodings_help() -> str:
    """"backgammon: tesauro198, ... (default extended)" for every game that loads."""
    parts = []
    for name in available_games():
        try:
            game = get_game(name)
        except GameError:  # reported where the game is used; the help still works
            continue
        parts.append(f"{name}: {', '.join(game.encodings)} (default {game.default_encoding})")
    return "; ".join(parts).replace("%", "%%")


def add_arguments(p) -> None:
    d = p.add_argument_group("data")
    d.add_argument("--records", nargs="+", metavar="PATH",
                   help="the game's record files, or folders of them; default: the records the game ships with")
    d.add_argument("--game", default=DEFAULT_GAME, choices=available_games(),
                   help=f"the game (default {DEFAULT_GAME})")
    d.add_argument("--encoding",
                   help="candidate encoding, one of the game's; default the game's own. " + _encodings_help())
    d.add_argument("--split", default="date", choices=("date", "random", "none"),
                   help="how to hold out whole matches: the latest by date (default), random ones, or none")
    d.add_argument("--valid-fraction", type=float, default=0.1,
                   help="share of decisions that validate (chooses the epoch; default 0.1)")
    d.add_argument("--test-fraction", type=float, default=0.1,
                   help="share of decisions, the latest, held out for testing and never read here (default 0.1; "
                        "0 for a two-way split)")
    d.add_argument("--valid-records", nargs="+", metavar="PATH", help="validate on these records instead of a split")
    d.add_argument("--cache", metavar="DIR", help="decision cache folder (default ~/.cache/comparison-games)")
    d.add_argument("--workers", type=int, default=2, help="processes reading records (default 2)")

    m = p.add_argument_group("model")
    m.add_argument("--model", default="mlp", choices=("linear", "mlp", "moe", "outcome"),
                   help="scorer (default mlp); outcome: an MLP whose score is the equity of its outcome "
                        "probabilities (comparison.outcomes)")
    m.add_argument("--targets", metavar="SOURCE",
                   help="--model outcome: absolute targets per candidate, as the game offers them; backgammon: "
                        "analysis or analysis:PATH (gnubg's analysed probabilities of the plays it lists), results "
                        "(the game's result for the play made, from the mover's view: win, gammon, backgammon as "
                        "0/1; a refused double teaches the win only, the gammons unknown; a resignation counts "
                        "the level resigned (in a match, where the points stop at the match, the levels above "
                        "them unknown); an unfinished game gives none), engine or engine:DIR (the probabilities "
                        "records generate --label wrote beside the records; with DIR, those in DIR first, as "
                        "records label writes them); several joined by commas, e.g. "
                        "analysis,results: where more than one gives a play's targets, analysis wins, then engine, "
                        "then results. Unknown components are left out of the loss one by one")
    m.add_argument("--target-weight", type=float, default=1.0,
                   help="--model outcome: weight of the absolute targets' loss where the records carry targets "
                        "(default 1)")
    m.add_argument("--value-positions", action="store_true",
                   help="--model outcome: also fit the targets of positions that were no decision, from the "
                        "training matches only, as the game offers them; backgammon: the positions after forced "
                        "plays and dances (a side on the bar after its own turn, which no decision shows), with "
                        "the engine probabilities of --targets engine or engine:DIR")
    m.add_argument("--engine-pairs", type=float, default=0.0, metavar="WEIGHT",
                   help="any model: add WEIGHT x the engine's preference pairs to the comparison loss (a second "
                        "kind of expert beside the people): in every decision an engine valued, the pairs of its "
                        "valued plays ordered by its values, each weighted by the values' gap (default 0: none)")
    m.add_argument("--engine-source", default="pairs", metavar="SOURCE",
                   help="where --engine-pairs reads the engine's values, as the game offers them; backgammon: pairs "
                        "(gnubg's analysed equities of the plays it lists, in the shared analyses) or pairs:PATH, "
                        "generated or generated:DIR (the equities of the candidates' probabilities that records "
                        "generate --label gnubg --label-candidates wrote beside the records), or both joined by a "
                        "comma (default pairs)")
    m.add_argument("--hidden", default="128", help="hidden widths, e.g. 128 or 256,64 (default 128)")
    m.add_argument("--activation", default="relu", help="relu, tanh, sigmoid or gelu (default relu)")
    m.add_argument("--router", default="token_choice", help="mixture-of-experts router (--model moe)")
    m.add_argument("--experts", type=int, default=4, help="number of experts (--model moe; default 4)")
    m.add_argument("--moe-options", default="{}", metavar="JSON",
                   help='extra keyword arguments of moe.build_scorer, e.g. \'{"top_k": 2}\'')
    m.add_argument("--upcycle-from", metavar="FILE",
                   help="start a --model moe from this dense model file: every expert a copy of it")
    m.add_argument("--init-from", metavar="FILE",
                   help="start from this model file's weights (fine-tuning): the options must build the same "
                        "architecture (--model, --hidden, --encoding, ...); the optimizer and schedule start afresh")

    t = p.add_argument_group("training")
    t.add_argument("--loss", default="pairwise", help="pairwise (Tesauro), listwise, margin, relative_score")
    t.add_argument("--epochs", type=int, default=20, help="epochs at most (default 20)")
    t.add_argument("--batch-size", type=int, default=128, help="decisions per step (default 128)")
    t.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--schedule", default="cosine", choices=("cosine", "constant"))
    t.add_argument("--patience", type=int, default=4, help="early stopping patience in epochs (default 4)")
    t.add_argument("--max-seconds", type=float, help="training time budget in seconds")
    t.add_argument("--max-steps", type=int, help="step budget")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N (default auto)")
    t.add_argument("--threads", type=int, help="torch CPU threads")
    t.add_argument("--out", required=True, metavar="FILE", help="model file to write (best validation agreement)")
    t.add_argument("--resume", action="store_true", help="continue an interrupted run from <out>.last")
    t.add_argument("--plot", metavar="PNG", help="training curves (default <out>.png; 'none' for no plot)")
    t.add_argument("--no-progress", action="store_true")


def label_spec(args) -> str | None:
    """What ``train`` asks the game for beyond the choices (its ``targets`` keyword): the target
    sources of ``--targets``, then ``--engine-source`` when ``--engine-pairs`` is on; None for neither."""
    parts = [args.targets] if args.targets else []
    if args.engine_pairs:
        parts.append(args.engine_source)
    return ",".join(parts) or None


def load_data(args, game):
    """(train, valid, n_value_positions) as the arguments ask; the test part, if any, is dropped
    unread.

    Targets and engine values are read for the training decisions only: the validation part is
    returned without them (it only chooses the epoch, by agreement with the people). With
    ``--value-positions`` the game's positions without a choice, from the training part's record
    files only, join the training part as one-candidate decisions (``n_value_positions`` of them)."""
    import dataclasses

    import numpy as np

    from comparison.data import concatenate, split_three

    paths = args.records or [game.default_records()]
    # labels only where asked (a game may not offer any)
    spec = label_spec(args)
    extra = {"targets": spec} if spec else {}
    data = game.build_dataset(paths, cache_dir=args.cache, workers=args.workers, progress=not args.no_progress,
                              **extra)
    if args.engine_pairs and getattr(data, "values", None) is None:
        raise ValueError(f"--engine-pairs: the game {args.game} gave no engine values for "
                         f"--engine-source {args.engine_source}")
    if args.valid_records:
        train = data
        valid = game.build_dataset(args.valid_records, cache_dir=args.cache, workers=args.workers,
                                   progress=not args.no_progress)
    elif args.split == "none":
        train, valid = data, None
    else:
        if args.split == "date":
            order = game.chronological_order(data)
        else:  # random whole matches
            order = np.random.default_rng(args.seed).permutation(int(data.meta["file"].max()) + 1)[data.meta["file"]]
        train, valid, _test = split_three(data, order, data.meta["file"], args.valid_fraction, args.test_fraction)
        if len(train) == 0:
            raise ValueError(f"no training decisions left: holding out whole matches for validation "
                             f"({args.valid_fraction}) and testing ({args.test_fraction}) took all {len(data):,}; "
                             "give more records, smaller fractions (--test-fraction 0) or --split none")
        valid = dataclasses.replace(valid, targets=None, values=None)
    n_value = 0
    if args.value_positions:   # from the training part's files only, after the split
        if not hasattr(game, "value_positions"):
            raise ValueError(f"--value-positions: the game {args.game} offers no value positions")
        positions = game.value_positions(train, args.targets)
        train, n_value = concatenate(train, positions), len(positions)
    return train, valid, n_value


def build_model(args, game, feature_shape):
    from comparison import checkpoint, models

    # a dense scorer reads token encodings flattened (the dense model --upcycle-from starts from)
    d_in = 1
    for n in feature_shape:
        d_in *= n
    if args.model in ("linear", "mlp"):
        return models.build_scorer(args.model, d_in=d_in, hidden=_hidden(args.hidden), activation=args.activation)
    if args.model == "outcome":
        from comparison import outcomes

        # the game's levels of points (backgammon: single, gammon, backgammon); plain win / loss if it has none
        levels = tuple(getattr(game, "outcome_levels", (1,)))
        return outcomes.build_outcome_scorer(d_in, _hidden(args.hidden), args.activation, levels, args.target_weight)
    from comparison import moe

    try:
        options = json.loads(args.moe_options)
    except json.JSONDecodeError as e:
        raise ValueError(f"--moe-options: not JSON ({e}): {args.moe_options!r}") from None
    if not isinstance(options, dict):
        raise ValueError(f"--moe-options: expected a JSON object like '{{\"top_k\": 2}}', got {args.moe_options!r}")
    # what a router needs from the game (the phase router: where the phase sits in the tokens);
    # --moe-options override it
    options = {**game.router_options(args.router), **options}
    if len(feature_shape) != 2:
        raise ValueError(f"--model moe needs a token encoding (--encoding tokens); {args.encoding} gives {feature_shape}")
    n_tokens, d_token = feature_shape
    if args.upcycle_from:
        dense = checkpoint.load(args.upcycle_from).model
        return moe.upcycle(dense, router=args.router, n_experts=args.experts, n_tokens=n_tokens, d_token=d_token,
                           **options)
    return moe.build_scorer(router=args.router, n_tokens=n_tokens, d_token=d_token, n_experts=args.experts, **options)


def _architecture(config) -> dict:
    """A scorer's config without its training options (the target weight may change in fine-tuning)."""
    return {k: v for k, v in dict(config).items() if k != "target_weight"}


def init_from(model, path, encoding: str) -> None:
    """Copy the weights of the model file ``path`` into ``model`` (``--init-from``); a ValueError
    naming the file where its encoding or architecture differs from the one the options build."""
    from comparison import checkpoint

    start = checkpoint.load(path)
    if start.meta.get("encoding", encoding) != encoding:
        raise ValueError(f"--init-from {path}: the file's encoding is {start.meta['encoding']}, "
                         f"this run's {encoding} (give --encoding {start.meta['encoding']})")
    if _architecture(start.config) != _architecture(model.config):
        raise ValueError(f"--init-from {path}: the file's model {_architecture(start.config)} is not the one these "
                         f"options build {_architecture(model.config)} (match --model, --hidden, --activation)")
    model.load_state_dict(start.model.state_dict())


def run_command(args) -> int:
    from comparison import models
    from comparison.checkpoint import CheckpointError
    from comparison.plots import plot_history
    from comparison.train import TrainConfig, Trainer, finish_distributed

    try:
        game = get_game(args.game)
        args.encoding = args.encoding or game.default_encoding  # stored in the model file's meta
        if args.targets and args.model != "outcome":
            raise ValueError("--targets: only an outcome model (--model outcome) learns from absolute targets")
        if args.value_positions and not args.targets:
            raise ValueError("--value-positions: the positions need targets (--model outcome --targets ...)")
        if not args.engine_pairs >= 0:
            raise ValueError(f"--engine-pairs: the weight must be >= 0, got {args.engine_pairs}")
        featurize = game.featurize(args.encoding)
        train, valid, n_value = load_data(args, game)
        import torch

        torch.manual_seed(args.seed)  # the initial weights too: a fixed --seed reproduces a run
        model = build_model(args, game, game.feature_shape(args.encoding))
        if args.init_from:
            init_from(model, args.init_from, args.encoding)
    except (ValueError, FileNotFoundError, CheckpointError) as e:  # GameError is a ValueError
        print(f"train: {e}", file=sys.stderr)
        return 2
    cfg = TrainConfig(loss=args.loss, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      weight_decay=args.weight_decay, schedule=args.schedule, patience=args.patience, seed=args.seed,
                      device=args.device, max_steps=args.max_steps, max_seconds=args.max_seconds, threads=args.threads,
                      engine_pairs=args.engine_pairs)
    meta = {"game": args.game, "encoding": args.encoding, "records": [str(p) for p in (args.records or ["<bundled>"])],
            "split": args.split, "valid_fraction": args.valid_fraction,
            "test_fraction": args.test_fraction if args.split != "none" and not args.valid_records else 0.0,
            "targets": args.targets, "target_weight": args.target_weight if args.targets else 0.0,
            "value_positions": n_value,
            "init_from": args.init_from,
            "engine_pairs": args.engine_pairs, "engine_source": args.engine_source if args.engine_pairs else None,
            "train_decisions": len(train) - n_value, "valid_decisions": len(valid) if valid else 0}
    trainer = Trainer(model, train, valid, featurize, cfg, out=args.out, meta=meta, progress=not args.no_progress)
    if trainer.is_main:
        print(f"{len(train) - n_value:,} training decisions"
              + (f" and {n_value:,} value positions" if n_value else "") + f" ({train.n_items:,} candidates), "
              f"{len(valid) if valid else 0:,} validation; {args.model} scorer, {models.n_parameters(model):,} "
              f"parameters; loss {args.loss}; device {trainer.device}", file=sys.stderr)
    try:
        if args.resume and not trainer.resume():
            print(f"train: nothing to resume at {args.out}.last; starting afresh", file=sys.stderr)
        trainer.fit()
        finish_distributed()
    except KeyboardInterrupt:
        return 130
    except CheckpointError as e:
        print(f"train: {e}", file=sys.stderr)
        return 2
    if trainer.is_main:
        best = max((r.get("valid_top1", float("nan")) for r in trainer.history), default=float("nan"))
        print(f"best validation agreement {100 * best:.2f}%; model written to {args.out}")
        if args.plot != "none":
            png = args.plot or f"{args.out}.png"
            plot_history(trainer.history, png, title=f"{args.model} {args.hidden if args.model != 'linear' else ''} "
                                                     f"{args.encoding}, {args.loss} loss")
            print(f"training curves: {png}")
    return 0
