#!/usr/bin/env python3
# Makes the API reference's content page from docs/guide.md (issue #22):
#
#   docs-guide.py GUIDE GIR BROWSE_URL OUTPUT
#
# The guide stays plain Markdown that reads well in the repository; the
# copy gi-docgen renders gets
#   - a Title, so the reference lists it by name;
#   - each `kaa_function()` and `KaaType` of the prose as a gi-docgen link
#     ([func@Kaa.await], [struct@Kaa.InProgress], ...) to its page, found
#     in the GIR (not those bindings cannot call: they have no page);
#     gi-docgen --fatal-warnings fails on one it cannot find;
#   - each relative link to a file of the repository (examples/x.c,
#     ../tests/test-gi.py) pointing into the repository at BROWSE_URL,
#     since those files are not part of the reference.
# Code blocks are left as they are. tools/check-doc-links.py then checks
# every link of the generated reference.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import posixpath
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

CORE = "{http://www.gtk.org/introspection/core/1.0}"
C = "{http://www.gtk.org/introspection/c/1.0}"

TYPE_KINDS = {"record": "struct", "enumeration": "enum", "bitfield": "flags",
              "callback": "callback", "class": "class", "interface": "iface",
              "alias": "alias"}


def gir_links(gir_path):
    """C name → gi-docgen link target, e.g. kaa_await → func@Kaa.await."""
    ns = ET.parse(gir_path).getroot().find(CORE + "namespace")
    name = ns.get("name")
    links = {}
    # gi-docgen leaves out what bindings cannot call: those stay code.
    for node in ns:
        if node.get("introspectable") == "0":
            continue
        tag = node.tag[len(CORE):]
        # The scanner may list a type's function at the top level too;
        # gi-docgen documents it with its type, which comes first here.
        if tag == "function":
            links.setdefault(node.get(C + "identifier"), f"func@{name}.{node.get('name')}")
        if tag not in TYPE_KINDS:
            continue
        type_name = node.get("name")
        c_type = node.get(C + "type")
        if c_type:
            links[c_type] = f"{TYPE_KINDS[tag]}@{name}.{type_name}"
        for member in node:
            if member.get("introspectable") == "0":
                continue
            kind = {"method": "method", "constructor": "ctor",
                    "function": "func"}.get(member.tag[len(CORE):])
            if kind:
                links[member.get(C + "identifier")] = \
                    f"{kind}@{name}.{type_name}.{member.get('name')}"
    return links


def link_prose(text, links):
    def code(m):
        ident, call = m.group(1), m.group(2)
        target = links.get(ident)
        return f"[{target}]" if target else m.group(0)

    return re.sub(r"`(kaa_\w+|Kaa\w+)(\(\))?`", code, text)


def link_files(text, browse_url):
    def repl(m):
        label, target = m.group(1), m.group(2)
        if re.match(r"[a-z]+:|#", target):
            return m.group(0)
        path, _, fragment = target.partition("#")
        path = posixpath.normpath(posixpath.join("docs", path))
        url = f"{browse_url}/{path}" + (f"#{fragment}" if fragment else "")
        return f"[{label}]({url})"

    return re.sub(r"\[([^\]]*)\]\(([^)\s]+)\)", repl, text)


def main():
    guide, gir, browse_url, output = sys.argv[1:5]
    links = gir_links(gir)
    parts = re.split(r"(```.*?```)", Path(guide).read_text(), flags=re.S)
    for i in range(0, len(parts), 2):       # the prose, not the code blocks
        parts[i] = link_files(link_prose(parts[i], links), browse_url.rstrip("/"))
    Path(output).write_text("Title: The libkaa guide\n\n" + "".join(parts))


main()
