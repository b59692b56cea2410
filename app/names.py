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


#: names a student could pass for Camp or its staff with (compared on the key, separators and
#: digits dropped: `Admin_1`, `аdmin` with a Cyrillic а, `ａｄｍｉｎ` are all `admin`)
STAFF_NAMES = frozenset({
    "admin", "administrator", "root", "staff", "system", "sysadmin", "camp", "moderator", "mod",
    "official", "support", "helpdesk", "teacher", "instructor", "ta", "superuser", "webmaster",
    "operator", "paddle", "paddlepaddle",
})
#: words that make a name look like the staff's wherever they appear in it (`飞桨官方`, `张老师`)
STAFF_WORDS = ("admin", "official", "moderator", "管理员", "管理員", "助教", "官方", "客服", "工作人员",
               "讲师", "老师", "版主", "教务")


def looks_like_staff(name: str) -> bool:
    """True for names that read as Camp's staff, whatever the letters look-alike tricks."""
    core = "".join(c for c in name_key(name) if c not in "-_." and not c.isdigit())
    return core in STAFF_NAMES or any(word in core for word in STAFF_WORDS)


def _cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or "\U00020000" <= char


@lru_cache
def _letter_twins() -> dict[int, str]:
    """Letters and digits of other scripts that look like an ASCII letter or digit (Cyrillic
    `а`, Greek `ο`, ...); Chinese characters are left alone (`〇` stays, `丿` is not `/`)."""
    return {ord(c): twin for c, twin in _to_ascii().items() if twin.isalnum() and not _cjk(c)}


def fold_look_alikes(text: str) -> str:
    """`text` (already case-folded) with look-alike letters replaced by their ASCII twins."""
    return text.translate(_letter_twins())
