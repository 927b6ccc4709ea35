"""The built wheel holds every file of the package: templates, catalogs, models, migrations.

An editable install reads the source tree, so a file left out of the package data only shows up
for people who install the wheel: the web pages would lose their words, or the analysis its
models. Built here without network (no isolation: the environment's setuptools builds it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_file_of_the_package(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    # built from a copy: an in-tree build would leave build/ and egg-info in the checkout
    tree = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "crisisdesk", tree / "crisisdesk", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(tree), "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", str(tmp_path / "dist")],
        check=True, cwd=tmp_path, capture_output=True,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("crisisdesk-*.whl")
    packaged = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("crisisdesk/")}
    source = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "crisisdesk").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert source - packaged == set()
    assert "crisisdesk/web/locales/crisis.json" in packaged
