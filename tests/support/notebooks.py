"""Jupyter notebooks for the tests: honest ones as AI Studio saves them, and hostile ones."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image

from app.math_markdown import MATH_TAGS

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "examples" / "mnist-lenet"
#: tags a rendered notebook may contain: the replies' Markdown tags plus the notebook's frame
SAFE_TAGS = {"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
             "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "img",
             "div", "span"} | set(MATH_TAGS)


def markdown(text: str | list[str]) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def code(text: str | list[str], outputs: list[dict[str, Any]] | None = None, count: int | None = 1,
         tags: list[str] | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {"tags": tags} if tags else {}, "execution_count": count,
            "source": text, "outputs": outputs or []}


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def display(data: dict[str, Any], kind: str = "display_data") -> dict[str, Any]:
    out: dict[str, Any] = {"output_type": kind, "data": data, "metadata": {}}
    if kind == "execute_result":
        out["execution_count"] = 1
    return out


def error(ename: str, evalue: str, traceback: list[str]) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}


def notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "cells": list(cells),
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


def dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def png(size: tuple[int, int] = (40, 30), color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def loss_curve_notebook() -> bytes:
    """What a 6-1 essay notebook looks like: text, math, code, printed losses and a plot."""
    return dumps(notebook(
        markdown("# 作业6-1 训练曲线\n\n损失函数 $L = -\\sum_i y_i \\log p_i$，乘法 10*64*224*224*27"),
        code("%matplotlib inline\nimport numpy as np\nloss = [0.9, 0.5, 0.3]\nprint('loss', loss)",
             [stream("loss [0.9, 0.5, 0.3]\n")]),
        code("plt.plot(loss)", [display({"image/png": b64(png()), "text/plain": "<Figure size 640x480>"})], 2),
    ))


def hostile_notebook() -> bytes:
    """Everything a notebook could carry that must not become active in a page."""
    svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    return dumps(notebook(
        markdown(["<script>alert('md')</script>\n", "[click](javascript:alert(1))\n",
                  '<svg onload="alert(3)"></svg>\n', "![x](javascript:alert(4))\n",
                  '<img src=x onerror="alert(5)">\n', "![a](attachment:secret.png)"]),
        code("x = 1  # <script>alert('code')</script>", [
            display({"text/html": "<script>alert('html')</script><b onclick=alert(6)>hi</b>",
                     "text/plain": "<b>plain form</b>"}),
            display({"image/svg+xml": svg}),
            display({"application/javascript": "alert(7)"}),
            display({"image/png": b64(svg.encode())}),  # claims PNG, is SVG
            display({"image/png": b64(png()[:40])}),  # a truncated PNG
            display({"image/jpeg": b64(png())}),  # a PNG said to be JPEG
            display({"text/markdown": "[m](javascript:alert(8)) <iframe src=x></iframe>"}),
            stream("\x1b[31mred\x1b[0m <script>alert('stream')</script>\n"),
            error("ValueError", "<img src=x onerror=alert(9)>",
                  ["\x1b[0;31m---------\x1b[0m", "\x1b[0;31mValueError\x1b[0m: <img src=x onerror=alert(9)>"]),
            stream("x" * 50_000),
        ]),
        {"cell_type": "raw", "metadata": {}, "source": "<script>alert('raw')</script>"},
    ))


def lenet_notebook(extra_cells: list[dict[str, Any]] | None = None) -> bytes:
    """The 6-2 baseline (examples/mnist-lenet) as a notebook: the weights embedded as base64,
    `predict.py`'s code in cells, and the IPython lines an AI Studio notebook has."""
    weights = b64((BASELINE / "lenet.npz").read_bytes())
    source = (BASELINE / "predict.py").read_text(encoding="utf-8")
    body = source.split("from __future__ import annotations\n", 1)[1]
    body = body.replace(
        '_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lenet.npz")',
        "_WEIGHTS = base64.b64decode(WEIGHTS_B64)").replace("np.load(_WEIGHTS,", "np.load(io.BytesIO(_WEIGHTS),")
    assert "base64.b64decode" in body and "io.BytesIO(_WEIGHTS)" in body
    return dumps(notebook(
        markdown("# 作业6-2 MNIST\nLeNet，权重在下面的单元格里。"),
        code("%pip install paddlepaddle\n!ls /home/aistudio/data\nimport base64\nimport io", count=1),
        code(f"WEIGHTS_B64 = '{weights}'", count=2),
        code("%%bash\nnvidia-smi", count=3),
        code(body, [stream("ok\n")], count=4),
        *(extra_cells or []),
    ))


def lenet_notebook_beside_its_weights() -> bytes:
    """The baseline as a notebook that loads `lenet.npz` from its working directory, as it would
    in AI Studio: zipped with the weights, the notebook is the package's entry point."""
    source = (BASELINE / "predict.py").read_text(encoding="utf-8")
    body = source.split("from __future__ import annotations\n", 1)[1].replace(
        '_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lenet.npz")',
        '_WEIGHTS = "lenet.npz"')
    assert '_WEIGHTS = "lenet.npz"' in body
    return dumps(notebook(
        markdown("# 作业6-2\n权重 lenet.npz 和笔记本放在同一个文件夹里。"),
        code("!unzip -o data.zip\n%matplotlib inline", count=1),
        code(body, count=2),
    ))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def assert_static(html: str) -> list[tuple[str, dict[str, str]]]:
    """Every tag is on the safe list, no event handler, no script URL; images are Camp's files
    or PNG/JPEG data. Returns the tags found."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag in SAFE_TAGS, (tag, html[:3000])
        for name, value in attrs.items():
            assert not name.startswith("on") and name not in ("style", "srcdoc"), (tag, name)
            cleaned = "".join(value.split()).lower()
            assert not cleaned.startswith(("javascript:", "vbscript:", "data:text", "data:image/svg")), value
        if tag == "img":
            assert attrs["src"].startswith(("/files/", "data:image/png;base64,", "data:image/jpeg;base64,"))
    return parser.found
