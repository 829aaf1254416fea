"""Final evaluation on the test split: a trial's configuration retrained with N seeds, stored
apart from the search - and the search itself never reads the test split."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hpo_desktop.core.evaluation import EvaluationError, format_summary
from hpo_desktop.core.space import Categorical, Float
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.study import Study
from hpo_desktop.training import objective as objective_module
from hpo_desktop.training.datasets import DataError
from hpo_desktop.training.evaluation import (
    EvaluationCancelled,
    default_seeds,
    evaluate_and_store,
    evaluate_trial,
)
from hpo_desktop.training.objective import ModelConfigError, make_objective

DATA = {"dataset": "digits"}
MODEL = {"epochs": 2, "device": "cpu", "hidden_units": 16, "hidden_layers": 1}
SPACE = {"learning_rate": Float(1e-3, 3e-2, log=True), "optimizer": Categorical(("adam", "sgd"))}


def _digits_study(path: Path, n_trials: int = 2) -> Study:
    """A finished built-in study on digits, as `hpo-desktop run` would leave it (tiny epochs)."""
    study = Study.create(
        path,
        "digits",
        SPACE,
        "random",
        metric="val_accuracy",
        direction="maximize",
        seed=7,
        n_trials=n_trials,
        spec={"data": DATA, "model": MODEL, "base_dir": str(path.parent)},
    )
    objective = make_objective(DATA, MODEL, metric="val_accuracy", direction="maximize")
    study.optimize(objective)
    return study


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("eval") / "digits.db"
    _digits_study(path).close()
    return path


def test_evaluating_the_best_trial_stores_per_seed_scores_and_leaves_the_trials_alone(study_file, tmp_path):
    path = tmp_path / "copy.db"
    path.write_bytes(study_file.read_bytes())
    with StudyStore(path, readonly=True) as store:
        sid = store.get_study("digits").study_id
        before = store.get_trials(sid, with_curves=True)
        assert store.get_evaluations(sid) == []  # a file from before any evaluation
    calls: list[tuple[int, int]] = []
    record = evaluate_and_store(path, "digits", None, seeds=2, progress=lambda d, t: calls.append((d, t)))

    assert calls == [(1, 2), (2, 2)]
    best = max((t for t in before if t.value is not None), key=lambda t: t.value)
    assert record.trial_number == best.number and record.params == best.params
    assert record.seeds == default_seeds(7, 2) == [1007, 1008]
    assert record.include_validation is False and record.device.startswith("CPU")
    accs = [row["test_accuracy"] for row in record.per_seed]
    assert len(accs) == 2 and all(0.3 < a <= 1.0 for a in accs)
    assert accs[0] != accs[1]  # two seeds, two different networks
    mean, std = record.summary["test_accuracy"]
    assert mean == pytest.approx(np.mean(accs)) and std == pytest.approx(np.std(accs, ddof=1))
    assert format_summary(record).startswith(f"test_accuracy {mean:.3f} ± {std:.3f}")
    assert format_summary(record).endswith("(2 seeds)")

    with StudyStore(path, readonly=True) as store:  # reopened: the record is there, the trials unchanged
        assert store.get_evaluations(sid) == [record]
        assert store.get_trials(sid, with_curves=True) == before


def test_a_chosen_trial_with_validation_in_training_and_a_second_record(study_file, tmp_path):
    path = tmp_path / "copy.db"
    path.write_bytes(study_file.read_bytes())
    first = evaluate_and_store(path, "digits", 0, seeds=[5])
    second = evaluate_and_store(path, "digits", 1, seeds=1, include_validation=True)
    assert first.seeds == [5] and first.summary["test_accuracy"][1] == 0.0  # one seed: std 0
    assert second.include_validation and second.trial_number == 1
    with StudyStore(path, readonly=True) as store:
        assert store.get_evaluations(store.get_study("digits").study_id) == [first, second]  # oldest first


def test_bad_requests_fail_before_training_and_leave_the_file_alone(study_file, tmp_path):
    path = tmp_path / "copy.db"
    path.write_bytes(study_file.read_bytes())
    original = path.read_bytes()
    with pytest.raises(EvaluationError, match="has no trial 9"):
        evaluate_and_store(path, "digits", 9)
    with pytest.raises(EvaluationError, match="at least 1"):
        evaluate_and_store(path, "digits", None, seeds=0)
    with pytest.raises(EvaluationCancelled):
        evaluate_and_store(path, "digits", None, seeds=2, should_stop=lambda: True)
    assert path.read_bytes() == original


def test_a_study_without_a_built_in_model_or_without_a_test_split_is_refused():
    with pytest.raises(ModelConfigError, match="no built-in model to retrain"):
        evaluate_trial({}, {"learning_rate": 0.01}, [0], metric="val_accuracy", direction="maximize")
    with pytest.raises(DataError, match="no test split"):
        evaluate_trial(
            {"data": {"dataset": "digits", "test": 0}, "model": MODEL},
            {},
            [0],
            metric="val_accuracy",
            direction="maximize",
        )


def test_no_complete_trial_means_nothing_to_evaluate(tmp_path):
    path = tmp_path / "empty.db"
    Study.create(path, "empty", SPACE, "random", spec={"data": DATA, "model": MODEL}).close()
    with pytest.raises(EvaluationError, match="no complete trial"):
        evaluate_and_store(path, "empty", None)


class _Watched:
    """An array stand-in that records every read of its values (its length is not a read)."""

    def __init__(self, array: np.ndarray, reads: list[str]) -> None:
        self._array, self._reads = array, reads

    def __len__(self) -> int:
        return len(self._array)

    def __array__(self, dtype=None, copy=None):
        self._reads.append("__array__")
        return self._array if dtype is None else self._array.astype(dtype)

    def __getattr__(self, name: str):
        self._reads.append(name)
        return getattr(self._array, name)

    def __getitem__(self, key):
        self._reads.append("__getitem__")
        return self._array[key]


def test_the_search_never_reads_the_test_split_but_the_evaluation_does(tmp_path, monkeypatch):
    reads: list[str] = []
    real_load = objective_module.load_data

    def load_watched(section, base_dir=None):
        data = real_load(section, base_dir)
        return replace(data, X_test=_Watched(data.X_test, reads), y_test=_Watched(data.y_test, reads))

    monkeypatch.setattr(objective_module, "load_data", load_watched)
    path = tmp_path / "watched.db"
    study = _digits_study(path, n_trials=3)
    with study:
        assert study.n_finished() == 3 and study.best_trial is not None
        assert reads == []  # three trials trained and validated without touching the test split
        per_seed, _device = evaluate_trial(
            study.record.spec, study.best_params, [0], metric="val_accuracy", direction="maximize"
        )
    assert reads  # the final evaluation is what reads it
    assert 0.3 < per_seed[0]["test_accuracy"] <= 1.0
