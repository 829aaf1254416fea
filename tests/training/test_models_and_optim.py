"""Networks built from params, and the lean optimizer step against torch.optim."""

from __future__ import annotations

import pytest
import torch

from hpo_desktop.training.models import MLP, SmallCNN, build_model, count_parameters
from hpo_desktop.training.optim import LeanOptimizer
from hpo_desktop.training.params import ModelConfigError, check_params, resolve_params


def test_mlp_follows_its_params():
    model = build_model(
        "mlp",
        {"hidden_layers": 3, "hidden_units": 32, "activation": "gelu", "dropout": 0.2, "batch_norm": True},
        (20,),
        4,
    )
    assert isinstance(model, MLP)
    kinds = [type(m).__name__ for m in model]
    assert kinds.count("Linear") == 4 and kinds.count("BatchNorm1d") == 3
    assert kinds.count("GELU") == 3 and kinds.count("Dropout") == 3
    assert count_parameters(model) == (20 * 32 + 32) + 2 * (32 * 32 + 32) + (32 * 4 + 4) + 3 * 64
    assert model(torch.zeros(5, 20)).shape == (5, 4)


def test_zero_hidden_layers_is_a_linear_model():
    model = build_model("mlp", {"hidden_layers": 0}, (7,), 3)
    assert count_parameters(model) == 7 * 3 + 3


@pytest.mark.parametrize("kernel_size", [2, 3, 5])
@pytest.mark.parametrize("conv_layers", [1, 2, 4])
def test_cnn_takes_flat_rows_of_an_image(kernel_size, conv_layers):
    model = build_model(
        "cnn",
        {"channels": 8, "kernel_size": kernel_size, "conv_layers": conv_layers, "batch_norm": True},
        (1, 8, 8),
        10,
    )
    assert isinstance(model, SmallCNN)
    model.eval()
    assert model(torch.randn(3, 64)).shape == (3, 10)


def test_cnn_needs_image_data():
    with pytest.raises(ModelConfigError, match="'cnn' needs image data"):
        build_model("cnn", {}, (30,), 2)


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"activation": "sigmoid"}, "'activation': 'sigmoid' is not one of relu"),
        ({"hidden_units": 0}, "'hidden_units': must be >= 1"),
        ({"hidden_units": 12.5}, "'hidden_units': expected a whole number"),
        ({"dropout": 1.0}, "'dropout': must be < 1"),
        ({"batch_norm": 1}, "'batch_norm': expected true or false"),
        ({"learning_rate": 0.0}, "'learning_rate': must be > 0"),
        ({"learning_rate": "fast"}, "'learning_rate': expected a number"),
        ({"optimizer": "lbfgs"}, "'optimizer': 'lbfgs' is not one of"),
        ({"hidden_unit": 3}, "unknown parameter 'hidden_unit'"),
    ],
)
def test_bad_param_values_name_the_param(params, pattern):
    with pytest.raises(ModelConfigError, match=pattern):
        check_params(params)


def test_whole_floats_and_numpy_values_are_accepted():
    import numpy as np

    out = check_params({"hidden_units": 64.0, "batch_size": np.int64(32), "dropout": np.float32(0.5)})
    assert out == {"hidden_units": 64, "batch_size": 32, "dropout": 0.5}
    assert type(out["hidden_units"]) is int and type(out["dropout"]) is float


def _twin_models(seed: int = 0) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(seed)
    a = build_model("mlp", {"hidden_layers": 2, "hidden_units": 16}, (6,), 3)
    b = build_model("mlp", {"hidden_layers": 2, "hidden_units": 16}, (6,), 3)
    b.load_state_dict(a.state_dict())
    return a, b


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("adam", lambda ps, lr: torch.optim.Adam(ps, lr=lr, weight_decay=0.01)),
        ("adamw", lambda ps, lr: torch.optim.AdamW(ps, lr=lr, weight_decay=0.01)),
        ("sgd", lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.8, weight_decay=0.01)),
        ("rmsprop", lambda ps, lr: torch.optim.RMSprop(ps, lr=lr, weight_decay=0.01)),
    ],
)
def test_lean_optimizer_steps_like_torch_optim(name, reference):
    ours_model, ref_model = _twin_models()
    p = resolve_params({"optimizer": name, "learning_rate": 0.01, "weight_decay": 0.01, "momentum": 0.8})
    ours = LeanOptimizer(ours_model.parameters(), p)
    ref = reference(list(ref_model.parameters()), 0.01)
    if name != "rmsprop":
        assert ours.is_fast  # torch >= 2.4 has fused CPU kernels for adam, adamw and sgd
    gen = torch.Generator().manual_seed(1)
    for step in range(12):
        if step == 6:  # a schedule changing the learning rate mid-run
            ours.set_lr(0.003)
            for group in ref.param_groups:
                group["lr"] = 0.003
        x = torch.randn(16, 6, generator=gen)
        y = torch.randint(0, 3, (16,), generator=gen)
        for model, opt in ((ours_model, ours), (ref_model, ref)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for a, b in zip(ours_model.parameters(), ref_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
