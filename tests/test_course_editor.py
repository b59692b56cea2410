"""The course editor: admins edit every course, instructors only theirs; the form is validated by
the one course validation (the `reply_fromat` typo refused with its field named), a diff is shown
before saving, saving is audited and refuses a stale version; YAML export round-trips."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.editor import confirm, form_fields, problems, review
from tests.support.homework import make_course, now
from tests.support.stacks import Stack
from tests.support.staff import log_in, post_form, staff_client, user_id
from tests.support.web import add_user, csrf_of


def _course() -> str:
    return make_course(
        {"code": "1-1", "rewards": [{"kind": "lottery", "k": 3, "text": "抽3人"}]},
        {
            "code": "3-1",
            "reply_format": "作业3-1(1)XX(2)XX",
            "body": "回帖形式：作业3-1(1)XX(2)XX",
            "grading": {"kind": "reply_format", "review": True},
        },
    )


def _assignment(slug: str, code: str) -> object:
    from app.db import session_scope
    from app.services.courses import get_assignment

    with session_scope() as session:
        found = get_assignment(session, slug, code)
        session.expunge(found)
        return found


def _audit(subject: str) -> list[object]:
    from app.db import session_scope
    from app.models import AuditEntry

    with session_scope() as session:
        rows = list(
            session.scalars(select(AuditEntry).where(AuditEntry.subject == subject).order_by(AuditEntry.id))
        )
        session.expunge_all()
        return rows


def test_the_typo_is_refused_with_its_field_named_and_nothing_saved(
    embedded_client: TestClient, embedded: Stack
) -> None:
    client = embedded_client
    staff_client(client, embedded, "admin")
    slug = _course()
    refused = review(client, slug, "1-1", grading_kind="reply_fromat", title="改过的标题")
    assert refused.status_code == 422
    listed = problems(refused.text)
    assert "assignments[0] (1-1).grading.kind" in listed and "reply_format" in listed, listed
    assert "未知的评分类型 reply_fromat" in listed
    kept = form_fields(refused.text)
    assert kept["title"] == "改过的标题" and kept["grading_kind"] == "reply_fromat"  # nothing typed is lost
    assert 'data-error-for="grading_kind"' in refused.text and 'aria-invalid="true"' in refused.text
    assert _assignment(slug, "1-1").grading_kind == "reply_format"  # type: ignore[attr-defined]


def test_the_typo_is_refused_in_a_yaml_upload_too(embedded_client: TestClient, embedded: Stack) -> None:
    client = embedded_client
    staff_client(client, embedded, "admin")
    course = (
        "slug: typo-course\ntitle: t\nassignments:\n  - {code: '1-1', title: t, opens: -1d, due: +5d, "
        "grading: {kind: reply_fromat}}\n"
    )
    refused = post_form(
        client,
        "/admin/courses",
        {},
        "/admin/courses",
        files={"file": ("c.yaml", course.encode(), "application/x-yaml")},
    )
    assert refused.status_code == 422 and 'data-role="course-error"' in refused.text
    assert 'role="status"' not in refused.text  # no "loaded" notice
    assert "assignments[0] (1-1).grading.kind" in refused.text
    assert "是不是 reply_format" in refused.text
    assert client.get("/courses/typo-course").status_code == 404


def test_edit_shows_a_diff_then_saves_with_audit_and_a_5_winner_lottery(client: TestClient, stack: Stack) -> None:
    admin = staff_client(client, stack, "admin")
    slug = _course()
    page = client.get(f"/staff/courses/{slug}/edit/homework/1-1")
    assert 'data-markdown-url="/markdown/preview"' in page.text and "/static/editor.js" in page.text
    reviewed = review(
        client,
        slug,
        "1-1",
        title="跑通房价预测",
        **{
            "reward-1-kind": "lottery",
            "reward-1-count": "5",
            "reward-1-text": "随机抽取5名同学",
            "reward-1-prize": "飞桨定制本",
        },
    )
    assert reviewed.status_code == 200, problems(reviewed.text)
    assert 'data-path="assignments[1-1].title"' in reviewed.text
    assert 'data-path="assignments[1-1].rewards[1].count"' in reviewed.text
    assert "随机抽取5名同学" in reviewed.text and "homework 1-1" in reviewed.text  # after and before
    assert _assignment(slug, "1-1").title == "homework 1-1"  # type: ignore[attr-defined]  # not saved yet

    saved = confirm(client, slug, reviewed)
    assert saved.status_code == 303 and saved.headers["location"].startswith(
        f"/staff/courses/{slug}/edit?saved="
    )
    assert "已保存" in client.get(saved.headers["location"]).text
    homework = _assignment(slug, "1-1")
    assert homework.title == "跑通房价预测"  # type: ignore[attr-defined]
    assert homework.reward_rules == [  # type: ignore[attr-defined]
        {"kind": "lottery", "k": 3, "text": "抽3人"},  # the untouched rule keeps its spelling
        {"kind": "lottery", "count": 5, "text": "随机抽取5名同学", "prize": "飞桨定制本"},
    ]
    (entry,) = _audit(f"assignment:{slug}/1-1")
    assert entry.action == "assignment.edit" and entry.actor_id == user_id(admin)  # type: ignore[attr-defined]
    paths = {c["path"]: c for c in entry.data["changes"]}  # type: ignore[attr-defined]
    assert paths["assignments[1-1].title"]["before"] == "homework 1-1"
    assert paths["assignments[1-1].title"]["after"] == "跑通房价预测"
    assert "5" in paths["assignments[1-1].rewards[1].count"]["after"]
    draws = client.get(f"/courses/{slug}/assignments/1-1/draws")
    assert draws.status_code == 200


def test_a_stale_version_is_refused_and_loses_nothing(client: TestClient, stack: Stack) -> None:
    staff_client(client, stack, "admin")
    slug = _course()
    first = review(client, slug, "1-1", title="第一人的标题")
    second = review(client, slug, "1-1", title="第二人的标题")
    assert confirm(client, slug, first).status_code == 303
    late = confirm(client, slug, second)
    assert late.status_code == 409 and "其他人修改" in late.text
    assert _assignment(slug, "1-1").title == "第一人的标题"  # type: ignore[attr-defined]


def test_adding_a_homework_and_deadlines_in_the_course_zone(
    embedded_client: TestClient, embedded: Stack
) -> None:
    client = embedded_client
    staff_client(client, embedded, "admin")
    slug = _course()
    backwards = review(
        client, slug, None, code="9-1", title="新作业", opens="2030-01-02T10:00", due="2030-01-01T10:00"
    )
    assert backwards.status_code == 422 and "assignments[2] (9-1).due" in problems(backwards.text)
    reviewed = review(
        client,
        slug,
        None,
        code="9-1",
        title="新作业",
        opens="2030-01-01T10:00",
        due="2030-01-08T20:00",
        reply_format="作业9-1：XXX",
        body="**加粗**",
    )
    assert reviewed.status_code == 200, problems(reviewed.text)
    assert confirm(client, slug, reviewed).status_code == 303
    added = _assignment(slug, "9-1")
    assert added.due_at.isoformat() == "2030-01-08T20:00:00+00:00"  # type: ignore[attr-defined]  # course zone UTC
    shown = client.get(f"/courses/{slug}/assignments/9-1").text
    assert "<strong>加粗</strong>" in shown  # the homework text is Markdown
    again = review(
        client, slug, None, code="9-1", title="重复", opens="2030-01-01T10:00", due="2030-01-08T20:00"
    )
    assert (
        again.status_code == 422 and "appears twice" not in again.text and "重复出现" in problems(again.text)
    )


def test_instructors_edit_only_their_own_courses(embedded_client: TestClient, embedded: Stack) -> None:
    from app.db import session_scope
    from app.services.courses import get_course, set_instructors

    client = embedded_client
    teacher = staff_client(client, embedded, "instructor")
    mine, theirs = _course(), _course()
    with session_scope() as session:
        set_instructors(session, get_course(session, mine), [teacher])
    assert client.get(f"/staff/courses/{mine}/edit").status_code == 200
    assert 'data-role="edit-course"' in client.get(f"/staff/courses/{mine}").text
    assert 'data-role="edit-course"' not in client.get(f"/staff/courses/{theirs}").text
    for path in ("/edit", "/edit/homework/1-1", "/edit/new", "/course.yaml"):
        assert client.get(f"/staff/courses/{theirs}{path}").status_code == 403, path
    # a form of their own course, replayed against another course with a valid token
    fields = form_fields(client.get(f"/staff/courses/{mine}/edit/homework/1-1").text)
    fields["title"] = "hijacked"
    assert client.post(f"/staff/courses/{theirs}/edit/review", data=fields).status_code == 403
    reviewed = review(client, mine, "1-1", title="hijacked")
    saved_fields = form_fields(reviewed.text, "confirm-save")
    assert client.post(f"/staff/courses/{theirs}/edit/save", data=saved_fields).status_code == 403
    assert _assignment(theirs, "1-1").title == "homework 1-1"  # type: ignore[attr-defined]
    # an instructor may not add themselves or others to the course's staff through the document
    import json

    document = json.loads(saved_fields["document"])
    document["instructors"] = [teacher, add_user(embedded, "instructor")]
    forged = client.post(
        f"/staff/courses/{mine}/edit/save", data={**saved_fields, "document": json.dumps(document)}
    )
    assert forged.status_code == 403
    # students are refused, forged posts without the CSRF token too
    log_in(client, add_user(embedded))
    assert client.get(f"/staff/courses/{mine}/edit").status_code == 403
    assert (
        client.post(f"/staff/courses/{mine}/edit/save", data={**saved_fields, "csrf_token": ""}).status_code
        == 403
    )


def test_a_forged_post_without_the_token_is_refused(embedded_client: TestClient, embedded: Stack) -> None:
    client = embedded_client
    staff_client(client, embedded, "admin")
    slug = _course()
    reviewed = review(client, slug, "1-1", title="x")
    fields = form_fields(reviewed.text, "confirm-save")
    fields.pop("csrf_token")
    assert client.post(f"/staff/courses/{slug}/edit/save", data=fields).status_code == 403
    assert _assignment(slug, "1-1").title == "homework 1-1"  # type: ignore[attr-defined]


def test_export_round_trips_through_the_same_validation(embedded_client: TestClient, embedded: Stack) -> None:
    from app.services.course_upload import parse_course_bytes

    client = embedded_client
    staff_client(client, embedded, "admin")
    exported = client.get("/staff/courses/dl-bootcamp/course.yaml")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/x-yaml")
    spec = parse_course_bytes(exported.content)
    assert [a.code for a in spec.assignments][:3] == ["1-1", "1-2", "3-1"]
    assert "作业3-1(1)XX(2)XX" in exported.text


def test_a_grading_change_offers_a_rejudge(embedded_client: TestClient, embedded: Stack) -> None:
    from app.db import session_scope
    from app.models import Submission
    from app.services.courses import get_assignment

    client = embedded_client
    staff_client(client, embedded, "admin")
    slug = _course()
    student = user_id(add_user(embedded))
    with session_scope() as session:
        homework = get_assignment(session, slug, "3-1")
        session.add(
            Submission(
                assignment_id=homework.id,
                author_id=student,
                floor=1,
                text="作业3-1(1)a(2)b",
                status="scored",
                verdict="format_error",
                score=0.0,
                created_at=now() - timedelta(hours=1),
            )
        )
    reviewed = review(client, slug, "3-1", reply_format="作业3-1：(1)XX(2)XX")
    saved = confirm(client, slug, reviewed)
    assert saved.status_code == 303 and "rejudge=3-1" in saved.headers["location"]
    page = client.get(saved.headers["location"]).text
    assert 'data-role="rejudge-offer"' in page and f"/staff/courses/{slug}/assignments/3-1/rejudge" in page
    assert csrf_of(client, saved.headers["location"])


def test_admins_choose_the_instructors_in_the_browser(embedded_client: TestClient, embedded: Stack) -> None:
    client = embedded_client
    staff_client(client, embedded, "admin")
    slug = _course()
    teacher, student = add_user(embedded, "instructor"), add_user(embedded)
    page = client.get(f"/staff/courses/{slug}/edit/course")
    fields = form_fields(page.text, "course-form")
    refused = client.post(f"/staff/courses/{slug}/edit/review-course",
                          data={**fields, "instructors": f"{teacher}, nobody-{teacher}, {student}"})
    assert refused.status_code == 422
    listed = problems(refused.text)
    assert f"instructors[1] 没有名为 nobody-{teacher} 的用户" in " ".join(listed.split())
    assert f"instructors[2] {student} 不是讲师" in " ".join(listed.split())
    reviewed = client.post(f"/staff/courses/{slug}/edit/review-course", data={**fields, "instructors": teacher})
    assert reviewed.status_code == 200 and 'data-path="instructors"' in reviewed.text
    assert confirm(client, slug, reviewed).status_code == 303
    (entry,) = _audit(f"course:{slug}")[-1:]
    assert entry.action == "course.edit"  # type: ignore[attr-defined]

    log_in(client, teacher)
    assert client.get(f"/staff/courses/{slug}/edit").status_code == 200
    fields = form_fields(client.get(f"/staff/courses/{slug}/edit/course").text, "course-form")
    assert "readonly" in client.get(f"/staff/courses/{slug}/edit/course").text
    # a forged field cannot make an instructor choose the course's staff: it is ignored
    reviewed = client.post(f"/staff/courses/{slug}/edit/review-course",
                           data={**fields, "title": "新标题", "instructors": f"{teacher}, {student}"})
    assert reviewed.status_code == 200 and 'data-path="instructors' not in reviewed.text
    assert confirm(client, slug, reviewed).status_code == 303


def test_the_command_line_exports_what_it_loads(embedded: Stack, tmp_path: object) -> None:
    from pathlib import Path

    slug = _course()
    exported = embedded.camp("course", "export", slug)
    assert exported.returncode == 0, exported.stderr
    assert "reply_format: 作业3-1(1)XX(2)XX" in exported.stdout and "instructors: []" in exported.stdout
    path = Path(str(tmp_path)) / "course.yaml"
    path.write_text(exported.stdout.replace("title: homework 1-1", "title: 从文件改的标题"), encoding="utf-8")
    loaded = embedded.camp("course", "load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert _assignment(slug, "1-1").title == "从文件改的标题"  # type: ignore[attr-defined]
    path.write_text(exported.stdout.replace("kind: reply_format", "kind: reply_fromat"), encoding="utf-8")
    refused = embedded.camp("course", "load", str(path))
    assert refused.returncode == 1 and "assignments[0] (1-1).grading.kind" in refused.stderr
    assert "did you mean reply_format?" in refused.stderr
    assert embedded.camp("course", "export", "no-such-course").returncode == 1


def test_settings_that_are_not_yaml_and_bad_rows_are_all_named_at_once(embedded_client: TestClient,
                                                                      embedded: Stack) -> None:
    client = embedded_client
    staff_client(client, embedded, "admin")
    slug = _course()
    refused = review(client, slug, "3-1", grading_settings="review: [unclosed", reply_format="作业3-1已完成XX",
                     **{"reward-0-kind": "lottery", "reward-0-count": "five",
                        "reward-1-kind": "fixed_ranks", "reward-1-ranks": "3-1"})
    assert refused.status_code == 422
    listed = " ".join(problems(refused.text).split())
    for where in ("assignments[1] (3-1).grading", "assignments[1] (3-1).reply_format",
                  "assignments[1] (3-1).rewards[0].count", "assignments[1] (3-1).rewards[1].ranks"):
        assert where in listed, (where, listed)
    assert "按作业说明写的回复“作业3-1已完成答案”会被评测器（reply_format）判为不合格" in listed
    for name in ("grading_settings", "reply_format", "reward-0", "reward-1"):
        assert f'data-error-for="{name}"' in refused.text, name
    assert form_fields(refused.text)["grading_settings"] == "review: [unclosed"
    # the kind typed among the settings does not replace the kind's own input
    reviewed = review(client, slug, "3-1", grading_settings="review: true\nkind: mnist")
    assert reviewed.status_code == 422 and "没有任何修改" in reviewed.text  # the same grading as stored
