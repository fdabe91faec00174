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


def test_the_readme_starts_with_the_two_commands_and_names_the_system_packages():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```")[1]
    assert "make run" in first_block and "make test" in first_block
    # The packages a bare Debian lacks, named before anything else is explained.
    installs = re.findall(r"apt-get install ([^\n#]+)", readme.split("## ")[0])
    named = set(" ".join(installs).split())
    assert {"make", "curl", "git", "python3", "python3-venv", "chromium", "nginx"} <= named


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


#: A markdown link's target, and a path in backticks that climbs (`../...`).
LINK = re.compile(r"\]\(([^)\s]+)\)")
CLIMBING_PATH = re.compile(r"`(\.\./[^`\s]+)`")


@pytest.mark.parametrize("document", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_point_only_inside_the_repository(document):
    # A fresh clone (CI) has nothing beside the repository: every path a document names must be
    # a file in it.
    text = document.read_text(encoding="utf-8")
    targets = LINK.findall(text) + CLIMBING_PATH.findall(text)
    for target in targets:
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or a heading on the same page
        path = (document.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), (target, "is outside the repository")
        assert path.exists(), (target, "does not exist")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_i18n_extract_names_the_chinese_catalogue_that_exists():
    recipe = subprocess.run(
        ["make", "-n", "i18n-extract"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    [named] = re.findall(r"corrections/translations/\S+/messages\.po", recipe.split("echo")[-1])
    assert (ROOT / named).is_file() and "zh_Hans_CN" in named
