"""`conv_opcount` (homework 7-1): how many multiplications and additions does a conv2d do?

Config (all sizes are integers; pairs may be given as one int):

    input: [N, C, H, W]      out_channels: Cout      kernel: [kh, kw]   (input_shape: alias)
    stride: 1   padding: 0   dilation: 1   groups: 1
    bias: "either"           # "count" | "ignore" | "either": is the bias add an addition?
    per_student: false       # true: every student gets their own shape (see variant_for)

Exact counts, every output element being a dot product of K = (C/groups)·kh·kw terms:

    H' = (H + 2·ph - dh·(kh-1) - 1) // sh + 1        (W' likewise)
    multiplications = N·Cout·H'·W'·K
    additions       = N·Cout·H'·W'·(K-1), plus N·Cout·H'·W' when the bias add counts (= mults)

The seed's case [10,3,224,224], 64 out, 3x3, s1 p1 gives 867,041,280 multiplications and
867,041,280 additions with the bias (834,928,640 without). Feedback names the wrong quantity
but never the right number; `detail` is safe to show the student.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from grader.formats import split_answer
from grader.opcount_parse import OpCounts, parse_opcounts
from grader.registry import Job, ReferenceTask, register
from grader.report import ACCEPTED, NOT_UNDERSTOOD, WRONG, ConfigError, Report, say

BIAS_POLICIES = ("count", "ignore", "either")


@dataclass(frozen=True)
class ConvShape:
    input: tuple[int, int, int, int]
    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    def output_hw(self) -> tuple[int, int]:
        def out(axis: int) -> int:
            size, pad, dil = self.input[2 + axis], self.padding[axis], self.dilation[axis]
            return (size + 2 * pad - dil * (self.kernel[axis] - 1) - 1) // self.stride[axis] + 1

        return out(0), out(1)

    def outputs(self) -> int:
        """Number of output elements N·Cout·H'·W'."""
        oh, ow = self.output_hw()
        return self.input[0] * self.out_channels * oh * ow

    def multiplications(self) -> int:
        per_output = self.input[1] // self.groups * self.kernel[0] * self.kernel[1]
        return self.outputs() * per_output

    def additions(self, *, bias: bool) -> int:
        return self.multiplications() - (0 if bias else self.outputs())


def _pair(config: Mapping[str, Any], key: str, default: int) -> tuple[int, int]:
    value = config.get(key, default)
    pair = [value, value] if isinstance(value, int) else list(value)
    if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
        raise ConfigError(f"conv_opcount: {key} must be an int or [int, int], not {value!r}")
    return pair[0], pair[1]


def shape_from_config(config: Mapping[str, Any]) -> ConvShape:
    """Validate a task config into a `ConvShape`; a staff mistake raises `ConfigError`."""
    try:
        n, c, h, w = (int(v) for v in config.get("input", config.get("input_shape")))
        shape = ConvShape(
            input=(n, c, h, w),
            out_channels=int(config["out_channels"]),
            kernel=_pair(config, "kernel", 0),
            stride=_pair(config, "stride", 1),
            padding=_pair(config, "padding", 0),
            dilation=_pair(config, "dilation", 1),
            groups=int(config.get("groups", 1)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"conv_opcount: bad config {dict(config)!r}: {exc}") from exc
    _check(shape)
    return shape


def _check(shape: ConvShape) -> None:
    sizes = [*shape.input, shape.out_channels, *shape.kernel, *shape.stride, *shape.dilation]
    problems = [
        (min(sizes, default=0) < 1, "sizes, kernel, stride and dilation must be >= 1"),
        (min(shape.padding) < 0, "padding must be >= 0"),
        (shape.groups < 1 or shape.input[1] % shape.groups, "groups must divide C"),
        (shape.groups < 1 or shape.out_channels % shape.groups, "groups must divide Cout"),
    ]
    for bad, why in problems:
        if bad:
            raise ConfigError(f"conv_opcount: {why} (got {shape})")
    if min(shape.output_hw()) < 1:
        raise ConfigError(f"conv_opcount: the kernel does not fit the input ({shape})")


def bias_policy(config: Mapping[str, Any]) -> str:
    policy = config.get("bias", "either")
    if policy not in BIAS_POLICIES:
        raise ConfigError(f"conv_opcount: bias must be one of {BIAS_POLICIES}, not {policy!r}")
    return str(policy)


def _derived_shape(student: str, assignment: str) -> ConvShape:
    """A sane shape picked by the bytes of sha256(assignment, student): stable and uniform."""
    digest = hashlib.sha256(f"camp-conv-variant\0{assignment}\0{student}".encode()).digest()

    def pick(i: int, options: Sequence[int]) -> int:
        return options[int.from_bytes(digest[2 * i : 2 * i + 2], "big") % len(options)]

    k, s, size = pick(3, (1, 3, 5, 7)), pick(4, (1, 2)), pick(2, range(16, 257, 4))
    pad = pick(6, range(k // 2 + 1))
    return ConvShape(
        input=(pick(0, range(1, 33)), pick(1, (1, 3, 4, 8, 16)), size, size),
        out_channels=pick(5, (8, 16, 32, 48, 64, 96, 128)),
        kernel=(k, k),
        stride=(s, s),
        padding=(pad, pad),
    )


def variant_for(student: str, assignment: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The conv this student must count, as plain JSON data (pure: safe to call from the web).

    With `per_student: true` the shape is derived from the student key and homework code;
    otherwise it is the config's shape. Keys match the config's, plus `bias`.
    """
    if config.get("per_student"):
        if not student:
            raise ConfigError("conv_opcount: per_student needs a student key")
        shape = _derived_shape(student, assignment)
    else:
        shape = shape_from_config(config)
    variant = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(shape).items()}
    return {**variant, "bias": bias_policy(config)}


def _hints(shape: ConvShape, policy: str, got: OpCounts) -> list[tuple[str, str]]:
    """Nudges for the common slips, never giving a number away."""
    hints = []
    if policy == "count" and got.add == shape.additions(bias=False):
        hints.append(("加法次数里别忘了加上偏置（bias）的那一次。", "Count the bias addition too."))
    if policy == "ignore" and got.add == shape.additions(bias=True):
        hints.append(("本题加法不计偏置（bias）。", "This homework does not count the bias add."))
    if got.mul is not None and got.mul * shape.input[0] == shape.multiplications() > 0:
        hints.append(("别忘了批大小 N。", "Remember the batch size N."))
    return hints


def _verdict(variant: dict[str, Any], got: OpCounts) -> Report:
    shape, policy = shape_from_config(variant), variant["bias"]
    allowed = {"count": [True], "ignore": [False], "either": [True, False]}[policy]
    mul_ok = got.mul == shape.multiplications()
    add_ok = any(got.add == shape.additions(bias=b) for b in allowed)
    detail = {"mul_correct": mul_ok, "add_correct": add_ok, "parsed": _plain(got), "variant": variant}
    if mul_ok and add_ok:
        return Report(ACCEPTED, 1.0, say("乘法和加法次数都正确！", "Both counts are correct!"), detail)
    wrong_zh = "、".join(n for n, ok in (("乘法", mul_ok), ("加法", add_ok)) if not ok)
    wrong_en = " and ".join(n for n, ok in (("multiplications", mul_ok), ("additions", add_ok)) if not ok)
    hints = _hints(shape, policy, got)
    zh = f"{wrong_zh}次数不对。" + "".join(h[0] for h in hints)
    en = f"The number of {wrong_en} is wrong. " + " ".join(h[1] for h in hints)
    return Report(WRONG, 0.0, say(zh, en.strip()), detail)


def _plain(got: OpCounts) -> dict[str, str | None]:
    return {k: None if v is None else str(v) for k, v in (("mul", got.mul), ("add", got.add))}


_EXAMPLE = "乘法1000，加法1000"  # the seed's own example; never a real answer


@register
class ConvOpCount(ReferenceTask):
    name = "conv_opcount"

    def variant(self, student: str, assignment: str, config: Mapping[str, Any]) -> dict[str, Any]:
        return variant_for(student, assignment, config)

    def grade(self, job: Job) -> Report:
        variant = variant_for(job.student, job.assignment, job.config)
        answer = split_answer(job.assignment, job.text)
        got = parse_opcounts(job.text if answer is None else answer)
        if got.numbers == 0:
            return Report(
                NOT_UNDERSTOOD,
                0.0,
                say(f"回复里没有找到数字。请写成：{_EXAMPLE}", f"No number found. Write e.g. {_EXAMPLE}"),
                {"variant": variant},
            )
        if got.mul is None or got.add is None:
            return Report(
                NOT_UNDERSTOOD,
                0.0,
                say(
                    f"分不清哪个数是乘法、哪个是加法。请写成：{_EXAMPLE}",
                    f"Could not tell which number counts multiplications and which additions."
                    f" Write e.g. {_EXAMPLE}",
                ),
                {"variant": variant, "parsed": _plain(got)},
            )
        return _verdict(variant, got)
