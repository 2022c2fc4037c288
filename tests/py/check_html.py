"""Checks an HTML report: well-formed (it is written as XML-compatible
markup), self-contained (no src or href pointing anywhere but inside the
page), and holding each of the given texts.

usage: check_html.py FILE TEXT...
"""
import re
import sys
import xml.etree.ElementTree as ET

path, *texts = sys.argv[1:]
page = open(path, encoding="utf-8").read()
assert page.startswith("<!DOCTYPE html>\n"), "no doctype"
root = ET.fromstring(page.split("\n", 1)[1])
assert root.tag == "html", root.tag
for el in root.iter():
    for attr in ("src", "href"):
        value = el.get(attr)
        if value is not None and not value.startswith("#"):
            sys.exit(f"external reference: <{el.tag} {attr}={value!r}>")
# Nothing that a browser would fetch, even in CSS or script.
for pattern in (r"url\(", r"@import", r"https?://(?!www\.w3\.org/2000/svg)"):
    if re.search(pattern, page):
        sys.exit(f"the page refers outside itself: {pattern}")
for text in texts:
    if text not in page:
        sys.exit(f"missing: {text!r}")
print("ok")
