"""Splitting replies at their `作业X-Y` prefixes: real replies from the seed thread, then the
tricky cases, as tables. Pure functions: no database."""

from __future__ import annotations

import pytest

from app.services.reply_routing import (
    FILED_UNDER_PARENT,
    FileRef,
    assign_files,
    find_prefixes,
    normalise_code,
    split_reply,
)
from tests.support.seed_replies import (
    SEED_5,
    SEED_6_1,
    SEED_7,
    SEED_8_1,
    SEED_8_1_NEWLINE,
    SEED_8_NO_COLON,
    SEED_8_QUESTION,
    SEED_9_1,
    SEED_TAIL_THEN_8,
    SEED_THEORY,
)

#: the demo course's homework codes (courses/dl-bootcamp.yaml)
CODES = ["1-1", "1-2", "3-1", "4-1", "4-2", "5-1", "5-2", "5-3", "6-1", "6-2", "7-1", "7-2", "8", "9-1", "9-2"]

@pytest.mark.parametrize(
    ("text", "expected", "unrouted"),
    [
        (SEED_7, [("7-1", None), ("7-2", None)], ""),
        (SEED_8_QUESTION, [("8", None)], ""),
        (SEED_8_1, [("8", FILED_UNDER_PARENT)], ""),
        (SEED_8_1_NEWLINE, [("8", FILED_UNDER_PARENT)], ""),
        (SEED_8_NO_COLON, [("8", None)], ""),
        (SEED_5, [("5-1", None), ("5-2", None), ("5-3", None)], ""),
        (SEED_6_1, [("6-1", None)], ""),
        (SEED_9_1, [("9-1", None)], ""),
        (SEED_THEORY, [], SEED_THEORY),
        (SEED_TAIL_THEN_8, [("8", None)], SEED_TAIL_THEN_8.split("\n作业8")[0]),
    ],
    ids=["7-1+7-2", "8-question", "8-1", "8-1-newline", "8-no-colon", "5-1..5-3", "6-1", "9-1", "theory",
         "tail-then-8"],
)
def test_seed_replies_are_routed(text: str, expected: list[tuple[str, str | None]], unrouted: str) -> None:
    routing = split_reply(text, CODES)
    assert [(p.code, p.flag) for p in routing.parts] == expected
    assert routing.unrouted == unrouted
    assert routing.unknown == ()


def test_seed_parts_keep_their_text() -> None:
    parts = split_reply(SEED_7, CODES).parts
    assert parts[0].text.startswith("作业7-1:\n乘法:") and parts[0].text.endswith("867041280次")
    assert parts[1].text.startswith("作业7-2:\n将激活函数") and parts[1].text.endswith("relu:")
    five = split_reply(SEED_5, CODES).parts
    assert five[2].text == "作业5-3: Adam算法效果最好,lr在0.01-0.001之间最优,0.1震荡"


def test_a_part_filed_under_its_parent_is_rewritten_for_the_grader() -> None:
    [part] = split_reply(SEED_8_1, CODES).parts
    assert part.written == ("8-1",)
    assert part.text.startswith("作业8:sigmoid 换成relu")  # the reply_format grader reads `作业8`


@pytest.mark.parametrize(
    ("text", "expected", "unrouted", "unknown"),
    [
        ("作业 8：答案", [("8", "作业 8：答案")], "", ()),
        ("作业８：全角", [("8", "作业8：全角")], "", ()),
        ("作业７－１：全角", [("7-1", "作业7-1：全角")], "", ()),
        ("作业7 - 2: 空格", [("7-2", "作业7-2: 空格")], "", ()),
        ("作业07-1：零", [("7-1", "作业7-1：零")], "", ()),
        ("作业7-1：乘法1,加法2 作业7-2：对", [("7-1", "作业7-1：乘法1,加法2"), ("7-2", "作业7-2：对")], "", ()),
        ("作业5-1:adam。作业5-2:vgg", [("5-1", "作业5-1:adam。"), ("5-2", "作业5-2:vgg")], "", ()),
        ("作业99：什么", [], "作业99：什么", ("99",)),
        ("作业7-10：不是7-1", [], "作业7-10：不是7-1", ("7-10",)),
        ("前言\n作业7-1：x", [("7-1", "作业7-1：x")], "前言", ()),
        ("参考作业3的代码", [], "参考作业3的代码", ()),
        ("上次作业3:我没交", [], "上次作业3:我没交", ()),
        ("作业9-1奖励:xx", [], "作业9-1奖励:xx", ()),
        ("作业1-1的获奖者如图", [], "作业1-1的获奖者如图", ()),
        ("作业3-1(1)XX(2)XX", [("3-1", "作业3-1(1)XX(2)XX")], "", ()),
        ("**作业7-1**：粗体", [("7-1", "**作业7-1**：粗体")], "", ()),
        ("# 作业8\n标题", [("8", "# 作业8\n标题")], "", ()),
        ("作业8", [("8", "作业8")], "", ()),
        ("作业8：a\n作业8-1：b", [("8", "作业8：a\n\n作业8：b")], "", ()),
        ("作业8：a\n作业99：b\n作业7-1：c", [("8", "作业8：a"), ("7-1", "作业7-1：c")], "作业99：b", ("99",)),
        ("", [], "", ()),
    ],
)
def test_tricky_replies(text: str, expected: list[tuple[str, str]], unrouted: str,
                        unknown: tuple[str, ...]) -> None:
    routing = split_reply(text, CODES)
    assert [(p.code, p.text) for p in routing.parts] == expected
    assert routing.unrouted == unrouted
    assert routing.unknown == unknown


def test_merged_parts_keep_the_flag_and_what_was_written() -> None:
    [part] = split_reply("作业8：a\n作业8-1：b", CODES).parts
    assert part.flag == FILED_UNDER_PARENT and part.written == ("8", "8-1")


def test_a_code_with_only_sub_homework_is_unknown() -> None:
    routing = split_reply("作业7：哪一个？", CODES)  # 7-1 and 7-2 exist, 7 does not: ambiguous
    assert routing.parts == () and routing.unknown == ("7",)


@pytest.mark.parametrize(
    ("text", "default", "expected", "unrouted"),
    [
        ("没有前缀的回答", "7-1", [("7-1", "没有前缀的回答")], ""),
        ("", "7-1", [("7-1", "")], ""),
        ("作业7-1：a\n作业7-2：b", "7-1", [("7-1", "作业7-1：a"), ("7-2", "作业7-2：b")], ""),
        ("作业7-2：只答了7-2", "7-1", [("7-2", "作业7-2：只答了7-2")], ""),
        ("前言\n作业7-2：b", "7-1", [("7-1", "前言"), ("7-2", "作业7-2：b")], ""),
        ("作业8：a\n作业99：b", "8", [("8", "作业8：a\n\n作业99：b")], ""),
        ("作业99：b", "8", [("8", "作业99：b")], ""),
    ],
)
def test_on_a_homework_nothing_stays_unrouted(text: str, default: str, expected: list[tuple[str, str]],
                                              unrouted: str) -> None:
    routing = split_reply(text, CODES, default=default)
    assert [(p.code, p.text) for p in routing.parts] == expected
    assert routing.unrouted == unrouted


@pytest.mark.parametrize(
    ("written", "code"),
    [("8", "8"), ("８", "8"), ("7-1", "7-1"), ("7 - 1", "7-1"), ("７－１", "7-1"), ("7–1", "7-1"), ("07-01", "7-1")],
)
def test_normalise_code(written: str, code: str) -> None:
    assert normalise_code(written) == code


def test_prefix_positions_cover_markdown_marks() -> None:
    text = "intro\n  **作业7-1**：x\n作业7-2: y"
    starts = [p.start for p in find_prefixes(text)]
    assert starts == [text.index("  **"), text.index("作业7-2")]


def test_files_go_where_they_are_named_then_code_to_the_code_homework() -> None:
    routing = split_reply("作业6-1：曲线见 loss.png\n作业6-2：代码在附件\n作业8：![acc](acc.png)", CODES)
    files = [FileRef("loss.png", "image"), FileRef("model.zip", "code"), FileRef("acc.png", "image"),
             FileRef("other.png", "image")]
    assert assign_files(routing, files, code_graded={"6-2"}) == ["6-1", "6-2", "8", "6-1"]
    # posted to homework 8: unnamed files go to 8; code still goes to the code-graded homework
    assert assign_files(routing, files, code_graded={"6-2"}, default="8") == ["6-1", "6-2", "8", "8"]
    # no part grades code: the zip follows the unnamed images
    assert assign_files(routing, files, code_graded=set()) == ["6-1", "6-1", "8", "6-1"]


def test_files_without_a_part_go_nowhere() -> None:
    routing = split_reply("大家好", CODES)
    assert assign_files(routing, [FileRef("a.png", "image")], code_graded={"6-2"}) == [None]
