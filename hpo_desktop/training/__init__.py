"""The built-in trainer: data sets, networks, the training loop and the objective the study calls.

This package imports torch, but importing *this* file does not: the CLI and the GUI start
fast and load torch only when a study actually trains. Import the modules directly::

    from hpo_desktop.training.objective import make_objective, evaluate_test, describe_device
    from hpo_desktop.training.datasets import BUILTIN_DATASETS, load_data, DataError  # no torch
    from hpo_desktop.training.params import ALL_PARAMS, ModelConfigError  # no torch
"""

from __future__ import annotations
