"""The package explains itself: each module states its one idea, stays small, and points at
nothing outside this repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hotdeals"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 350
OUTSIDE = re.compile(r"DESIGN\.md|spec/database\.md|\bissue \d+", re.IGNORECASE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_states_its_idea_in_one_or_two_lines(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring, f"{path.name} has no module docstring"
    summary = docstring.split("\n\n", 1)[0]
    assert summary.count("\n") <= 1, f"{path.name}: the idea takes more than two lines"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_is_small_and_self_contained(path: Path) -> None:
    text = path.read_text()
    assert text.count("\n") <= MAX_LINES, f"{path.name} has over {MAX_LINES} lines"
    assert not OUTSIDE.search(text), f"{path.name} points at a file outside the repository"
