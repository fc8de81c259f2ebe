"""Characters that carry nothing a customer meant and break what stores or reads the text.

Unicode's noncharacters (U+FDD0–U+FDEF and the last two code points of every plane, U+FFFE and
U+FFFF among them) are "permanently reserved for internal use": no keyboard or IME produces
them, and a YAML reader refuses them, so one in a training example makes `nlu_review.yml`
unreadable. Control characters and lone surrogates cannot be stored (NUL in PostgreSQL) or
encoded as UTF-8 at all.
"""

from __future__ import annotations

import unicodedata

_UNWRITABLE = frozenset({"Cc", "Cs"})
_KEPT_CONTROLS = frozenset("\n\t")


def is_noncharacter(ch: str) -> bool:
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def without_noncharacters(text: str) -> str:
    return "".join(ch for ch in text if not is_noncharacter(ch))


def storable(text: str) -> str:
    """`text` without control characters (line breaks and tabs kept), lone surrogates and
    noncharacters."""
    return "".join(
        ch for ch in text
        if ch in _KEPT_CONTROLS
        or (unicodedata.category(ch) not in _UNWRITABLE and not is_noncharacter(ch))
    )
