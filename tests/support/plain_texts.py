"""Plain texts laid out the way tools and people lay them out: a man page as `man` prints it
(`MANWIDTH=80 man -P cat`), an RFC, and text a reader never joins (a poem, an address, code).

Everything is generated here from sentences written for the tests: no real document is copied.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

MAN_WIDTH = 80
SECTION_INDENT = 0
SUBSECTION_INDENT = 3
BODY_INDENT = 7
OPTION_BODY_INDENT = 14
RFC_BODY_INDENT = 3
RFC_WIDTH = 72


@dataclass
class Option:
    """An option line and its description, as a man page's tagged paragraph."""

    term: str
    description: str


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    subsection: str = ""  # a subsection heading above the options


def _wrap(text: str, indent: int, width: int = MAN_WIDTH) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(text, width=width, initial_indent=pad, subsequent_indent=pad)


def man_page(name: str, section: str, sections: list[Section], *,
             summary: str = "do something useful") -> str:
    """A man page as `man -P cat` prints it at 80 columns: a running header, NAME, the given
    sections (heading at column 0, text at column 7, options at 7 with their description at
    14, no blank line under a heading or an option line) and a running footer."""
    tag = f"{name.upper()}({section})"
    middle = "User Commands"
    gap = MAN_WIDTH - 2 * len(tag) - len(middle)
    lines = [tag + " " * (gap // 2) + middle + " " * (gap - gap // 2) + tag, ""]
    lines += ["NAME", " " * BODY_INDENT + f"{name} - {summary}", ""]
    for part in sections:
        lines.append(" " * SECTION_INDENT + part.heading)
        for i, paragraph in enumerate(part.paragraphs):
            if i:
                lines.append("")
            lines += _wrap(paragraph, BODY_INDENT)
        if part.subsection:
            lines.append(" " * SUBSECTION_INDENT + part.subsection)
        for i, option in enumerate(part.options):
            if i:
                lines.append("")
            lines.append(" " * BODY_INDENT + option.term)
            lines += _wrap(option.description, OPTION_BODY_INDENT)
        lines.append("")
    footer_left, footer_middle = "frobtools 1.0", "2024-01-01"
    gap = MAN_WIDTH - len(footer_left) - len(footer_middle) - len(tag)
    lines.append(footer_left + " " * (gap // 2) + footer_middle + " " * (gap - gap // 2) + tag)
    return "\n".join(lines) + "\n"


EXIT_STATUS = ("Normally the exit status is 0 if a line is selected, 1 if no lines were "
               "selected, and 2 if an error occurred. However, if the quiet option is used "
               "and a line is selected, the exit status is 0 even if an error occurred.")
LOCATION = ("If the server reports that the requested page has moved to a different "
            "location, this option will make frob redo the request on the new place. "
            "When authentication is used, frob only sends its credentials to the initial "
            "host.")
IGNORE_CASE = ("Ignore case distinctions in patterns and input data, so that characters "
               "that differ only in case match each other.")


def frob_man_page() -> str:
    """The man page of a made-up tool, `frob`, with the layouts that matter."""
    return man_page("frob", "1", [
        Section("DESCRIPTION", [
            "frob searches for PATTERNS in each FILE and prints each line that matches a "
            "pattern. Typically PATTERNS should be quoted when frob is used in a shell "
            "command.",
        ]),
        Section("OPTIONS", subsection="Matching Control", options=[
            Option("-i, --ignore-case", IGNORE_CASE),
            Option("-L, --location", LOCATION),
        ]),
        Section("EXIT STATUS", [EXIT_STATUS]),
    ], summary="print lines that match patterns")


def rfc() -> str:
    """An RFC-like memo: a header block, a centred title, "Abstract", numbered sections at
    column 0 with their text at column 3, and terms defined with their text at column 6."""
    def para(text: str) -> list[str]:
        return _wrap(text, RFC_BODY_INDENT, RFC_WIDTH) + [""]

    lines = [
        "Network Working Group" + " " * 40 + "A. Writer",
        "Request for Comments: 9999" + " " * 31 + "Example Org",
        "Category: Informational" + " " * 35 + "March 2024",
        "",
        "",
        " " * 22 + "The Example Widget Protocol",
        "",
        "Abstract",
        "",
        *para("This memo describes the Example Widget Protocol, a way for two hosts to "
              "exchange widgets over a reliable transport such as TCP."),
        "1.  Introduction",
        "",
        *para("The Example Widget Protocol lets a client ask a server for a widget by its "
              "name. Widgets are opaque byte strings of at most 1024 octets, and a server "
              "answers every request with exactly one widget or one error."),
        "1.1.  Terminology",
        "",
        "   widget",
        *_wrap("An opaque byte string that a server holds under a name and hands out to any "
               "client that asks for it by that name.", 6, RFC_WIDTH),
        "",
        "   server",
        *_wrap("A host that listens on port 7777 and answers widget requests.", 6, RFC_WIDTH),
        "",
        "2.  Protocol Overview",
        "",
        *para("A client opens a connection and sends one request per line; the server "
              "closes the connection after ten idle seconds."),
    ]
    return "\n".join(lines)


POEM = """The Tide Clock

The kitchen clock runs on the tide,
    it never tells the hour,
it counts the boats that come inside
    and the gulls upon the tower.

My grandmother wound it every night
with a key shaped like a fish
"""

ADDRESS = """Mrs Jane Doe
    Flat 4, Rose Court
    12 High Street
    Little Snoring
    Norfolk NR21 0AA
"""

CODE = """Compute the area like this:

def area(width, height):
    result = width * height
    return result

for shape in shapes:
    print(area(shape.width, shape.height))
"""

# A title framed by marks, laid out with wide gaps like a man page's running header, and a
# closing line framed the same way: both are text, not a running header and footer.
FRAMED = """=====  Harbour Rules  =====

Boats must moor at the east pier after dark.
The harbour master keeps the keys.

=====  End of the Rules  =====
"""
