"""Work that costs CPU runs off the event loop, within limits: other requests are served while
images are re-encoded, and animations over the frame or pixel budget are refused."""

from __future__ import annotations

import threading

import httpx

from tests.support.hostile import animated_gif
from tests.support.live import Live
from tests.support.stacks import Stack
from tests.support.web import add_user, api_token

PATH = "/api/v1/courses/dl-bootcamp/assignments/8/submissions"


def test_three_big_gifs_do_not_stop_other_requests(embedded: Stack, live: Live) -> None:
    """The attack: one 299-frame GIF re-encoded on the event loop stalled every request for
    11.5 s. Three GIFs at the edge of the limits are re-encoded in threads while /healthz keeps
    answering (counted, not timed; bench/abuse.py measures the p99)."""
    gif = animated_gif(199, 380)
    headers = {"Authorization": f"Bearer {api_token(embedded, add_user(embedded))}"}
    with live(embedded) as url:
        done = threading.Event()
        answered_during: list[int] = []
        statuses: list[int] = []

        def upload() -> None:
            r = httpx.post(url + PATH, headers=headers, files={"files": ("a.gif", gif, "image/gif")},
                           data={"text": "gif"}, timeout=300)
            statuses.append(r.status_code)

        uploads = [threading.Thread(target=upload) for _ in range(3)]
        for t in uploads:
            t.start()
        threading.Thread(target=lambda: ([t.join() for t in uploads], done.set())).start()
        with httpx.Client(base_url=url, timeout=60) as client:
            while not done.is_set():
                assert client.get("/healthz").status_code == 200
                answered_during.append(1)
        assert statuses == [201, 201, 201], statuses
        assert len(answered_during) >= 10  # the site kept answering while the GIFs were re-encoded


def test_animations_over_the_budget_are_refused(embedded: Stack) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app

    headers = {"Authorization": f"Bearer {api_token(embedded, add_user(embedded))}"}
    client = TestClient(create_app())
    for gif in (animated_gif(299, 40), animated_gif(60, 1000)):  # too many frames; too many pixels
        r = client.post(PATH, headers=headers, files={"files": ("a.gif", gif, "image/gif")})
        assert r.status_code == 413 and r.json()["code"] == "too_large"
