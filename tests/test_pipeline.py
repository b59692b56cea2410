"""The whole path, on both stacks, with a real `celery worker` process:
reply committed → id enqueued → worker claims it → grader → verdict stored → visible to the student."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.support.stacks import Stack, wait_for
from tests.support.web import add_user, api_token, register

URL = "/api/v1/courses/dl-bootcamp/assignments/{code}/submissions"


def graded(client: TestClient, submission_id: int, headers: dict[str, str]) -> dict[str, object]:
    def done() -> dict[str, object] | None:
        body = client.get(f"/api/v1/submissions/{submission_id}", headers=headers).json()
        return body if body["status"] in ("scored", "failed", "rejected") else None

    return wait_for(done, timeout=90)  # type: ignore[return-value]


def test_api_flow_with_token(client: TestClient, running_worker: Stack) -> None:
    name = add_user(running_worker)
    headers = {"Authorization": f"Bearer {api_token(running_worker, name)}"}

    created = client.post(URL.format(code="1-1"), data={"text": "作业1-1：已跑通"}, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "queued" and body["floor"] >= 1 and body["author"] == name

    result = graded(client, body["id"], headers)
    assert result["status"] == "scored", running_worker.worker_log()[-3000:]
    assert result["verdict"] == "accepted" and result["score"] == 1.0
    assert result["message"] == "格式正确，已记录完成。"

    english = client.get(f"/api/v1/submissions/{body['id']}", headers={**headers, "Accept-Language": "en"})
    assert english.json()["message"] == "Format correct; marked as done."


def test_wrong_format_is_scored_with_a_reason(client: TestClient, running_worker: Stack) -> None:
    headers = {"Authorization": f"Bearer {api_token(running_worker, add_user(running_worker))}"}
    created = client.post(URL.format(code="1-1"), data={"text": "我跑通了"}, headers=headers).json()
    result = graded(client, created["id"], headers)
    assert result["status"] == "scored" and result["verdict"] == "format_error"
    assert result["score"] == 0.0
    assert "作业1-1：" in str(result["message"])


def test_floors_are_consecutive_and_stable(client: TestClient, running_worker: Stack) -> None:
    headers = {"Authorization": f"Bearer {api_token(running_worker, add_user(running_worker))}"}
    floors = [
        client.post(URL.format(code="8"), data={"text": f"作业8：第{i}次"}, headers=headers).json()["floor"]
        for i in range(3)
    ]
    assert floors == [floors[0], floors[0] + 1, floors[0] + 2]


def test_browser_form_flow_and_live_status(client: TestClient, running_worker: Stack) -> None:
    """Register, open 1-1, post through the page's form, follow the event stream to `scored`."""
    register(client)
    page = client.get("/courses/dl-bootcamp/assignments/1-1")
    assert page.status_code == 200 and "跑通房价预测案例" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    posted = client.post(
        "/courses/dl-bootcamp/assignments/1-1/replies",
        data={"text": "作业1-1：已跑通", "csrf_token": token},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    location = posted.headers["location"]
    submission_id = int(location.split("posted=")[1].split("#")[0])

    events = []
    with client.stream("GET", f"/submissions/{submission_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["final"]:
                    break
    assert events[-1]["status"] == "scored" and events[-1]["status_label"] == "已评测"
    assert events[-1]["message"] == "格式正确，已记录完成。"

    floor = int(location.rsplit("#floor-", 1)[1])
    thread = client.get(location.split("#")[0])
    reply = thread.text.split(f'id="floor-{floor}"')[1].split("</li>")[0]
    assert "已评测" in reply and "格式正确，已记录完成。" in reply
