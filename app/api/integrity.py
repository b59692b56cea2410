"""Staff tools for fair prizes: the similarity queue and the suspicious-like report."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.deps import CsrfChecked, SessionDep, StaffUser
from app.models import SimilarPair
from app.services import like_review, similarity
from app.services.course_staff import require_course_staff
from app.services.courses import get_assignment

router = APIRouter(tags=["integrity"])
HOMEWORK = "/courses/{slug}/assignments/{code}"


class PairOut(BaseModel):
    id: int
    kind: str
    similarity: float
    state: str
    #: the earlier reply (keeps credit) and the later one
    first_id: int
    second_id: int
    decided_at: datetime | None

    @classmethod
    def of(cls, p: SimilarPair) -> PairOut:
        return cls(id=p.id, kind=p.kind, similarity=p.similarity, state=p.state, first_id=p.first_id,
                   second_id=p.second_id, decided_at=p.decided_at)


class RunOut(BaseModel):
    compared_texts: int
    compared_packages: int
    new_pairs: int


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


class LikeExclusionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: list[int] = Field(max_length=10_000)
    reason: str = Field(max_length=500)


@router.get(HOMEWORK + "/similar")
def similar_pairs(slug: str, code: str, session: SessionDep, staff: StaffUser,
                  state: Literal["open", "confirmed", "dismissed"] = "open") -> list[PairOut]:
    """Staff: pairs of replies that look alike, most similar first."""
    assignment = get_assignment(session, slug, code)
    require_course_staff(session, staff, assignment.course)
    return [PairOut.of(p) for p in similarity.queue(session, assignment, state)]


@router.post(HOMEWORK + "/similar/run", dependencies=[CsrfChecked])
def run_similarity(slug: str, code: str, session: SessionDep, staff: StaffUser) -> RunOut:
    """Staff: compare the homework's student replies now; new pairs join the queue."""
    result = similarity.run(session, get_assignment(session, slug, code), staff)
    return RunOut(**result.__dict__)


@router.post("/similar/{pair_id}/confirm", dependencies=[CsrfChecked])
def confirm_pair(pair_id: int, body: DecisionIn, session: SessionDep, staff: StaffUser) -> PairOut:
    """Staff: the later reply copies the earlier one; it leaves the homework's draws (`copied`)."""
    pair = similarity.get_pair(session, pair_id)
    return PairOut.of(similarity.decide(session, pair, staff, True, body.note))


@router.post("/similar/{pair_id}/dismiss", dependencies=[CsrfChecked])
def dismiss_pair(pair_id: int, body: DecisionIn, session: SessionDep, staff: StaffUser) -> PairOut:
    pair = similarity.get_pair(session, pair_id)
    return PairOut.of(similarity.decide(session, pair, staff, False, body.note))


@router.get(HOMEWORK + "/like-clusters")
def like_clusters(slug: str, code: str, session: SessionDep, staff: StaffUser) -> list[like_review.Cluster]:
    """Staff: groups of accounts that liked one reply and signed up together (address, device
    cookie, or within minutes)."""
    assignment = get_assignment(session, slug, code)
    require_course_staff(session, staff, assignment.course)
    return like_review.suspicious_clusters(session, assignment)


@router.post(HOMEWORK + "/like-exclusions", dependencies=[CsrfChecked])
def exclude_likes(slug: str, code: str, body: LikeExclusionIn, session: SessionDep,
                  staff: StaffUser) -> list[int]:
    """Staff: these accounts' likes stop counting for this homework's rewards (with a reason the
    draw's eligibility text shows). An account already excluded refuses the whole request."""
    rows = like_review.exclude_likers(session, get_assignment(session, slug, code), staff,
                                      body.user_ids, body.reason)
    return [r.target_id for r in rows]
