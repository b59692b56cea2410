"""Safe by default: no built-in secret to forge cookies with, HSTS behind HTTPS, /docs without a CDN."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlalchemy import select

from tests.support.stacks import Stack
from tests.support.web import add_user

OLD_BUILT_IN_SECRET = "embedded-demo-secret-change-me"


def forged_cookie(secret: str, user_id: int) -> str:
    """A session cookie exactly as Starlette's SessionMiddleware signs one."""
    data = base64.b64encode(json.dumps({"user_id": user_id, "csrf": "x"}).encode())
    return TimestampSigner(secret).sign(data).decode()


def test_a_cookie_signed_with_the_old_built_in_secret_is_refused(embedded: Stack,
                                                                 embedded_client: TestClient) -> None:
    from app.db import get_sessionmaker
    from app.models import User

    name = add_user(embedded, role="admin")
    with get_sessionmaker()() as session:
        admin_id = session.scalar(select(User.id).where(User.name == name))
    embedded_client.cookies.set("camp_session", forged_cookie(OLD_BUILT_IN_SECRET, admin_id))
    r = embedded_client.get("/api/v1/admin/users")
    assert r.status_code == 401
    assert (embedded.data_dir / "secret_key").exists()  # the embedded stack made its own


def test_hsts_only_with_secure_cookies(embedded: Stack) -> None:
    from app.config import get_settings
    from app.main import create_app

    plain = TestClient(create_app()).get("/healthz")
    assert "strict-transport-security" not in plain.headers
    secure = get_settings().model_copy(update={"secure_cookies": True})
    r = TestClient(create_app(secure), base_url="https://testserver").get("/healthz")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")


def test_docs_come_from_camp_under_a_strict_csp(embedded_client: TestClient) -> None:
    page = embedded_client.get("/docs")
    csp = page.headers["content-security-policy"]
    assert page.status_code == 200 and "script-src 'self';" in csp
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN, no absolute URL
    assert "<script>" not in page.text  # no inline script: the CSP would block it
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/static/swagger-init.js"):
        assert asset in page.text and embedded_client.get(asset).status_code == 200, asset
