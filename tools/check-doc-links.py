#!/usr/bin/env python3
# Checks the links of the generated API reference (issue #22):
#
#   check-doc-links.py DOCS_DIR
#
# Every relative link of every page must name a file of the reference
# and, with a #fragment, an id of that page. The guide and the reference
# must link both ways: the index links to guide.html, and guide.html
# links to reference pages (tools/docs-guide.py makes those links).
# Links to other sites are not followed: the build has no network. The
# index's Website and Source rows must be filled in with a real address
# (not a placeholder such as example.org), the one meson.build names.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse


# Domains reserved for examples (RFC 2606): a row pointing there is a
# placeholder, not the project's address.
PLACEHOLDERS = ("example.org", "example.com", "example.net", "localhost")


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []
        self.rows = {}          # the first cell's text -> the links of the row
        self._row = None

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            label, links = self._row
            self.rows[label.strip()] = links
            self._row = None

    def handle_data(self, data):
        if self._row is not None and not self._row[1]:
            self._row[0] += data

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
            if self._row is not None:
                self._row[1].append(attrs["href"])
        if tag == "tr":
            self._row = ["", []]


def parse(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def main():
    root = Path(sys.argv[1])
    pages = {p.relative_to(root).as_posix(): parse(p) for p in sorted(root.rglob("*.html"))}
    if "index.html" not in pages or "guide.html" not in pages:
        print(f"FAIL: {root} has no index.html or no guide.html")
        return 1

    broken = []
    checked = 0
    for label in ("Website", "Source"):
        urls = pages["index.html"].rows.get(label, [])
        if not urls:
            broken.append(f"index.html has no {label} row with a link")
        for url in urls:
            host = urlparse(url).hostname or ""
            if urlparse(url).scheme != "https" or any(
                    host == p or host.endswith("." + p) for p in PLACEHOLDERS):
                broken.append(f"index.html: the {label} row is a placeholder: {url}")
    for name, page in pages.items():
        for href in page.links:
            if urlparse(href).scheme or href.startswith("//"):
                continue
            target, fragment = urldefrag(href)
            path = (Path(name).parent / unquote(target)).as_posix() if target else name
            path = Path(path).as_posix()
            checked += 1
            if not (root / path).exists():
                broken.append(f"{name}: {href}: no such file")
            elif fragment and path in pages and unquote(fragment) not in pages[path].ids:
                broken.append(f"{name}: {href}: no id {fragment!r} there")

    to_guide = [h for h in pages["index.html"].links if urldefrag(h)[0] == "guide.html"]
    to_reference = {urldefrag(h)[0] for h in pages["guide.html"].links
                    if not urlparse(h).scheme and urldefrag(h)[0].split(".")[0]
                    in ("func", "method", "ctor", "struct", "enum", "callback", "type_func")}
    if not to_guide:
        broken.append("index.html does not link to guide.html")
    if len(to_reference) < 20:
        broken.append(f"guide.html links to only {len(to_reference)} reference pages")

    for line in broken:
        print("FAIL:", line)
    print(f"{len(pages)} pages, {checked} relative links, "
          f"the guide links to {len(to_reference)} reference pages")
    return 1 if broken else 0


sys.exit(main())
