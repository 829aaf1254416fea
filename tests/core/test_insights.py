"""The plain-language study summary, told as user stories on known studies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpo_desktop.core.insights import Insight, insights
from hpo_desktop.core.space import Categorical, Fixed, Float, Int, SearchSpace
from hpo_desktop.core.trial import FrozenTrial, TrialState

SPACE = SearchSpace(
    {
        "lr": Float(1e-5, 1e-1, log=True),
        "dropout": Float(0.0, 0.5),
        "layers": Int(1, 4),
        "optimizer": Categorical(("adam", "sgd", "rmsprop")),
        "epochs": Fixed(10),
    }
)


def trial(number, params, value, state=TrialState.COMPLETE):
    return FrozenTrial(
        study_id=1, trial_id=number + 1, number=number, state=state, params=params, value=value
    )


def study(fn, n, seed=0, space=SPACE):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = space.sample(rng)
        out.append(trial(i, p, float(fn(p, rng, i))))
    return out


def kinds(items: list[Insight], kind: str) -> list[Insight]:
    return [i for i in items if i.kind == kind]


def test_no_complete_trial_gives_one_note():
    ts = [trial(0, {"lr": 1e-3}, None, TrialState.FAILED), trial(1, {"lr": 1e-3}, math.nan)]
    out = insights(SPACE, ts, "minimize", "val_loss")
    assert len(out) == 1 and out[0].kind == "note"
    assert insights(SPACE, [], "minimize", "val_loss")[0].kind == "note"


def test_few_trials_give_the_best_and_say_so():
    ts = study(lambda p, r, i: p["dropout"], 3)
    out = insights(SPACE, ts, "minimize", "val_loss")
    assert [i.kind for i in out] == ["best", "note"]
    best = min(ts, key=lambda t: t.value)
    assert f"#{best.number}" in out[0].text and "val_loss" in out[0].text
    assert "Only 3 trials" in out[1].text


def test_best_follows_the_direction_and_skips_non_finite_values():
    ts = [
        trial(0, {"lr": 1e-3, "dropout": 0.1, "layers": 2, "optimizer": "adam", "epochs": 10}, 0.8),
        trial(1, {"lr": 1e-2, "dropout": 0.2, "layers": 3, "optimizer": "sgd", "epochs": 10}, 0.9),
        trial(2, {"lr": 1e-4, "dropout": 0.3, "layers": 1, "optimizer": "adam", "epochs": 10}, math.inf),
    ]
    best = kinds(insights(SPACE, ts, "maximize", "val_accuracy"), "best")[0]
    assert "#1" in best.text and "0.9" in best.text and "optimizer = sgd" in best.text
    assert "epochs" not in best.text  # fixed parameters are not part of the configuration shown


def test_best_learning_rates_at_the_upper_bound_suggest_widening():
    # the loss keeps falling as lr grows: the best trials crowd the top of the range
    ts = study(lambda p, r, i: -math.log10(p["lr"]) + 0.1 * r.normal(), 60)
    out = insights(SPACE, ts, "minimize", "val_loss")
    edges = kinds(out, "edge")
    assert [e.param for e in edges] == ["lr"]
    assert "upper" in edges[0].text and "0.1" in edges[0].text and "widen" in edges[0].text


def test_edge_at_the_lower_bound_when_maximizing():
    ts = study(lambda p, r, i: -p["dropout"] + 0.01 * r.normal(), 60)
    edges = kinds(insights(SPACE, ts, "maximize", "val_accuracy"), "edge")
    assert [e.param for e in edges] == ["dropout"]
    assert "lower" in edges[0].text


def test_no_edge_for_an_interior_optimum():
    ts = study(lambda p, r, i: (math.log10(p["lr"]) + 3) ** 2 + (p["dropout"] - 0.25) ** 2, 80)
    assert kinds(insights(SPACE, ts, "minimize", "val_loss"), "edge") == []


def test_an_always_bad_choice_is_a_weak_choice():
    ts = study(lambda p, r, i: r.random() + (2.0 if p["optimizer"] == "sgd" else 0.0), 60)
    weak = kinds(insights(SPACE, ts, "minimize", "val_loss"), "weak_choice")
    assert [w.param for w in weak] == ["optimizer"]
    assert "sgd" in weak[0].text and "adam" not in weak[0].text


def test_weak_choice_needs_enough_tries():
    # sgd was tried only twice (never among the best): too few to judge
    ts = study(lambda p, r, i: r.random(), 40, space=SearchSpace({"x": Float(0.0, 1.0)}))
    sgd = [trial(40, {"x": 0.5}, 5.0), trial(41, {"x": 0.5}, 5.0)]
    space = SearchSpace({"x": Float(0.0, 1.0), "optimizer": Categorical(("adam", "sgd"))})
    ts = [trial(t.number, {**t.params, "optimizer": "adam"}, t.value) for t in ts]
    ts += [trial(t.number, {**t.params, "optimizer": "sgd"}, t.value) for t in sgd]
    assert kinds(insights(space, ts, "minimize", "loss"), "weak_choice") == []


def test_still_improving_and_settled():
    improving = study(lambda p, r, i: 100.0 - i + r.random(), 30)
    prog = kinds(insights(SPACE, improving, "minimize", "val_loss"), "progress")
    assert len(prog) == 1 and prog[0].text.startswith("Still improving")
    settled = study(lambda p, r, i: 0.0 if i == 3 else 1.0 + r.random(), 30)
    prog = kinds(insights(SPACE, settled, "minimize", "val_loss"), "progress")
    assert "not improved in the last 26 trials" in prog[0].text and "#3" in prog[0].text
    # maximizing: rising accuracy is improvement
    rising = study(lambda p, r, i: i / 30, 30)
    prog = kinds(insights(SPACE, rising, "maximize", "val_accuracy"), "progress")
    assert prog[0].text.startswith("Still improving")


def test_importance_names_the_parameter_that_matters():
    ts = study(lambda p, r, i: 5 * (math.log10(p["lr"]) + 3) ** 2 + 0.01 * r.normal(), 80)
    imp = kinds(insights(SPACE, ts, "minimize", "val_loss"), "importance")
    assert len(imp) == 1 and imp[0].param == "lr" and imp[0].text.startswith("lr matters most")


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_conditional_space_and_kinds_are_known(direction):
    space = SearchSpace(
        {
            "optimizer": Categorical(("adam", "sgd")),
            "momentum": Float(0.0, 1.0, when={"optimizer": "sgd"}),
            "width": Int(1, 1000, log=True),
        }
    )
    ts = study(lambda p, r, i: p.get("momentum", 0.5) + 0.1 * r.random(), 50, space=space)
    out = insights(space, ts, direction, "loss")
    assert {i.kind for i in out} <= {"best", "importance", "edge", "weak_choice", "progress", "note"}
    assert all(i.text and i.text.endswith(".") for i in out)
    edges = kinds(out, "edge")
    assert [e.param for e in edges] == ["momentum"]
    assert ("lower" if direction == "minimize" else "upper") in edges[0].text
