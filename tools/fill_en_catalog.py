"""Fill the English catalogue: each msgstr is its msgid (the source language is English)."""

import sys

from babel.messages.pofile import read_po, write_po

path = sys.argv[1]
with open(path, "rb") as f:
    catalog = read_po(f, locale="en")
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, tuple):
        message.string = tuple(message.id[:2])
    else:
        message.string = message.id
with open(path, "wb") as f:
    write_po(f, catalog, omit_header=False, sort_output=True, no_location=True)
