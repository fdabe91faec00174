"""What a newcomer meets before any code runs: the first `make`, the README, the docs' links."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_first_make_says_it_is_installing_before_it_installs():
    # -n prints the recipe without running it; -W pretends pyproject.toml changed (a first make).
    recipe = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    pip = next(i for i, line in enumerate(recipe) if "pip install" in line)
    said = [line for line in recipe[:pip] if line.startswith("echo ")]
    assert said and "Installing Python packages" in said[0] and "minute" in said[0]
