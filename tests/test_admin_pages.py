"""Admin pages: roles changed by form (CSRF, audited), course files loaded with clear errors,
reward rules, the audit log and its hash chain."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.support.stacks import Stack
from tests.support.staff import post_form, staff_client, upload_course, user_id
from tests.support.web import add_user, register

GOOD_COURSE = """
slug: {slug}
title: 上传的课程
assignments:
  - code: "1-1"
    title: 第一次作业
    opens: "-1d"
    due: "+7d"
"""


def test_role_change_needs_csrf_and_is_audited(client: TestClient, stack: Stack) -> None:
    from app.db import session_scope
    from app.models import AuditEntry, User

    student = add_user(stack, "student")
    admin = staff_client(client, stack, "admin")
    target = user_id(student)
    refused = client.post(f"/admin/users/{target}/role", data={"role": "instructor"}, follow_redirects=False)
    assert refused.status_code == 403
    changed = post_form(client, f"/admin/users/{target}/role", {"role": "instructor", "q": student},
                        "/admin/users")
    assert changed.status_code == 303 and f"changed={student}" in changed.headers["location"]
    with session_scope() as session:
        assert session.get(User, target).role == "instructor"  # type: ignore[union-attr]
        entry = session.scalar(select(AuditEntry).where(AuditEntry.subject == f"user:{target}")
                               .order_by(AuditEntry.id.desc()))
        assert entry is not None and entry.action == "user.role"
        assert entry.data == {"from": "student", "to": "instructor"}
        assert entry.actor_id == user_id(admin)
    listing = client.get(changed.headers["location"]).text
    assert "已更改" in listing and f'data-user="{student}"' in listing
    audit = client.get("/admin/audit").text
    assert "user.role" in audit and "哈希链完整" in audit


def test_admin_cannot_change_their_own_role_or_use_unknown_roles(embedded_client: TestClient,
                                                                 embedded: Stack) -> None:
    client = embedded_client
    admin = staff_client(client, embedded, "admin")
    own = post_form(client, f"/admin/users/{user_id(admin)}/role", {"role": "student"}, "/admin/users")
    assert own.status_code == 403 and "不能更改自己的角色" in own.text
    other = user_id(add_user(embedded, "student"))
    assert post_form(client, f"/admin/users/{other}/role", {"role": "root"}, "/admin/users").status_code == 404


def test_user_search_by_name_and_role(embedded_client: TestClient, embedded: Stack) -> None:
    client = embedded_client
    staff_client(client, embedded, "admin")
    teacher = add_user(embedded, "instructor")
    found = client.get("/admin/users", params={"q": teacher[3:].upper()}).text
    assert f'data-user="{teacher}"' in found and found.count("<tr data-user=") == 1
    instructors = client.get("/admin/users", params={"role": "instructor"}).text
    assert f'data-user="{teacher}"' in instructors and 'class="chip role-student"' not in instructors


def test_course_upload_loads_and_explains_errors(embedded_client: TestClient, embedded: Stack) -> None:
    import secrets

    client = embedded_client
    staff_client(client, embedded, "admin")
    slug = f"up-{secrets.token_hex(3)}"
    loaded = upload_course(client, GOOD_COURSE.format(slug=slug).encode())
    assert loaded.status_code == 303 and loaded.headers["location"] == f"/admin/courses?loaded={slug}"
    assert "上传的课程" in client.get(f"/courses/{slug}").text

    broken = upload_course(client, b"slug: x\n  title: [unclosed\n")
    assert broken.status_code == 422 and "不是有效的 YAML" in broken.text and "<code>2:" in broken.text

    invalid = upload_course(client, GOOD_COURSE.format(slug=slug).replace('"1-1"', '"7-x"').encode())
    assert invalid.status_code == 422 and "课程文件无效" in invalid.text
    assert "assignments[0] (7-x).code" in invalid.text and "作业编号的形式是 7 或 7-1" in invalid.text

    backwards = GOOD_COURSE.format(slug=slug).replace('"-1d"', '"+9d"').encode()
    assert "截止时间早于开放时间" in upload_course(client, backwards).text or upload_course(client, backwards).status_code == 422
    assert upload_course(client, b"\xff\xfe\x00bad").status_code == 422
    assert upload_course(client, b"- just\n- a list\n").status_code == 422
    assert "<script>" not in upload_course(client, b"slug: <script>x</script>\ntitle: t\nassignments: []\n").text


def test_rewards_page_describes_rules_and_links_draws(embedded_client: TestClient, embedded: Stack) -> None:
    client = embedded_client
    staff_client(client, embedded, "admin")
    page = client.get("/admin/rewards").text
    assert "/courses/dl-bootcamp/assignments/7-1/draws" in page
    assert "随机" in page  # 7-1: five at random


def test_audit_page_shows_a_broken_chain(embedded_client: TestClient, embedded: Stack) -> None:
    from app.db import session_scope
    from app.models import AuditEntry

    client = embedded_client
    staff_client(client, embedded, "admin")
    register(client)  # any logged-in change is not audited; make sure the log has rows
    with session_scope() as session:
        first = session.scalar(select(AuditEntry).order_by(AuditEntry.id))
        assert first is not None
        original = first.action
    try:
        with session_scope() as session:
            session.execute(update(AuditEntry).where(AuditEntry.id == first.id).values(action="forged"))
        client.cookies.clear()
        staff_client(client, embedded, "admin")
        page = client.get("/admin/audit").text
        assert f"哈希链在第 {first.id} 条断开" in page
    finally:
        with session_scope() as session:
            session.execute(update(AuditEntry).where(AuditEntry.id == first.id).values(action=original))
