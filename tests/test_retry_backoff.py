"""Infrastructure retries back off from seconds to minutes (a broken host must not burn every try)."""

from __future__ import annotations

from worker.grading import retry_delay


def test_retries_back_off_from_seconds_to_minutes() -> None:
    delays = [retry_delay(n) for n in range(1, 7)]
    assert delays[:4] == [10, 60, 360, 900]
    assert delays == sorted(delays) and max(delays) == 900
