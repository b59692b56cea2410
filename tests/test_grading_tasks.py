"""The reference tasks through the whole pipeline: API upload → queue → worker → sandbox → verdict."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.stacks import PROJECT_ROOT, Stack, wait_for
from tests.support.web import add_user, api_token

URL = "/api/v1/courses/{course}/assignments/{code}/submissions"
BASELINE = PROJECT_ROOT / "examples" / "mnist-lenet"


def baseline_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("predict.py", "lenet.npz"):
            zf.write(BASELINE / name, name)
    return buffer.getvalue()


def post_and_wait(client: TestClient, headers: dict[str, str], code: str, text: str,
                  files: dict[str, tuple[str, bytes]] | None = None, course: str = "dl-bootcamp") -> dict:
    created = client.post(URL.format(course=course, code=code), data={"text": text}, files=files, headers=headers)
    assert created.status_code == 201, created.text
    sid = created.json()["id"]

    def final() -> dict | None:
        body = client.get(f"/api/v1/submissions/{sid}", headers=headers).json()
        return body if body["status"] in ("scored", "failed", "rejected") else None

    return wait_for(final, timeout=120)  # type: ignore[return-value]


def test_mnist_baseline_is_graded_end_to_end(client: TestClient, running_worker: Stack) -> None:
    headers = {"Authorization": f"Bearer {api_token(running_worker, add_user(running_worker))}"}
    result = post_and_wait(client, headers, "6-2", "作业6-2：LeNet 基线",
                           files={"files": ("mnist-lenet.zip", baseline_zip())})
    assert result["status"] == "scored", running_worker.worker_log()[-4000:]
    assert result["verdict"] == "accepted"
    assert 0.95 <= result["score"] <= 1.0  # public half of the 2,000 hidden digits
    assert result["detail"]["public_accuracy"] == result["score"]
    # the private half decides the final ranking and stays hidden from the student until the deadline
    assert not any(key.startswith("private") for key in result["detail"])


def test_broken_code_is_a_verdict_not_a_failure(client: TestClient, running_worker: Stack) -> None:
    headers = {"Authorization": f"Bearer {api_token(running_worker, add_user(running_worker))}"}
    code = b"def predict(images):\n    raise ValueError('boom from the student')\n"
    result = post_and_wait(client, headers, "6-2", "作业6-2：坏代码", files={"files": ("predict.py", code)})
    assert result["status"] == "scored" and result["verdict"] == "runtime_error"
    assert "boom from the student" in result["log"]


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("作业7-1：乘法:((224+2-3)/1+1)*10*3*64*9=867041280次 加法:((224+2-3)/1+1)*10*3*64*(8+1)=867041280次",
         "accepted"),
        ("作业7-1：乘法867,041,280，加法867041280", "accepted"),
        ("作业7-1：乘法867041280,加法834928641", "wrong"),
        ("作业7-1：不会", "not_understood"),
    ],
)
def test_conv_opcount_answers(client: TestClient, running_worker: Stack, answer: str, verdict: str) -> None:
    headers = {"Authorization": f"Bearer {api_token(running_worker, add_user(running_worker))}"}
    result = post_and_wait(client, headers, "7-1", answer)
    assert result["status"] == "scored" and result["verdict"] == verdict
    if verdict == "wrong":
        assert "834928640" not in result["message"] and "867041280" not in result["message"]


def test_misconfigured_homework_fails_for_staff_not_the_student(
    client: TestClient, running_worker: Stack, tmp_path: Path
) -> None:
    course = tmp_path / "broken.yaml"
    course.write_text(
        "slug: broken-course\ntitle: 配置错误的课程\nassignments:\n"
        "  - {code: '6-2', title: t, opens: -1d, due: +1d,"
        " grading: {kind: mnist, dataset: /nonexistent/mnist}}\n",
        encoding="utf-8",
    )
    assert running_worker.camp("course", "load", str(course)).returncode == 0
    student = {"Authorization": f"Bearer {api_token(running_worker, add_user(running_worker))}"}
    result = post_and_wait(client, student, "6-2", "作业6-2：x",
                           files={"files": ("predict.py", b"def predict(images):\n    return [0] * len(images)\n")},
                           course="broken-course")
    assert result["status"] == "failed"
    assert result["error"] == "Camp 未能评测这次提交，已通知工作人员。这不会算作你的失误。"
    staff = {"Authorization": f"Bearer {api_token(running_worker, add_user(running_worker, 'instructor'))}"}
    seen = client.get(f"/api/v1/submissions/{result['id']}", headers=staff).json()
    assert "nonexistent" in seen["error"]
