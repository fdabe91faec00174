"""Fill Chinese translations into the catalogue from a JSON file of {msgid: msgstr}.

    .venv/bin/python tools/translate.py new.json

A plural entry's key is its singular msgid and its value a list ([one form] suffices for
Chinese, which has a single plural form). Entries the file does not name are left as they are;
a msgid the catalogue lacks is reported (run `make i18n-extract` first)."""

import json
import sys

from babel.messages.pofile import read_po, write_po

PATH = "corrections/translations/zh_Hans_CN/LC_MESSAGES/messages.po"

with open(sys.argv[1], encoding="utf-8") as f:
    wanted = json.load(f)
with open(PATH, "rb") as f:
    catalog = read_po(f, locale="zh_Hans_CN")
by_key = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}
missing = []
for key, value in wanted.items():
    message = by_key.get(key)
    if message is None:
        missing.append(key)
        continue
    if isinstance(message.id, tuple):
        forms = value if isinstance(value, list) else [value]
        message.string = tuple(forms[:1])
    else:
        message.string = value
    message.flags.discard("fuzzy")
with open(PATH, "wb") as f:
    write_po(f, catalog, omit_header=False, sort_output=True, no_location=True)
if missing:
    sys.exit(f"not in the catalogue: {missing}")
