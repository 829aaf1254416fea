"""Project-wide rules: layers stay apart, the tree is lint-clean."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules_after_import(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return set(json.loads(out.stdout))


def test_core_imports_neither_qt_nor_torch_nor_heavy_ml():
    mods = _modules_after_import(
        "hpo_desktop.core.space, hpo_desktop.core.study, hpo_desktop.core.storage, hpo_desktop.core.strategies"
    )
    for heavy in ("PySide6", "pyqtgraph", "torch", "skopt", "sklearn"):
        assert heavy not in mods, f"importing hpo_desktop.core loaded {heavy}"


def test_package_import_is_light():
    mods = _modules_after_import("hpo_desktop")
    assert not {"torch", "PySide6", "numpy"} & mods


def test_no_core_module_imports_qt_or_torch_anywhere():
    for path in (ROOT / "hpo_desktop" / "core").rglob("*.py"):
        text = path.read_text()
        for banned in ("import torch", "from torch", "PySide6", "pyqtgraph"):
            assert banned not in text, f"{path.relative_to(ROOT)} mentions {banned}"


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff not installed")
def test_tree_is_ruff_clean():
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--quiet", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_test_named_in_the_reliability_page_exists():
    """docs/reliability.md names a test for each fault; each must exist (the page cannot drift)."""
    import re

    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text))
    assert len(named) >= 30
    missing = []
    for path, name in sorted(named):
        source = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).exists() else ""
        if not re.search(rf"^(async )?def {name}\(", source, re.M):
            missing.append(f"{path}::{name}")
    assert not missing, missing
