"""The README's commands: the test command never goes stale, and a repeat install works offline."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make") or "make"       # the README's commands need make (CI installs it)


def make_variable(name: str) -> str:
    out = subprocess.run([MAKE, "-s", "--no-print-directory", "--eval",
                          "print-%: ; @echo $($*)", f"print-{name}"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_the_book_build_executes_every_page_every_time():
    """Sphinx skips unchanged pages; a change to lowrank_utils/ must still re-run every notebook."""
    dry = subprocess.run([MAKE, "-n", "-W", "requirements.txt", "build-book"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    build = [line for line in dry.splitlines() if "jupyter-book build" in line]
    assert build and all(" --all" in line for line in build), dry
    assert "--all" in make_variable("BUILD")


def test_a_repeat_install_needs_no_network():
    """The two install commands of the Makefile, run again with --no-index: nothing is fetched.
    (An isolated build of the package would ask an index for setuptools and fail offline.)"""
    assert (ROOT / ".venv" / "bin" / "python").exists(), "make install creates .venv first"
    for name in ("INSTALL_DEPS", "INSTALL_PKG"):
        command = make_variable(name)
        assert "--no-build-isolation" in command or name == "INSTALL_DEPS"
        result = subprocess.run(command.split() + ["--no-index", "--quiet"], cwd=ROOT,
                                capture_output=True, text=True)
        assert result.returncode == 0, f"{command} --no-index failed:\n{result.stderr[-2000:]}"
