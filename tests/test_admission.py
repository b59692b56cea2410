"""Admission control: at most N requests in a web process at once; a place is given back as
soon as the response starts (a long stream does not keep it), and on errors."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from app.admission import AdmissionMiddleware
from tests.faults.kit import run_in_own_loop


def test_requests_over_the_limit_wait_and_streams_leave_early() -> None:
    inside, most = 0, 0
    streaming: list[int] = []
    all_streaming, release = asyncio.Event(), asyncio.Event()

    async def work(request: Request) -> JSONResponse:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.02)
        inside -= 1
        if request.query_params.get("fail"):
            raise RuntimeError("boom")
        return JSONResponse({"ok": True})

    async def stream(request: Request) -> StreamingResponse:
        async def body():  # a stream held open after its response started, until released
            streaming.append(1)
            if len(streaming) == 3:
                all_streaming.set()
            await release.wait()
            yield b"done"

        return StreamingResponse(body())

    app = AdmissionMiddleware(Starlette(routes=[Route("/", work), Route("/stream", stream)]), limit=3)

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            streams = [asyncio.create_task(client.get("/stream")) for _ in range(3)]
            await all_streaming.wait()  # the three streams have started their responses
            codes = [r.status_code for r in await asyncio.gather(
                *(client.get("/", params={"fail": "1"} if i % 5 == 0 else {}) for i in range(30)))]
            assert not any(s.done() for s in streams)  # served while the streams stay open
            release.set()
            await asyncio.gather(*streams)
            return codes

    codes = run_in_own_loop(asyncio.wait_for(run(), 10))
    assert sorted(set(codes)) == [200, 500] and codes.count(500) == 6
    assert most == 3  # never more than the limit at once, and failures gave their place back
