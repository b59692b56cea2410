"""Fairness of the lottery: 100,000 simulated draws, chi-square tests without SciPy.

Each simulated draw uses Camp's own key derivation and ticket order (derive_key, lottery_order)
with a different seed: seed_i = SHA-256(8-byte big-endian i), 20 entries, 3 winners.

Two statistics are tested:

* which entry wins first place: a plain multinomial, Pearson chi-square with 19 degrees of
  freedom;
* how often each entry is among the 3 winners. The 3 winners are distinct, so the counts are
  not multinomial: each count is Binomial(N, k/n) and two counts have covariance
  -N k (n-k) / (n^2 (n-1)). The covariance matrix is c (I - J/n) with c = N k (n-k) / (n (n-1)),
  so the Pearson sum X = sum (o - e)^2 / e with e = N k / n has X * (n-1)/(n-k) ~ chi-square
  with n-1 degrees of freedom (normal approximation). Without that factor the test would be
  too lenient (mean n-k instead of n-1).

The p-value is the regularized upper incomplete gamma function Q(df/2, x/2), computed by its
series (x < a+1) or its continued fraction (Numerical Recipes, `gammq`); it is checked against
closed forms and table values, and against the Wilson–Hilferty approximation.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence

import pytest

from app.draws import derive_key, lottery_order

DRAWS = 100_000
ENTRIES = 20
WINNERS = 3
ENTRY_IDS = list(range(1001, 1001 + ENTRIES))
LIST_HASH = hashlib.sha256(b"fairness test list").hexdigest()


def upper_gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x)."""
    if x < 0 or a <= 0:
        raise ValueError("need x >= 0 and a > 0")
    if x == 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # series for P(a, x)
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * 1e-15:
            n += 1
            term *= x / n
            total += term
        return 1.0 - total * math.exp(log_prefix)
    tiny = 1e-300  # continued fraction for Q(a, x), modified Lentz
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return math.exp(log_prefix) * h


def chi2_sf(statistic: float, df: int) -> float:
    return upper_gamma_q(df / 2, statistic / 2)


def wilson_hilferty_sf(statistic: float, df: int) -> float:
    """(X/df)^(1/3) is nearly normal with mean 1 - 2/(9 df) and variance 2/(9 df)."""
    z = ((statistic / df) ** (1 / 3) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))
    return 0.5 * math.erfc(z / math.sqrt(2))


def pearson(counts: Sequence[int], expected: float) -> float:
    return sum((count - expected) ** 2 / expected for count in counts)


def simulate(pick: Callable[[bytes], list[int]]) -> tuple[list[int], list[int]]:
    """(times each entry won any prize, times each entry won first place)."""
    any_place, first_place = [0] * ENTRIES, [0] * ENTRIES
    for i in range(DRAWS):
        seed = hashlib.sha256(i.to_bytes(8, "big")).hexdigest()
        winners = pick(derive_key(1 + i, LIST_HASH, None, seed))
        for index in winners:
            any_place[index] += 1
        first_place[winners[0]] += 1
    return any_place, first_place


def camp_lottery(key: bytes) -> list[int]:
    return [index for _, index in lottery_order(WINNERS, key, ENTRY_IDS)]


def p_values(any_place: list[int], first_place: list[int]) -> tuple[float, float]:
    df = ENTRIES - 1
    x_any = pearson(any_place, DRAWS * WINNERS / ENTRIES) * (ENTRIES - 1) / (ENTRIES - WINNERS)
    x_first = pearson(first_place, DRAWS / ENTRIES)
    return chi2_sf(x_any, df), chi2_sf(x_first, df)


@pytest.mark.parametrize(
    ("statistic", "df", "expected"),
    [
        (30.1435, 19, 0.05),  # table values
        (36.1909, 19, 0.01),
        (43.8202, 19, 0.001),
        (11.6509, 19, 0.90),
        (19.0, 19, None),
        (5.0, 2, math.exp(-2.5)),  # df = 2: Q(1, x/2) = exp(-x/2)
        (3.0, 1, math.erfc(math.sqrt(1.5))),  # df = 1: erfc(sqrt(x/2))
        (0.5, 3, None),
        (200.0, 19, None),
    ],
)
def test_chi_square_p_value_function(statistic: float, df: int, expected: float | None) -> None:
    p = chi2_sf(statistic, df)
    if expected is not None:
        assert p == pytest.approx(expected, rel=2e-4)
    assert 0 <= p <= 1
    if 0.001 < p < 0.999:
        assert p == pytest.approx(wilson_hilferty_sf(statistic, df), abs=0.01)


@pytest.mark.slow  # thousands of draws
def test_lottery_selects_every_entry_equally_often() -> None:
    any_place, first_place = simulate(camp_lottery)
    assert sum(any_place) == DRAWS * WINNERS and sum(first_place) == DRAWS
    p_any, p_first = p_values(any_place, first_place)
    assert p_any > 0.01, (p_any, any_place)
    assert p_first > 0.01, (p_first, first_place)


@pytest.mark.slow  # thousands of draws
def test_the_test_catches_a_slightly_biased_lottery() -> None:
    """Negative control: entry 0 slipped in as third winner in about 1% of the draws is caught."""

    def biased(key: bytes) -> list[int]:
        winners = camp_lottery(key)
        if key[0] < 3 and 0 not in winners:  # about 3/256 of the draws
            winners[-1] = 0
        return winners

    p_any, _ = p_values(*simulate(biased))
    assert p_any < 0.01
