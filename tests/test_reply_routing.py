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

#: the demo course's homework codes (courses/dl-bootcamp.yaml)
CODES = ["1-1", "1-2", "3-1", "4-1", "4-2", "5-1", "5-2", "5-3", "6-1", "6-2", "7-1", "7-2", "8", "9-1", "9-2"]

# Replies copied from the seed thread (seed/000_aec3b0cafef8faf7.txt), unchanged.
SEED_7 = """作业7-1:
乘法:((224+2-3)/1+1)*10*3*64*9=867041280次
加法:((224+2-3)/1+1)*10*3*64*(8+1)=867041280次
作业7-2:
将激活函数改成relu后,准确度有了很大程度的提高,模型训练效果显著。
原因分析:由于sigmoid函数两端倒数为0,容易导致后面的隐藏层激活后反向传播值为0,起不到更新网络参数的作用
而relu激活函数就不存在这个问题,relu激活函数在大于0的部分的倒数全部为1,小于0的部分为0
sigmoid:
relu:"""
SEED_8_QUESTION = """作业8:如果将LeNet模型中的中间层的激活函数Sigmoid换成ReLU,在眼底筛查数据集上将会得到什么样的结果?Loss是否能收敛,ReLU和Sigmoid之间的区别是引起结果不同的原因吗?请发表你的观点
将卷积层的Sigmoid换成ReLU能够使模型的loss下降更快,也减少了同样其他参数情况下的训练用时。因为relu激活函数解决了深层网络的梯度消散现象,使模型更快收敛,而且其只将输入大于1的神经元传入下一层,使模型集中学习重要的图像特征,并减少了运算量。
但试验得出:后面分类的全连接层还是sigmoid激活函数效果更好。"""
SEED_8_1 = """作业8-1:sigmoid 换成relu,loss收敛,准确度提升,运行结果如下图
从纵坐标及曲线可以看出,sigmoid的loss下降到0.7附近不再下降,而relu则下降到0.1一下还有下降趋势,
在此项目中relu优势比sigmoid大"""
SEED_8_1_NEWLINE = """作业8-1:
变更为relu后能够收敛,收敛速度加快。可能原因是relu计算更为简单,计算量更少。"""
SEED_8_NO_COLON = """作业8
将LeNet模型中的中间层的激活函数Sigmoid换成ReLU,在眼底筛查数据集上Loss可以收敛。
ReLU 在训练过程中收敛更快"""
SEED_5 = """作业5-1:
adam算法,准确率0.99
作业5-2: 常见的卷积神经网络包括:VGGnet, Googlenet, Alexnet, yolo, ssd, fastrcnn, fasterrcnn等等
作业5-3: Adam算法效果最好,lr在0.01-0.001之间最优,0.1震荡"""
SEED_6_1 = """作业6-1:
(1)
(2)
(3)对比这种不同的损失函数,我们发现cross entropy准确率能快速达到很高,收敛的快;
(4)采用cross entropy损失函数,训练集以及测试集的loss和accuracy同步变化,且能很快达到收敛"""
SEED_9_1 = """作业9-1:
下图为学习率为0.001时的训练结果
学习率为0.1时:
每10个batch Id变化时,改变学习率,步距为-0.0045"""
SEED_THEORY = """2.理论作业:
①类比牛顿第二定律的案例,在你的工作和生活中还有哪些问题可以用监督学习的框架来解决?假设和参数是什么?优化目标是什么?
答:焦耳定律中热量Q,电流I,电阻R,时间t的关系,可以使用监督。"""
SEED_TAIL_THEN_8 = """使用relu激活函数,Loss可以收敛。
Sigmoid函数一旦进入饱和区,则梯度变化将很小,即Loss基本不再下降
作业8:
使用relu激活函数,Loss可以收敛。"""


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
