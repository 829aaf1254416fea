"""Final evaluation on the test split: retrain one trial's configuration with several seeds.

The search never sees the test split (the study's objective puts only the training and
validation splits on the device); this module is the one place that scores it, after the search,
and stores the result apart from the trials (see :mod:`hpo_desktop.core.evaluation`).

Default seeds: for ``seeds=N`` the runs use ``s + 1000``, ``s + 1001``, ... ``s + 1000 + N - 1``,
where ``s`` is the study's seed (0 when it has none), so an evaluation is repeatable.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hpo_desktop.core.evaluation import EvaluationError, EvaluationRecord
from hpo_desktop.core.storage import StorageError, StudyRecord, StudyStore
from hpo_desktop.core.trial import TrialState

from .datasets import DataError
from .params import ModelConfigError

__all__ = [
    "EvaluationCancelled",
    "default_seeds",
    "evaluate_and_store",
    "evaluate_trial",
]

#: Offset of the default evaluation seeds from the study's seed.
SEED_OFFSET = 1000


class EvaluationCancelled(Exception):
    """``should_stop()`` returned True between two seeds; nothing was stored."""


def default_seeds(study_seed: int | None, n: int) -> list[int]:
    """The seeds of an evaluation with ``n`` runs: study seed + 1000 + i (study seed None: 0)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise EvaluationError(f"the number of seeds must be at least 1, got {n!r}")
    base = (study_seed or 0) + SEED_OFFSET
    return [base + i for i in range(n)]


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    try:
        out = [operator.index(s) for s in seeds]
    except TypeError:
        raise EvaluationError(f"seeds must be whole numbers, got {list(seeds)!r}") from None
    if not out:
        raise EvaluationError("an evaluation needs at least one seed")
    return out


def evaluate_trial(
    study_spec_extra: Mapping[str, Any],
    params: Mapping[str, Any],
    seeds: Sequence[int],
    *,
    include_validation: bool = False,
    metric: str,
    direction: str,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[list[dict[str, float]], str]:
    """Retrain ``params`` once per seed and score the test split; return (per-seed metrics, device).

    ``study_spec_extra`` is a study record's ``spec`` (its ``[data]`` and ``[model]`` sections and
    ``base_dir``): the data are prepared exactly as the study's objective prepared them. Each run
    trains on the training split and keeps the best epoch on the validation split (by
    ``metric``/``direction``); with ``include_validation`` it trains on training + validation for
    the full ``epochs``. ``progress(done, total)`` is called after each seed; ``should_stop()``
    is checked before each seed and raises :class:`EvaluationCancelled` when it returns True.
    Raises :class:`ModelConfigError`/:class:`DataError` with a plain message when the study has
    no built-in model or its data cannot be loaded or has no test split.
    """
    from .objective import evaluate_test, make_objective

    seed_list = _check_seeds(seeds)
    extra = study_spec_extra or {}
    if not isinstance(extra, Mapping) or "data" not in extra:
        raise ModelConfigError(
            "this study has no built-in model to retrain: it was not created from a spec file with "
            "[data] and [model] sections (a Python-API study); evaluate its best params in your own code."
        )
    model = extra.get("model") or {}
    base_dir = Path(extra["base_dir"]) if extra.get("base_dir") else None
    objective = make_objective(extra["data"], model, metric=metric, direction=direction, base_dir=base_dir)
    data = objective.data
    if len(data.y_test) == 0:
        raise DataError(
            "this study's data has no test split ([data] test = 0), so there is nothing to evaluate on; "
            "hold out a test fraction in a new study"
        )
    try:
        objective.params_for(params)  # fails before any training on a param the trainer refuses
    except ModelConfigError as exc:
        raise ModelConfigError(f"the trial's params cannot be retrained: {exc}") from None
    per_seed: list[dict[str, float]] = []
    total = len(seed_list)
    for i, seed in enumerate(seed_list):
        if should_stop is not None and should_stop():
            raise EvaluationCancelled(f"evaluation stopped after {i} of {total} seeds")
        scores = evaluate_test(
            data,
            params,
            model,
            seed,
            include_validation=include_validation,
            metric=metric,
            direction=direction,
        )
        per_seed.append({k: float(v) for k, v in scores.items()})
        if progress is not None:
            progress(i + 1, total)
    return per_seed, objective.device_label


def _pick_record(store: StudyStore, study: str | int) -> StudyRecord:
    if isinstance(study, int) and not isinstance(study, bool):
        return store.get_study_by_id(study)
    if study is None:
        from hpo_desktop.core.study import pick_study

        return pick_study(store, None)
    return store.get_study(study)


def evaluate_and_store(
    store_path: str | os.PathLike[str],
    study_name_or_id: str | int | None,
    trial_number: int | None,
    seeds: int | Sequence[int] = 3,
    include_validation: bool = False,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> EvaluationRecord:
    """Evaluate one trial of a stored study on the test split and store the record.

    ``trial_number`` None picks the best complete trial. ``seeds`` is a number of runs (seeds
    from :func:`default_seeds`) or the seeds themselves. Everything is checked and trained
    before the file is opened for writing, so a failed or cancelled evaluation changes nothing.
    Raises :class:`EvaluationError` (no such trial, no complete trial, bad seeds),
    :class:`StorageError`, :class:`ModelConfigError`/:class:`DataError`, or
    :class:`EvaluationCancelled`.
    """
    from hpo_desktop.core.study import best_of

    path = Path(store_path)
    if not path.exists():
        raise StorageError(f"{path}: no such study file")
    with StudyStore(path, readonly=True) as reader:
        record = _pick_record(reader, study_name_or_id)
        if trial_number is None:
            trial = best_of(reader.get_trials(record.study_id), record.direction)
            if trial is None:
                raise EvaluationError(
                    f"study '{record.name}' has no complete trial yet, so there is no best trial to "
                    "evaluate; run some trials first (or give a trial number)"
                )
        else:
            trial = reader.get_trial_by_number(record.study_id, trial_number, with_curves=False)
            if trial is None:
                raise EvaluationError(f"study '{record.name}' has no trial {trial_number}")
            if trial.state not in (TrialState.COMPLETE, TrialState.PRUNED):
                raise EvaluationError(
                    f"trial {trial_number} of study '{record.name}' is {trial.state.value}; "
                    "choose a complete (or pruned) trial to evaluate"
                )
    seed_list = default_seeds(record.seed, seeds) if isinstance(seeds, int) else _check_seeds(seeds)
    per_seed, device = evaluate_trial(
        record.spec or {},
        trial.params,
        seed_list,
        include_validation=include_validation,
        metric=record.metric,
        direction=record.direction,
        progress=progress,
        should_stop=should_stop,
    )
    with StudyStore(path) as writer:
        return writer.add_evaluation(
            record.study_id, trial.number, trial.params, seed_list, include_validation, per_seed, device
        )
