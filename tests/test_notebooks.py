"""Notebooks (`.ipynb`) as attachments: read strictly at upload, rendered static and sanitised,
rendered once; the package pre-check for code homework (no `predict`: refused, no attempt used)."""

from __future__ import annotations

import json

import pytest

from app.errors import Invalid, TooLarge, UnsupportedMedia
from app.services import notebook_render
from app.services.notebook_render import render_notebook
from app.services.notebooks import Notebook, defines_predict, read_notebook
from app.services.package_check import check_package
from app.services.uploads import check_file
from tests.support.notebooks import (
    assert_static,
    b64,
    code,
    display,
    dumps,
    error,
    hostile_notebook,
    loss_curve_notebook,
    markdown,
    notebook,
    png,
    stream,
)

MB = 1024 * 1024


def nb(*cells: dict) -> Notebook:  # type: ignore[type-arg]
    return read_notebook("t.ipynb", dumps(notebook(*cells)))


def test_an_ai_studio_notebook_is_accepted_as_code_and_kept_unchanged() -> None:
    data = loss_curve_notebook()
    checked = check_file("作业6-1.ipynb", data, 20 * MB)
    assert (checked.kind, checked.content_type, checked.data) == ("code", "application/x-ipynb+json", data)
    with_bom = check_file("bom.ipynb", b"\xef\xbb\xbf" + data, 20 * MB)
    assert with_bom.kind == "code"


BAD = {
    "not utf-8": (json.dumps(notebook()).encode().replace(b"{", b"{\xff", 1), "不是 UTF-8 文本"),
    "not json": (b'{"nbformat": 4, "cells": [', "不是有效的 JSON"),
    "nbformat 3": (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "不是 nbformat 4 格式"),
    "nbformat true": (json.dumps({"nbformat": True, "cells": []}).encode(), "不是 nbformat 4 格式"),
    "a list": (b"[]", "不是 nbformat 4 格式"),
    "no cells": (json.dumps({"nbformat": 4, "metadata": {}}).encode(), "没有单元格列表"),
    "too many cells": (dumps(notebook(*[markdown("x")] * 2001)), "有 2001 个单元格，上限是 2000 个"),
    "bad cell type": (dumps(notebook({"cell_type": "widget", "source": ""})), "第 1 个单元格格式不对"),
    "source a number": (dumps(notebook(markdown("ok"), {"cell_type": "code", "source": 3})), "第 2 个单元格"),
    "outputs not a list": (dumps(notebook({"cell_type": "code", "source": "", "outputs": {}})), "输出过多或格式不对"),
    "too many in a cell": (dumps(notebook(code("x", [stream("a")] * 201))), "输出过多或格式不对（最多 200 个）"),
    "too many in all": (dumps(notebook(*[code("x", [stream("a")] * 200)] * 11)), "有 2200 个输出，上限是 2000 个"),
    "bad output": (dumps(notebook(code("x", [{"output_type": "stream", "text": 5}]))), "格式不对的输出"),
    "unknown output": (dumps(notebook(code("x", [{"output_type": "widget"}]))), "格式不对的输出"),
    "deep": (b'{"nbformat": 4, "cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "不是有效的 JSON"),
    "huge number": (b'{"nbformat": 4, "cells": [], "n": ' + b"9" * 10_000 + b"}", "不是有效的 JSON"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_notebooks_are_refused_with_the_reason(case: str) -> None:
    from app.i18n import translate

    data, said = BAD[case]
    with pytest.raises(Invalid) as caught:
        check_file("hw.ipynb", data, 20 * MB)
    assert said in translate("zh_CN", caught.value.message, **caught.value.params), case
    assert "hw.ipynb" in translate("en", caught.value.message, **caught.value.params)


def test_a_notebook_over_16_mb_is_too_large() -> None:
    big = dumps(notebook(code("x", [stream("a" * (17 * MB))])))
    with pytest.raises(TooLarge):
        check_file("big.ipynb", big, 20 * MB)


def test_another_suffix_is_still_refused_and_the_message_names_notebooks() -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        check_file("x.exe", b"MZ", 20 * MB)
    assert ".ipynb" in caught.value.message


def test_the_hostile_notebook_renders_static() -> None:
    html = str(render_notebook(read_notebook("h.ipynb", hostile_notebook()), "zh_CN"))
    tags = assert_static(html)
    lowered = html.lower()
    for active in ("<script", "<svg", "<iframe", "<b ", "href=\"javascript"):  # handlers: assert_static
        assert active not in lowered, active
    assert "&lt;script&gt;alert('md')&lt;/script&gt;" in html  # shown as text, not run
    assert "&lt;b&gt;plain form&lt;/b&gt;" in html  # an HTML output's text/plain form, escaped
    assert html.count("这里不显示 HTML 或脚本输出") == 3  # html, svg, javascript
    assert html.count("有一个图片输出未显示") == 3  # SVG as PNG, truncated PNG, PNG as JPEG
    assert not [t for t, a in tags if t == "img"]
    assert "\x1b" not in html and "[31m" not in html and "red &lt;script&gt;" in html
    assert "…… 另有 30000 个字符未显示" in html  # the 50,000-character stream is cut
    assert "ValueError" in html


def test_an_honest_notebook_shows_text_math_code_outputs_and_its_plot() -> None:
    html = str(render_notebook(read_notebook("loss.ipynb", loss_curve_notebook()), "zh_CN"))
    tags = assert_static(html)
    assert "<h1>作业6-1 训练曲线</h1>" in html and "<math" in html and "10*64*224*224*27" in html
    assert '<span class="kn">import</span>' in html  # highlighted by Pygments
    assert "loss [0.9, 0.5, 0.3]" in html and "&lt;Figure size" not in html
    images = [a["src"] for t, a in tags if t == "img"]
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    english = str(render_notebook(read_notebook("loss.ipynb", loss_curve_notebook()), "en"))
    assert english.count("<img") == 1


def test_images_are_bounded_in_size_and_count() -> None:
    big = b64(png((3000, 3000)))  # 9 megapixels
    many = [display({"image/png": b64(png(color=(i, 0, 0)))}) for i in range(55)]
    html = str(render_notebook(nb(code("x", [display({"image/png": big}), *many])), "en"))
    assert html.count("<img") == notebook_render.MAX_IMAGES
    assert html.count("An image output is not shown") == 1
    assert html.count("More image outputs are not shown (at most 50 per notebook).") == 1


def test_image_metadata_is_dropped() -> None:
    from tests.support.thread import png_with_gps

    html = str(render_notebook(nb(code("x", [display({"image/png": b64(png_with_gps())})])), "en"))
    import base64
    import re

    shown = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert b"CampTestCamera" not in shown and shown.startswith(b"\x89PNG")


def test_decoded_pixels_are_budgeted_per_notebook() -> None:
    big = b64(png((2000, 1800)))  # 3.6 megapixels: six fit in 24
    html = str(render_notebook(nb(code("x", [display({"image/png": big})] * 7)), "en"))
    assert html.count("<img") == 6 and html.count("An image output is not shown") == 1


def test_inlined_image_bytes_and_outputs_are_budgeted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notebook_render, "MAX_IMAGE_TOTAL_BYTES", 3 * len(png()) + 10)
    html = str(render_notebook(nb(code("x", [display({"image/png": b64(png())})] * 5)), "en"))
    assert html.count("<img") == 3 and html.count("An image output is not shown") == 2
    monkeypatch.setattr(notebook_render, "MAX_HTML_CHARS", 5_000)
    html = str(render_notebook(nb(code("x", [stream("y" * 1_000)] * 100)), "zh_CN"))
    assert "这个单元格其余的输出太长" in html and html.count("nb-stdout") == 5  # 5 x 1 KB, then the note


def test_markdown_past_its_budget_is_plain_text() -> None:
    cells = [markdown("# heading\n" + "[" * 20_000) for _ in range(5)]
    html = str(render_notebook(nb(*cells), "en"))
    assert html.count("<h1>heading</h1>") == 3  # 3 x 20 KB rendered, then the 64 KB budget is spent
    assert html.count('<pre class="nb-raw"># heading') == 2


def test_a_long_notebook_is_summarised_past_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notebook_render, "MAX_HTML_CHARS", 5_000)
    cells = [code("print(1)", [stream("y" * 1_000)]) for _ in range(100)]
    html = str(render_notebook(nb(*cells), "zh_CN"))
    assert "笔记本的其余部分" in html and len(html) < 10_000


def test_lone_surrogates_and_control_characters_do_not_break_the_page() -> None:
    raw = b'{"nbformat": 4, "cells": [{"cell_type": "markdown", "source": "a\\ud800b"}, ' \
          b'{"cell_type": "code", "source": "x\\u0000y", "outputs": [{"output_type": "stream", "text": "\\u0007z"}]}]}'
    html = str(render_notebook(read_notebook("s.ipynb", raw), "en"))
    html.encode("utf-8")  # writable to the rendered store
    assert "\x00" not in html and "\x07" not in html


def test_error_output_without_traceback_shows_name_and_value() -> None:
    html = str(render_notebook(nb(code("1/0", [error("ZeroDivisionError", "division by zero", [])])), "en"))
    assert "ZeroDivisionError: division by zero" in html


def test_predict_is_required_for_code_homework() -> None:
    good = nb(code("%pip install x\nimport numpy as np"), code("def predict(images):\n    return images"))
    defines_predict("ok.ipynb", good)
    for cells in ([code("from mymodel import predict")], [code("predict = lambda x: x")],
                  [code("try:\n    import paddle\nexcept ImportError:\n    pass\nelse:\n    pass\n"
                        "if True:\n    def predict(x):\n        return x")]):
        defines_predict("alt.ipynb", nb(*cells))
    with pytest.raises(Invalid) as none:
        defines_predict("none.ipynb", nb(markdown("def predict(x): pass"), code("def train():\n    pass")))
    assert "predict(images)" in none.value.message
    with pytest.raises(Invalid) as broken:
        defines_predict("bad.ipynb", nb(code("x = 1"), code("y = 2\ndef predict(:\n  pass")))
    assert broken.value.params == {"name": "bad.ipynb", "cell": 2, "line": 2}


def test_the_package_check_counts_a_notebook_as_the_one_package() -> None:
    from tests.grader.graderkit import zip_bytes

    notebook_file = check_file("a.ipynb", dumps(notebook(code("def predict(x):\n    return x"))), 20 * MB)
    check_package([notebook_file])
    zipped = check_file("b.zip", zip_bytes({"predict.py": "def predict(x): return x"}), 20 * MB)
    with pytest.raises(Invalid) as two:
        check_package([notebook_file, zipped])
    assert two.value.params["names"] == "a.ipynb, b.zip"
    without = check_file("c.ipynb", dumps(notebook(code("print(1)"))), 20 * MB)
    with pytest.raises(Invalid):
        check_package([without])



def test_a_zip_whose_entry_is_a_notebook_is_checked_like_a_lone_notebook() -> None:
    from tests.grader.graderkit import zip_bytes

    weights = b"\0" * 100
    good = zip_bytes({"hw/main.ipynb": dumps(notebook(code("def predict(x):\n    return x"))), "hw/w.npz": weights})
    check_package([check_file("hw.zip", good, 20 * MB)])
    without = zip_bytes({"main.ipynb": dumps(notebook(code("print(1)"))), "w.npz": weights})
    with pytest.raises(Invalid) as none:
        check_package([check_file("hw.zip", without, 20 * MB)])
    assert "predict(images)" in none.value.message and none.value.params["name"] == "main.ipynb"
    two = zip_bytes({"a.ipynb": dumps(notebook()), "b.ipynb": dumps(notebook())})
    with pytest.raises(Invalid) as neither:
        check_package([check_file("two.zip", two, 20 * MB)])
    assert "nor a single notebook" in neither.value.message
    broken = zip_bytes({"main.ipynb": b"{not json"})
    with pytest.raises(Invalid) as bad:
        check_package([check_file("b.zip", broken, 20 * MB)])
    assert "not valid JSON" in bad.value.message


def test_the_similarity_review_compares_the_code_a_notebook_runs() -> None:
    from app.services.similarity import package_source
    from tests.grader.graderkit import zip_bytes

    data = dumps(notebook(code("%pip install x\ndef predict(images):\n    return images", [stream("z" * 900_000)])))
    alone = package_source(data, "a.ipynb")
    assert "def predict(images)" in alone and "%pip" not in alone and "zzz" not in alone
    zipped = package_source(zip_bytes({"hw/main.ipynb": data, "hw/util.py": "X = 1\n"}), "hw.zip")
    assert "def predict(images)" in zipped and "X = 1" in zipped
