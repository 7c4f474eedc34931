"""Whole answers: the quote takes the neighbour that completes it, by the rules of excerpts.py."""

from __future__ import annotations

import time

import pytest

from retrieval.excerpts import (
    SentenceScore,
    announces_more,
    excerpt_around,
    holds_missing_subject,
    names_problem_for_remedy,
    quotable,
)


def sentences(*texts: str, best: int, sep: str = " ") -> tuple[str, list[SentenceScore]]:
    """A document of these sentences (joined by `sep`), each scored low except `best`."""
    text, scores, at = "", [], 0
    for i, sentence in enumerate(texts):
        scores.append(SentenceScore(i, at, at + len(sentence), 1.0 if i == best else 0.1))
        text += sentence + sep
        at = len(text)
    return text, scores


def quoted(question: str, *texts: str, best: int, footnotes: bool = False,
           sep: str = " ") -> str:
    text, scores = sentences(*texts, best=best, sep=sep)
    excerpt = excerpt_around(text, scores, best, question=question, footnotes=footnotes)
    return text[excerpt.start:excerpt.end]


def test_quote_ending_in_colon_takes_the_next_sentence() -> None:
    got = quoted("What states can a server be in?", "Servers are simple machines here.",
                 "At any given time each server is in one of these states:",
                 "leader, follower, or candidate.", "Followers are passive.", best=1)
    assert got.endswith("leader, follower, or candidate.")


def test_a_pdf_quote_never_runs_on_into_a_footnote() -> None:
    got = quoted("What does the note prove?", "Consistency matters.",
                 "In this note we prove the conjecture that has three parts:",
                 "\u2217Laboratory for Computer Science, Cambridge, MA 02139.",
                 "1Eric Brewer is a professor at Berkeley.", best=1, footnotes=True,
                 sep="\n")
    assert got == "In this note we prove the conjecture that has three parts:"


def test_a_pdf_quote_never_takes_a_footnote_before_it() -> None:
    got = quoted("Who is the professor?", "\u2020Supported by a grant.",
                 "He is a professor at Berkeley.", "He cofounded a company.", best=1,
                 footnotes=True, sep="\n")
    assert not got.startswith("\u2020")


def test_a_mark_that_opens_a_sentence_elsewhere_is_no_footnote() -> None:
    # Markdown, HTML, plain text: "1Password ...", "§ 2 defines ..." are sentences
    got = quoted("Which password managers did we try?", "We tried three password managers:",
                 "1Password is the one we kept.", "Two others were slower.", best=0,
                 sep="\n")
    assert "1Password" in got
    # in a PDF too, when the mark is not at the start of a line ("... see §4. §4 shows")
    got = quoted("What does the note prove?", "In this note we prove the conjecture:",
                 "\u00a74 evaluates it on real data.", best=0, footnotes=True)
    assert "evaluates" in got


def test_quote_announcing_a_count_takes_the_next_sentence() -> None:
    got = quoted("What does the protocol guarantee?", "The log is replicated to all servers.",
                 "The protocol provides two basic guarantees.",
                 "Entries are never lost and they are applied in order.",
                 "Clients retry forever.", best=1)
    assert got == ("The protocol provides two basic guarantees. "
                   "Entries are never lost and they are applied in order.")


def test_a_count_that_is_itself_the_answer_stays_alone() -> None:
    assert not announces_more("The storm killed two people in the northern hills.")
    got = quoted("How many people did the storm kill?", "Rain fell for days on the coast.",
                 "The storm killed two people in the northern hills.",
                 "Roads were closed in several towns overnight.", best=1)
    assert got == "The storm killed two people in the northern hills."


def test_a_how_many_quote_without_a_number_takes_the_sentences_up_to_one() -> None:
    got = quoted("How many faulty processes make consensus impossible?",
                 "Consensus is studied in asynchronous systems of processes.",
                 "The problem is for the reliable processes to agree on a value.",
                 "Every protocol may fail to terminate, even with only one faulty process.",
                 best=0)
    assert got.endswith("even with only one faulty process.")


def test_a_how_many_quote_takes_nothing_when_no_number_is_near() -> None:
    got = quoted("How many faulty processes make consensus impossible?",
                 "Consensus is studied in asynchronous systems of processes.",
                 "The problem is for the reliable processes to agree on a value.",
                 "Solutions are known for the synchronous case.",
                 "Every protocol may fail to terminate with a faulty process at 3 sites.",
                 best=0)
    assert got == "Consensus is studied in asynchronous systems of processes."


def test_problem_sentence_takes_the_remedy_when_the_question_asks_for_it() -> None:
    got = quoted("How does Raft avoid split votes?", "Elections start after a timeout.",
                 "Split votes are a problem when many followers become candidates at once.",
                 "Raft uses randomized election timeouts so that they rarely occur.",
                 "Each server waits a different time.", best=1)
    assert got.endswith("Raft uses randomized election timeouts so that they rarely occur.")


def test_problem_sentence_stays_alone_when_no_remedy_is_asked() -> None:
    assert not names_problem_for_remedy("What are split votes?", "Split votes are a problem.")
    got = quoted("What are split votes?", "Elections start after a timeout.",
                 "Split votes are a problem when many followers become candidates at once.",
                 "Raft uses randomized election timeouts so that they rarely occur.", best=1)
    assert got == "Split votes are a problem when many followers become candidates at once."


def test_a_what_is_quote_that_only_mentions_the_term_takes_the_sentence_about_it() -> None:
    got = quoted("What is a witness replica in Megastore?", "So far all replicas are full.",
                 "We also support the notion of a witness replica.",
                 "Witnesses vote in Paxos rounds and store the write-ahead log.",
                 "Read-only replicas are the inverse of witnesses.", best=1)
    assert got.endswith("Witnesses vote in Paxos rounds and store the write-ahead log.")


def test_a_what_is_quote_stays_alone_when_the_next_sentence_is_about_something_else(
        ) -> None:
    got = quoted("What is a witness replica?", "We also support the notion of a witness replica.",
                 "Read-only replicas hold full snapshots of the data.", best=0)
    assert got == "We also support the notion of a witness replica."


def test_a_quote_that_defines_the_asked_term_stays_alone() -> None:
    text, scores = sentences("A witness replica is a replica that only votes.",
                             "Witnesses store the write-ahead log.", best=0)
    scores[0].defining = True
    excerpt = excerpt_around(text, scores, 0, question="What is a witness replica?")
    assert text[excerpt.start:excerpt.end] == "A witness replica is a replica that only votes."


def test_a_why_quote_takes_the_next_sentence_of_its_paragraph() -> None:
    got = quoted("Why does Megastore discourage two-phase commit across entity groups?",
                 "Megastore supports two-phase commit for atomic updates across groups.",
                 "Since these transactions have much higher latency, we discourage them.",
                 "Queues are preferred.", best=0)
    assert got.endswith("we discourage them.")


def test_a_how_to_quote_stays_one_instruction() -> None:
    got = quoted("How do I set the User-Agent header?",
                 "Use -A to specify the User-Agent string to send to the server.",
                 "This header can also be set with -H.", best=0)
    assert got == "Use -A to specify the User-Agent string to send to the server."


def test_an_explanation_never_runs_past_its_paragraph() -> None:
    got = quoted("Why is the tail the one to reply?",
                 "The tail replies because it holds only stable values.",
                 "Evaluation", best=0, sep="\n\n")
    assert got == "The tail replies because it holds only stable values."


def test_previous_sentence_naming_the_subject_is_included() -> None:
    got = quoted("What does AsyncClient support?", "Our library has two clients now.",
                 "The AsyncClient class is the asynchronous variant of our client.",
                 "Streaming responses and HTTP/2 are supported by default.",
                 "Timeouts apply to every request.", best=2)
    assert got.startswith("The AsyncClient class") and got.endswith("by default.")


def test_subject_already_in_the_quote_adds_nothing() -> None:
    assert not holds_missing_subject("What does AsyncClient support?",
                                     "AsyncClient is new.", "AsyncClient supports HTTP/2.")


def test_quote_never_exceeds_three_sentences() -> None:
    got = quoted("How does Raft avoid split votes?", "Raft is a consensus algorithm.",
                 "It has this problem:", "split votes happen.", "Timeouts fix it.",
                 "More text follows.", best=2)
    assert got.count(".") + got.count(":") <= 3


@pytest.mark.parametrize("sentence", [
    "In this note, we will first discuss what Brewer meant by the conjecture; next we will "
    "formalize these concepts and prove the conjecture.",
    "Section 3 presents the architecture of Mesos.",
    "In Section 4, we describe our random tree method.",
    "In §3, we explain how query and update operations are implemented.",
    "We survey related work in Section 7.",
    "This paper is organized as follows.",
    "The remainder of this paper is organized as follows.",
    "We present our implementation of Mesos in Section 5 and evaluate it in Section 6.",
    "In Sections 7 and 8 we discuss faults and the protocol over time, respectively.",
    "Figure 5 shows the key components of Megastore for an instance with two replicas.",
    "Table 2 lists the options of the build.",
])
def test_a_sentence_about_the_documents_own_layout_is_not_quotable(sentence: str) -> None:
    assert not quotable(sentence)
    assert not quotable(sentence, strict=False)


@pytest.mark.parametrize("sentence", [
    "Section 5 applies to every employer with more than ten employees.",
    "Section 230 of the Act protects platforms from liability.",
    "In this paper, we propose Mesos, a thin resource sharing layer.",
    "In this note we will not consider stopping failures.",
    "The third state, candidate, is used to elect a new leader as described in Section 5.2.",
    "Chapter 11 bankruptcy lets a company keep trading while it reorganises.",
    "Figure 8 shows that the latency halves under load.",  # a result, told
    # from an attacker's review: statutes, contracts, textbooks, man pages, papers
    "Section 21 gives landlords the right to evict tenants without giving a reason.",
    "Section 28, introduced by the government in 1988, banned the practice.",
    "Section 230 turned 25 this year, and both parties want to change it.",
    "Section 5, given its broad wording, applies to every contractor.",
    "The chapter was organized in 1923 by twelve students at the university.",
    "The report is structured in three main sections.",  # llvm-mca(1): the tool's output
    "The remainder of the note is payable in full on the maturity date.",
    "The rest of the report was redacted by the Justice Department.",
    "The rest of this document that talks about os-release should be understood to apply "
    "to initrd-release too.",  # os-release(5)
    "In Section 4.1, we observed that some of the most catastrophic failures are caused by "
    "trivial mistakes.",  # real-pdfs, simple-testing
    "The remainder of this section evaluates Raft using three criteria: understandability, "
    "correctness, and performance.",  # real-pdfs, Raft
    "In this chapter we will assume 'magic' is on, because that is the standard setting.",
    "In this paper, we will use the term node to mean a physical machine.",
    "In Chapter 2, we defined a monoid as a set with an associative operation.",
])
def test_a_sentence_that_only_mentions_a_section_is_quotable(sentence: str) -> None:
    assert quotable(sentence)


@pytest.mark.parametrize("hostile", [
    "§" * 20_000 + "a" * 20_000,
    "We describe it in Section 1" + "-." * 10_000 + "x" + " word" * 10_000,
    "Section 1" + "-1" * 20_000 + " x",
])
def test_the_layout_rule_is_linear_on_hostile_input(hostile: str) -> None:
    started = time.perf_counter()
    quotable(hostile, strict=False)
    assert time.perf_counter() - started < 0.5  # 5.6 s for the first before


def test_table_of_contents_line_is_not_quotable() -> None:
    assert quotable("The manual describes options.", strict=False)
    assert not quotable("The manual describes options ........ 4", strict=False)
