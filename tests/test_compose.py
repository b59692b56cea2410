"""docker-compose.yml cannot be run here (no container engine), so it is validated as text:
the schema by Debian's `docker-compose config`, and every command against the project."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib

import pytest
import yaml

from tests.support.stacks import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose (Debian package) is installed by `make install`"
    return subprocess.run([exe, "-f", str(COMPOSE), "config"], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=PROJECT_ROOT, timeout=60)


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, object]]:
    result = compose_config({"CAMP_SECRET_KEY": "s" * 48, "CAMP_METRICS_TOKEN": "m" * 40})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_compose_file_is_valid_and_has_every_service(services: dict[str, dict[str, object]]) -> None:
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker-cpu", "worker-gpu", "sweeper",
                             "flower"}


@pytest.mark.slow  # a docker-compose process each
@pytest.mark.parametrize("missing", ["CAMP_SECRET_KEY", "CAMP_METRICS_TOKEN"])
def test_compose_refuses_to_start_without_a_secret(missing: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("CAMP_SECRET_KEY", "CAMP_METRICS_TOKEN")}
    env.update({k: "s" * 48 for k in ("CAMP_SECRET_KEY", "CAMP_METRICS_TOKEN") if k != missing})
    result = subprocess.run([shutil.which("docker-compose") or "docker-compose", "-f", str(COMPOSE),
                             "config", "-q"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode != 0 and missing in result.stderr


def test_production_is_safe_by_default(services: dict[str, dict[str, object]]) -> None:
    """Secure cookies (and so HSTS), a metrics token, and Flower off unless asked for, then with a
    password and on the host's loopback only."""
    env = services["web"]["environment"]
    assert env["CAMP_SECURE_COOKIES"] == "true" and env["CAMP_METRICS_TOKEN"] == "m" * 40  # type: ignore[index]
    flower = services["flower"]
    assert flower["profiles"] == ["ops"]
    assert all(str(port).startswith("127.0.0.1:") for port in flower["ports"])  # type: ignore[attr-defined]
    assert "FLOWER_BASIC_AUTH" in " ".join(flower["entrypoint"])  # type: ignore[arg-type]
    assert "FLOWER_BASIC_AUTH" in flower["environment"]  # type: ignore[operator]


def test_the_web_app_trusts_its_proxy_and_only_it() -> None:
    """The HTTPS proxy reaches the web container from the project's network: trusted, its
    X-Forwarded-For names each client (without it every client was the proxy's one address,
    with five reset mails and ten sign-ups an hour for the whole site). The port is published
    on the host's loopback only, so no client reaches the app but through the proxy."""
    result = compose_config({"CAMP_SECRET_KEY": "s" * 48, "CAMP_METRICS_TOKEN": "m" * 40})
    config = yaml.safe_load(result.stdout)
    [subnet] = [item["subnet"] for item in config["networks"]["default"]["ipam"]["config"]]
    web = config["services"]["web"]
    assert web["environment"]["CAMP_TRUSTED_PROXIES"] == subnet
    assert web["ports"] and all(str(port).startswith("127.0.0.1:") for port in web["ports"])
    from app.config import Settings

    assert Settings(trusted_proxies=subnet, secret_key="s" * 48).trusted_proxies == subnet


def test_every_command_exists_in_the_project(services: dict[str, dict[str, object]]) -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    scripts = set(project["scripts"])
    from click import Group

    from app.cli import main

    for name in ("migrate", "web", "worker-cpu", "worker-gpu"):
        command = services[name]["command"]
        assert isinstance(command, list) and command[0] in scripts, name
        group: object = main
        for word in command[1:]:
            if word.startswith("-") or not isinstance(group, Group):
                break
            assert word in group.commands, f"{name}: camp has no command {word!r}"
            group = group.commands[word]
    flower = services["flower"]["command"]
    assert flower[:3] == ["celery", "-A", "worker.celery_app:celery_app"]
    assert any(dep.startswith("flower==") for dep in project["optional-dependencies"]["ops"])


def test_workers_listen_on_their_queues_and_gpu_is_reserved(services: dict[str, dict[str, object]]) -> None:
    assert services["worker-cpu"]["command"][2:4] == ["-Q", "cpu"]
    assert services["worker-gpu"]["command"][2:4] == ["-Q", "gpu"]
    devices = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]  # type: ignore[index]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]


def test_redis_keeps_the_queue(services: dict[str, dict[str, object]]) -> None:
    command = " ".join(services["redis"]["command"])  # type: ignore[arg-type]
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command


def test_services_share_the_production_settings(services: dict[str, dict[str, object]]) -> None:
    for name in ("migrate", "web", "worker-cpu", "worker-gpu"):
        env = services[name]["environment"]
        assert env["CAMP_DATABASE_URL"].startswith("postgresql+psycopg://")  # type: ignore[index]
        assert env["CAMP_BROKER_URL"].startswith("redis://")  # type: ignore[index]
        assert env["CAMP_SECRET_KEY"] == "s" * 48  # type: ignore[index]


def test_dockerfile_copies_what_the_commands_need() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    for path in ("app", "worker", "grader", "migrations", "alembic.ini", "templates", "locales", "courses"):
        assert f"COPY {path} " in dockerfile, path
        assert (PROJECT_ROOT / path).exists(), path


def test_the_sweep_runs_in_production_and_workers_may_finish(services: dict[str, dict[str, object]]) -> None:
    """The sweep that resends stuck work is a service of its own, not a task behind gradings
    (docs/pipeline.md); a deploy gives running gradings longer than the default hard time limit
    to finish."""
    assert services["sweeper"]["command"] == ["camp", "sweeper"]
    assert services["sweeper"]["restart"] == "unless-stopped"
    for name in ("worker-cpu", "worker-gpu"):
        assert "--beat" not in services[name]["command"]  # type: ignore[operator]
    for name in ("worker-cpu", "worker-gpu"):
        grace = str(services[name]["stop_grace_period"])
        assert grace.endswith("m") and int(grace[:-1]) * 60 > 210, name
