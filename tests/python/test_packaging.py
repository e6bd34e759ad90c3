"""The package as a user meets it: `trader --version`, `python -m trader`, typed."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import trader


def test_version_and_module_entry_point_agree():
    installed = version("trader-module")
    for command in (["trader", "--version"], [sys.executable, "-m", "trader", "--version"]):
        exe = Path(sys.executable).parent / command[0] if command[0] == "trader" else None
        out = subprocess.run([str(exe)] + command[1:] if exe else command, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == f"trader {installed}"
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "python" / "pyproject.toml").read_text())
    assert installed == pyproject["project"]["version"], "the installed package is this tree's"


def test_the_package_declares_its_types():
    assert (Path(trader.__file__).parent / "py.typed").exists()
