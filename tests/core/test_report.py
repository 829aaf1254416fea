"""The HTML report page: escaped, self-contained, best trials first."""

from __future__ import annotations

from hpo_desktop.core.insights import Insight
from hpo_desktop.core.report import Figure, render_html, spec_toml_for
from hpo_desktop.core.spec import spec_from_dict
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.trial import TrialState


def test_report_escapes_user_text_and_lists_best_trials_first(tmp_path):
    with StudyStore(tmp_path / "r.db") as store:
        rec = store.create_study(
            "<script>alert(1)</script>",
            metric="acc",
            direction="maximize",
            space={"act": {"type": "categorical", "choices": ["relu", "<b>tanh</b>"]}},
            strategy={"kind": "random"},
            seed=0,
            budget=3,
            spec={"data": {"dataset": "iris"}, "model": {"epochs": 2}, "description": ""},
        )
        for value, act in [(0.5, "relu"), (0.9, "<b>tanh</b>"), (0.7, "relu")]:
            t = store.create_trial(rec.study_id, {"act": act})
            store.finish_trial(t.trial_id, TrialState.COMPLETE, value=value, metrics={"acc": value})
        trials = store.get_trials(rec.study_id)
        page = render_html(
            rec,
            trials,
            [Insight("note", "Widen <lr> & see")],
            [Figure("Slice", "slice.png")],
            spec_toml_for(rec),
            generated_at="now",
            version="0",
        )
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>tanh</b>" not in page and "Widen &lt;lr&gt; &amp; see" in page
    assert page.index("0.9") < page.index("0.7") < page.index("0.5")  # best first (maximize)
    assert 'src="slice.png"' in page
    # the embedded spec is a valid spec again
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    spec = spec_from_dict(tomllib.loads(spec_toml_for(rec)))
    assert spec.name == rec.name and spec.data == {"dataset": "iris"}
