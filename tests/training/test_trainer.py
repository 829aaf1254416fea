"""One trial's training: what it reports, when it stops, how it fails, and that a seed repeats it."""

from __future__ import annotations

import math

import pytest
import torch

from hpo_desktop.core.trial import TrialFailed
from hpo_desktop.training import trainer as trainer_module
from hpo_desktop.training.datasets import load_data
from hpo_desktop.training.params import resolve_params
from hpo_desktop.training.trainer import DeviceData, scheduled_lr, train

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits_dd(digits):
    return DeviceData(digits, CPU)


def run(dd, trial, metric="val_accuracy", direction="maximize", kind="mlp", **params):
    return train(dd, resolve_params(params), trial, kind=kind, metric=metric, direction=direction).metrics


def test_a_trial_on_digits_beats_chance_within_a_few_epochs(digits_dd, make_trial):
    trial = make_trial(seed=1)
    final = run(digits_dd, trial, epochs=4)
    assert [step for step, _ in trial.reports] == [1, 2, 3, 4]
    for _, metrics in trial.reports:
        assert set(metrics) == {"train_loss", "val_loss", "val_accuracy", "epoch_seconds"}
        assert all(isinstance(v, float) for v in metrics.values())
    assert final["val_accuracy"] > 0.85  # chance is 0.10
    assert trial.curve("train_loss")[-1] < trial.curve("train_loss")[0]
    assert final["n_params"] == 64 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10
    assert final["epochs_run"] == 4 and 1 <= final["best_epoch"] <= 4 and final["train_seconds"] > 0


def test_final_metrics_are_those_of_the_best_epoch(digits_dd, make_trial):
    trial = make_trial(seed=2)
    final = run(digits_dd, trial, metric="val_loss", direction="minimize", epochs=6, learning_rate=0.01)
    losses = trial.curve("val_loss")
    best = losses.index(min(losses))
    assert final["best_epoch"] == best + 1
    assert final["val_loss"] == min(losses)
    assert final["val_accuracy"] == trial.curve("val_accuracy")[best]


def test_a_cnn_on_digits_trains(digits_dd, make_trial):
    trial = make_trial(seed=0)
    final = run(digits_dd, trial, kind="cnn", epochs=3, channels=8, conv_layers=2, learning_rate=3e-3)
    assert final["val_accuracy"] > 0.7


def test_a_huge_learning_rate_diverges(digits_dd, make_trial):
    with pytest.raises(TrialFailed, match=r"^diverged: training loss became (nan|inf) at epoch \d+$"):
        run(digits_dd, make_trial(), optimizer="sgd", learning_rate=1e6, grad_clip=0.0, epochs=5)


def test_patience_stops_when_the_metric_no_longer_improves(digits_dd, make_trial):
    # A learning rate far below float32 resolution leaves the weights as they are: no epoch improves.
    trial = make_trial()
    final = run(digits_dd, trial, optimizer="sgd", learning_rate=1e-30, patience=2, epochs=50)
    assert final["best_epoch"] == 1 and final["epochs_run"] == 3 and len(trial.reports) == 3


def test_patience_on_a_real_run(make_trial):
    dd = DeviceData(load_data({"dataset": "iris"}), CPU)
    trial = make_trial(seed=3)
    final = run(
        dd, trial, metric="val_loss", direction="minimize", learning_rate=0.05, epochs=300, patience=4
    )
    assert final["epochs_run"] < 300
    assert final["epochs_run"] - final["best_epoch"] == 4


def test_should_stop_is_honoured_after_an_epoch(digits_dd, make_trial):
    trial = make_trial(stop_after=2)
    final = run(digits_dd, trial, epochs=10)
    assert len(trial.reports) == 2 and final["epochs_run"] == 2
    assert final["val_accuracy"] == max(trial.curve("val_accuracy"))


def test_should_stop_is_asked_inside_a_long_epoch(digits_dd, make_trial, monkeypatch):
    monkeypatch.setattr(trainer_module, "STOP_CHECK_INTERVAL", 0.0)
    trial = make_trial(stop_after=0)  # stop at once: cancel pressed while epoch 1 runs
    final = run(digits_dd, trial, epochs=3, batch_size=16)
    assert trial.reports == [] and trial.stop_calls == 1
    assert final["epochs_run"] == 0 and "val_accuracy" not in final and "n_params" in final


def test_the_same_seed_gives_the_same_result(digits_dd, make_trial):
    params = dict(
        epochs=3, dropout=0.2, batch_norm=True, lr_schedule="cosine", optimizer="adamw", weight_decay=0.01
    )
    a, b, c = make_trial(seed=7), make_trial(seed=7), make_trial(seed=8)
    fa, fb, fc = (run(digits_dd, t, **params) for t in (a, b, c))
    timing = {"train_seconds", "epoch_seconds"}
    strip = lambda m: {k: v for k, v in m.items() if k not in timing}  # noqa: E731
    assert strip(fa) == strip(fb)
    assert [strip(m) for _, m in a.reports] == [strip(m) for _, m in b.reports]
    assert strip(fa) != strip(fc)


def test_regression_reports_rmse_in_target_units_and_r2(diabetes, make_trial):
    dd = DeviceData(diabetes, CPU)
    trial = make_trial(seed=0)
    final = run(dd, trial, metric="val_rmse", direction="minimize", epochs=20, learning_rate=3e-3)
    assert set(trial.reports[0][1]) == {"train_loss", "val_loss", "val_rmse", "val_r2", "epoch_seconds"}
    assert 30 < final["val_rmse"] < 80  # the target spans about 25..346
    assert final["val_r2"] > 0.2
    # val_loss is the MSE on the standardized target: rmse = sqrt(loss) * std(train target).
    assert final["val_rmse"] == pytest.approx(math.sqrt(final["val_loss"]) * dd.y_std, rel=1e-4)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop"])
def test_every_optimizer_and_schedule_trains(optimizer, make_trial):
    dd = DeviceData(load_data({"dataset": "moons", "n_samples": 300}), CPU)
    schedule = {"sgd": "step", "adam": "cosine", "adamw": "none", "rmsprop": "cosine"}[optimizer]
    lr = {"sgd": 0.1, "rmsprop": 3e-3}.get(optimizer, 1e-2)
    final = run(
        dd, make_trial(), optimizer=optimizer, lr_schedule=schedule, learning_rate=lr, grad_clip=1.0, epochs=8
    )
    assert final["val_accuracy"] > 0.75


def test_learning_rate_schedules():
    assert scheduled_lr(0.1, "none", 5, 10) == 0.1
    assert scheduled_lr(0.1, "cosine", 0, 10) == 0.1
    assert scheduled_lr(0.1, "cosine", 5, 10) == pytest.approx(0.05)
    assert [scheduled_lr(1.0, "step", e, 9) for e in range(9)] == pytest.approx(
        [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01]
    )


def test_a_last_batch_of_one_row_does_not_break_batch_norm(digits_dd, make_trial):
    n = len(digits_dd.y_train)
    final = run(digits_dd, make_trial(), batch_norm=True, batch_size=n - 1, epochs=1)
    assert final["epochs_run"] == 1


def test_running_out_of_gpu_memory_fails_the_trial_with_a_reason(digits_dd, make_trial, monkeypatch):
    class Hungry(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Linear(64, 10)

        def forward(self, x):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(trainer_module, "build_model", lambda *a, **k: Hungry())
    with pytest.raises(TrialFailed, match=r"out of memory with batch_size=512 and a model of 650 parameters"):
        run(digits_dd, make_trial(), batch_size=512)


def test_amp_is_ignored_on_the_cpu(digits_dd, make_trial):
    params = resolve_params({"epochs": 1})
    a = train(digits_dd, params, make_trial(), amp=True, metric="val_accuracy", direction="maximize").metrics
    b = train(digits_dd, params, make_trial(), amp=False, metric="val_accuracy", direction="maximize").metrics
    assert a["val_accuracy"] == b["val_accuracy"]
