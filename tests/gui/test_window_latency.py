"""The GUI never freezes while a study trains: the event loop serves a 10 ms timer on time.

The issue asks for p99 lateness under 50 ms on this machine (2 shared cores). A real freeze -
training, SQL or a full garbage collection on the GUI thread - shows as hundreds of
milliseconds, so 50 ms is generous for what it catches. Timings on shared machines are noisy,
though: each measurement runs up to three times and passes on the first run under the limit
(a freeze caused by our code shows in every run; a burst of load from another process does
not). Each run measures 3 s of training after the first trial, which pays one-time costs
(torch's lazy imports). Figures against an idle baseline: ``bench/gui_latency.py``.

Two views of the same run: with the Setup page in front, the window, the worker, the log and
the navigator are measured (the Run page still takes every event, it just is not painted);
with the Run page in front, the live charts' painting is measured too.
"""

from __future__ import annotations

from hpo_desktop.core.events import TrialFinished
from hpo_desktop.gui.latency import LoopLatencyProbe, percentile

P99_LIMIT_MS = 50.0
ATTEMPTS = 3
MEASURE_SECONDS = 3.0
SPEC = """
[study]
name = "latency"
metric = "val_accuracy"
direction = "maximize"
trials = {trials}

[strategy]
kind = "random"

[data]
dataset = "digits"

[model]
epochs = {epochs}

[space]
learning_rate = {{ type = "float", low = 0.001, high = 0.05, log = true }}
hidden_units = {{ type = "int", low = 32, high = 128 }}
"""


def measure_while_training(qtbot, window, path, seconds: float) -> list[float]:
    """Start a long study, let its first trial pay the one-time costs, then probe the loop for
    ``seconds`` while it trains; stop it and return the lateness samples."""
    path.write_text(SPEC.format(trials=1000, epochs=50))
    assert window.open_path(path)

    def first_trial_done(event) -> bool:
        return isinstance(event, TrialFinished)

    with qtbot.waitSignal(window.runner.event, timeout=120_000, check_params_cb=first_trial_done):
        assert window.start_study()
    probe = LoopLatencyProbe(10)
    probe.start()
    qtbot.wait(int(seconds * 1000))  # the measuring window, not a synchronisation
    lateness = probe.stop()
    assert window.runner.running, "the study ended before the measurement did"
    with qtbot.waitSignal(window.runner.running_changed, timeout=60_000, check_params_cb=lambda r: not r):
        window.stop_now()
    return lateness


def assert_responsive(qtbot, window, folder) -> None:
    results = []
    for attempt in range(ATTEMPTS):
        lateness = measure_while_training(qtbot, window, folder / "latency.toml", MEASURE_SECONDS)
        p50, p99 = percentile(lateness, 50), percentile(lateness, 99)
        results.append(
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(lateness):.1f} ms ({len(lateness)} ticks)"
        )
        print(f"event-loop lateness, run {attempt + 1}: {results[-1]}")
        if p99 < P99_LIMIT_MS:
            return
    raise AssertionError(f"p99 lateness over {P99_LIMIT_MS} ms in every run: " + "; ".join(results))


def test_training_never_blocks_the_event_loop(qtbot, main_window, tmp_path, monkeypatch):
    show_tab = main_window._show_tab
    monkeypatch.setattr(main_window, "_show_tab", lambda page: show_tab(main_window.setup))
    assert_responsive(qtbot, main_window, tmp_path)


def test_the_run_page_stays_responsive_while_a_study_trains(qtbot, main_window, tmp_path):
    assert_responsive(qtbot, main_window, tmp_path)
