"""Contact data out of the chat log: each item replaced by a placeholder with an opaque id.

The rule (README, "Where personal data may live"): contact data (phone, e-mail, postal code,
member number, name, address) is kept in clear only on the ticket. The chat log (Rasa's tracker
store) holds `［電話番号#k3f9q2］` instead; the clear value waits server-side, keyed by the
conversation and the id, until the ticket takes it (`madoguchi.privacy.pending_contact`).

What is replaced:
- every span the finder finds (phone, e-mail, postal code, member number; card and individual
  numbers never get this far: the gate has made them labels already);
- the whole answer to a form question for a name or an address (the finder cannot know a
  name), the kinds in `WHOLE_ANSWERS`.

Placeholders are plain text: the NLU reads 「［電話番号#…］」, the form's validators get the clear
text back through `reveal`, and the customer's own chat shows it in clear again.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .kinds import ADDRESS, EMAIL, FORBIDDEN, MEMBER_NUMBER, NAME, PHONE, POSTAL_CODE

# Label per kind, as the placeholder shows it (the same words as the review's labels).
CONTACT_LABELS: dict[str, str] = {
    PHONE: "電話番号",
    EMAIL: "メールアドレス",
    POSTAL_CODE: "郵便番号",
    MEMBER_NUMBER: "会員番号",
    NAME: "氏名",
    ADDRESS: "住所",
}
# Form questions whose whole answer is the contact datum (slot -> kind).
WHOLE_ANSWERS: dict[str, str] = {
    "customer_name": NAME,
    "postal_address": ADDRESS,
    "phone": PHONE,
    "email": EMAIL,
    "member_number": MEMBER_NUMBER,
    "correction_value": ADDRESS,  # a corrected address, name or number: treated as an address
}
_KIND_OF_LABEL = {label: kind for kind, label in CONTACT_LABELS.items()}
# Also with ASCII brackets: a validator's NFKC may have folded them (a corrected value).
_LABEL_ALTERNATIVES = "|".join(map(re.escape, CONTACT_LABELS.values()))
PLACEHOLDER_RE = re.compile(f"[［\\[]({_LABEL_ALTERNATIVES})[#＃]([a-z0-9]{{6,16}})[］\\]]")


@dataclass(frozen=True)
class ContactItem:
    """One item taken out of a message: its id, kind and the customer's own text."""

    token: str
    kind: str
    value: str

    @property
    def placeholder(self) -> str:
        return placeholder(self.kind, self.token)


def new_token() -> str:
    return secrets.token_hex(4)


def placeholder(kind: str, token: str) -> str:
    return f"［{CONTACT_LABELS[kind]}#{token}］"


def conceal_contact(text: str, asked_slot: str | None = None, answer: str | None = None,
                    token: Callable[[], str] = new_token) -> tuple[str, list[ContactItem]]:
    """The text with its contact data as placeholders, and the items taken out.

    `asked_slot`: the form question the message answers (name, address, phone …), whose
    answer the caller found valid; `answer`: what the form's validator read as that answer.
    When `answer` is part of the text, just that part is the item (「［氏名#…］です」, and a
    phone number typed beside an address stays a phone number the form can read); otherwise
    the whole message is. Commands (starting with "/") never are.
    """
    if not text or not text.strip():
        return text, []
    whole = WHOLE_ANSWERS.get(asked_slot or "")
    if not whole or text.lstrip().startswith("/") or PLACEHOLDER_RE.fullmatch(text):
        return _conceal_spans(text, token, [])
    if answer and answer.strip() and answer in text:
        start = text.index(answer)
        item = ContactItem(token(), whole, answer)
        before, before_items = _conceal_spans(text[:start], token, [])
        after, after_items = _conceal_spans(text[start + len(answer):], token, [])
        return before + item.placeholder + after, [*before_items, item, *after_items]
    item = ContactItem(token(), whole, text)
    return item.placeholder, [item]


def _conceal_spans(text: str, token: Callable[[], str],
                   items: list[ContactItem]) -> tuple[str, list[ContactItem]]:
    """Every span the finder finds, as a placeholder."""
    from .finder import find  # loads spaCy: on first use

    out: list[str] = []
    pos = 0
    for found in find(text)[0] if text.strip() else ():
        span = found.span
        if span.label in FORBIDDEN or found.hides_forbidden or span.label not in CONTACT_LABELS:
            continue
        if PLACEHOLDER_RE.search(text, span.start, span.end):
            continue
        item = ContactItem(token(), span.label, span.text)
        items.append(item)
        out += [text[pos:span.start], item.placeholder]
        pos = span.end
    out.append(text[pos:])
    return "".join(out), items


def _maybe(text: str) -> bool:
    return bool(text) and ("#" in text or "＃" in text)


def placeholders(text: str) -> list[tuple[str, str]]:
    """(kind, token) of every placeholder in `text`."""
    return [(_KIND_OF_LABEL[m.group(1)], m.group(2)) for m in PLACEHOLDER_RE.finditer(text)]


def reveal(text: str, values: Mapping[str, str]) -> str:
    """`text` with each placeholder whose token is in `values` replaced by the clear value."""
    if not _maybe(text):
        return text
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(2), m.group(0)), text)


def strip_tokens(text: str) -> str:
    """Placeholders as bare labels (［電話番号］): what the review shows and retention keeps."""
    if not _maybe(text):
        return text
    return PLACEHOLDER_RE.sub(lambda m: f"［{m.group(1)}］", text)
