"""All tables. Import models from here so every mapper is configured."""

from app.models.base import Base, utcnow
from app.models.courses import Assignment, Course, CourseInstructor
from app.models.draws import AuditEntry, Draw
from app.models.idempotency import IdempotencyKey
from app.models.integrity import Exclusion, SignUp, SimilarPair
from app.models.notifications import Notification, NotificationPrefs, PrizeClaim
from app.models.page_versions import PageVersion
from app.models.submissions import (
    FINAL_STATUSES,
    Attachment,
    GradingAttempt,
    GradingTurn,
    Like,
    LikeEvent,
    Status,
    Submission,
)
from app.models.thread import CoursePost, SubmissionEdit
from app.models.users import ApiToken, AuthThrottle, ReplyRate, Role, User
from app.models.workers import WorkerHeartbeat

__all__ = [
    "FINAL_STATUSES",
    "ApiToken",
    "Assignment",
    "Attachment",
    "AuditEntry",
    "AuthThrottle",
    "Base",
    "Course",
    "CourseInstructor",
    "CoursePost",
    "Draw",
    "Exclusion",
    "GradingAttempt",
    "GradingTurn",
    "IdempotencyKey",
    "Like",
    "LikeEvent",
    "Notification",
    "NotificationPrefs",
    "PageVersion",
    "PrizeClaim",
    "ReplyRate",
    "Role",
    "SignUp",
    "SimilarPair",
    "Status",
    "Submission",
    "SubmissionEdit",
    "User",
    "WorkerHeartbeat",
    "utcnow",
]
