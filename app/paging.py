"""Page sizes, page counts and the address of a reply: one place for each.

A reply's floor never changes and the thread shows `THREAD_PAGE` floors a page, so the page a
floor is on is fixed; every link to a reply (pages, JSON, staff tables) is built here.
"""

from __future__ import annotations

from urllib.parse import urlencode

#: floors per page of a homework thread
THREAD_PAGE = 50
#: rows per page of the staff tables (submissions, users, audit log)
TABLE_PAGE = 50
#: replies per page of the review queue
REVIEW_PAGE = 30
#: rows per page of a leaderboard
LEADERBOARD_PAGE = 100
#: posts per page of a course's own thread
COURSE_POST_PAGE = 20
#: items per page of the inbox (the page, and the API's default)
INBOX_PAGE = 30
#: search results per page, and how many pages deep a search goes
SEARCH_PAGE = 20
MAX_SEARCH_PAGES = 25


def page_count(total: int, size: int) -> int:
    """How many pages `total` rows fill (at least one, so an empty list still has a page)."""
    return max(1, -(-total // size))


def window(page: int, size: int) -> tuple[int, int]:
    """(offset, limit) of a 1-based page."""
    return (page - 1) * size, size


def thread_page(floor: int) -> int:
    """The thread page that shows this floor."""
    return (floor - 1) // THREAD_PAGE + 1


def floor_url(slug: str, code: str, floor: int, **query: str) -> str:
    """Where a reply is shown: its homework's thread page, scrolled to its floor."""
    params = urlencode({"page": thread_page(floor), **query}, safe=",")
    return f"/courses/{slug}/assignments/{code}?{params}#floor-{floor}"
