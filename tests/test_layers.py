"""The one-way pipeline, as import-linter contracts in pyproject.toml: a test fails when a layer
imports one above it (the pipeline importing a view, say)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import REPO

LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root / "src")},
    )


def test_every_layer_imports_only_the_layers_below_it() -> None:
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def test_a_pipeline_module_that_imports_a_view_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(REPO / "src", tmp_path / "src")
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    loop = tmp_path / "src" / "jfmfactory" / "pipeline" / "loop.py"
    loop.write_text(loop.read_text() + "\nfrom ..views import report  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "jfmfactory.pipeline.loop -> jfmfactory.views.report" in result.stdout
