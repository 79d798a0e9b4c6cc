"""scripts/train_default.py: every candidate holds out the same human matches, however many
undated generated games it trains on besides."""
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from comparison.data import split_three
from games.backgammon import records
from games.backgammon.learn.dataset import build_dataset
from games.backgammon.learn.game import GAME

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    """scripts/train_default.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("train_default", ROOT / "scripts" / "train_default.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def script(monkeypatch, tmp_path):
    from conftest import shared_data

    src = shared_data() / "human-records"
    if not src.is_dir():
        pytest.skip(f"shared data not found at {src}")
    module = load_script()
    human, corpus, more = tmp_path / "human", tmp_path / "corpus", tmp_path / "more"
    for d in (human, corpus, more):
        d.mkdir()
    for f in sorted(src.iterdir())[:40]:
        shutil.copy(f, human / f.name)
    bundled = sorted(records.corpus_dir().glob("*.mat"))
    shutil.copy(bundled[0], corpus / bundled[0].name)
    for f in bundled[1:4]:
        shutil.copy(f, more / f.name)
    monkeypatch.setattr(module, "HUMAN", human)
    monkeypatch.setattr(module, "CORPUS", corpus)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return module, more


def held_out(paths, options):
    fraction = float(options[options.index("--valid-fraction") + 1])
    assert options[options.index("--test-fraction") + 1] == options[options.index("--valid-fraction") + 1]
    data = build_dataset(paths, workers=1, progress=False, log=lambda *a: None)
    _train, valid, test = split_three(data, GAME.chronological_order(data), data.meta["file"], fraction, fraction)
    names = lambda part: sorted(set(part.tables["files"][part.meta["file"]].tolist()))  # noqa: E731
    return names(valid), names(test), len(data)


def test_candidates_with_more_generated_games_hold_out_the_same_matches(script):
    module, more = script
    base = [str(module.HUMAN), str(module.CORPUS)]
    bigger = [str(module.HUMAN), str(module.CORPUS), str(more)]
    plain, wide = module.split_options(base), module.split_options(bigger)
    assert plain == ["--valid-fraction", "0.1", "--test-fraction", "0.1"]
    valid, test, n = held_out(base, plain)
    valid2, test2, n2 = held_out(bigger, wide)
    assert n2 > n and float(wide[1]) == pytest.approx(0.1 * n / n2)
    assert valid and test and (valid, test) == (valid2, test2)
    # the naive split (10% of all decisions) would have taken more human matches
    naive_valid, naive_test, _ = held_out(bigger, ["--valid-fraction", "0.1", "--test-fraction", "0.1"])
    assert len(naive_valid) + len(naive_test) > len(valid) + len(test)
    assert not np.intersect1d(valid, test).size
    # the tuned-* candidates read the people's matches alone: fewer decisions, the same matches held out
    alone = [str(module.HUMAN)]
    valid3, test3, n3 = held_out(alone, module.split_options(alone))
    assert n3 < n and (valid3, test3) == (valid, test)


def test_bench_accuracy_validation_part_is_the_next_latest(script, tmp_path):
    """bench accuracy --split valid: train's validation part (the next latest matches), disjoint
    from the test part it reports by default, for choosing between players."""
    import json

    from comparison import cli

    module, _ = script
    counts = {}
    for split in ("date", "valid", "none"):
        out = tmp_path / f"{split}.json"
        assert cli.main(["bench", "accuracy", "--model", "random", "--records", str(module.HUMAN), "--split", split,
                         "--analysis", "none", "--workers", "1", "--no-progress", "--json", str(out)]) == 0
        counts[split] = json.loads(out.read_text())["decisions"]
    data = build_dataset([str(module.HUMAN)], workers=1, progress=False, log=lambda *a: None)
    _train, valid, test = split_three(data, GAME.chronological_order(data), data.meta["file"], 0.1, 0.1)
    assert counts == {"date": len(test), "valid": len(valid), "none": len(data)}


def test_labelled_folders_per_candidate(monkeypatch, tmp_path):
    """labelled-corpus-* train on the corpus's labels alone, labelled16k-* on the extra games too;
    folders that already hold their games are not generated again."""
    module = load_script()
    wanted = [(tmp_path / "a", 1, 200), (tmp_path / "b", 2, 100)]
    extra = [(tmp_path / "c", 4, 300)]
    for folder, _, games in wanted + extra:
        folder.mkdir()
        for i in range(games // module.GAMES_PER_FILE):
            (folder / f"g-{i}.probs.jsonl").write_text("")
    monkeypatch.setattr(module, "LABELLED", wanted)
    monkeypatch.setattr(module, "MORE_LABELLED", extra)
    calls = []
    monkeypatch.setattr(module.subprocess, "check_call", lambda cmd, **kw: calls.append(cmd))
    assert module.labelled_records(corpus_only=True) == [str(tmp_path / "a")]
    assert module.labelled_records() == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert module.labelled_records(more=True) == [str(tmp_path / n) for n in "abc"]
    assert not calls
    (tmp_path / "c" / "g-0.probs.jsonl").unlink()          # one file short: generated again
    module.labelled_records(more=True)
    assert len(calls) == 1 and calls[0][calls[0].index("--seed") + 1] == "4"


def test_selection_match_of_the_searching_player_is_kept_apart(monkeypatch, tmp_path):
    """--select search plays the selection games with NAME:1 and keeps its result beside the model
    in .select1.json, apart from the 0-ply player's .select.json; a kept result is read back while
    the model file is unchanged."""
    import json
    import subprocess

    module = load_script()
    model = tmp_path / "default-x.pt"
    model.write_bytes(b"model")
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        ppg = 0.25 if cmd[cmd.index("match") + 1].endswith(":1") else -0.5
        return subprocess.CompletedProcess(cmd, 0, stdout=json.dumps({"ppg": ppg}))

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    assert module.selection_strength(model) == -0.5 and module.selection_strength(model, plies=1) == 0.25
    assert [c[c.index("match") + 1] for c in calls] == [str(model), f"{model}:1"]
    assert (tmp_path / "default-x.select.json").exists() and (tmp_path / "default-x.select1.json").exists()
    assert module.selection_strength(model, plies=1) == 0.25 and len(calls) == 2     # read back, not played


def test_human_labels_are_made_once(monkeypatch, tmp_path):
    """labelled-human-* read gnubg-nn's labels of the human records from HUMAN_LABELS, written by
    records label when the folder has none, and not again once it has them."""
    module = load_script()
    monkeypatch.setattr(module, "HUMAN_LABELS", tmp_path / "human")
    calls = []

    def fake_label(cmd, **kw):
        calls.append(cmd)
        (tmp_path / "human").mkdir()
        (tmp_path / "human" / "m.probs.jsonl").write_text("")

    monkeypatch.setattr(module.subprocess, "check_call", fake_label)
    module.human_labels()
    module.human_labels()
    assert len(calls) == 1 and calls[0][3:5] == ["records", "label"]
    assert calls[0][-2:] == ["--out", str(tmp_path / "human")]


def test_selection_rules():
    """search: 1-ply results within SEARCH_TIE of the best are level, and validation agreement
    chooses among them; strength and agreement: the best of their measure, exact ties to the other."""
    module = load_script()
    tie = module.SEARCH_TIE
    scores = {"strong": {"agreement": 0.714, "strength": -0.005, "search": -0.036},
              "people": {"agreement": 0.732, "strength": -0.021, "search": -0.036 - tie / 2},
              "far": {"agreement": 0.740, "strength": 0.020, "search": -0.036 - 2 * tie}}
    assert module.choose(scores, "search") == "people"
    scores["people"]["search"] = -0.036 - 1.5 * tie             # no longer level with the best
    assert module.choose(scores, "search") == "strong"
    assert module.choose(scores, "strength") == "far" and module.choose(scores, "agreement") == "far"
    scores["strong"]["strength"] = scores["far"]["strength"]    # an exact tie goes to agreement
    assert module.choose(scores, "strength") == "far"
    scores["strong"]["agreement"] = scores["far"]["agreement"] = 0.75   # and one to strength
    scores["strong"]["strength"] = 0.03
    assert module.choose(scores, "agreement") == "strong"
