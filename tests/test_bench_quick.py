"""The benchmark suite against peers keeps working: each new script's --quick mode runs and prints
its table (CI runs these; it does not judge speed), and the shared problems have the optima the
regret tables assume."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


@pytest.fixture(scope="module")
def problems():
    sys.path.insert(0, str(BENCH))
    try:
        import problems as mod
    finally:
        sys.path.remove(str(BENCH))
    return mod


def run_quick(script: str, tmp_path: Path, *extra: str) -> str:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_known_optima_are_where_the_regret_tables_assume(problems):
    p = problems.PROBLEMS
    for x1, x2 in ((-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)):
        assert p["branin"].f({"x1": x1, "x2": x2}) == pytest.approx(p["branin"].optimum, abs=1e-5)
    argmin = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)
    assert p["hartmann6"].f({f"x{i}": v for i, v in enumerate(argmin)}) == pytest.approx(
        p["hartmann6"].optimum, abs=1e-4
    )
    assert p["ackley5"].f({f"x{i}": 0.0 for i in range(5)}) == pytest.approx(0.0, abs=1e-12)
    best = {"optimizer": "adam", "activation": "relu", "lr": 1e-3, "units": 256, "dropout": 0.2}
    assert p["mixed"].f(best) == pytest.approx(0.0, abs=1e-12)
    assert p["mixed"].make_space().contains(best)
    # Random points never beat the stated minimum.
    import numpy as np

    rng = np.random.default_rng(0)
    for name in ("branin", "hartmann6", "ackley5", "mixed"):
        space = p[name].make_space()
        for _ in range(200):
            point = space.active({k: space[k].sample(rng) for k in space})
            assert p[name].f(point) >= p[name].optimum - 1e-9


def test_optuna_sees_the_conditional_only_when_active(problems):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = problems.mixed_space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = []
    for _ in range(40):
        trial = study.ask()
        params = problems.to_optuna(space, trial)
        study.tell(trial, problems.mixed(params))
        assert space.contains(params)
        seen.append(params)
    assert any(s["optimizer"] == "sgd" for s in seen)
    assert all(("momentum" in s) == (s["optimizer"] == "sgd") for s in seen)


@pytest.mark.slow
def test_sample_efficiency_quick_prints_its_tables_and_plot(tmp_path):
    pytest.importorskip("optuna")
    png = tmp_path / "se.png"
    out = run_quick("sample_efficiency.py", tmp_path, "--plot", str(png))
    assert "## Branin (2-D): simple regret" in out
    assert "## digits MLP, 6 hyperparameters: best validation error" in out
    for row in (
        "| random |",
        "| grid |",
        "| bayes-GP |",
        "| optuna-TPE |",
        "| optuna-GP |",
        "| skopt-gp_minimize |",
    ):
        assert row in out
    assert "bayes-GP / optuna-TPE = " in out and "bayes-GP / random = " in out
    assert "## Goals" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_suggest_overhead_quick_prints_its_tables_and_plot(tmp_path):
    pytest.importorskip("optuna")
    png = tmp_path / "so.png"
    out = run_quick("suggest_overhead.py", tmp_path, "--plot", str(png))
    assert "## Milliseconds per suggestion" in out
    for row in ("| bayes-GP |", "| optuna-TPE |", "| optuna-GP |", "| skopt GP |"):
        assert row in out
    assert "goal: our GP's amortized ms per suggestion <= optuna-GP's mean" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
