"""Character classes and place names that finding personal data and reading form answers share.

Defined once for the whole project. The dash set lives in `madoguchi.text.normalize`, which
folds these characters for the NLU: that file is part of the trained model's hash
(`runtime/training.py`), so the set stays where it shapes the model and is read from there.
"""

from __future__ import annotations

import unicodedata

from madoguchi.text.normalize import _DASHES

# Every dash-like character customers type as a hyphen or a long vowel mark (ASCII, Unicode
# dashes and minus, the katakana mark, and their full- and half-width forms).
DASHES: frozenset[str] = frozenset(_DASHES)

# The same dashes as they look after NFKC (what spaCy's token.norm_ holds): the full- and
# half-width forms fold into "-" and "ー".
DASH_NORMS: frozenset[str] = frozenset(
    ch for ch in DASHES if unicodedata.east_asian_width(ch) not in ("F", "H")
)

# Marks printed before a postal code.
POSTAL_MARKS: tuple[str, ...] = ("〒", "〠", "〶")

# The 47 prefectures without 都/道/府/県, in the official order.
PREFECTURES: tuple[str, ...] = tuple(
    "北海道 青森 岩手 宮城 秋田 山形 福島 茨城 栃木 群馬 埼玉 千葉 東京 神奈川 新潟 富山 石川 福井 "
    "山梨 長野 岐阜 静岡 愛知 三重 滋賀 京都 大阪 兵庫 奈良 和歌山 鳥取 島根 岡山 広島 山口 徳島 "
    "香川 愛媛 高知 福岡 佐賀 長崎 熊本 大分 宮崎 鹿児島 沖縄".split()
)
