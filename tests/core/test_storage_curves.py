"""Reading the curves of many trials at once (the "All curves" view of a big study)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.trial import TrialState


@pytest.fixture
def store(tmp_path: Path):
    with StudyStore(tmp_path / "curves.hpo.db") as s:
        yield s


def _study_with_curves(store: StudyStore, n_trials: int, epochs: int) -> list[int]:
    sid = store.create_study(
        "curves", metric="val_loss", direction="minimize", space={}, strategy={"kind": "random"}
    ).study_id
    ids = []
    for n in range(n_trials):
        t = store.create_trial(sid, {})
        for step in range(epochs, 0, -1):  # reported out of order: the result is sorted by step
            store.report(t.trial_id, step, {"val_loss": 1.0 / step + n, "train_loss": float(n)})
        store.finish_trial(t.trial_id, TrialState.COMPLETE, value=float(n))
        ids.append(t.trial_id)
    return ids


def test_the_curves_of_chosen_trials_come_back_in_one_read_for_one_metric(store):
    ids = _study_with_curves(store, n_trials=6, epochs=4)
    wanted = [ids[4], ids[1], ids[4]]  # any order, duplicates read once
    got = store.get_curves_many(wanted, metric="val_loss")
    assert list(got) == [ids[4], ids[1]]
    for tid in (ids[4], ids[1]):
        assert got[tid] == {"val_loss": store.get_curves(tid)["val_loss"]}
        assert [s for s, _v in got[tid]["val_loss"]] == [1, 2, 3, 4]


def test_without_a_metric_every_metric_is_read_and_unknown_ids_map_to_nothing(store):
    ids = _study_with_curves(store, n_trials=3, epochs=2)
    got = store.get_curves_many([ids[0], 999_999], metric=None)
    assert got[ids[0]] == store.get_curves(ids[0])
    assert set(got[ids[0]]) == {"val_loss", "train_loss"}
    assert got[999_999] == {}
    assert store.get_curves_many([ids[0]], metric="accuracy") == {ids[0]: {}}
    assert store.get_curves_many([]) == {}


def test_more_ids_than_one_sql_list_holds_and_nan_values(store, monkeypatch):
    monkeypatch.setattr(StudyStore, "_CURVES_CHUNK", 2)  # three chunks for five trials
    ids = _study_with_curves(store, n_trials=5, epochs=1)
    t = store.create_trial(store.list_studies()[0].study_id, {})
    store.report(t.trial_id, 1, {"val_loss": math.nan})
    got = store.get_curves_many([*ids, t.trial_id], metric="val_loss")
    assert [got[i]["val_loss"][0][1] for i in ids] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert math.isnan(got[t.trial_id]["val_loss"][0][1])
