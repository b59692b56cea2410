"""The site's icon: linked from every page and answered at /favicon.ico (it was a 404)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_site_has_a_favicon(embedded_client: TestClient) -> None:
    icon = embedded_client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
    assert '<link rel="icon" href="/static/favicon.svg"' in embedded_client.get("/").text
