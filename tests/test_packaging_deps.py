"""What installing the app pulls in: the test runner belongs to the test extra (CI
installs `.[test]`), not to everyone who runs `pip install tui-chat`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _names(requirements: list[str]) -> set[str]:
    return {
        re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower() for requirement in requirements
    }


def test_pytest_is_a_test_dependency_not_a_runtime_one() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "pytest" not in _names(project["dependencies"])
    assert "pytest" in _names(project["optional-dependencies"]["test"])


def test_ci_installs_the_test_extra() -> None:
    assert "pip install -e '.[test]'" in (ROOT / ".ci" / "run").read_text()
