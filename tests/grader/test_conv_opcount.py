"""Homework 7-1: exact conv op counts, checked against an explicit loop, and reply grading."""

from __future__ import annotations

import itertools
import json

import pytest

import grader
from grader.report import ConfigError
from grader.tasks.conv_opcount import ConvShape, shape_from_config, variant_for

SEED = {"input": [10, 3, 224, 224], "out_channels": 64, "kernel": [3, 3], "stride": 1, "padding": 1}


def brute_force(n, c, h, w, cout, kh, kw, s, p, d, g):
    """Count every multiply and add of a direct conv2d loop (padded taps count: they are done)."""
    mults = adds = outputs = 0
    span_h, span_w = d * (kh - 1) + 1, d * (kw - 1) + 1
    oh = 0
    while oh * s + span_h <= h + 2 * p:  # window start oh*s in the padded input
        ow = 0
        while ow * s + span_w <= w + 2 * p:
            for _batch, _co in itertools.product(range(n), range(cout)):
                terms = 0
                for _ci, _i, _j in itertools.product(range(c // g), range(kh), range(kw)):
                    mults += 1
                    terms += 1
                adds += terms - 1  # summing the products
                outputs += 1
            ow += 1
        oh += 1
    return mults, adds, outputs


SHAPES = [
    # n, c, h, w, cout, kh, kw, stride, padding, dilation, groups
    (1, 1, 5, 5, 1, 3, 3, 1, 0, 1, 1),
    (2, 3, 6, 7, 4, 3, 3, 1, 1, 1, 1),
    (1, 2, 8, 8, 2, 3, 3, 2, 1, 1, 1),
    (3, 4, 9, 6, 4, 2, 3, 2, 0, 1, 2),
    (1, 4, 7, 7, 8, 3, 3, 1, 2, 2, 4),
    (2, 1, 4, 4, 3, 1, 1, 1, 0, 1, 1),
    (1, 6, 10, 5, 6, 5, 2, 3, 2, 1, 3),
    (2, 2, 5, 9, 2, 3, 3, 1, 3, 2, 2),
    (1, 3, 11, 11, 2, 4, 4, 3, 1, 1, 1),
    (1, 1, 3, 3, 1, 3, 3, 1, 0, 1, 1),
]


@pytest.mark.parametrize("dims", SHAPES)
def test_formula_matches_an_explicit_loop(dims):
    n, c, h, w, cout, kh, kw, s, p, d, g = dims
    config = {"input": [n, c, h, w], "out_channels": cout, "kernel": [kh, kw], "stride": s,
              "padding": p, "dilation": d, "groups": g}
    shape = shape_from_config(config)
    mults, adds, outputs = brute_force(n, c, h, w, cout, kh, kw, s, p, d, g)
    assert shape.multiplications() == mults
    assert shape.additions(bias=False) == adds
    assert shape.additions(bias=True) == adds + outputs
    assert shape.outputs() == outputs


def test_seed_numbers():
    shape = shape_from_config(SEED)
    assert shape.output_hw() == (224, 224)
    assert shape.multiplications() == 867_041_280
    assert shape.additions(bias=True) == 867_041_280
    assert shape.additions(bias=False) == 834_928_640


SEED_REPLY = (
    "作业7-1:\n乘法:((224+2-3)/1+1)*10*3*64*9=867041280次\n"
    "加法:((224+2-3)/1+1)*10*3*64*(8+1)=867041280次"
)
WITH_BIAS = [
    "乘法867041280,加法867041280",
    "作业7-1：乘法867041280，加法867041280",
    SEED_REPLY,
    "乘法：867,041,280；加法：867,041,280",
    "乘法 867 041 280 加法 867 041 280",
    "multiplications: 867,041,280; additions: 867,041,280",
    "mul=867041280, add=867041280",
    "加法867041280，乘法867041280",
    "867041280次乘法，867041280次加法",
    "乘867041280 加867041280",
    "乘法：８６７０４１２８０，加法：８６７０４１２８０",
    "乘法8.6704128亿次，加法8.6704128亿次",
    "Multiplications = 10*64*224*224*27 = 867041280\nAdditions = 867041280",
    "867041280, 867041280",
]
WITHOUT_BIAS = [
    "乘法867041280,加法834928640",
    "additions: 834,928,640; multiplications: 867,041,280",
    "作业7-1: 乘法:867041280次 加法:(27-1)*64*224*224*10=834928640次",
]


@pytest.mark.parametrize("text", WITH_BIAS)
@pytest.mark.parametrize("bias", ["count", "either"])
def test_with_bias_spellings_accepted(text, bias):
    report = grader.grade("conv_opcount", assignment="7-1", text=text, config={**SEED, "bias": bias})
    assert report.verdict == "accepted", (text, report.detail)
    assert report.score == 1.0


@pytest.mark.parametrize("text", WITHOUT_BIAS)
@pytest.mark.parametrize("bias", ["ignore", "either"])
def test_without_bias_spellings_accepted(text, bias):
    report = grader.grade("conv_opcount", assignment="7-1", text=text, config={**SEED, "bias": bias})
    assert report.verdict == "accepted", (text, report.detail)


def test_bias_policy_is_enforced():
    count = grader.grade("conv_opcount", assignment="7-1", text=WITHOUT_BIAS[0],
                         config={**SEED, "bias": "count"})
    assert count.verdict == "wrong"
    assert "偏置" in count.messages["zh_CN"] and "bias" in count.messages["en"]
    ignore = grader.grade("conv_opcount", assignment="7-1", text=WITH_BIAS[0],
                          config={**SEED, "bias": "ignore"})
    assert ignore.verdict == "wrong"


@pytest.mark.parametrize(
    ("text", "wrong_zh", "wrong_en"),
    [
        ("乘法867041281,加法867041280", "乘法", "multiplications"),
        ("乘法867041280,加法1", "加法", "additions"),
        ("乘法86704128,加法86704128", "乘法、加法", "multiplications and additions"),
        ("乘法8.67亿,加法8.67亿", "乘法、加法", "multiplications and additions"),
    ],
)
def test_wrong_counts_name_the_quantity_but_not_the_answer(text, wrong_zh, wrong_en):
    report = grader.grade("conv_opcount", assignment="7-1", text=text, config=SEED)
    assert report.verdict == "wrong" and report.score == 0.0
    assert report.messages["zh_CN"].startswith(wrong_zh + "次数不对")
    assert f"number of {wrong_en} is wrong" in report.messages["en"]
    messages = json.dumps(report.messages, ensure_ascii=False)
    assert not any(secret in messages for secret in ("867041280", "834928640", "867,041,280"))
    assert set(report.detail) == {"mul_correct", "add_correct", "parsed", "variant"}


@pytest.mark.parametrize("text", ["", "作业7-1：不会", "作业7-1：乘法和加法", "multiplications: lots"])
def test_no_numbers_is_not_understood(text):
    report = grader.grade("conv_opcount", assignment="7-1", text=text, config=SEED)
    assert report.verdict == "not_understood"
    assert "1000" in report.messages["zh_CN"]  # shows the format with the seed's dummy numbers


@pytest.mark.parametrize("text", ["867041280", "作业7-1：1 2 3", "乘法和加法分别是1和2"])
def test_unattributable_numbers_are_not_understood(text):
    report = grader.grade("conv_opcount", assignment="7-1", text=text, config=SEED)
    assert report.verdict == "not_understood"


def test_per_student_variant_is_stable_sane_and_graded():
    config = {"per_student": True, "bias": "count"}
    seen = set()
    for i in range(300):
        variant = variant_for(f"student-{i}", "7-1", config)
        assert variant == variant_for(f"student-{i}", "7-1", config)
        shape = shape_from_config(variant)
        n, c, h, w = shape.input
        assert 1 <= n <= 32 and c in (1, 3, 4, 8, 16) and 16 <= h == w <= 256
        assert min(shape.output_hw()) >= 1
        seen.add(json.dumps(variant, sort_keys=True))
    assert len(seen) > 290  # students rarely share a shape
    assert variant_for("a", "7-1", config) != variant_for("a", "7-2", config)

    variant = variant_for("alice", "7-1", config)
    shape = shape_from_config(variant)
    right = f"乘法{shape.multiplications()},加法{shape.additions(bias=True)}"
    ok = grader.grade("conv_opcount", assignment="7-1", text=right, config=config, student="alice")
    assert ok.verdict == "accepted" and ok.detail["variant"] == variant
    other = grader.grade("conv_opcount", assignment="7-1", text=right, config=config, student="bob")
    assert other.verdict == "wrong"


def test_fixed_config_variant_is_the_config():
    variant = variant_for("anyone", "7-1", SEED)
    assert variant == {"input": [10, 3, 224, 224], "out_channels": 64, "kernel": [3, 3],
                       "stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1,
                       "bias": "either"}


@pytest.mark.parametrize(
    "config",
    [
        {},
        {**SEED, "input": [10, 3, 224]},
        {**SEED, "input": [5]},
        {**SEED, "input": None},
        {**SEED, "groups": 2},
        {**SEED, "kernel": [300, 3]},
        {**SEED, "stride": 0},
        {**SEED, "bias": "sometimes"},
        {**SEED, "kernel": "3x3"},
        {"per_student": True},  # no student key
    ],
)
def test_bad_config_is_a_config_error_not_a_verdict(config):
    with pytest.raises(ConfigError):
        grader.grade("conv_opcount", assignment="7-1", text="乘法1,加法1", config=config)


def test_conv_shape_defaults():
    shape = ConvShape(input=(1, 1, 3, 3), out_channels=1, kernel=(3, 3))
    assert shape.output_hw() == (1, 1) and shape.multiplications() == 9


def test_queue():
    assert grader.queue_for("conv_opcount") == "cpu"


def test_variant_through_the_public_api():
    config = {"per_student": True}
    assert grader.variant_for("conv_opcount", assignment="7-1", config=config, student="alice") == \
        variant_for("alice", "7-1", config)
    assert grader.variant_for("mnist", assignment="6-2") is None
    assert grader.variant_for("reply_format", assignment="1-1") is None


def test_input_shape_is_an_alias_of_input():
    config = {**{k: v for k, v in SEED.items() if k != "input"}, "input_shape": [10, 3, 224, 224]}
    report = grader.grade("conv_opcount", assignment="7-1", text="乘法867041280,加法867041280",
                          config={**config, "bias": "count"})
    assert report.verdict == "accepted"
