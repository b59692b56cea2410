"""The `camp` command: serve, worker, sweeper, db upgrade, course load, user add, token create,
notify digest, claims erase."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from app.config import PROJECT_ROOT, get_settings
from app.errors import CampError
from app.i18n import translate
from app.models import Role

PR_SET_PDEATHSIG = 1


def _fail(exc: CampError) -> None:
    raise click.ClickException(translate("en", exc.message, **exc.params))


@click.group()
def main() -> None:
    """Camp: homework, grading and verifiable prize draws."""


#: on SIGTERM, how long in-flight requests may finish; open event streams and clients that keep
#: sending on kept-alive connections would otherwise hold the shutdown (and a restart) for good
GRACEFUL_SHUTDOWN_SECONDS = 10


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--worker/--no-worker", default=None,
              help="Start a local worker too (default: only in the embedded mode).")
@click.option("--workers", default=1, show_default=True, help="uvicorn worker processes")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="A line per request on stderr (off when the HTTPS proxy in front keeps one).")
def serve(host: str, port: int, worker: bool | None, workers: int, access_log: bool) -> None:
    """Serve the web app (and, embedded, a local grading worker beside it)."""
    import uvicorn

    from app.http_timeouts import TimedH11Protocol

    settings = get_settings()
    children = []
    if worker if worker is not None else settings.embedded:
        children = [_start_child("worker", "--concurrency", "1"), _start_child("sweeper")]
        click.echo(f"local worker started (pid {children[0].pid}), sweeper (pid {children[1].pid})")
    try:
        # per-address limits (log-in, sign-up, bodies, streams, searches) count the address
        # uvicorn puts in the request: a trusted proxy's X-Forwarded-For, else the peer's own
        uvicorn.run("app.asgi:app", host=host, port=port, workers=workers, proxy_headers=True,
                    forwarded_allow_ips=settings.trusted_proxies.strip() or None, http=TimedH11Protocol,
                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, access_log=access_log)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _start_child(*command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app.cli", *command], preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    """Linux: the local worker gets SIGTERM when `camp serve` dies, however it dies.

    uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so a `finally` block in the
    parent is not enough to stop the child.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


#: `camp worker` with no -Q: each pool its own process, so cheap checks never wait behind code
SPLIT_POOLS = (("cheap", "cpu"), ("code", "gpu"))


@main.command()
@click.option("-Q", "--queues", default=None,
              help="Queues to serve in one pool (default: a pool for the cheap `cpu` queue and "
                   "another for the code `gpu` queue, each its own process).")
@click.option("-c", "--concurrency", default=1, show_default=True, type=int, help="per pool")
@click.option("--pool", default=None, help="Celery pool (default: solo embedded, prefork otherwise)")
@click.option("--beat/--no-beat", default=False,
              help="Also run the sweeper beside the worker (prefer `camp sweeper` as its own process).")
@click.option("--hostname", default=None)
def worker(queues: str | None, concurrency: int, pool: str | None, beat: bool, hostname: str | None) -> None:
    """Run a Celery worker that grades submissions."""
    if queues is None:
        sys.exit(_split_pools(concurrency, pool, beat, hostname))
    settings = get_settings()
    pool = pool or ("solo" if settings.embedded else "prefork")
    # Exec Celery on the worker package: the web side (app/) never imports the grading code.
    argv = [sys.executable, "-m", "celery", "-A", "worker.celery_app:celery_app", "worker",
            "-Q", queues, "-c", str(concurrency), "--pool", pool, "--loglevel", "INFO",
            "--without-gossip", "--without-mingle"]
    if hostname:
        argv += ["--hostname", hostname]
    if beat:  # a process of its own, ended with the worker (the exec keeps this pid)
        _start_child("sweeper")
    os.execv(sys.executable, argv)


def _split_pools(concurrency: int, pool: str | None, beat: bool, hostname: str | None) -> int:
    """One worker process per pool (SPLIT_POOLS); a signal to this one reaches both; when one
    ends the other is stopped too, so a supervisor restarts the pair."""
    children = []
    for name, queue in SPLIT_POOLS:
        argv = [sys.executable, "-m", "app.cli", "worker", "-Q", queue, "-c", str(concurrency),
                "--hostname", f"{name}-{hostname}" if hostname else f"{name}@%h"]
        if pool:
            argv += ["--pool", pool]
        if beat and queue == "cpu":  # one sweeper beside the pair
            argv.append("--beat")
        children.append(subprocess.Popen(argv, preexec_fn=_die_with_parent))

    asked_to_stop = []

    def forward(signum: int, frame: object) -> None:
        if frame is not None:
            asked_to_stop.append(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    by_pid = {child.pid: child for child in children}
    while True:
        pid, status = os.wait()  # the first pool to end (a forwarded signal does not interrupt it)
        if pid in by_pid:
            by_pid[pid].returncode = os.waitstatus_to_exitcode(status)
            break
    forward(signal.SIGTERM, None)
    codes = [child.wait() for child in children]
    if asked_to_stop:  # ended by the signal we passed on: a clean stop
        codes = [code for code in codes if code > 0]
    return next((code for code in codes if code), 0)


@main.command()
def sweeper() -> None:
    """Run the sweep of stuck work every CAMP_SWEEP_INTERVAL_SECONDS (safe to run more than once)."""
    os.execv(sys.executable, [sys.executable, "-m", "worker.sweeper"])


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    command.upgrade(config, revision)
    click.echo(f"database at {revision}")


@main.group()
def course() -> None:
    """Courses."""


@course.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def course_load(file: Path) -> None:
    """Create or update a course from its YAML FILE. Like the editor, it refuses to change what
    a running draw depends on (a homework's times, grading, drawn rule); nothing is loaded then."""
    from app.db import session_scope
    from app.services.course_check import CourseFileError
    from app.services.course_load import load_file
    from app.services.courses import parse_course_file

    try:
        spec = parse_course_file(file)
        with session_scope() as session:
            loaded = load_file(session, spec, None, "cli")
            click.echo(f"course {loaded.slug}: {len(spec.assignments)} homework loaded")
    except CourseFileError as exc:
        refused = "\n".join(f"  {p.where}: {p.message}" for p in exc.problems)
        raise click.ClickException(
            f"course {spec.slug}: nothing was loaded; the file changes what a running draw depends on "
            f"(abort the draw publicly first, or wait until it is revealed):\n{refused}") from None
    except CampError as exc:
        _fail(exc)


@course.command("export")
@click.argument("slug")
def course_export(slug: str) -> None:
    """Print a course as its YAML file (checked like an upload; `course load` reads it back)."""
    from app.db import session_scope
    from app.services.course_editor import export_yaml
    from app.services.courses import get_course

    try:
        with session_scope() as session:
            click.echo(export_yaml(session, get_course(session, slug)), nl=False)
    except CampError as exc:
        _fail(exc)


@main.group()
def user() -> None:
    """Accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="student", show_default=True)
def user_add(name: str, role: str) -> None:
    """Create an account; the password is read from standard input. Recorded in the audit log."""
    from app.db import session_scope
    from app.services.accounts import add_user, record_creation

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with session_scope() as session:
            created = add_user(session, name, password, Role(role))
            record_creation(session, created, None, via="cli")
            click.echo(f"user {created.name} ({created.role}) created")
    except CampError as exc:
        _fail(exc)


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable an account: its sessions end at once and its API tokens stop working."""
    _set_active(name, False)
    click.echo(f"{name} is disabled")


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Enable a disabled account again."""
    _set_active(name, True)
    click.echo(f"{name} is enabled")


def _set_active(name: str, active: bool) -> None:
    from app.db import session_scope
    from app.services.accounts import get_user_by_name, set_active

    try:
        with session_scope() as session:
            set_active(session, get_user_by_name(session, name), active, None)
    except CampError as exc:
        _fail(exc)


@user.command("password")
@click.argument("name")
def user_password(name: str) -> None:
    """Set a new password (read from standard input); every session of the account ends."""
    from app.db import session_scope
    from app.services.accounts import get_user_by_name, set_password

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with session_scope() as session:
            set_password(session, get_user_by_name(session, name), password, None,
                         "set from the command line")
    except CampError as exc:
        _fail(exc)
    click.echo(f"password of {name} changed")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def user_role(name: str, role: str) -> None:
    """Change the role of an account."""
    from app.db import session_scope
    from app.services.accounts import get_user_by_name, set_role

    try:
        with session_scope() as session:
            set_role(session, get_user_by_name(session, name), Role(role), None)
    except CampError as exc:
        _fail(exc)
    click.echo(f"{name} is now {role}")


@main.group()
def data() -> None:
    """Data sets for the reference tasks."""


@data.command("import-mnist")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where to store it (default: DATA_DIR/datasets/mnist)")
def data_import_mnist(src: Path, dest: Path | None) -> None:
    """Check the official MNIST files in SRC and store them for the `mnist` task."""
    dest = dest or get_settings().data_dir / "datasets" / "mnist"
    # A separate interpreter on the grader package: the web side never imports grading code.
    result = subprocess.run([sys.executable, "-m", "grader.datasets", "import-mnist", str(src), str(dest)])
    if result.returncode != 0:
        raise click.ClickException("import failed (see above)")
    click.echo(f"use it in a homework with:  grading: {{kind: mnist, dataset: {dest}}}")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="cli")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None,
              help="Days until the token stops working (default: never).")
def token_create(name: str, label: str, expires_days: int | None) -> None:
    """Print a new API token for user NAME (shown once; only its hash is stored)."""
    from app.db import session_scope
    from app.services.accounts import get_user_by_name
    from app.services.tokens import create_token

    try:
        with session_scope() as session:
            click.echo(create_token(session, get_user_by_name(session, name), label, expires_days))
    except CampError as exc:
        _fail(exc)


@main.group()
def draw() -> None:
    """Prize draws."""


@draw.command("verify")
@click.argument("record", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.option("--replaces", "replaced", type=click.Path(dir_okay=False), default=None,
              help="The record of the draw that RECORD replaces: check the replacement against it.")
@click.option("--key", "trusted_key", default=None,
              help="The Ed25519 key (64 hex) that must have signed a version 3 record, as served "
                   "at /.well-known/camp-draw-key.")
def draw_verify(record: str, lang: str, as_json: bool, replaced: str | None,
                trusted_key: str | None) -> None:
    """Recompute a draw's RECORD.json (commitment, list hash, key, winners, and for a
    replacement the winners it must leave out; version 3: metadata, drand beacon signature,
    excluded list and Ed25519 signature). Prints this site's draw-signing key.

    Exit status: 0 verified, 1 a check failed, 2 a file could not be read."""
    import json

    from app.draws import verify_record
    from app.services.draw_signing import public_key

    data = _read_record(record)
    old = None if replaced is None else _read_record(replaced)
    result = verify_record(data, old, trusted_key=trusted_key.strip().lower() if trusted_key else None)
    site_key = public_key()
    signer = data.get("signature") if isinstance(data, dict) else None
    signer_key = signer.get("public_key") if isinstance(signer, dict) else None
    if as_json:
        checks = [{"name": c.name, "status": c.status, "code": c.code, "message": c.message(lang)}
                  for c in result.checks]
        winners = None if result.winners is None else [w.to_json() for w in result.winners]
        click.echo(json.dumps({"ok": result.ok, "complete": result.complete, "checks": checks,
                               "winners": winners, "site_key": site_key, "signed_by": signer_key},
                              ensure_ascii=False, indent=2))
    else:
        zh = lang == "zh-CN"
        if isinstance(data, dict):
            click.echo("{} {} {} {} ({})".format("抽奖" if zh else "draw", *(
                data.get(k) for k in ("draw_id", "course", "assignment", "status"))))
        click.echo(result.report(lang))
        for w in result.winners or ():
            name = w.name if w.name.isprintable() else json.dumps(w.name, ensure_ascii=False)
            click.echo(f"  {w.place}. #{w.floor} {name} (entry {w.entry_id}, position {w.position})")
        click.echo(("本站抽奖签名公钥 (Ed25519): " if zh else "this site's draw key (Ed25519): ") + site_key)
        if signer_key is not None:
            click.echo(("记录签名公钥: " if zh else "record signed by: ") + signer_key)
        verdict = ("验证通过" if zh else "VERIFIED") if result.ok else ("验证失败" if zh else "FAILED")
        click.echo(verdict)
    sys.exit(0 if result.ok else 1)


def _read_record(path: str) -> object:
    """The JSON in a record file ("-" = standard input); exit 2 if unreadable."""
    import json

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError) as exc:
        click.echo(f"cannot read {path}: {exc}", err=True)
        sys.exit(2)


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 at the first entry that breaks it."""
    from sqlalchemy import func, select

    from app.db import session_scope
    from app.models import AuditEntry
    from app.services.audit import verify_chain

    with session_scope() as session:
        broken = verify_chain(session)
        total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    if broken is not None:
        click.echo(f"audit log BROKEN at entry #{broken} (of {total}): it was changed or removed")
        sys.exit(1)
    click.echo(f"audit log intact: {total} entries")


@main.group()
def notify() -> None:
    """Notification mail."""


@notify.command("digest")
def notify_digest() -> None:
    """Send today's digest to everyone who asked for one and has unread items (at most one per
    user and day, however often it runs; the sweeper also sends them from CAMP_DIGEST_HOUR on)."""
    from app import notify_jobs

    click.echo(f"digests sent: {notify_jobs.send_digests()}")


@main.group()
def claims() -> None:
    """Prize winners' delivery details."""


@claims.command("erase")
def claims_erase() -> None:
    """Erase the delivery details given more than CAMP_CLAIM_RETENTION_DAYS ago (the sweeper
    also runs this every hour)."""
    from app import notify_jobs

    days = get_settings().claim_retention_days
    click.echo(f"prize claims erased (older than {days} days): {notify_jobs.erase_expired_claims()}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
