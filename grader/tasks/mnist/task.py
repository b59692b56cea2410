"""`mnist` (homework 6-2): run the student's `predict(images)` on hidden test digits.

Config (all optional):

    dataset: demo           # "demo" (the shipped set, the default) or an MNIST directory
    public_fraction: 0.5    # split the hidden set into public/private parts (fixed hash rule)
    split_seed: "camp"      # which digits are public
    rank_on: all            # all | public | private: which accuracy is the score
    min_accuracy: 0.0       # below it the verdict is `wrong` (the score is still recorded)
    perturb_seed: "..."     # set by the worker (per course, from the server's secret): the
                            # hidden digits are perturbed so they cannot be looked up (perturb.py)

Flow: unpack the package (bad_package on any problem) → a first sandbox runs runner.py on a few
public sample digits (its log is the student's; a failure there is the verdict, with that log) →
a second sandbox runs it on the hidden digits (its log is the staff's; the student gets the
verdict and `logs.hidden_summary`) → predictions are checked and scored here, against labels
that never enter the sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from grader.archive import PackageError, unpack
from grader.datasets.mnist import DEMO_DIR, DatasetError, load_split, split_files
from grader.registry import Job, ReferenceTask, register
from grader.report import ACCEPTED, BAD_OUTPUT, BAD_PACKAGE, WRONG, ConfigError, Report, say
from grader.sandbox import (
    Outcome,
    failure_report,
    inside_input,
    inside_output,
    run_python,
    runtime,
    workspace,
)
from grader.tasks.mnist.logs import (
    hidden_summary,
    sample_footer,
    sample_header,
    scrubbed_error,
)
from grader.tasks.mnist.perturb import perturbed
from grader.tasks.mnist.scoring import OutputError, accuracies, public_mask, read_predictions

RUNNER = Path(__file__).with_name("runner.py")
RANK_ON = ("all", "public", "private")
#: public digits run first; their log is the one the student sees (docs/grading.md)
SAMPLE_COUNT = 8


def _dataset_dir(value: object) -> Path:
    """`demo` (or nothing) names the shipped demo set; anything else is a directory path."""
    return DEMO_DIR if value in (None, "", "demo") else Path(str(value))


@dataclass(frozen=True)
class MnistConfig:
    dataset: Path
    public_fraction: float | None
    split_seed: str
    rank_on: str
    min_accuracy: float
    perturb_seed: str | None = None

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> MnistConfig:
        try:
            fraction = config.get("public_fraction")
            parsed = cls(
                dataset=_dataset_dir(config.get("dataset")),
                public_fraction=None if fraction is None else float(fraction),
                split_seed=str(config.get("split_seed", "camp")),
                rank_on=str(config.get("rank_on", "all")),
                min_accuracy=float(config.get("min_accuracy", 0.0)),
                perturb_seed=str(config["perturb_seed"]) if config.get("perturb_seed") else None,
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"mnist: bad config {dict(config)!r}: {exc}") from exc
        if parsed.public_fraction is not None and not 0 < parsed.public_fraction < 1:
            raise ConfigError("mnist: public_fraction must be between 0 and 1")
        if parsed.rank_on not in RANK_ON or (
            parsed.rank_on != "all" and parsed.public_fraction is None
        ):
            raise ConfigError(
                f"mnist: rank_on must be one of {RANK_ON}; public/private need public_fraction"
            )
        return parsed


def _hidden_set(config: MnistConfig) -> tuple[np.ndarray, np.ndarray]:
    """The hidden test digits, refusing a data set the sandbox could see."""
    for path in split_files(config.dataset, "test"):
        if runtime().exposes(path):
            raise ConfigError(f"mnist: {path} lies inside a path bound into the sandbox")
    return load_split(config.dataset, "test")


@dataclass(frozen=True)
class _Predicted:
    labels: np.ndarray
    outcome: Outcome
    device: str


def _predict(job: Job, images: np.ndarray, work: Path, name: str) -> tuple[Report | _Predicted, Outcome]:
    """Run predict() on `images` in a fresh sandbox: a failure Report (carrying this run's full
    log) or the checked predictions, and how the run ended."""
    np.save(work / f"{name}-images.npy", images, allow_pickle=False)
    predictions = work / f"{name}-predictions.npy"
    outcome = run_python(
        RUNNER,
        [inside_input("images.npy"), inside_output("predictions.npy")],
        limits=job.limits,
        package=work / "pkg",
        inputs={"images.npy": work / f"{name}-images.npy"},
        outputs={"predictions.npy": predictions},
    )
    if name == "hidden":  # a class name the program chose could carry data: only builtins pass
        outcome = replace(outcome, error=scrubbed_error(outcome.error))
    failed = failure_report(outcome, job.limits)
    if failed is not None:
        return failed, outcome
    try:
        labels = read_predictions(predictions, len(images))
    except OutputError as exc:
        detail = {"wall_seconds": outcome.wall_seconds}
        return Report(BAD_OUTPUT, 0.0, say(exc.zh, exc.en), detail, outcome.log), outcome
    return _Predicted(labels, outcome, "gpu" if outcome.gpu else "cpu"), outcome


def _samples(config: MnistConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """A few public digits (the first of the training split) for the run whose log the student sees."""
    try:
        images, labels = load_split(config.dataset, "train")
    except DatasetError:
        return None
    return images[:SAMPLE_COUNT], labels[:SAMPLE_COUNT]


def _run(job: Job, config: MnistConfig, images: np.ndarray, work: Path) -> Report | _Graded:
    """Unpack, run on the public samples (log for the student), then on the hidden digits (log
    for the staff): a failure Report or the hidden predictions with the student's log."""
    (work / "pkg").mkdir()
    try:
        _, note = unpack(job.files, work / "pkg", job.limits)
    except PackageError as exc:
        return Report(BAD_PACKAGE, 0.0, say(exc.zh, exc.en))
    student_log = note
    samples = _samples(config)
    if samples is not None:
        tried, _ = _predict(job, samples[0], work, "sample")
        if isinstance(tried, Report):  # public digits only: the whole log is the student's
            return replace(tried, log=note + sample_header(len(samples[0])) + tried.log)
        student_log = (note + sample_header(len(samples[0])) + tried.outcome.log
                       + sample_footer(tried.labels.tolist(), samples[1].tolist()))
    hidden, outcome = _predict(job, images, work, "hidden")
    if isinstance(hidden, Report):
        return replace(hidden, log=student_log + hidden_summary(outcome), staff_log=hidden.log)
    return _Graded(hidden, student_log + hidden_summary(hidden.outcome))


@dataclass(frozen=True)
class _Graded:
    predicted: _Predicted
    log: str


def _score(config: MnistConfig, graded: _Graded, labels: np.ndarray) -> Report:
    got = graded.predicted
    mask = None
    if config.public_fraction is not None:
        mask = public_mask(len(labels), config.public_fraction, config.split_seed)
    detail: dict[str, Any] = accuracies(got.labels, labels, mask)
    score = float(detail["accuracy" if config.rank_on == "all" else f"{config.rank_on}_accuracy"])
    shown = "accuracy" if mask is None or config.rank_on == "all" else "public_accuracy"
    detail |= {"rank_on": config.rank_on, "wall_seconds": got.outcome.wall_seconds,
               "cpu_seconds": got.outcome.cpu_seconds, "device": got.device}
    pct = f"{100 * float(detail[shown]):.2f}%"
    public = shown == "public_accuracy"
    part_zh, part_en = ("公开测试集", "public test set") if public else ("隐藏测试集", "hidden test set")
    if score < config.min_accuracy:
        need = f"{100 * config.min_accuracy:.2f}%"
        return Report(WRONG, score, say(
            f"{part_zh}准确率 {pct}，未达到 {need}。", f"Accuracy on the {part_en}: {pct}, below {need}.",
        ), detail, graded.log, got.outcome.log)
    return Report(ACCEPTED, score, say(
        f"{part_zh}准确率：{pct}", f"Accuracy on the {part_en}: {pct}",
    ), detail, graded.log, got.outcome.log)


@register
class Mnist(ReferenceTask):
    name = "mnist"

    def grade(self, job: Job) -> Report:
        config = MnistConfig.parse(job.config)
        images, labels = _hidden_set(config)
        if config.perturb_seed is not None:
            images = perturbed(images, config.perturb_seed)
        with workspace() as work:
            result = _run(job, config, images, work)
        if isinstance(result, Report):
            return result
        return _score(config, result, labels)
