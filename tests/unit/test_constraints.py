"""The locked versions (constraints.txt, used by `make test` and `make demo`) satisfy every range in
pyproject.toml, name no local path, and are what the suite runs on for the model's libraries
(issue 22: a reproducible set of versions for CI and the demo)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from models.libraries import MODEL_LIBRARIES, installed_versions, parse_requirements

ROOT = Path(__file__).resolve().parents[2]


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    found = {canonicalize_name(k): v for k, v in parse_requirements(lines).items()}
    assert len(found) == sum(1 for line in lines if line.strip() and not line.startswith("#")), \
        "every line of constraints.txt is a name==version pin"
    return found


def test_every_declared_dependency_is_pinned_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    locked = pins()
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in constraints.txt (run make lock)"
        assert requirement.specifier.contains(locked[name], prereleases=True), \
            f"constraints.txt pins {requirement.name}=={locked[name]} outside {requirement.specifier}"


def test_no_local_path_and_the_model_libraries_are_the_locked_ones():
    lines = [line for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
             if not line.startswith("#")]
    assert not [line for line in lines if "file:" in line or " @ " in line or line.startswith("-e")]
    locked = pins()
    installed = installed_versions(MODEL_LIBRARIES)
    differ = {k: (locked.get(k), v) for k, v in installed.items() if locked.get(k) != v}
    assert not differ, f"installed model libraries differ from constraints.txt: {differ} (reinstall with make)"
