"""The baseline every page benchmark divides by: a bare FastAPI hello-world (sync route, JSON)."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def hello() -> dict[str, str]:
    return {"hello": "world"}
