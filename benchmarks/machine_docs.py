"""Rebuild the machine-docs corpus: 50 documents nobody here wrote, from this machine's files.

A tester gathered 50 documents already on the development machine (Debian 12, the project's
virtualenv) to ask quotebot questions about documents nobody on the project had read or
tuned on; benchmarks/questions/machine-docs.jsonl (40 questions) and man-pages.jsonl (25)
are asked over them. The documents are not ours to commit, so this script makes them again
from where they came from, each listed in SOURCES below with its exact source and package:

- 4 PDF, 14 HTML and 4 Markdown files under /usr/share/doc (two PDFs are gunzipped);
- 12 Markdown files that are `*.dist-info/METADATA` of the virtualenv (a PyPI package's
  README), and 2 Markdown files shipped inside packages, copied under a `.md` name;
- 10 man pages as text: `MANWIDTH=80 man -P cat NAME`, in the C.UTF-8 locale;
- 4 Word files written with python-docx from /usr/share/common-licenses/{GPL-3,Apache-2.0,
  MPL-2.0} and /usr/share/doc/base-passwd/README (`make_docx`: one heading per short line,
  one paragraph per block of lines).

Every file made is checked against the tester's copy by SHA-256 (the first 16 hex digits
below); a Word file's zip holds timestamps, so for those the hash is of its text (title,
then each paragraph's style and text). A file whose source is missing (a package not
installed, another version of it) is named with the package it needs, and the rest are
still made. The exit status is 1 when any file could not be made or differs: figures on
such a corpus are not comparable with ones on the full corpus.

    python benchmarks/machine_docs.py [CORPUS_DIR] [--compare DIR]

Run it with the project's virtualenv's python (the 14 Markdown files from site-packages
are looked for in the running interpreter's) from the repository root: CORPUS_DIR defaults
to .quotebot/eval/machine-docs/corpus (git-ignored), where the rerun command in
BENCHMARKS.md looks for it. --compare DIR also compares each file with the file of the
same name in DIR (bytes; text for Word files).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

DEFAULT_CORPUS = Path(".quotebot") / "eval" / "machine-docs" / "corpus"
DOC = "/usr/share/doc"
LICENSES = "/usr/share/common-licenses"

# (file name, how it is made, source, package it comes from, first 16 hex of its SHA-256)
#   file: copied; gunzip: decompressed; man: `man -P cat` of that page; site: copied from
#   the virtualenv's site-packages; docx: make_docx(source, DOCX_TITLES[name]) (the hash
#   is of docx_text). Package: "deb NAME VERSION" (Debian) or "pip NAME VERSION".
SOURCES: list[tuple[str, str, str, str, str]] = [
    # PDF
    ("bzip2-manual.pdf", "gunzip", f"{DOC}/bzip2/manual.pdf.gz",
     "deb bzip2-doc 1.0.8-5", "1dd1f12b3dcb0894"),
    ("fontconfig-user.pdf", "gunzip", f"{DOC}/fontconfig/fontconfig-user.pdf.gz",
     "deb fontconfig 2.14.1-4", "8851a84c668b2226"),
    ("libtasn1.pdf", "file", f"{DOC}/libtasn1-doc/libtasn1.pdf",
     "deb libtasn1-doc 4.19.0-2+deb12u1", "3917eb460d87e275"),
    ("shared-mime-info-spec.pdf", "file", f"{DOC}/shared-mime-info/shared-mime-info-spec.pdf",
     "deb shared-mime-info 2.2-1", "4d9666c46b4d367a"),
    # Word, made here from plain text
    ("gpl-3.docx", "docx", f"{LICENSES}/GPL-3",
     "deb base-files 12.4+deb12u11", "9a64cf0dce1ac4f4"),
    ("apache-2.0.docx", "docx", f"{LICENSES}/Apache-2.0",
     "deb base-files 12.4+deb12u11", "67bccf10b723295a"),
    ("mpl-2.0.docx", "docx", f"{LICENSES}/MPL-2.0",
     "deb base-files 12.4+deb12u11", "bcfacd7ab993ec09"),
    ("base-passwd-readme.docx", "docx", f"{DOC}/base-passwd/README",
     "deb base-passwd 3.6.1", "2008a49ca4596b0a"),
    # HTML
    ("bc.html", "file", f"{DOC}/bc/bc.html", "deb bc 1.07.1-3+b1", "000be77758b76a09"),
    ("expat-reference.html", "file", f"{DOC}/libexpat1-dev/expat.html/reference.html",
     "deb libexpat1-dev 2.5.0-1+deb12u1", "8cfd380f135b6722"),
    ("libffi-closure-api.html", "file", f"{DOC}/libffi8/html/The-Closure-API.html",
     "deb libffi-dev 3.4.4-1", "05d13136fcc67ead"),
    ("libxslt-tutorial.html", "file", f"{DOC}/libxslt1-dev/html/tutorial/libxslttutorial.html",
     "deb libxslt1-dev 1.1.35-1+deb12u3", "6c7cc25ffe3837e7"),
    ("ninja-manual.html", "file", f"{DOC}/ninja-build/manual.html",
     "deb ninja-build 1.11.1-2~deb12u1", "b1a2f010c30cfe7d"),
    ("node-dns.html", "file", f"{DOC}/nodejs/api/dns.html",
     "deb nodejs 20.20.2-1nodesource1+repack1", "d991f39f862a0412"),
    ("node-readline.html", "file", f"{DOC}/nodejs/api/readline.html",
     "deb nodejs 20.20.2-1nodesource1+repack1", "fb47741466a33b62"),
    ("python-policy.html", "file", f"{DOC}/python3/python-policy.html",
     "deb python3-dev 3.11.2-1+b1", "5272c69f91d3421d"),
    ("time.html", "file", f"{DOC}/time/time.html", "deb time 1.9-0.2", "e90753640f8ca23c"),
    ("users-and-groups.html", "file", f"{DOC}/base-passwd/users-and-groups.html",
     "deb base-passwd 3.6.1", "0d3faf981eddd55f"),
    ("valgrind-faq.html", "file", f"{DOC}/valgrind/html/faq.html",
     "deb valgrind 1:3.19.0-1", "c91ad7b15297bb1c"),
    ("valgrind-memcheck.html", "file", f"{DOC}/valgrind/html/mc-manual.html",
     "deb valgrind 1:3.19.0-1", "b3798d930e990642"),
    ("valgrind-quick-start.html", "file", f"{DOC}/valgrind/html/quick-start.html",
     "deb valgrind 1:3.19.0-1", "2647941ea76d5b40"),
    ("xtrans.html", "file", f"{DOC}/xtrans-dev/xtrans.html",
     "deb xtrans-dev 1.4.0-1", "252df95bddd7d559"),
    # Markdown under /usr/share/doc
    ("node-events.md", "file", f"{DOC}/nodejs/api/events.md",
     "deb nodejs 20.20.2-1nodesource1+repack1", "ff2d3f7e5c961ca6"),
    ("node-path.md", "file", f"{DOC}/nodejs/api/path.md",
     "deb nodejs 20.20.2-1nodesource1+repack1", "742b6c9e70b6b871"),
    ("node-worker-threads.md", "file", f"{DOC}/nodejs/api/worker_threads.md",
     "deb nodejs 20.20.2-1nodesource1+repack1", "d6a78542d035d99d"),
    ("shared-mime-info-README.md", "file", f"{DOC}/shared-mime-info/README.md",
     "deb shared-mime-info 2.2-1", "3b87431e20d0062d"),
    # Markdown from the virtualenv (paths under site-packages)
    ("bm25s-README.md", "site", "bm25s-0.3.16.dist-info/METADATA",
     "pip bm25s 0.3.16", "55f1cf1cff7ff14a"),
    ("charset_normalizer-README.md", "site", "charset_normalizer-3.5.3.dist-info/METADATA",
     "pip charset-normalizer 3.5.3", "e2670ffc491022eb"),
    ("cloudpickle-README.md", "site", "cloudpickle-3.1.3.dist-info/METADATA",
     "pip cloudpickle 3.1.3", "29419274b4938274"),
    ("dateparser-README.md", "site", "dateparser-1.5.0.dist-info/METADATA",
     "pip dateparser 1.5.0", "9e7ec636c9fd69b7"),
    ("h11-README.md", "site", "h11-0.16.0.dist-info/METADATA",
     "pip h11 0.16.0", "28f326098ac09fcb"),
    ("portalocker-README.md", "site", "portalocker-4.4.2.dist-info/METADATA",
     "pip portalocker 4.4.2", "b6781e39a9cd00ec"),
    ("pytz-README.md", "site", "pytz-2026.6.dist-info/METADATA",
     "pip pytz 2026.6", "25de974e5d389a44"),
    ("regex-README.md", "site", "regex-2026.12.2.dist-info/METADATA",
     "pip regex 2026.12.2", "f4eebc2f2077fd13"),
    ("sortedcontainers-README.md", "site", "sortedcontainers-2.4.0.dist-info/METADATA",
     "pip sortedcontainers 2.4.0", "eedf115109e21500"),
    ("threadpoolctl-README.md", "site", "threadpoolctl-3.8.0.dist-info/METADATA",
     "pip threadpoolctl 3.8.0", "029ce653dcfe225e"),
    ("tld-README.md", "site", "tld-0.13.2.dist-info/METADATA",
     "pip tld 0.13.2", "1f8aa17edf7c1aed"),
    ("tqdm-README.md", "site", "tqdm-4.70.1.dist-info/METADATA",
     "pip tqdm 4.70.1", "a5da70b966afea3a"),
    ("mdit-texmath-README.md", "site", "mdit_py_plugins/texmath/README.md",
     "pip mdit-py-plugins 0.7.0", "82de8b49d7568431"),
    ("onnxruntime-privacy.md", "site", "onnxruntime/Privacy.md",
     "pip onnxruntime 1.32.0", "ea592b16d154ff2d"),
    # man pages as text
    ("man-chmod.txt", "man", "chmod", "deb coreutils 9.1-1", "adeb77eb1da7516c"),
    ("man-curl.txt", "man", "curl", "deb curl 7.88.1-10+deb12u14", "1a35a5f73a9cfd41"),
    ("man-dpkg-deb.txt", "man", "dpkg-deb", "deb dpkg 1.21.22", "744ab00d67c7736b"),
    ("man-find.txt", "man", "find", "deb findutils 4.9.0-4", "543871553f2a5a58"),
    ("man-flock.txt", "man", "flock", "deb util-linux 2.38.1-5+deb12u3", "b2bf3233dd13a7d5"),
    ("man-grep.txt", "man", "grep", "deb grep 3.8-5", "946ed19f16030c06"),
    ("man-make.txt", "man", "make", "deb make 4.3-4.1", "e5efa339a392f866"),
    ("man-ssh.txt", "man", "ssh", "deb openssh-client 1:9.2p1-2+deb12u6", "a7c009e09c8d223c"),
    ("man-tar.txt", "man", "tar", "deb tar 1.34+dfsg-1.2+deb12u1", "c3494dc72b253ce6"),
    ("man-xargs.txt", "man", "xargs", "deb findutils 4.9.0-4", "2d54804e86b951ee"),
]
DOCX_TITLES = {
    "gpl-3.docx": "GNU General Public License v3",
    "apache-2.0.docx": "Apache License 2.0",
    "mpl-2.0.docx": "Mozilla Public License 2.0",
    "base-passwd-readme.docx": "base-passwd README",
}
# The man pages were printed by man-db 2.11.2-2 and groff-base 1.22.4-10.
MAN_ENV = {"MANWIDTH": "80", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
MAN_ENV_DROP = ("MANPAGER", "PAGER", "MANOPT", "MANROFFOPT", "MAN_KEEP_FORMATTING",
                "GROFF_NO_SGR", "GROFF_SGR", "MANSECT", "MANPATH")


class Missing(Exception):
    """The file cannot be made on this machine: the message says what is needed."""


def make_docx(src: Path, dst: Path, title: str) -> None:
    """The tester's make_docx.py: a title, then per blank-line-separated block a heading
    (a single short line not ending in punctuation, or "N. Title.") or a paragraph."""
    import docx

    text = src.read_text(encoding="utf-8", errors="replace")
    paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    d = docx.Document()
    d.add_heading(title, level=0)
    for p in paras:
        lines = [line.strip() for line in p.splitlines()]
        joined = " ".join(line for line in lines if line)
        short = len(lines) == 1 and len(joined) < 70
        if (short and not joined.endswith((".", ",", ";", ":"))
                or re.fullmatch(r"\d+\. [A-Z][^.]{0,60}\.", joined)):
            d.add_heading(joined, level=2)
        else:
            d.add_paragraph(joined)
    d.core_properties.title = title
    d.save(str(dst))


def docx_text(path: Path) -> str:
    """What a Word file says, without its zip timestamps: title, then style and text."""
    import docx

    d = docx.Document(str(path))
    lines = [d.core_properties.title or ""]
    lines += [f"{p.style.name}\t{p.text}" for p in d.paragraphs]
    return "\n".join(lines) + "\n"


def digest(path: Path) -> str:
    data = docx_text(path).encode() if path.suffix == ".docx" else path.read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


def install_hint(package: str) -> str:
    kind, name, version = package.split()
    if kind == "deb":
        return f"install the Debian package {name} (the tester's was {version})"
    try:
        installed = f"{name} {importlib.metadata.version(name)} is installed"
    except importlib.metadata.PackageNotFoundError:
        installed = f"{name} is not installed"
    return f"needs `pip install {name}=={version}` ({installed})"


def need(path: Path, package: str) -> Path:
    if not path.is_file():
        raise Missing(f"{path} is missing: {install_hint(package)}")
    return path


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def man_page(name: str, package: str) -> bytes:
    if shutil.which("man") is None:
        raise Missing("`man` is not installed: install man-db (and groff-base)")
    env = {k: v for k, v in os.environ.items() if k not in MAN_ENV_DROP}
    env.update(MAN_ENV)
    done = subprocess.run(["man", "-P", "cat", name], env=env, capture_output=True)
    if done.returncode != 0 or not done.stdout:
        why = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
        raise Missing(f"`man {name}` failed ({why}): {install_hint(package)}; in a slim "
                      "image, also allow /usr/share/man in /etc/dpkg/dpkg.cfg.d and reinstall")
    return done.stdout


def make(name: str, how: str, source: str, package: str, out: Path) -> None:
    """Write corpus file `name` into `out`, or raise Missing."""
    dst = out / name
    if how == "file":
        dst.write_bytes(need(Path(source), package).read_bytes())
    elif how == "gunzip":
        dst.write_bytes(gzip.decompress(need(Path(source), package).read_bytes()))
    elif how == "site":
        dst.write_bytes(need(site_packages() / source, package).read_bytes())
    elif how == "man":
        dst.write_bytes(man_page(source, package))
    elif how == "docx":
        try:
            import docx  # noqa: F401
        except ImportError as exc:
            raise Missing("python-docx is not installed: `pip install python-docx`") from exc
        make_docx(need(Path(source), package), dst, DOCX_TITLES[name])
    else:
        raise ValueError(how)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS,
                        help=f"folder to write the 50 files into (default: {DEFAULT_CORPUS})")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="also compare each file with the one of the same name in DIR")
    args = parser.parse_args(argv)
    out: Path = args.corpus
    out.mkdir(parents=True, exist_ok=True)

    missing: list[str] = []
    differ: list[str] = []
    for name, how, source, package, expected in SOURCES:
        where = f"man {source}" if how == "man" else source
        try:
            make(name, how, source, package, out)
        except Missing as exc:
            missing.append(name)
            print(f"NOT MADE  {name}: {exc}")
            continue
        got = digest(out / name)
        notes = []
        if got != expected:
            notes.append(f"differs from the tester's file (sha256 {got}..., expected "
                         f"{expected}...; made from {package})")
        if args.compare is not None:
            ref = args.compare / name
            if not ref.is_file():
                notes.append(f"no {ref} to compare with")
            elif name.endswith(".docx"):
                if docx_text(ref) != docx_text(out / name):
                    notes.append(f"its text differs from {ref}")
            elif ref.read_bytes() != (out / name).read_bytes():
                notes.append(f"differs from {ref}")
        if notes:
            differ.append(name)
            print(f"DIFFERS   {name} <- {where}: " + "; ".join(notes))
        else:
            print(f"ok        {name} <- {where}")

    extra = sorted(p.name for p in out.iterdir() if p.name not in {s[0] for s in SOURCES})
    made = len(SOURCES) - len(missing)
    print(f"\n{made} of {len(SOURCES)} files made in {out}; "
          f"{len(differ)} differ from the tester's corpus.")
    if missing:
        print(f"Could not be made on this machine ({len(missing)}): {', '.join(missing)}")
    if differ:
        print(f"Made but different ({len(differ)}): {', '.join(differ)}")
    if extra:
        print(f"Not part of the corpus, but in {out} (remove them): {', '.join(extra)}")
    if missing or differ or extra:
        print("Figures on this folder are not comparable with the full corpus's.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
