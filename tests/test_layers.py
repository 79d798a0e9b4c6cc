"""The layers of games/backgammon: each imports only the layers below it; rules and records no torch."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "games" / "backgammon"
LAYERS = ("rules", "records", "learn", "players", "play", "ui", "commands")
RANK = {name: i for i, name in enumerate(LAYERS)}
NO_TORCH = ("rules", "records")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a file of games.backgammon, relative ones resolved."""
    package = ["games", "backgammon", *path.relative_to(PACKAGE).parent.parts]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            if node.module:
                out.append((node.lineno, module))
            else:  # from . import x: x may be a module
                out += [(node.lineno, f"{module}.{a.name}") for a in node.names]
    return out


def layer_of(module: str):
    parts = module.split(".")
    if parts[:2] == ["games", "backgammon"] and len(parts) > 2 and parts[2] in RANK:
        return parts[2]
    return None


def violations(path: Path) -> list[str]:
    own = path.relative_to(PACKAGE).parts[0]
    bad = []
    for line, module in imported_modules(path):
        other = layer_of(module)
        if other is not None and RANK[other] > RANK[own]:
            bad.append(f"{path.relative_to(PACKAGE)}:{line}: {own} imports {module} (a higher layer)")
        root = module.split(".")[0]
        # the framework's root package holds only the version string; its submodules load torch
        if own in NO_TORCH and (root == "torch" or module.startswith("comparison.")):
            bad.append(f"{path.relative_to(PACKAGE)}:{line}: {own} imports {module} (torch-side)")
    return bad


def test_every_file_sits_in_a_layer():
    stray = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "agents.py")]
    assert stray == [], "modules outside the layers"
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()) == sorted(LAYERS)


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_layers_below(layer):
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    bad = [v for f in files for v in violations(f)]
    assert bad == []


def test_the_checker_catches_upward_and_torch_imports(tmp_path, monkeypatch):
    fake = tmp_path / "games" / "backgammon"
    for layer in ("rules", "players"):
        (fake / layer).mkdir(parents=True)
    (fake / "rules" / "x.py").write_text("from ..players import make_player\nimport torch\nfrom comparison import __version__\n")
    (fake / "players" / "y.py").write_text("from ..rules.board import start_board\nfrom ..play import game\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert len(violations(fake / "rules" / "x.py")) == 2
    assert len(violations(fake / "players" / "y.py")) == 1


def test_importing_the_package_loads_no_torch():
    code = ("import sys, games.backgammon as bg, games.backgammon.records, games.backgammon.rules.legal, "
            "games.backgammon.ui.env\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n"
            "bg.load_agent  # the lazy torch-side name loads on use\n"
            "assert 'torch' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
