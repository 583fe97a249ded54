"""What `./run` installs is pinned, and the package metadata builds without deprecations.

`constraints.txt` (made by `./run lock`) holds every Python package at one version, and
`./run` installs with it: a new ruff or mypy release cannot turn CI red with no change here.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pins() -> dict[str, Version]:
    found: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"constraints.txt: {line!r} is not a pin"
        found[canonicalize_name(requirement.name)] = Version(specifier.version)
    return found


def declared() -> list[Requirement]:
    project = PYPROJECT["project"]
    return [
        Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    ]


@pytest.mark.parametrize("requirement", declared(), ids=str)
def test_every_declared_dependency_is_pinned_within_its_range(requirement: Requirement) -> None:
    """A dependency added to pyproject.toml without `./run lock` would float: refused."""
    pinned = pins().get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is not in constraints.txt: run ./run lock"
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"constraints.txt pins {requirement.name}=={pinned}, outside {requirement.specifier}"
    )


def test_this_venv_is_at_the_pinned_versions() -> None:
    """`./run` installed with the constraints (it reinstalls when they change)."""
    wrong = {}
    for name, pinned in pins().items():
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            continue  # a pin for another platform's marker: not installed here
        if installed != pinned:
            wrong[name] = f"{installed} installed, {pinned} pinned"
    assert not wrong, f"run ./run test to reinstall: {wrong}"


def test_the_license_is_an_spdx_expression_the_build_backend_reads() -> None:
    """setuptools deprecates the `license = {text = ...}` table (builds stop in 2027);
    the SPDX string needs setuptools 77 or later (PEP 639)."""
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    (setuptools,) = (
        Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")
    )
    assert not setuptools.specifier.contains("76.1"), "a setuptools without PEP 639 allowed"
