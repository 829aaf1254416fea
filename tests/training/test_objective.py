"""The objective a study calls: built from [data] + [model], one network per trial, a final test score."""

from __future__ import annotations

import pytest
import torch

from hpo_desktop.core.trial import TrialFailed
from hpo_desktop.training.datasets import DataError
from hpo_desktop.training.objective import (
    METRIC_DIRECTIONS,
    ModelConfigError,
    describe_device,
    evaluate_test,
    make_objective,
    metrics_for_task,
)


@pytest.fixture(scope="module")
def digits_objective():
    return make_objective(
        {"dataset": "digits"}, {"epochs": 3, "device": "cpu"}, metric="val_accuracy", direction="maximize"
    )


def test_objective_trains_with_trial_params_over_model_section_over_defaults(digits_objective, make_trial):
    small = digits_objective({"hidden_units": 8, "hidden_layers": 1}, make_trial(seed=1))
    default = digits_objective({}, make_trial(seed=1))
    assert small["n_params"] == 64 * 8 + 8 + 8 * 10 + 10
    assert default["n_params"] == 64 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10
    assert default["epochs_run"] == 3  # from [model]
    assert digits_objective({"epochs": 1}, make_trial())["epochs_run"] == 1  # the trial's value wins
    assert default["val_accuracy"] > 0.7  # chance is 0.10
    assert digits_objective.device.type == "cpu" and digits_objective.device_label.startswith("CPU (")
    assert digits_objective.data.name == "digits"


def test_an_unknown_or_bad_trial_param_fails_that_trial(digits_objective, make_trial):
    with pytest.raises(TrialFailed, match="unknown parameter 'lr'"):
        digits_objective({"lr": 0.1}, make_trial())
    with pytest.raises(TrialFailed, match="'activation'"):
        digits_objective({"activation": "swish"}, make_trial())


def test_a_cnn_objective_on_digits(make_trial):
    objective = make_objective(
        {"dataset": "digits"},
        {"kind": "cnn", "epochs": 2, "channels": 8, "learning_rate": 3e-3},
        metric="val_loss",
        direction="minimize",
    )
    assert objective({}, make_trial())["val_accuracy"] > 0.6


@pytest.mark.parametrize(
    ("model", "pattern"),
    [
        (
            {"hiden_units": 32},
            r"\[model\] unknown key 'hiden_units' \(allowed: .*\); did you mean 'hidden_units'",
        ),
        ({"kind": "transformer"}, "'kind' must be one of mlp, cnn"),
        ({"kind": "cnn"}, "kind = 'cnn' needs image data, but 'iris' is tabular"),
        ({"amp": "yes"}, "'amp' must be true or false"),
        ({"cuda_graphs": 1}, "'cuda_graphs' must be true or false"),
        ({"device": "tpu"}, "'device' must be one of"),
        ({"dropout": 1.5}, r"\[model\] 'dropout': must be < 1"),
        ({"epochs": 0}, r"\[model\] 'epochs': must be >= 1"),
    ],
)
def test_bad_model_keys_name_the_key(model, pattern):
    with pytest.raises(ModelConfigError, match=pattern):
        make_objective({"dataset": "iris"}, model, metric="val_loss", direction="minimize")


def test_bad_data_keys_surface_as_data_errors():
    with pytest.raises(DataError, match="unknown key 'datset'"):
        make_objective({"datset": "iris"}, {}, metric="val_loss", direction="minimize")


def test_the_metric_must_be_one_the_trainer_reports_for_the_task():
    with pytest.raises(ModelConfigError, match="metric 'val_accuracy' is not produced for a regression task"):
        make_objective({"dataset": "diabetes"}, {}, metric="val_accuracy", direction="maximize")
    with pytest.raises(ModelConfigError, match="metric 'accuracy' is not a metric"):
        make_objective({"dataset": "iris"}, {}, metric="accuracy", direction="maximize")
    with pytest.raises(ModelConfigError, match="direction"):
        make_objective({"dataset": "iris"}, {}, metric="val_loss", direction="down")
    assert metrics_for_task("regression") == ("train_loss", "val_loss", "val_rmse", "val_r2")
    assert METRIC_DIRECTIONS["val_r2"] == "maximize"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_forcing_an_absent_gpu_is_a_clear_error():
    with pytest.raises(ModelConfigError, match="device = 'cuda'"):
        make_objective({"dataset": "iris"}, {"device": "cuda"}, metric="val_loss", direction="minimize")


def test_describe_device():
    n = torch.get_num_threads()
    assert describe_device("cpu") == f"CPU ({n} thread{'s' if n != 1 else ''})"
    assert describe_device("auto").split(" ")[0] in ("CPU", "CUDA:", "Apple")


def test_evaluate_test_scores_the_held_out_split(digits_objective):
    data = digits_objective.data
    scores = evaluate_test(
        data, {"learning_rate": 3e-3}, {"epochs": 4}, seed=0, metric="val_accuracy", direction="maximize"
    )
    assert scores["test_accuracy"] > 0.85 and scores["test_loss"] > 0
    assert scores["n_test"] == len(data.y_test)
    merged = evaluate_test(data, {"learning_rate": 3e-3}, {"epochs": 4}, seed=0, include_validation=True)
    assert merged["test_accuracy"] > 0.85 and merged["epochs_run"] == 4


def test_evaluate_test_on_regression(diabetes):
    scores = evaluate_test(diabetes, {"learning_rate": 3e-3}, {"epochs": 15}, seed=0)
    assert set(scores) >= {"test_loss", "test_rmse", "test_r2"}
    assert scores["test_r2"] > 0.1
