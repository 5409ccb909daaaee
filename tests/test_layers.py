"""The package's layout rule (DESIGN: two layers): the core never imports a view, importing the
core never loads ipywidgets, no module is over 500 lines, and the tests mirror the modules."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lowrank_utils"
VIEWS = ("plotting", "widgets", "exercises")          # the view layer: top-level names
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
CORE = sorted(name for name in MODULES
              if name != "lowrank_utils" and name.split(".")[1] not in VIEWS)


def imported_modules(name: str) -> set[str]:
    """Every lowrank_utils module that ``name`` imports (absolute or relative), by the AST."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    # lazy imports through importlib: import_module(f".{...}", __name__) stays in the package
    return {m for m in found if m.startswith("lowrank_utils")}


def is_view(module: str) -> bool:
    parts = module.split(".")
    return len(parts) > 1 and parts[1] in VIEWS


def test_the_layers_are_what_the_package_docstring_says():
    assert {"linalg", "images", "budget", "lora", "runtime", "experiment", "results",
            "report"} <= {name.split(".")[1] for name in CORE}
    assert all(f"``{view}``" in (PACKAGE / "__init__.py").read_text() for view in VIEWS)


@pytest.mark.parametrize("name", CORE)
def test_a_core_module_never_imports_a_view(name):
    views = sorted(m for m in imported_modules(name) if is_view(m))
    assert not views, f"{name} (core) imports the view(s) {views}"
    source = MODULES[name].read_text(encoding="utf-8")
    assert "ipywidgets" not in imported_names(source), f"{name} imports ipywidgets"


def imported_names(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_rule_checker_sees_a_violation(tmp_path, monkeypatch):
    """The AST check above is not vacuous: a core module importing a widget is caught."""
    fake = tmp_path / "lowrank_utils" / "fake.py"
    fake.parent.mkdir()
    fake.write_text("from .widgets.image import image_explorer\nimport numpy\n")
    monkeypatch.setitem(MODULES, "lowrank_utils.fake", fake)
    assert any(is_view(m) for m in imported_modules("lowrank_utils.fake"))


def test_importing_the_whole_core_loads_no_widget_or_pyplot():
    code = ("import sys, importlib\n"
            f"for name in {CORE!r}:\n"
            "    importlib.import_module(name)\n"
            "import lowrank_utils.experiment as E\n"
            "[getattr(E, n) for n in E.__all__]\n"            # the lazy names too
            "bad = [m for m in ('ipywidgets', 'matplotlib.pyplot', 'IPython') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_500_lines(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def mirror(name: str) -> list[Path]:
    """Where the tests of module ``name`` live: tests/test_<module>.py (and friends)."""
    parts = name.split(".")[1:]
    if parts[0] == "experiment":
        return sorted((ROOT / "tests" / "experiment").glob(f"test_{parts[1]}*.py"))
    stem = "_".join(p.lstrip("_") for p in parts)
    return sorted((ROOT / "tests").glob(f"test_{stem}*.py"))


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not MODULES[n].name == "__init__.py"))
def test_every_module_has_its_test_file(name):
    assert mirror(name), f"no test file for {name} (expected {name.split('.', 1)[1]} mirrored)"
