"""Packaging: the two lock files agree with pyproject.toml and with each other, the image installs
only the runtime one, and the tests never import the benchmarks."""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
DEV_LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
# Test and development tools that must never reach the image, whoever pulls them in.
NOT_AT_RUNTIME = [
    "pytest*",
    "hypothesis*",
    "playwright",
    "schemathesis",
    "mypy*",
    "ruff",
    "pip-tools",
    "import-linter",
    "coverage",
]


def pins(lock: Path) -> dict[NormalizedName, str]:
    """``name: version`` of every ``name==version`` line of a pip-compile lock file."""
    found: dict[NormalizedName, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = match[2]
    return found


def requirements(group: str | None) -> list[Requirement]:
    """The runtime dependencies (``None``) or those of an extra, as declared."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        table: dict[str, Any] = tomllib.load(file)["project"]
    declared = table["dependencies"] if group is None else table["optional-dependencies"][group]
    return [Requirement(text) for text in declared]


def test_the_runtime_lock_holds_no_test_or_development_tool() -> None:
    runtime = pins(RUNTIME_LOCK)
    assert runtime, f"{RUNTIME_LOCK.name} pins nothing"
    extras = {canonicalize_name(r.name) for group in ("test", "dev") for r in requirements(group)}
    for name in runtime:
        assert name not in extras, f"{name} (a test or dev dependency) is in {RUNTIME_LOCK.name}"
        for pattern in NOT_AT_RUNTIME:
            assert not fnmatch.fnmatch(name, pattern), f"{name} is in {RUNTIME_LOCK.name}"


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_every_runtime_dependency_is_pinned_within_its_range(lock: Path) -> None:
    pinned = pins(lock)
    for requirement in requirements(None):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {lock.name}: run `make lock`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock.name} pins {name}=={pinned[name]}, outside {requirement}: run `make lock`"
        )


def test_every_test_and_dev_dependency_is_pinned_in_the_dev_lock() -> None:
    pinned = pins(DEV_LOCK)
    for requirement in requirements("test") + requirements("dev"):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement} is not in {DEV_LOCK.name}: run `make lock`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{DEV_LOCK.name} pins {name}=={pinned[name]}, outside {requirement}"
        )


def test_the_two_locks_pin_shared_packages_alike() -> None:
    """What the image runs is what the tests ran: the runtime lock is a subset of the dev lock."""
    runtime, dev = pins(RUNTIME_LOCK), pins(DEV_LOCK)
    assert runtime.keys() <= dev.keys(), f"only in the runtime lock: {runtime.keys() - dev.keys()}"
    differing = {name: (runtime[name], dev[name]) for name in runtime if runtime[name] != dev[name]}
    assert differing == {}, "runtime lock vs requirements.lock"


def test_the_image_installs_the_runtime_lock_only() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    instructions = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert re.search(r"pip install[^\n]*-r requirements-runtime\.lock", instructions)
    assert "requirements.lock" not in instructions  # the dev lock: test tools, linters


def test_make_lock_writes_both_lock_files() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "-o requirements.lock" in recipe
    assert "-o requirements-runtime.lock" in recipe


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_tests_never_import_the_benchmarks() -> None:
    """Benchmarks may use the test support (``tests.support``), never the reverse."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in modules if m.split(".")[0] == "bench")
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if (modules := imported_modules(path))
    }
    assert {path: found for path, found in offenders.items() if found} == {}
