"""The trainer on a CUDA GPU (skipped on machines without one)."""

from __future__ import annotations

import pytest
import torch

from hpo_desktop.core.trial import TrialFailed
from hpo_desktop.training.objective import describe_device, make_objective
from hpo_desktop.training.optim import LeanOptimizer
from hpo_desktop.training.params import resolve_params
from hpo_desktop.training.trainer import DeviceData, train

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.mark.parametrize("amp", [False, True])
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_a_trial_trains_on_cuda_with_and_without_amp(kind, amp, make_trial):
    objective = make_objective(
        {"dataset": "digits"},
        {"device": "cuda", "amp": amp, "kind": kind, "epochs": 5, "learning_rate": 3e-3},
        metric="val_accuracy",
        direction="maximize",
    )
    assert objective.device.type == "cuda"
    assert objective.device_label.startswith("CUDA: ") and objective.device_label == describe_device("cuda")
    trial = make_trial(seed=0)
    final = objective({}, trial)
    assert final["val_accuracy"] > 0.85
    assert len(trial.reports) == 5


def test_auto_picks_cuda():
    objective = make_objective({"dataset": "iris"}, {}, metric="val_loss", direction="minimize")
    assert objective.device.type == "cuda"


def test_the_fused_optimizer_step_runs_on_cuda():
    model = torch.nn.Linear(4, 2).cuda()
    for name in ("adam", "adamw", "sgd"):
        assert LeanOptimizer(model.parameters(), resolve_params({"optimizer": name})).is_fast


def test_the_same_seed_repeats_on_cuda(make_trial):
    objective = make_objective(
        {"dataset": "digits"}, {"device": "cuda", "epochs": 2}, metric="val_loss", direction="minimize"
    )
    a, b = objective({}, make_trial(seed=3)), objective({}, make_trial(seed=3))
    assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)


def test_running_out_of_gpu_memory_fails_the_trial_and_frees_the_memory(make_trial):
    objective = make_objective(
        {"dataset": "digits"}, {"device": "cuda", "epochs": 1}, metric="val_loss", direction="minimize"
    )
    objective({}, make_trial())  # data on the device, allocator warm
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    free, _total = torch.cuda.mem_get_info()
    # Hidden layers of 65,536 units take 17 GB each: more of them than fit, and the model cannot be built.
    layers = int(free / (65536**2 * 4)) + 2
    with pytest.raises(
        TrialFailed, match=r"CUDA out of memory with batch_size=64 and a model of [\d,]+ parameters"
    ):
        objective({"hidden_layers": layers, "hidden_units": 65536}, make_trial())
    assert torch.cuda.memory_allocated() == before
    assert objective({}, make_trial())["val_loss"] > 0  # the next trial runs normally


def test_the_whole_data_set_stays_on_the_device(digits):
    dd = DeviceData(digits, torch.device("cuda"))
    assert dd.X_train.is_cuda and dd.y_train.is_cuda and dd.X_val.is_cuda
    result = train(dd, resolve_params({"epochs": 1}), _Quiet(), metric="val_loss", direction="minimize")
    assert result.metrics["epochs_run"] == 1


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_a_cuda_graph_trains_like_eager_steps(digits, optimizer):
    dd = DeviceData(digits, torch.device("cuda"))
    params = resolve_params(
        {"epochs": 3, "optimizer": optimizer, "learning_rate": 0.05 if optimizer == "sgd" else 3e-3,
         "lr_schedule": "cosine", "grad_clip": 1.0, "weight_decay": 1e-4}
    )  # fmt: skip
    kw = {"metric": "val_loss", "direction": "minimize"}
    graphed = train(dd, params, _Quiet(), cuda_graphs=True, **kw)
    eager = train(dd, params, _Quiet(), cuda_graphs=False, **kw)
    assert graphed.cuda_graph and not eager.cuda_graph
    for name in ("train_loss", "val_loss", "val_accuracy"):
        assert graphed.metrics[name] == pytest.approx(eager.metrics[name], rel=2e-3, abs=2e-3), name


def test_a_cuda_graph_with_batch_norm_dropout_and_amp(digits):
    dd = DeviceData(digits, torch.device("cuda"))
    params = resolve_params(
        {"epochs": 4, "batch_norm": True, "dropout": 0.1, "batch_size": 100, "learning_rate": 3e-3}
    )
    result = train(dd, params, _Quiet(), amp=True, metric="val_accuracy", direction="maximize")
    assert result.cuda_graph and result.metrics["val_accuracy"] > 0.85


class _Quiet:
    seed, number, params = 0, 0, {}

    def report(self, step, **metrics):
        pass

    def should_stop(self):
        return False
