"""Headless commands: run, resume, show, export, report, refine, evaluate. Imports core and training, never Qt.

Exit codes: 0 success, 1 an unexpected internal error, 2 bad input (a
one-paragraph message, no traceback), 130 Ctrl-C (the running trial is marked
interrupted first).
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from . import __version__

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


GUI_USAGE = """\
desktop window:
  hpo-desktop                  open the window (the last file, or a welcome page)
  hpo-desktop FILE.db          open a study file
  hpo-desktop SPEC.toml        open a spec as a new study, ready to start
  hpo-desktop --demo           open the built-in digits example; one click on Start runs it
"""


TRUST_HELP = (
    "run the study's script (a [model] or [objective] script is code) without asking, and remember "
    "its SHA-256 as trusted"
)


class UsageError(Exception):
    """Bad input from the user: printed as one paragraph, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpo-desktop",
        description="Find good hyperparameters for a neural network, on your own workstation.",
        epilog=GUI_USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hpo-desktop {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run (or continue) the study described by a spec file")
    run.add_argument("spec", type=Path, help="a study spec file (.toml)")
    run.add_argument("--db", type=Path, help="study file to write (default: next to the spec, SPEC.db)")
    run.add_argument("--trials", type=int, help="total number of trials (overrides the spec)")
    run.add_argument("--quiet", "-q", action="store_true", help="print only the summary")
    run.add_argument(
        "--parent", metavar="NAME", help="run it as a child of study NAME (in the same study file, see --db)"
    )
    run.add_argument("--trust", action="store_true", help=TRUST_HELP)
    run.add_argument("--workers", type=int, metavar="N", help=WORKERS_HELP)
    run.add_argument("--ray", metavar="ADDRESS", help=RAY_HELP)

    resume = sub.add_parser("resume", help="continue a study stored in a study file")
    resume.add_argument("db", type=Path, help="a study file (.db)")
    resume.add_argument("--study", help="which study (needed when the file holds several)")
    resume.add_argument("--trials", type=int, help="total number of trials (default: the stored budget)")
    resume.add_argument("--quiet", "-q", action="store_true", help="print only the summary")
    resume.add_argument("--trust", action="store_true", help=TRUST_HELP)
    resume.add_argument("--workers", type=int, metavar="N", help=WORKERS_HELP)
    resume.add_argument("--ray", metavar="ADDRESS", help=RAY_HELP)

    init = sub.add_parser(
        "init", help="write a starting script and spec for your own network or training loop"
    )
    init.add_argument(
        "--template",
        required=True,
        choices=("custom-model", "custom-objective"),
        help="custom-model: your build_model() trained by our trainer; custom-objective: your own loop",
    )
    init.add_argument(
        "dir", type=Path, help="folder to write to (made if missing; files are never overwritten)"
    )

    show = sub.add_parser("show", help="list the studies in a study file with counts and best trials")
    show.add_argument("db", type=Path, help="a study file (.db)")

    export = sub.add_parser("export", help="export trials as CSV or JSON")
    export.add_argument("db", type=Path, help="a study file (.db)")
    export.add_argument("--study", help="only this study (default: all)")
    export.add_argument(
        "--format", choices=("csv", "json"), default=None, help="default: from -o's suffix, else csv"
    )
    export.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    report = sub.add_parser("report", help="write an HTML report with charts, insights and the best trials")
    report.add_argument("db", type=Path, help="a study file (.db)")
    report.add_argument("--study", help="which study (needed when the file holds several)")
    report.add_argument(
        "-o", "--output", type=Path, required=True, help="folder to write index.html and the charts to"
    )

    refine = sub.add_parser("refine", help="propose a refined search space from a study's best trials")
    refine.add_argument("db", type=Path, help="a study file (.db)")
    refine.add_argument("--study", help="which study (needed when the file holds several)")
    refine.add_argument(
        "--top", type=float, default=20.0, help="percent of the best complete trials (default 20)"
    )
    refine.add_argument(
        "--margin", type=float, default=10.0, help="margin around their span, in percent (default 10)"
    )
    refine.add_argument(
        "--pin",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="fix a parameter to one value (repeatable)",
    )
    refine.add_argument("-o", "--output", type=Path, required=True, help="the spec file to write (.toml)")

    evaluate = sub.add_parser(
        "evaluate", help="retrain a trial's configuration with several seeds and score the test split"
    )
    evaluate.add_argument("db", type=Path, help="a study file (.db)")
    evaluate.add_argument("--study", help="which study (needed when the file holds several)")
    evaluate.add_argument("--trial", type=int, metavar="N", help="trial number (default: the best trial)")
    evaluate.add_argument("--seeds", type=int, default=3, metavar="N", help="number of runs (default 3)")
    evaluate.add_argument(
        "--include-validation",
        action="store_true",
        help="train on training + validation (full epochs, no early stopping)",
    )
    return parser


# -- progress printing ------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}"
    return str(v)


class ProgressPrinter:
    """Turns study events into terminal lines: one per finished trial, a bar for the running one."""

    def __init__(
        self, metric: str, total_steps: int | None, *, out: IO[str], err: IO[str], quiet: bool = False
    ):
        self.metric = metric
        self.total_steps = total_steps
        self.out = out
        self.err = err
        self.quiet = quiet
        self.bar = not quiet and hasattr(err, "isatty") and err.isatty()
        self.budget: int | None = None
        self._bar_shown = False
        self._lock = threading.Lock()  # with --workers N, events come from N trial threads
        self._counts: dict[int, int] = {}  # reports so far, per running trial

    def __call__(self, event: Any) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: Any) -> None:
        from .core.events import StepReported, StudyStarted, TrialFinished, TrialStarted

        if isinstance(event, StudyStarted):
            self.budget = event.budget
            if not self.quiet:
                done = f", {event.n_finished} already done" if event.n_finished else ""
                print(f"study '{event.study}': {event.budget} trials{done}", file=self.out, flush=True)
        elif isinstance(event, TrialStarted):
            self._started = time.monotonic()
            self._counts[event.number] = 0
            self._draw(event.number, 0, {})
        elif isinstance(event, StepReported):
            # Count reports rather than trusting step numbers (they may start at 0 or 1).
            self._counts[event.number] = self._counts.get(event.number, 0) + 1
            self._draw(event.number, self._counts[event.number], event.metrics)
        elif isinstance(event, TrialFinished):
            self._counts.pop(event.number, None)
            self._clear()
            if self.quiet:
                return
            value = "-" if event.value is None else _fmt(event.value)
            params = " ".join(f"{k}={_fmt(v)}" for k, v in event.params.items())
            secs = "" if event.seconds is None else f"{event.seconds:6.1f}s"
            star = " *best*" if event.is_best else ""
            line = (
                f"#{event.number:<4} {event.state.value:<11} {self.metric}={value:<8} {secs}  {params}{star}"
            )
            if event.error:
                line += f"\n      reason: {event.error}"
            print(line, file=self.out, flush=True)

    def _draw(self, number: int, step: int, metrics: dict[str, float]) -> None:
        if not self.bar:
            return
        total = self.total_steps
        width = 24
        if total:
            filled = min(width, round(width * step / total))
            bar = "#" * filled + "-" * (width - filled)
            count = f"{step}/{total}"
        else:
            bar, count = "", f"step {step}"
        shown = metrics.get(self.metric)
        tail = f" {self.metric} {_fmt(shown)}" if shown is not None else ""
        elapsed = time.monotonic() - getattr(self, "_started", time.monotonic())
        self.err.write(f"\r  trial {number} [{bar}] {count}{tail} {elapsed:5.1f}s\x1b[K")
        self.err.flush()
        self._bar_shown = True

    def _clear(self) -> None:
        if self._bar_shown:
            self.err.write("\r\x1b[K")
            self.err.flush()
            self._bar_shown = False


def _print_summary(study: Any, done: Any, out: IO[str]) -> None:
    print(f"\n{done.message} ({done.n_finished} finished).", file=out)
    best = study.best_trial
    if best is None:
        print("No trial completed with a finite value yet.", file=out)
        return
    print(f"Best trial #{best.number}: {study.metric} = {_fmt(best.value)}", file=out)
    for k, v in best.params.items():
        print(f"  {k} = {_fmt(v)}", file=out)


# -- commands ------------------------------------------------------------------------------


WORKERS_HELP = (
    "trials run at once, each in its own worker process (overrides [execution] workers; "
    "default 1; see docs/parallel.md)"
)


RAY_HELP = (
    'run the trials on the Ray cluster at ADDRESS ("auto", "ray://host:port", or "local" to start '
    'Ray here); sets [execution] backend = "ray" (needs pip install "hpo-desktop[ray]")'
)


def _check_workers(n: int | None) -> None:
    from .core.spec import MAX_WORKERS

    if n is not None and not 1 <= n <= MAX_WORKERS:
        raise UsageError(f"--workers must be between 1 and {MAX_WORKERS}, got {n}")


def _execution(stored: dict[str, Any] | None, workers: int | None, ray: str | None) -> dict[str, Any]:
    """The ``[execution]`` table of this run: the spec's or study's, with ``--workers`` and
    ``--ray`` on top (checked like a spec's)."""
    from .core.spec import check_execution

    table = dict(stored or {})
    if workers is not None:
        table["workers"] = workers
    if ray is not None:
        table["backend"] = "ray"
        table["address"] = ray
    try:
        return check_execution(table)
    except ValueError as exc:
        raise UsageError(str(exc).replace("[execution] ", "")) from None


def _runner_for(
    execution: dict[str, Any],
    data: dict[str, Any],
    model: dict[str, Any],
    metric: str,
    direction: str,
    base_dir: Path,
    space: Any,
    objective: dict[str, Any] | None = None,
    *,
    trust: bool = False,
    err: IO[str] | None = None,
):
    """The in-process objective (one trial at a time: the built-in trainer, or a script's child
    process) or an executor: worker processes, or Ray actors (``execution``: the run's
    ``[execution]`` table). A script must be trusted first (nothing has run otherwise)."""
    from .training.runner import make_runner
    from .training.scripts import script_path

    script = script_path(model, objective, base_dir)
    sha256 = _ensure_trusted(script, trust, err or sys.stderr) if script is not None else None
    return make_runner(
        data,
        model,
        objective,
        execution=execution,
        metric=metric,
        direction=direction,
        base_dir=base_dir,
        space=space,
        sha256=sha256,
    )


def _ensure_trusted(script: Path, trust: bool, err: IO[str]) -> str:
    """The script's SHA-256 once it is trusted: remembered before, ``--trust``, or a typed "yes"
    on a terminal. Otherwise a UsageError naming the path and hash (nothing has run)."""
    from .training.trust import ScriptIdentity, TrustStore

    try:
        identity = ScriptIdentity.of(script)
    except OSError as exc:
        raise UsageError(f"cannot read the script {script}: {exc.strerror or exc}") from None
    store = TrustStore()
    if store.is_trusted(identity):
        return identity.sha256
    if not trust and _stdin_is_tty():
        print(
            f"This study runs a Python script, which can do anything your account can:\n"
            f"  {identity.path}\n  SHA-256 {identity.sha256}\n\n"
            + "\n".join(f"  | {line}" for line in identity.head().splitlines())
            + "\n\nRun it? Type yes to trust this version of the file: ",
            end="",
            file=err,
            flush=True,
        )
        trust = sys.stdin.readline().strip().lower() in ("y", "yes")
        if not trust:
            raise UsageError(f"not trusted, nothing was run: {identity.path}")
    if not trust:
        raise UsageError(
            f"{identity.path} is a Python script (SHA-256 {identity.sha256}) that has not been trusted "
            "on this machine. Read it, then run again with --trust to allow it (asked again when it changes)."
        )
    store.trust(identity)
    print(f"trusted {identity.path} (SHA-256 {identity.sha256[:16]}…)", file=err)
    return identity.sha256


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _total_steps(model: dict[str, Any] | None, space: Any) -> int | None:
    if model is None or "epochs" in space:  # None: an [objective] script reports its own steps
        return None
    epochs = model.get("epochs")
    return epochs if isinstance(epochs, int) else 20


def _check_trials(n: int | None) -> None:
    if n is not None and n < 1:
        raise UsageError(f"--trials must be at least 1, got {n}")


def cmd_run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .core.pruners import pruner_dict
    from .core.spec import load_spec
    from .core.study import create_from_spec

    _check_trials(args.trials)
    _check_workers(args.workers)
    spec = load_spec(args.spec)
    db = args.db or spec.path.with_suffix(".db")
    parent_id = _check_parent(db, args.parent, spec.name) if args.parent else None
    execution = _execution(spec.execution, args.workers, args.ray)
    objective = _runner_for(
        execution,
        spec.data,
        spec.model,
        spec.metric,
        spec.direction,
        spec.base_dir,
        spec.space,
        spec.objective,
        trust=args.trust,
        err=err,
    )
    study = create_from_spec(db, spec, parent=args.parent)
    with study:
        rec = study.record
        if args.parent and rec.parent_id != parent_id:
            raise UsageError(
                f"study '{spec.name}' already exists in {db} and is not a child of '{args.parent}'. "
                "Give the study a new name in [study]."
            )
        if rec.space != spec.space.to_dict() or rec.metric != spec.metric or rec.direction != spec.direction:
            raise UsageError(
                f"study '{spec.name}' in {db} was created from a different search space, metric or "
                f"direction. Give the study a new name in [study], or write to another file with --db."
            )
        if rec.strategy != spec.strategy:
            study.set_strategy(spec.strategy)
        if study.pruner != pruner_dict(spec.pruner):
            study.set_pruner(spec.pruner)
        print(f"study file: {db}", file=out)
        print(f"device: {getattr(objective, 'device_label', 'cpu')}", file=out)
        _print_execution(objective, out)
        return _optimize(
            study,
            objective,
            args.trials or spec.trials,
            None if spec.objective else spec.model,
            spec.max_failures_in_row,
            args.quiet,
            out,
            err,
        )


def _print_execution(objective: Any, out: IO[str]) -> None:
    from .core.executors import Executor

    if not isinstance(objective, Executor):
        return
    from .training.pool import LocalProcessExecutor

    if isinstance(objective, LocalProcessExecutor):
        print(f"workers: {objective.workers} processes", file=out)
    else:
        from .training.ray_backend import cluster_summary

        print(cluster_summary(objective), file=out)


def _check_parent(db: Path, parent: str, child: str) -> int:
    """The id of the parent study in ``db``; a UsageError naming it when it is not there."""
    from .core.storage import StudyNotFound, StudyStore

    if parent == child:
        raise UsageError(f"study '{child}' cannot be its own parent; give the refined study a new name")
    if not db.exists():
        raise UsageError(
            f"parent study '{parent}' not found: {db} does not exist. A child lives in its parent's "
            "study file; give that file with --db."
        )
    try:
        with StudyStore(db, readonly=True) as store:
            return store.get_study(parent).study_id
    except StudyNotFound:
        raise UsageError(
            f"parent study '{parent}' not found in {db}. A child lives in its parent's study file; "
            "give that file with --db."
        ) from None


def cmd_resume(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .core.study import Study

    _check_trials(args.trials)
    _check_workers(args.workers)
    _require_file(args.db)
    with Study.open(args.db, args.study) as study:
        extra = study.record.spec or {}
        if "data" not in extra:
            raise UsageError(
                f"study '{study.name}' was not created from a spec file, so there is no objective to "
                "resume with; continue it from Python with Study.open(...).optimize(objective)."
            )
        base_dir = Path(extra.get("base_dir") or args.db.resolve().parent)
        model = extra.get("model", {})
        execution = _execution(extra.get("execution"), args.workers, args.ray)
        objective = _runner_for(
            execution,
            extra["data"],
            model,
            study.metric,
            study.direction,
            base_dir,
            study.space,
            extra.get("objective"),
            trust=args.trust,
            err=err,
        )
        n = args.trials or study.budget or 20
        steps_of = None if extra.get("objective") else model
        _print_execution(objective, out)
        return _optimize(study, objective, n, steps_of, 10, args.quiet, out, err)


def _optimize(
    study: Any,
    objective: Any,
    n_trials: int,
    model: dict[str, Any] | None,
    max_fail: int,
    quiet: bool,
    out: IO[str],
    err: IO[str],
) -> int:
    printer = ProgressPrinter(study.metric, _total_steps(model, study.space), out=out, err=err, quiet=quiet)
    try:
        from .core.executors import Executor

        if isinstance(objective, Executor):  # --workers N: N worker processes
            done = study.optimize(
                None, n_trials, callbacks=printer, max_failures_in_row=max_fail, executor=objective
            )
        else:
            done = study.optimize(objective, n_trials, callbacks=printer, max_failures_in_row=max_fail)
    except KeyboardInterrupt:
        printer._clear()
        print(
            f"\nInterrupted. The running trial is marked interrupted; continue with:\n"
            f"  hpo-desktop resume {study.store.path} --study {study.name}",
            file=err,
        )
        return EXIT_INTERRUPTED
    finally:
        close = getattr(objective, "close", None)  # a script's child process
        if close is not None:
            close()
    _print_summary(study, done, out)
    return EXIT_OK if done.reason != "failures" else EXIT_INTERNAL


def _require_file(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.suffix == ".toml":
        raise UsageError(f"{path} is a spec file; use 'hpo-desktop run {path}' to run it")


def cmd_show(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .core.storage import StudyStore

    _require_file(args.db)
    with StudyStore(args.db, readonly=True) as store:
        summaries = store.study_summaries()
        if not summaries:
            print(f"{args.db}: no studies", file=out)
            return EXIT_OK
        for s in summaries:
            r = s.record
            counts = ", ".join(f"{n} {state}" for state, n in s.counts.items() if n)
            print(f"{r.name}  ({r.strategy.get('kind')}, {r.direction} {r.metric})", file=out)
            budget = f" of {r.budget}" if r.budget else ""
            print(f"  trials: {s.n_trials}{budget}" + (f" — {counts}" if counts else ""), file=out)
            if s.best_number is not None:
                best = store.get_trial_by_number(r.study_id, s.best_number, with_curves=False)
                params = " ".join(f"{k}={_fmt(v)}" for k, v in best.params.items())
                print(f"  best: #{best.number} {r.metric}={_fmt(best.value)}  {params}", file=out)
            else:
                print("  best: none yet", file=out)
            for ev in store.get_evaluations(r.study_id):
                _print_evaluation_line(ev, out)
    return EXIT_OK


def _print_evaluation_line(ev: Any, out: IO[str]) -> None:
    from .core.evaluation import format_summary

    how = "train+validation" if ev.include_validation else "train"
    print(f"  test (trial #{ev.trial_number}, {how}): {format_summary(ev)}", file=out)


def cmd_export(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .core.export import export_text, write_atomically
    from .core.storage import StudyStore

    _require_file(args.db)
    fmt = args.format
    if fmt is None:
        fmt = "json" if args.output and args.output.suffix.lower() == ".json" else "csv"
    if args.output is not None and args.output.resolve() == args.db.resolve():
        raise UsageError(f"refusing to overwrite the study file {args.db} with the export")
    if args.output is not None and not args.output.parent.exists():
        raise UsageError(f"cannot write {args.output}: the folder {args.output.parent} does not exist")
    with StudyStore(args.db, readonly=True) as store:
        records = [store.get_study(args.study)] if args.study else store.list_studies()
        text = export_text(store, records, fmt)
    if args.output is None:
        out.write(text)
    else:
        try:
            write_atomically(args.output, text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        n = sum(1 for _ in records)
        print(f"wrote {args.output} ({fmt}, {n} stud{'y' if n == 1 else 'ies'})", file=err)
    return EXIT_OK


def cmd_report(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .core.storage import StudyStore
    from .core.study import pick_study

    _require_file(args.db)
    with StudyStore(args.db, readonly=True) as store:
        record = pick_study(store, args.study)
        try:
            from .gui.report import ReportError, write_report
        except ImportError as exc:
            raise UsageError(
                f"the report draws its charts with Qt, which is not available here: {exc}"
            ) from None
        try:
            index = write_report(store, record.study_id, args.output)
        except ReportError as exc:
            raise UsageError(str(exc)) from None
    print(f"wrote {index}", file=out)
    return EXIT_OK


def _pin_value(text: str) -> Any:
    """A --pin value: TOML syntax where it parses (numbers, true/false, "quoted"), else a string."""
    from .core.spec import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _refined_name(store: Any, name: str) -> str:
    from .core.refine import refined_name

    return refined_name(name, (r.name for r in store.list_studies()))


def cmd_refine(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .core.export import write_atomically
    from .core.refine import propose_refinement, refined_spec_doc
    from .core.space import SearchSpace
    from .core.spec import dumps_toml, spec_from_dict
    from .core.storage import StudyStore
    from .core.study import pick_study

    _require_file(args.db)
    if not 0 < args.top <= 100:
        raise UsageError(f"--top must be a percentage in (0, 100], got {args.top:g}")
    if args.margin < 0:
        raise UsageError(f"--margin must not be negative, got {args.margin:g}")
    if args.output.resolve() == args.db.resolve():
        raise UsageError(f"refusing to overwrite the study file {args.db} with the refined spec")
    if not args.output.parent.exists():
        raise UsageError(f"cannot write {args.output}: the folder {args.output.parent} does not exist")
    pin: dict[str, Any] = {}
    for item in args.pin:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--pin needs NAME=VALUE, got {item!r}")
        pin[name.strip()] = _pin_value(value.strip())
    with StudyStore(args.db, readonly=True) as store:
        record = pick_study(store, args.study)
        extra = record.spec or {}
        if "data" not in extra:
            raise UsageError(
                f"study '{record.name}' was not created from a spec file, so there is no [data]/[model] to "
                "write; refine it from Python with hpo_desktop.core.refine.propose_refinement."
            )
        trials = store.get_trials(record.study_id)
        new_name = _refined_name(store, record.name)
    space = SearchSpace.from_dict(record.space)
    try:
        refinement = propose_refinement(
            space, trials, record.direction, top=args.top / 100, margin=args.margin / 100, pin=pin
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # Relative data files were relative to the parent's spec; refined_spec_doc keeps them pointing there.
    doc = refined_spec_doc(record, refinement, new_name)
    spec_from_dict(doc, source=str(args.output))  # the proposal must be a valid spec
    try:
        write_atomically(args.output, dumps_toml(doc))
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"refined space for study '{record.name}' (top {args.top:g} % of its complete trials):", file=out)
    print(refinement.table(), file=out)
    print(f"\nwrote {args.output} (study '{new_name}'); run it as a child with:", file=out)
    print(f"  hpo-desktop run {args.output} --db {args.db} --parent {record.name}", file=out)
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .core.evaluation import format_summary

    _require_file(args.db)
    if args.seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {args.seeds}")
    if args.trial is not None and args.trial < 0:
        raise UsageError(f"--trial must be a trial number (0 or more), got {args.trial}")
    try:
        from .training.evaluation import evaluate_and_store
    except ImportError as exc:
        raise UsageError(
            f"evaluating needs the built-in trainer (torch), which is not available: {exc}"
        ) from None

    def progress(done: int, total: int) -> None:
        print(f"  retrained with seed {done} of {total}", file=err, flush=True)

    record = evaluate_and_store(
        args.db,
        args.study,
        args.trial,
        args.seeds,
        include_validation=args.include_validation,
        progress=progress,
    )
    how = "training + validation" if record.include_validation else "training"
    params = " ".join(f"{k}={_fmt(v)}" for k, v in record.params.items())
    print(f"trial #{record.trial_number}: {params}", file=out)
    print(f"trained on the {how} split; device: {record.device}", file=out)
    for seed, row in zip(record.seeds, record.per_seed):
        scores = "  ".join(f"{k}={_fmt(v)}" for k, v in row.items() if k.startswith("test_"))
        epochs = row.get("epochs_run")
        extra = f"  ({int(epochs)} epochs)" if epochs is not None else ""
        print(f"  seed {seed}: {scores}{extra}", file=out)
    print(format_summary(record), file=out)
    return EXIT_OK


def cmd_init(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from .training.script_templates import write_template

    if args.dir.exists() and not args.dir.is_dir():
        raise UsageError(f"{args.dir} is a file, not a folder")
    try:
        written = write_template(args.template, args.dir)
    except FileExistsError as exc:
        raise UsageError(
            f"{exc} already exists; nothing was written (init never overwrites a file)"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot write to {args.dir}: {exc.strerror or exc}") from None
    for path in written:
        print(f"wrote {path}", file=out)
    print(f"\nEdit them, then run the study with:\n  hpo-desktop run {written[-1]} --trust", file=out)
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "resume": cmd_resume,
    "show": cmd_show,
    "export": cmd_export,
    "report": cmd_report,
    "refine": cmd_refine,
    "evaluate": cmd_evaluate,
    "init": cmd_init,
}


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean bad input (imported lazily to keep start-up fast)."""
    from .core.evaluation import EvaluationError
    from .core.space import ConfigError, GridTooLarge, SpaceError
    from .core.spec import SpecError
    from .core.storage import StorageError
    from .core.strategies import StrategyError
    from .core.study import AmbiguousStudy

    errors: list[type[BaseException]] = [
        UsageError,
        AmbiguousStudy,
        SpecError,
        SpaceError,
        GridTooLarge,
        StorageError,
        StrategyError,
        EvaluationError,
        ConfigError,
    ]
    from .training.scripts import ScriptError  # no torch

    errors.append(ScriptError)
    try:
        from .training.datasets import DataError
        from .training.objective import ModelConfigError

        errors += [DataError, ModelConfigError]
    except ImportError:  # torch missing: the run command reports it itself
        pass
    return tuple(errors)


def main(argv: Sequence[str] | None = None, *, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return EXIT_OK
    try:
        return COMMANDS[args.command](args, out, err)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=err)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            print(f"error: {exc}", file=err)
            return EXIT_USAGE
        if args.debug:
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}\n(run with --debug to see the traceback)", file=err
        )
        return EXIT_INTERNAL
