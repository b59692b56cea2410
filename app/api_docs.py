"""`/docs`: Swagger UI served from the `swagger-ui-bundle` package, never from a CDN.

The page has no inline script (its start-up code is `app/static/swagger-init.js`), so it runs
under a Content-Security-Policy that allows scripts from Camp only.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Camp API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="/openapi.json"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>
"""


def install(app: FastAPI) -> None:
    """Mount the bundled Swagger UI files and the page; FastAPI's own /docs must be off."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE, headers={"content-security-policy": DOCS_CSP})
