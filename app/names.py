"""User names as they are compared: two names that look alike are the same name.

`name_key(name)` is NFKC (full-width `ｒｏｏｔ` and mathematical `𝐫𝐨𝐨𝐭` become `root`), then
case-folded (`Root`), then every letter that Unicode lists as confusable with an ASCII letter is
replaced by it (Cyrillic `о` in `rооt`), using the confusables table that the maintained
`confusable-homoglyphs` package ships (from Unicode's confusables.txt). The key is stored
unique, so a look-alike of an existing name is refused by the database too.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from confusable_homoglyphs import confusables


@lru_cache
def _to_ascii() -> dict[str, str]:
    """Each non-ASCII character that looks like one ASCII character → that character."""
    table: dict[str, str] = {}
    for char, glyphs in confusables.confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_twins = sorted(g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii())
        if ascii_twins:
            table[char] = ascii_twins[0].casefold()
    return table


def name_key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    table = _to_ascii()
    return unicodedata.normalize("NFKC", "".join(table.get(c, c) for c in folded))
