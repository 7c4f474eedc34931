"""Generated pages in the shapes documentation generators write, for the HTML loader's tests.

Each builder takes the sections of a small manual and writes them as that generator does:
texinfo (a navigation line before each section, a table of contents repeating the headings),
DocBook (navigation tables, a captioned table of contents), Sphinx (permalink "¶" in every
heading, one <h1> per part) and Node's API docs ("#" permalinks, a copy button and an ESM
and a CJS listing in one <pre>). Paragraph text is distinct prose, so the article extractor
reads the page as a real manual, not as repeated filler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_SUBJECTS = ["The tally command", "Each counter", "The report", "A saved profile", "The daemon",
             "Every rule file", "The summary table", "An archived log", "The scheduler",
             "Each worker thread", "The cache directory", "A dry run"]
_VERBS = ["records", "rounds", "prints", "merges", "ignores", "compresses", "rotates",
          "validates", "exports", "caches", "sorts", "skips"]
_OBJECTS = ["the elapsed time of every child process", "memory use to the nearest kilobyte",
            "one line per finished job", "counters from several hosts into one file",
            "blank lines in the configuration", "old reports after thirty days",
            "its output file when it grows past the limit", "each rule before the first run",
            "results as comma-separated values", "lookups for an hour by default",
            "entries by their start time", "jobs that finished with an error"]


def prose(seed: int, sentences: int = 3) -> str:
    """A paragraph of distinct sentences, the same for the same seed."""
    out = []
    for n in range(sentences):
        k = seed * 7 + n * 5
        out.append(f"{_SUBJECTS[k % 12]} {_VERBS[(k // 3 + n) % 12]} "
                   f"{_OBJECTS[(k // 2 + seed) % 12]} in mode {seed}.{n}.")
    return " ".join(out)


@dataclass
class Section:
    """A section of a manual: its number ("1.2"), title, paragraphs and code listing."""

    number: str
    title: str
    paragraphs: list[str]
    code: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return self.title.replace(" ", "-")

    @property
    def heading(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def level(self) -> int:
        return self.number.count(".") + 2


def manual(sections: int = 6, code_in: int = -1) -> list[Section]:
    """A manual of chapters with sections ("1", "1.1", "1.2", "2", ...), prose in each."""
    titles = ["Measuring Resources", "Setting the Format", "The Format String", "Writing Reports",
              "Redirecting Output", "Accuracy of Counters", "Running Jobs", "Reporting Bugs"]
    out = []
    for index in range(sections):
        number = str(index // 3 + 1) if index % 3 == 0 else f"{index // 3 + 1}.{index % 3}"
        code = (["int main(void)", "{", "    tally_start();", "    return 0;", "}"]
                if index == code_in else [])
        out.append(Section(number, titles[index % len(titles)],
                           [prose(index * 3 + n) for n in range(3)], code))
    return out


def texinfo_page(sections: list[Section], title: str = "Tally Manual") -> str:
    """A texinfo (makeinfo --html) single page: navigation lines, a table of contents."""
    toc = "\n".join(f'<li><a id="toc-{s.anchor}" href="#{s.anchor}">{s.heading}</a></li>'
                    for s in sections)
    parts = [f"<!DOCTYPE html>\n<html>\n<head>\n<title>{title}</title>\n"
             '<meta name="generator" content="makeinfo">\n</head>\n<body lang="en">\n'
             f'<h1 class="settitle" align="center">{title}</h1>\n'
             '<div class="Contents_element" id="SEC_Contents">\n'
             '<h2 class="contents-heading">Table of Contents</h2>\n'
             f'<div class="contents">\n<ul class="no-bullet">\n{toc}\n</ul>\n</div>\n</div>\n<hr>']
    for index, section in enumerate(sections):
        links = []
        if index + 1 < len(sections):
            following = sections[index + 1]
            links.append(f'Next: <a href="#{following.anchor}" accesskey="n" rel="next">'
                         f'{following.title}</a>')
        if index:
            previous = sections[index - 1]
            links.append(f'Previous: <a href="#{previous.anchor}" accesskey="p" rel="prev">'
                         f'{previous.title}</a>')
        parts.append(
            f'<div class="section" id="{section.anchor}">\n<div class="header">\n<p>\n'
            + ", ".join(links)
            + ' &nbsp; [<a href="#SEC_Contents" title="Table of contents" rel="contents">'
            'Contents</a>]</p>\n</div>\n'
            f'<span id="{section.anchor}-1"></span><h{section.level} class="section">'
            f"{section.heading}</h{section.level}>\n")
        for paragraph in section.paragraphs:
            parts.append(f"<p>{paragraph}\n</p>")
        if section.code:
            lines = "\n".join(section.code)
            parts.append(f'<div class="example">\n<pre class="example">{lines}\n</pre></div>')
        parts.append("<hr>\n</div>")
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


def docbook_page(sections: list[Section], title: str = "4. Tally: a resource counter",
                 page_title: str = "") -> str:
    """A DocBook XSL chapter: navigation tables, a captioned table of contents, sect1s.

    The chapter's <h1> is `title`, and so is the page's <title> unless `page_title` is given.
    """
    toc = "\n".join(f'<dt><span class="sect1"><a href="tally.html#{s.anchor}">{s.heading}</a>'
                    "</span></dt>" for s in sections)
    parts = [f'<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; '
             f'charset=UTF-8">\n<title>{page_title or title}</title>\n'
             '<link rel="prev" href="core.html" title="3. The core">\n</head>\n<body>\n'
             '<div><table class="nav" width="100%" summary="Navigation header"><tr>\n'
             '<td><a accesskey="p" href="core.html"><img src="prev.png" alt="Prev"></a></td>\n'
             '<th align="center">Tally User Manual</th>\n'
             '<td><a accesskey="n" href="next.html"><img src="next.png" alt="Next"></a></td>\n'
             '</tr></table></div>\n<div class="chapter">\n'
             f'<div class="titlepage"><div><div><h1 class="title">\n<a name="tally"></a>{title}'
             '</h1></div></div></div>\n<div class="toc">\n<p><b>Table of Contents</b></p>\n'
             f'<dl class="toc">\n{toc}\n</dl>\n</div>']
    for section in sections:
        parts.append(f'<div class="sect1">\n<div class="titlepage"><div><div><h2 class="title">'
                     f'\n<a name="{section.anchor}"></a>{section.heading}</h2></div></div></div>')
        parts += [f"<p>{paragraph}</p>" for paragraph in section.paragraphs]
        parts.append("</div>")
    parts.append('</div>\n<div><br>\n<table class="nav" width="100%" summary="Navigation footer">'
                 '\n<tr>\n<td rowspan="2" width="40%" align="left">\n'
                 '<a accesskey="p" href="core.html">&lt;&lt; 3. The core</a> </td>\n'
                 '<td width="20%" align="center"><a accesskey="u" href="manual.html">Up</a></td>\n'
                 '<td rowspan="2" width="40%" align="right"> <a accesskey="n" href="next.html">'
                 "5. Cachegrind: a profiler &gt;&gt;</a>\n</td>\n</tr>\n"
                 '<tr><td width="20%" align="center"><a accesskey="h" href="index.html">Home</a>'
                 "</td></tr>\n</table>\n</div>\n</body>\n</html>\n")
    return "\n".join(parts)


def sphinx_page(parts: list[tuple[str, list[Section]]],
                title: str = "Tally Policy 1.0 documentation") -> str:
    """A Sphinx single page: one <h1> per part, headings ending in a "¶" permalink."""
    out = [f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
           f"<title>{title}</title>\n</head><body>\n"
           '<div class="document">\n<div class="body" role="main">']
    for name, sections in parts:
        anchor = name.lower().replace(" ", "-")
        out.append(f'<section id="{anchor}">\n<h1>{name}<a class="headerlink" href="#{anchor}" '
                   'title="Permalink to this heading">¶</a></h1>')
        for section in sections:
            out.append(f'<section id="{section.anchor}">\n<h{section.level}>'
                       f'<span class="section-number">{section.number}. </span>{section.title}'
                       f'<a class="headerlink" href="#{section.anchor}" '
                       f'title="Permalink to this heading">¶</a></h{section.level}>')
            out += [f"<p>{paragraph}</p>" for paragraph in section.paragraphs]
            out.append("</section>")
        out.append("</section>")
    out.append("</div>\n</div>\n</body>\n</html>\n")
    return "\n".join(out)


def node_api_page(module: str, sections: list[Section], esm: list[str], cjs: list[str]) -> str:
    """A Node.js API page: "#" permalinks, an ESM and a CJS listing and a copy button."""
    out = [f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           f"<title>{module} | Node.js Documentation</title>\n</head>\n<body>\n"
           '<div id="content" class="clearfix">\n<div role="main" id="apicontent">\n'
           f'<section><h2>{module}<span><a class="mark" href="#{module.lower()}" '
           f'id="{module.lower()}">#</a></span></h2>\n'
           f"<p>{prose(40)}</p>\n"
           '<pre class="with-32-chars"><input class="js-flavor-toggle" type="checkbox" checked '
           'aria-label="Show modern ES modules syntax"><code class="language-js mjs">'
           + "\n".join(esm) + '</code><code class="language-js cjs">' + "\n".join(cjs)
           + '</code><button class="copy-button">copy</button></pre>']
    for section in sections:
        out.append(f'<section><h3>{section.title}<span><a class="mark" href="#{section.anchor}" '
                   f'id="{section.anchor}">#</a></span></h3>')
        out += [f"<p>{paragraph}</p>" for paragraph in section.paragraphs]
        out.append("</section>")
    out.append("</section>\n</div>\n</div>\n</body>\n</html>\n")
    return "\n".join(out)
