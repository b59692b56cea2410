"""Finding replies that look alike: plain functions, no database (the bench calls them too).

Text: normalised (NFKC, Traditional characters and Taiwan wording to Simplified (OpenCC
`tw2sp`), case-folded, look-alike letters folded, the `作业X-Y：` prefix, whitespace and punctuation removed)
and cut into overlapping character shingles, which works for Chinese (no word boundaries) and
English alike; MinHash signatures (datasketch) and LSH find candidate pairs without comparing
every pair; a candidate is kept when its estimated Jaccard similarity reaches the threshold.

Code: Python tokens (read by a regular expression, which never fails on code that does not
compile) with names, strings and numbers replaced by placeholders, so renaming variables
changes nothing; k-grams of tokens are hashed and *winnowed* (Schleimer,
Wilkerson, Aiken 2003, the method of MOSS): in every window of w hashes the smallest is kept,
which guarantees that any shared run of at least w+k-1 tokens is noticed. Fingerprints found in
the staff's example code, or in a large share of all packages (boilerplate), are dropped before
comparing. A pair's similarity is the share of the smaller package's fingerprints found in the
other one.
"""

from __future__ import annotations

import hashlib
import keyword
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import opencc
from datasketch import MinHash, MinHashLSH

from app.names import fold_look_alikes
from grader.catalog import ANY_PREFIX, COLONS

SHINGLE = 5
PERMUTATIONS = 128
MIN_TEXT_CHARS = 40  # shorter answers ("已跑通", a number) are alike by nature: not compared
TEXT_THRESHOLD = 0.7
CODE_K = 12
CODE_WINDOW = 8
MIN_FINGERPRINTS = 8
CODE_THRESHOLD = 0.8
BOILERPLATE_SHARE = 0.5  # a fingerprint in more than half of the packages is not evidence
PREFIX = re.compile(rf"^\s*{ANY_PREFIX.pattern}\s*[{COLONS}]?")
NOT_CONTENT = re.compile(r"[\W_]+", re.UNICODE)
TOKEN = re.compile(r"""(?P<comment>\#[^\n]*)
    |(?P<string>[rRbBuUfF]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
    |(?P<number>\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?j?)
    |(?P<name>[^\W\d]\w*)
    |(?P<op>\*\*=?|//=?|->|:=|<<=?|>>=?|[-+*/%&|^<>!=@]=|\S)""", re.VERBOSE)


@dataclass(frozen=True)
class Pair:
    first: int  # the earlier item (the caller orders ids by floor)
    second: int
    similarity: float


#: Traditional characters (and Taiwan wording: 引數, 最佳化) to Simplified, phrase by phrase
TO_SIMPLIFIED = opencc.OpenCC("tw2sp")


def normalise(text: str) -> str:
    # look-alike letters folded too: a copy with Cyrillic `а`/`о`/`е` in place of the Latin
    # ones reads the same and shared no shingle with its original; and Chinese in Simplified
    # characters: a copy converted to Traditional ones (one click in a word processor) has a
    # converted character in nearly every shingle
    text = TO_SIMPLIFIED.convert(unicodedata.normalize("NFKC", text))
    text = fold_look_alikes(text.casefold())
    return NOT_CONTENT.sub("", PREFIX.sub("", text))


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    body = normalise(text)
    return {body[i:i + k].encode() for i in range(max(0, len(body) - k + 1))}


def text_pairs(texts: Mapping[int, str], threshold: float = TEXT_THRESHOLD,
               min_chars: int = MIN_TEXT_CHARS) -> list[Pair]:
    """Pairs of texts (id -> text; ids in floor order) whose Jaccard similarity of shingles,
    estimated by MinHash, is at least `threshold`."""
    sets = {i: shingles(t) for i, t in texts.items() if len(normalise(t)) >= min_chars}
    ids = sorted(sets)
    if len(ids) < 2:
        return []
    hashes = MinHash.bulk([list(sets[i]) for i in ids], num_perm=PERMUTATIONS)
    lsh = MinHashLSH(threshold=threshold * 0.9, num_perm=PERMUTATIONS)  # a margin: LSH is fuzzy
    with lsh.insertion_session() as session:
        for i, h in zip(ids, hashes, strict=True):
            session.insert(i, h)
    by_id = dict(zip(ids, hashes, strict=True))
    found = []
    for i in ids:
        for j in lsh.query(by_id[i]):
            if j <= i:
                continue
            estimate = by_id[i].jaccard(by_id[j])
            if estimate >= threshold:
                found.append(Pair(i, j, round(float(estimate), 4)))
    return sorted(found, key=lambda p: (-p.similarity, p.first, p.second))


def code_tokens(source: str) -> list[str]:
    """Python tokens with identifiers, strings and numbers made anonymous; no comments.
    A regular expression, not a parser: it must not fail on code that does not compile."""
    out = []
    for match in TOKEN.finditer(source):
        kind, value = match.lastgroup, match.group()
        if kind == "comment":
            continue
        if kind == "name":
            out.append(value if keyword.iskeyword(value) else "N")
        elif kind == "string":
            out.append("S")
        elif kind == "number":
            out.append("0")
        else:
            out.append(value)
    return out


def fingerprints(source: str, k: int = CODE_K, window: int = CODE_WINDOW) -> set[int]:
    """Winnowed hashes of the token k-grams."""
    tokens = code_tokens(source)
    if len(tokens) < k:
        return set()
    grams = [" ".join(tokens[i:i + k]).encode() for i in range(len(tokens) - k + 1)]
    hashes = np.array([int.from_bytes(hashlib.blake2b(g, digest_size=8).digest(), "big") >> 1
                       for g in grams], dtype=np.int64)
    if len(hashes) <= window:
        return {int(hashes.min())}
    windows = np.lib.stride_tricks.sliding_window_view(hashes, window)
    return {int(h) for h in windows.min(axis=1)}


def code_pairs(sources: Mapping[int, str], examples: Iterable[str] = (),
               threshold: float = CODE_THRESHOLD) -> list[Pair]:
    """Pairs of code packages (id -> concatenated source; ids in floor order) sharing at least
    `threshold` of the smaller one's fingerprints, after removing example and boilerplate ones."""
    base: set[int] = set()
    for example in examples:
        base |= fingerprints(example)
    prints = {i: fingerprints(s) - base for i, s in sources.items()}
    prints = {i: p for i, p in prints.items() if len(p) >= MIN_FINGERPRINTS}
    holders: dict[int, list[int]] = defaultdict(list)
    for i in sorted(prints):
        for h in prints[i]:
            holders[h].append(i)
    limit = max(2, int(BOILERPLATE_SHARE * len(prints)))
    shared: dict[tuple[int, int], int] = defaultdict(int)
    common: dict[int, int] = defaultdict(int)
    for ids in holders.values():
        if len(ids) > limit:
            for i in ids:
                common[i] += 1
            continue
        for a, b in combinations(ids, 2):
            shared[(a, b)] += 1
    found = []
    for (a, b), n in shared.items():
        smaller = min(len(prints[a]) - common[a], len(prints[b]) - common[b])
        if smaller >= MIN_FINGERPRINTS and n / smaller >= threshold:
            found.append(Pair(a, b, round(min(1.0, n / smaller), 4)))
    return sorted(found, key=lambda p: (-p.similarity, p.first, p.second))
