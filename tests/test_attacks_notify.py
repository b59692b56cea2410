"""Attack replays against notification mail: a line break in a text that reaches a mail's
subject. A reward rule's text becomes its draw's title, and the winners' mail says "you won a
prize in “{title}”" in its subject. The course check accepts any text there (an editor's form,
a forged post or a course file), so `抽奖\\r\\nBcc: …` made Python's mail library refuse the
header: the winner's mail task failed, the item stayed "sending" and the winner never got a
mail. Subjects are one line now; the text reaches no other header."""

from __future__ import annotations

import pytest

from tests.support.homework import Reply, add_replies, make_course, replies_2023
from tests.support.mailbox import smtp_server
from tests.support.notify import items_of, run_lottery, set_email
from tests.support.stacks import Stack
from tests.support.thread import user_id
from tests.support.web import add_user

RULE_TEXT = "抽奖\r\nBcc: victim@example.org\r\n\r\n正文"


def test_a_line_break_in_a_draw_title_neither_breaks_nor_injects_the_winners_mail(
        embedded: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import notify_jobs
    from app.config import get_settings
    from app.services.course_check import check_course

    homework = {"code": "1", "grading": {"kind": "reply_format"},
                "rewards": [{"kind": "lottery", "k": 1, "text": RULE_TEXT}]}
    check_course({"slug": "crlf-course", "title": "t", "timezone": "UTC", "assignments": [
        {**homework, "title": "t", "opens": "-7d", "due": "+7d"}]}, "UTC")  # the check lets it in
    slug = make_course(homework)
    winner = add_user(embedded)
    set_email(user_id(winner), "winner@example.org", "won")
    add_replies(slug, "1", replies_2023([Reply(user_id(winner))]))
    with smtp_server() as smtp:
        monkeypatch.setenv("CAMP_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CAMP_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("CAMP_PUBLIC_URL", "https://camp.example.org")
        get_settings.cache_clear()
        run_lottery(embedded, slug, "1")
        [item] = items_of(user_id(winner))
        assert item.kind == "won" and item.mail_state == "pending"
        assert notify_jobs.send_item_mail(item.id) is False
        [mail] = smtp.to("winner@example.org")
        assert "\n" not in mail["Subject"] and "\r" not in mail["Subject"]
        assert "抽奖" in mail["Subject"] and mail["Bcc"] is None
        assert smtp.to("victim@example.org") == []
        assert len(smtp.mails()) == 1
        assert items_of(user_id(winner))[0].mail_state == "sent"
    get_settings.cache_clear()
