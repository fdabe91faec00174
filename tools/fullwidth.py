"""Chinese punctuation in the Chinese catalogue: half-width , : ; ? ! ( ) written beside Chinese
text become full-width (，：；？！（）), as a person writes them. Placeholders (%(name)s), times
(08:00), coordinates (24.70, 107.50) and Latin text keep theirs.

    .venv/bin/python tools/fullwidth.py [--check]

With --check it changes nothing and exits 1 when an entry needs it (tests/test_i18n.py runs the
same check)."""

from __future__ import annotations

import re
import sys

HAN = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]|%[sd]")
SENTINEL = "\ue000"
PAIRS = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}


def _chinese(char: str) -> bool:
    return bool(char) and (char == SENTINEL or bool(HAN.match(char)))


def fix(text: str) -> str:
    """`text` with the punctuation beside Chinese made full-width."""
    # A pair of coordinates reads like numbers, whichever language surrounds it.
    text = text.replace("%(lat)s, %(lon)s", "%(lat_lon)s")
    holes = PLACEHOLDER.findall(text)
    work = PLACEHOLDER.sub(SENTINEL, text)
    out: list[str] = []
    opened: list[int] = []  # positions in `out` of "(" turned into "（"
    for i, char in enumerate(work):
        before = work[:i].rstrip()[-1:]
        after = work[i + 1 :].lstrip()[:1]
        if char in PAIRS:
            # a comma between two numbers (24.70, 107.50) or a colon in 08:00 stays
            numbers = before.isdigit() and after.isdigit()
            latin_colon = char == ":" and not _chinese(before)
            chinese_side = _chinese(before) or (char == "," and _chinese(after))
            if chinese_side and not numbers and not latin_colon:
                out.append(PAIRS[char])
                continue
        inside = work[i + 1 : work.find(")", i)] if ")" in work[i:] else ""
        if char == "(" and (_chinese(before) or _chinese(after) or any(map(_chinese, inside))):
            opened.append(len(out))
            out.append("（")
            continue
        if char == ")" and opened:
            opened.pop()
            out.append("）")
            continue
        out.append(char)
    result = "".join(out)
    # No space after full-width punctuation, nor before it.
    result = re.sub(r"\s*([，：；？！（）])\s*", lambda m: m.group(1), result)
    for hole in holes:
        result = result.replace(SENTINEL, hole, 1)
    return result.replace("%(lat_lon)s", "%(lat)s, %(lon)s")


def main() -> int:
    from babel.messages.pofile import read_po, write_po

    path = "corrections/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    check = "--check" in sys.argv
    with open(path, "rb") as f:
        catalog = read_po(f, locale="zh_Hans_CN")
    changed = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        fixed = tuple(fix(s) for s in strings)
        if fixed != strings:
            changed.append((strings, fixed))
            message.string = fixed if isinstance(message.string, tuple) else fixed[0]
    for old, new in changed:
        print(f"{old[0]}\n  -> {new[0]}")
    if check:
        return 1 if changed else 0
    with open(path, "wb") as f:
        write_po(f, catalog, omit_header=False, sort_output=True, no_location=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
