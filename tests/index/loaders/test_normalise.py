"""The shared line normaliser: compatibility forms, TeX ligature slots, hyphenated words."""

from __future__ import annotations

from index.loaders.normalise import fold_line, normalise_lines
from index.loaders.txt import load_txt


def test_ligature_code_points_become_letters() -> None:
    assert fold_line("the \ufb01rst \ufb02ow o\ufb03ce") == "the first flow office"


def test_tex_ot1_ligature_slots_become_letters() -> None:
    assert fold_line("De\x0cnition o\x0b the \x0eeld") == "Definition off the ffield"


def test_superscripts_and_fractions_are_kept() -> None:
    assert fold_line("x\u00b2 and \u00bd cup") == "x\u00b2 and \u00bd cup"


def test_whitespace_runs_collapse_to_one_space() -> None:
    assert fold_line("  a\u00a0\u00a0 b\t\tc  ") == "a b c"


def test_known_word_is_joined_across_a_line_break() -> None:
    lines = normalise_lines(["servers that real-", "ize the plan"])
    assert lines == ["servers that realize", "the plan"]


def test_unknown_word_keeps_its_hyphen() -> None:
    lines = normalise_lines(["the quorp-", "blat arrived"])
    assert lines == ["the quorp-", "blat arrived"]


def test_capitalised_second_half_is_not_joined() -> None:
    assert normalise_lines(["the Paxos-", "Raft comparison"]) == ["the Paxos-", "Raft comparison"]


def test_pdfium_soft_break_joins_a_split_word() -> None:
    assert normalise_lines(["understandabil\ufffeity matters"]) == ["understandability matters"]


def test_pdfium_soft_break_keeps_a_compound_seen_elsewhere() -> None:
    lines = normalise_lines(["fine\ufffegrained sharing", "is fine-grained"])
    assert lines[0] == "fine-grained sharing"


def test_plain_text_keeps_its_lines_and_joins_hyphenated_words() -> None:
    loaded = load_txt("Title\n\nThe \ufb01les were real-\nized   at once.\n".encode())
    assert loaded.text == "Title\n\nThe files were realized\nat once.\n"
