"""Screenshots of parallel trials (not a test: run it): the live page with two trials running
at once (workers = 2) and the Setup page's Workers and "Run on" (Ray cluster) fields.

    python tests/gui/shot_parallel.py [OUT_DIR]     # default /tmp: live_parallel.png,
                                                    # setup_workers.png, setup_ray.png

``parallel_events`` is shared with tests/gui/test_parallel_gui.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hpo_desktop.core.events import StepReported, TrialFinished, TrialStarted

try:
    from .shot_live import fake_events, guard_singleton_refcounts, make_study
except ImportError:  # run as a script: tests/gui is on sys.path
    from shot_live import fake_events, guard_singleton_refcounts, make_study  # type: ignore[no-redef]


def parallel_events(n_trials: int = 30, *, steps: tuple[int, int] = (12, 7)) -> list[object]:
    """The fake study of shot_live, but its last two trials run at once (two workers): both
    started, their epochs interleaved, trial ``n-2`` at epoch ``steps[0]`` and ``n-1`` at ``steps[1]``."""
    events = fake_events(n_trials, running_epochs=20)
    a, b = n_trials - 2, n_trials - 1
    head = [e for e in events if getattr(e, "number", None) not in (a, b)]
    starts = [e for e in events if isinstance(e, TrialStarted) and e.number in (a, b)]
    step_a = [e for e in events if isinstance(e, StepReported) and e.number == a][: steps[0]]
    step_b = [e for e in events if isinstance(e, StepReported) and e.number == b][: steps[1]]
    mixed: list[object] = []
    for i in range(max(len(step_a), len(step_b))):
        mixed += step_a[i : i + 1] + step_b[i : i + 1]
    assert not any(isinstance(e, TrialFinished) for e in mixed)
    return head + starts + mixed


def main(out_dir: str = "/tmp") -> None:
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from hpo_desktop.core.spec import parse_spec
    from hpo_desktop.gui.live.live_page import LivePage
    from hpo_desktop.gui.setup.setup_page import SetupPage

    guard_singleton_refcounts()
    app = QApplication.instance() or QApplication(sys.argv)
    app.setStyle("Fusion")
    out = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        store, study_id = make_study(Path(tmp) / "study.db")
        page = LivePage()
        page.resize(1280, 800)
        page.set_study(store, study_id)
        page.show()
        for event in parallel_events():
            page.on_event(event)
        page.flush()
        app.processEvents()
        page.grab().save(str(out / "live_parallel.png"))
        page.close()
        store.close()
    setup = SetupPage()
    setup.resize(1280, 800)
    setup.set_spec(parse_spec(SPEC, source="digits.toml", path=Path(tmp) / "digits.toml"))
    setup.show()
    app.processEvents()
    setup.study_group.grab().save(str(out / "setup_workers.png"))
    ray_spec = SPEC.replace("workers = 2", 'backend = "ray"\naddress = "ray://head-node:10001"')
    setup.set_spec(parse_spec(ray_spec, source="digits.toml", path=Path(tmp) / "digits.toml"))
    app.processEvents()
    setup.study_group.grab().save(str(out / "setup_ray.png"))
    setup.close()
    print(f"wrote {out}/live_parallel.png, {out}/setup_workers.png, {out}/setup_ray.png")


SPEC = """\
[study]
name = "digits-mlp"
metric = "val_accuracy"
direction = "maximize"
trials = 40

[execution]
workers = 2

[strategy]
kind = "bayesian"

[data]
dataset = "digits"

[model]
kind = "mlp"
epochs = 20

[space]
learning_rate = { type = "float", low = 1e-4, high = 0.3, log = true }
"""


if __name__ == "__main__":
    main(*sys.argv[1:2])
