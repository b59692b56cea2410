"""Attacks on the web layer replayed as a hostile site or user would try them (docs/abuse.md,
"Tried as an attacker"): forged cross-site requests on every unsafe route."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.testclient import TestClient

from tests.support.stacks import Stack
from tests.support.web import register, shared_app

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def unsafe_routes(app: Any) -> Iterator[tuple[str, str, Any]]:
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for item in (contexts() if contexts else [route]):
            for method in sorted(UNSAFE & set(getattr(item, "methods", None) or ())):
                yield method, item.path, getattr(item, "dependant", None)


def calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from calls(sub)


def test_every_unsafe_route_checks_the_csrf_token(embedded: Stack) -> None:
    """A new form or JSON endpoint that forgets `CsrfChecked` fails here, before a forged
    request from another site can use a student's cookie on it."""
    from app.deps import check_csrf

    routes = list(unsafe_routes(shared_app()))
    assert len(routes) > 50
    missing = [f"{m} {p}" for m, p, dep in routes if dep is None or check_csrf not in set(calls(dep))]
    assert not missing, f"unsafe routes without a CSRF check: {missing}"


def test_a_forged_request_with_the_cookie_but_no_token_changes_nothing(client: TestClient, stack: Stack) -> None:
    register(client)
    fill = {"{slug}": "dl-bootcamp", "{code}": "1-1", "{name}": "nobody", "{locale}": "en"}
    refused = []
    for method, path, _ in unsafe_routes(client.app):
        url = re.sub(r"\{\w+_id\}", "1", path)
        for key, value in fill.items():
            url = url.replace(key, value)
        r = client.request(method, url, data={"text": "作业1-1：伪造"}, follow_redirects=False)
        refused.append((method, path, r.status_code))
    wrong = [x for x in refused if x[2] != 403]
    assert not wrong, wrong
