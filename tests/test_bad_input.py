"""Files that are not model files, and bad arguments to ``bench accuracy``: a clear message naming
the file, exit status 2, no traceback, and never torch's advice to load with weights_only=False
(which would run code from an untrusted file)."""
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from comparison import checkpoint, cli, models

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "games" / "backgammon" / "data" / "default-model.pt"


class _Evil:
    """A pickle that runs a command when loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _bad_files(folder: Path) -> dict:
    """name -> a file that is not a model file."""
    marker = folder / "pwned"
    files = {
        "random": (folder / "random.pt", os.urandom(4096)),
        "text": (folder / "notes.txt", b"this is not a model\njust some text\n"),
        "empty": (folder / "empty.pt", b""),
        "pickle": (folder / "evil.pkl", pickle.dumps(_Evil(marker))),
        "truncated": (folder / "truncated.pt", DEFAULT_MODEL.read_bytes()[:20_000]),
    }
    for path, data in files.values():
        path.write_bytes(data)
    with open(folder / "evil.pt", "wb") as f:  # the classic, inside a PyTorch archive
        torch.save({"format": "comparison-checkpoint", "version": 1, "model": _Evil(marker)}, f)
    torch.save({"weights": torch.zeros(3)}, folder / "foreign.pt")  # a torch file that is not ours
    out = {name: path for name, (path, _) in files.items()}
    out["evil-torch"] = folder / "evil.pt"
    out["foreign"] = folder / "foreign.pt"
    return out


KINDS = ["random", "text", "empty", "pickle", "truncated", "evil-torch", "foreign"]


@pytest.fixture
def bad(tmp_path):
    files = _bad_files(tmp_path)
    yield files
    assert not (tmp_path / "pwned").exists()  # nothing in any file ran


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_that_is_not_a_model_is_named_and_refused(bad, kind):
    path = bad[kind]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(checkpoint.CheckpointError) as e:
            checkpoint.load(path)
    message = str(e.value)
    assert message.startswith(f"{path}: not a model file")
    assert "weights_only" not in message and "unpickl" not in message.lower()
    assert len(message) < len(str(path)) + 130  # a short reason, not torch's paragraph
    assert not [w for w in caught if "weights_only" in str(w.message)]


def test_refusals_say_what_they_refused(bad):
    with pytest.raises(checkpoint.CheckpointError, match=r"refused: it asks to import posix\.system"):
        checkpoint.load(bad["evil-torch"])
    with pytest.raises(checkpoint.CheckpointError, match="empty file"):
        checkpoint.load(bad["empty"])
    with pytest.raises(checkpoint.CheckpointError, match="truncated"):
        checkpoint.load(bad["truncated"])
    with pytest.raises(checkpoint.CheckpointError, match="not a comparison checkpoint"):
        checkpoint.load(bad["foreign"])


def test_a_truncated_checkpoint_of_ours_is_not_a_model_file(tmp_path):
    m = models.build_scorer("mlp", d_in=6, hidden=(4,))
    checkpoint.save(tmp_path / "m.pt", m)
    whole = (tmp_path / "m.pt").read_bytes()
    assert checkpoint.load(tmp_path / "m.pt").config == m.config  # the whole file loads
    for cut in (len(whole) // 2, len(whole) - 1, 10):
        (tmp_path / "cut.pt").write_bytes(whole[:cut])
        with pytest.raises(checkpoint.CheckpointError, match="cut.pt: not a model file") as e:
            checkpoint.load(tmp_path / "cut.pt")
        assert "weights_only" not in str(e.value)


def test_a_folder_is_not_a_model_file(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="a folder, not a model file"):
        checkpoint.load(tmp_path)


# ------------------------------------------------------------------ through the command line


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["match", "accuracy"])
def test_commands_refuse_a_bad_model_file(bad, kind, command, capsys):
    path = str(bad[kind])
    args = (["match", path, "pubeval", "--games", "2", "--no-progress"] if command == "match"
            else ["bench", "accuracy", "--model", path, "--no-progress"])
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert f"{path}: not a model file" in err
    assert "weights_only" not in err and "Traceback" not in err


def _run_module(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "comparison", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command, kind", [("match", "pickle"), ("accuracy", "text")])
def test_real_process_stderr_is_clean(bad, command, kind):
    # in a real process torch's warnings reach stderr (pytest would capture them in-process);
    # a plain pickle of protocol 4 makes torch warn in words that mention weights_only
    path = str(bad[kind])
    args = (["match", path, "pubeval", "--games", "2", "--no-progress"] if command == "match"
            else ["bench", "accuracy", "--model", path, "--no-progress"])
    p = _run_module(*args)
    assert p.returncode == 2, p.stderr
    assert "not a model file" in p.stderr
    assert "weights_only" not in p.stderr and "Traceback" not in p.stderr


# ------------------------------------------------------------------ bench accuracy checks first


@pytest.fixture
def no_heavy_work(monkeypatch):
    """Stubs of the slow steps of bench accuracy that record whether they were reached."""
    from games.backgammon.learn import dataset

    calls = []

    def refuse(*args, **kwargs):
        calls.append("build_dataset")
        raise RuntimeError("stub: the records would be read here")

    monkeypatch.setattr(dataset, "build_dataset", refuse)
    return calls


@pytest.mark.parametrize("args, message", [
    (["--model", "missing.pt"], "unknown player 'missing.pt' (no such file)"),
    (["--model", "pubeval", "nosuchplayer"], "unknown player 'nosuchplayer'"),
    (["--model", "gnubg:z"], "whole number 0..4"),
    (["--model", "pubeval", "--records", "nowhere"], "nowhere: no such file or folder"),
    (["--model", "pubeval", "--analysis", "nothing.jsonl.gz"], "--analysis nothing.jsonl.gz: no such file"),
    (["--model", "pubeval", "--limit", "0"], "--limit must be at least 1"),
    (["--model", "pubeval", "--test-fraction", "1.5"], "--test-fraction must be between 0 and 1"),
])
def test_accuracy_checks_arguments_before_reading_records(args, message, no_heavy_work, capsys, tmp_path,
                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative names above name nothing
    assert cli.main(["bench", "accuracy", *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert no_heavy_work == []  # refused before any record was read


def test_accuracy_with_good_arguments_goes_on_to_read_the_records(no_heavy_work, tmp_path):
    # the stub is on the real path: with nothing wrong, the command reaches it
    with pytest.raises(RuntimeError, match="stub"):
        cli.main(["bench", "accuracy", "--model", str(DEFAULT_MODEL), "pubeval", "random", "--records", str(tmp_path),
                  "--no-progress"])
    assert no_heavy_work == ["build_dataset"]
