"""Loading, encoding and splitting the data a study's [data] section names."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from hpo_desktop.training.datasets import BUILTIN_DATASETS, DataError, load_data

SHAPES = {
    "digits": (64, (1, 8, 8), 10),
    "iris": (4, (4,), 3),
    "wine": (13, (13,), 3),
    "breast_cancer": (30, (30,), 2),
    "diabetes": (10, (10,), None),
    "moons": (2, (2,), 2),
    "circles": (2, (2,), 2),
    "spirals": (2, (2,), 2),
    "regression": (6, (6,), None),
}


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --------------------------------------------------------------------------- built-in data sets


@pytest.mark.parametrize("name", list(BUILTIN_DATASETS))
def test_every_builtin_loads_offline_with_the_right_shapes(name):
    n_features, input_shape, n_classes = SHAPES[name]
    data = load_data({"dataset": name})
    info = BUILTIN_DATASETS[name]
    assert data.task == info.task
    assert data.input_shape == input_shape
    assert data.n_classes == n_classes
    assert len(data.feature_names) == n_features
    for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val), (data.X_test, data.y_test)):
        assert X.dtype == np.float32 and X.ndim == 2 and X.shape[1] == n_features
        assert len(X) == len(y) > 0
        assert y.dtype == (np.int64 if info.task == "classification" else np.float32)
    if n_classes:
        assert set(np.unique(data.y_train)) == set(range(n_classes))
        assert len(data.class_names) == n_classes
    total = len(data.y_train) + len(data.y_val) + len(data.y_test)
    assert len(data.y_test) == pytest.approx(0.15 * total, abs=2)
    assert len(data.y_val) == pytest.approx(0.15 * total, abs=2)


def test_generated_data_follows_n_samples_noise_and_seed():
    a = load_data({"dataset": "spirals", "n_samples": 400, "noise": 0.0, "seed": 3})
    b = load_data({"dataset": "spirals", "n_samples": 400, "noise": 0.0, "seed": 3})
    c = load_data({"dataset": "spirals", "n_samples": 400, "noise": 0.0, "seed": 4})
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 400
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)


def test_classification_splits_are_stratified(digits):
    shares = [np.bincount(y, minlength=10) / len(y) for y in (digits.y_train, digits.y_val, digits.y_test)]
    assert np.abs(shares[0] - shares[1]).max() < 0.02
    assert np.abs(shares[0] - shares[2]).max() < 0.02


def test_split_fractions_and_no_test_split():
    data = load_data({"dataset": "moons", "validation": 0.2, "test": 0.0})
    assert len(data.y_test) == 0 and data.X_test.shape == (0, 2)
    assert len(data.y_val) == 200


# --------------------------------------------------------------------------- CSV files


def test_split_discipline_no_row_is_in_two_splits(tmp_path):
    rows = [[i, i % 7, float(np.sin(i)), "abc"[i % 3]] for i in range(300)]
    write_csv(tmp_path / "rows.csv", ["row_id", "label", "x", "kind"], rows)
    data = load_data({"csv": "rows.csv", "target": "label", "seed": 5}, base_dir=tmp_path)
    train, val, test = (set(data.indices[k].tolist()) for k in ("train", "validation", "test"))
    assert not (train & val) and not (train & test) and not (val & test)
    assert train | val | test == set(range(300))
    # The same from the features themselves: the standardized row ids of the splits never meet.
    col = data.feature_names.index("row_id")
    ids = [set(np.round(X[:, col], 5).tolist()) for X in (data.X_train, data.X_val, data.X_test)]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert sum(len(s) for s in ids) == 300


def test_numeric_columns_are_standardized_with_training_statistics_only(tmp_path):
    rng = np.random.default_rng(0)
    raw = rng.normal(50.0, 10.0, 200)
    rows = [[f"{v:.6f}", i % 2] for i, v in enumerate(raw)]
    path = write_csv(tmp_path / "d.csv", ["height", "y"], rows)
    data = load_data({"csv": str(path), "target": "y"})
    train, test = data.indices["train"], data.indices["test"]
    values = np.array([float(r[0]) for r in rows])
    mean, std = values[train].mean(), values[train].std()
    np.testing.assert_allclose(data.X_train[:, 0], (values[train] - mean) / std, atol=1e-5)
    np.testing.assert_allclose(data.X_test[:, 0], (values[test] - mean) / std, atol=1e-5)
    assert abs(float(data.X_train[:, 0].mean())) < 1e-5
    assert abs(float(data.X_test[:, 0].mean())) > 1e-4  # not re-centred with its own statistics


def test_text_columns_are_one_hot_encoded_and_unseen_categories_are_zero(tmp_path):
    rows = []
    for i in range(200):
        rows.append([["red", "green", "blue"][i % 3], f"tag{i}" if i < 40 else "common", i % 2, float(i)])
    path = write_csv(tmp_path / "c.csv", ["color", "tag", "y", "x"], rows)
    data = load_data({"csv": str(path), "target": "y", "seed": 1})
    names = data.feature_names
    assert names[0] == "x"  # numeric columns first
    assert {"color=blue", "color=green", "color=red"} <= set(names)
    for split, X in (("train", data.X_train), ("validation", data.X_val), ("test", data.X_test)):
        rows_of_split = data.indices[split]
        color = X[:, [names.index(f"color={c}") for c in ("blue", "green", "red")]]
        np.testing.assert_array_equal(color.sum(axis=1), 1.0)
        expected = np.array([["blue", "green", "red"].index(rows[r][0]) for r in rows_of_split])
        np.testing.assert_array_equal(color.argmax(axis=1), expected)
    train_tags = {rows[r][1] for r in data.indices["train"]}
    tag_cols = [i for i, n in enumerate(names) if n.startswith("tag=")]
    assert {names[i][4:] for i in tag_cols} == train_tags  # categories come from training rows only
    held_out = [k for k, r in enumerate(data.indices["test"]) if rows[r][1] not in train_tags]
    assert held_out, "some unique tags must land outside the training split"
    np.testing.assert_array_equal(data.X_test[held_out][:, tag_cols], 0.0)


def test_missing_values_name_the_column_and_the_row(tmp_path):
    rows = [[1, 2.0, "a", 0], [2, 3.0, "b", 1], [3, "", "c", 0], [4, 5.0, "NA", 1]] * 5
    path = write_csv(tmp_path / "m.csv", ["id", "age", "city", "y"], rows)
    with pytest.raises(DataError) as err:
        load_data({"csv": str(path), "target": "y"})
    msg = str(err.value)
    assert "'age'" in msg and "row 3" in msg and "line 4" in msg
    assert "'city'" in msg and "row 4" in msg


def test_a_text_target_cannot_be_a_regression_target(tmp_path):
    rows = [[i, ["cat", "dog"][i % 2]] for i in range(50)]
    path = write_csv(tmp_path / "t.csv", ["x", "animal"], rows)
    with pytest.raises(DataError, match="'animal'.*regression"):
        load_data({"csv": str(path), "target": "animal", "task": "regression"})
    data = load_data({"csv": str(path), "target": "animal"})
    assert data.task == "classification" and data.class_names == ["cat", "dog"]


def test_an_unknown_target_column_lists_the_columns(tmp_path):
    path = write_csv(tmp_path / "u.csv", ["alpha", "beta", "label"], [[1, 2, 0], [3, 4, 1]] * 10)
    with pytest.raises(
        DataError, match=r"'lable' not found \(columns: alpha, beta, label\).*did you mean 'label'"
    ):
        load_data({"csv": str(path), "target": "lable"})


def test_auto_task_from_the_target(tmp_path):
    few = write_csv(tmp_path / "few.csv", ["x", "y"], [[i, i % 3] for i in range(60)])
    many = write_csv(tmp_path / "many.csv", ["x", "y"], [[i, i * 0.37] for i in range(60)])
    counts = write_csv(tmp_path / "counts.csv", ["x", "y"], [[i, i] for i in range(60)])
    assert load_data({"csv": str(few), "target": "y"}).task == "classification"
    assert load_data({"csv": str(many), "target": "y"}).task == "regression"
    assert load_data({"csv": str(counts), "target": "y"}).task == "regression"  # > 20 distinct integers


def test_features_selects_columns(tmp_path):
    path = write_csv(
        tmp_path / "f.csv", ["a", "b", "name", "y"], [[i, -i, f"n{i}", i % 2] for i in range(40)]
    )
    data = load_data({"csv": str(path), "target": "y", "features": ["b"]})
    assert data.feature_names == ["b"] and data.input_shape == (1,)
    with pytest.raises(DataError, match="'zz' not found"):
        load_data({"csv": str(path), "target": "y", "features": ["zz"]})


def test_csv_structure_errors(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,y\n1,2,0\n1,2\n")
    with pytest.raises(DataError, match="line 3 has 2 fields"):
        load_data({"csv": str(ragged), "target": "y"})
    with pytest.raises(DataError, match="file not found"):
        load_data({"csv": "nope.csv", "target": "y"}, base_dir=tmp_path)


def test_bad_csv_files_each_get_a_message_naming_the_problem(tmp_path, monkeypatch):
    """The bad data a user brings: each ends in a DataError that says what is wrong, never a crash."""
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b,y\n")
    one_class = write_csv(tmp_path / "one.csv", ["a", "y"], [[i, "yes"] for i in range(30)])
    nan_feature = write_csv(tmp_path / "nan.csv", ["a", "y"], [[i, i % 2] for i in range(29)] + [["nan", 1]])
    inf_feature = write_csv(tmp_path / "inf.csv", ["a", "y"], [[i, i % 2] for i in range(29)] + [["inf", 1]])
    stray = write_csv(
        tmp_path / "stray.csv", ["a", "y"], [[i * 0.5, i % 2] for i in range(29)] + [["oops", 1]]
    )
    cases = [
        (empty, "y", "empty"),
        (header_only, "y", "no data rows"),
        (one_class, "y", "single class"),
        (nan_feature, "y", r"missing values in column 'a' \(first at row 30, line 31\)"),
        (inf_feature, "y", "column 'a' has the non-finite value 'inf' at line 31"),
        (stray, "y", "column 'a' holds numbers but also the text 'oops' at line 31"),
        (stray, "label", "target column 'label' not found"),
    ]
    for path, target, message in cases:
        before = path.read_bytes()
        with pytest.raises(DataError, match=message):
            load_data({"csv": str(path), "target": target})
        assert path.read_bytes() == before  # the user's file is only read

    # a text column with many distinct words stays a categorical feature (not mistaken for numbers)
    words = write_csv(
        tmp_path / "words.csv", ["a", "c", "y"], [[i, ["x", "y", "z"][i % 3], i % 2] for i in range(30)]
    )
    assert load_data({"csv": str(words), "target": "y"}).n_features == 4

    # a file too big to parse in memory is refused with its size, before it is read
    from hpo_desktop.training import sources

    monkeypatch.setattr(sources, "MAX_CSV_BYTES", 100)
    with pytest.raises(DataError, match=r"words.csv is \d+ bytes; CSV files up to 100 bytes .*\.npz"):
        load_data({"csv": str(words), "target": "y"})


# --------------------------------------------------------------------------- npz files


def test_npz_images_and_text_labels(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "img.npz", X=rng.random((120, 6, 6)), y=np.array(["a", "b", "c"] * 40))
    data = load_data({"npz": "img.npz"}, base_dir=tmp_path)
    assert data.input_shape == (1, 6, 6) and data.X_train.shape[1] == 36
    assert data.task == "classification" and data.class_names == ["a", "b", "c"]


def test_npz_never_unpickles(tmp_path):
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}] * 30, dtype=object), y=np.zeros(30))
    with pytest.raises(DataError, match="unpickling"):
        load_data({"npz": str(tmp_path / "obj.npz")})


# --------------------------------------------------------------------------- the [data] keys


@pytest.mark.parametrize(
    ("section", "pattern"),
    [
        ({"datset": "digits"}, r"\[data\] unknown key 'datset' \(allowed: .*\); did you mean 'dataset'"),
        ({"dataset": "digits", "csv": "a.csv"}, "exactly one of 'dataset', 'csv' or 'npz'"),
        ({}, "exactly one of"),
        ({"dataset": "mnist"}, "'dataset': unknown data set 'mnist'"),
        ({"dataset": "digits", "validation": "0.2"}, "'validation' must be a number"),
        ({"dataset": "digits", "validation": 0.0}, "'validation' must be > 0"),
        ({"dataset": "digits", "test": 1.5}, "'test' must be"),
        ({"dataset": "digits", "validation": 0.5, "test": 0.5}, "'validation' \\+ 'test'"),
        ({"dataset": "digits", "seed": 1.5}, "'seed' must be a whole number"),
        ({"dataset": "digits", "task": "clustering"}, "'task' must be one of"),
        ({"dataset": "digits", "task": "regression"}, "'task'.*classification task"),
        ({"dataset": "digits", "noise": 0.1}, "'noise' applies only to generated"),
        ({"dataset": "moons", "n_samples": 5}, "'n_samples' must be >= 20"),
        ({"dataset": "digits", "target": "y"}, "'target' applies only to csv"),
        ({"csv": "x.csv"}, "'target' is required"),
        ({"csv": "x.csv", "target": "y", "features": "a"}, "'features' must be a non-empty list"),
    ],
)
def test_bad_data_keys_name_the_key(section, pattern):
    with pytest.raises(DataError, match=pattern):
        load_data(section)


def test_datasets_module_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; import hpo_desktop.training, hpo_desktop.training.datasets, hpo_desktop.training.params;"
        "bad = [m for m in ('torch', 'PySide6') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
