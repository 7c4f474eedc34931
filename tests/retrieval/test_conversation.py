"""The follow-up rules (retrieval/conversation.py), and Retriever.ask with a history."""

from __future__ import annotations

from typing import Any

import pytest
from support.conversation import turn

from retrieval.conversation import Conversation, Turn, resolve

CHUBBY = turn("What is Chubby?", ("chubby.pdf",), "Chubby is a lock service for loosely "
              "coupled distributed systems.")


def test_pronoun_is_replaced_by_the_previous_questions_name() -> None:
    rewrite = resolve("What is it intended for?", [CHUBBY])
    assert rewrite.text == "What is Chubby intended for?"
    assert (rewrite.rule, rewrite.antecedent) == ("pronoun", "Chubby")


def test_a_pronoun_keeps_the_subject_the_last_follow_up_was_read_with() -> None:
    last = Turn("what kind of servers does it coordinate?",
                "what kind of servers does chain replication coordinate?", [], "")
    rewrite = resolve("who proposed it?", [last])
    assert (rewrite.text, rewrite.antecedent) == ("who proposed chain replication?",
                                                  "chain replication")


@pytest.mark.parametrize(("last", "wrong"), [
    # another rule's reading is no pronoun's: the words it added are not the subject
    (Turn("How many are there?", "How many are there (kind, servers, Raft, use)?", [], ""),
     "kind, servers, Raft, use"),
    (Turn("the price?", "the price of Apple Vision Pro?", [], ""), "of Apple Vision Pro"),
    (Turn("what about rendezvous hashing?", "What is rendezvous hashing?", [], ""),
     "What is"),
])
def test_only_a_pronoun_reading_passes_its_subject_on(last: Turn, wrong: str) -> None:
    rewrite = resolve("Who designed it?", [last])
    assert rewrite.antecedent != wrong
    assert rewrite.text != f"Who designed {wrong}?"


def test_an_attribute_noun_is_never_the_antecedent() -> None:
    idf = {"kind": 4.3, "server": 1.6, "replic": 1.8, "coordin": 1.0}  # a rare "kind"
    rewrite = resolve("who proposed it?", [turn("What kind of servers does replication "
                                                "coordinate?")],
                      lambda words: {w: idf[w] for w in words if w in idf})
    assert rewrite.antecedent not in ("", "kind")


def test_the_noun_after_kind_of_stands_in_for_it() -> None:
    idf = {"kind": 4.3, "hash": 2.0, "cach": 1.0, "protocol": 1.0}
    rewrite = resolve("What else is it used for?",
                      [turn("What kind of hashing are caching protocols based on?")],
                      lambda words: {w: idf[w] for w in words if w in idf})
    assert rewrite.antecedent == "hashing"


def test_a_follow_up_naming_something_keeps_no_subject() -> None:
    last = Turn("When did he write the Large Catechism?",
                "When did Luther write the Large Catechism?", [], "")
    assert resolve("To whom was it directed?", [last]).antecedent == "Large Catechism"


def test_possessive_pronoun_becomes_possessive_name() -> None:
    assert resolve("What are its main parts?", [CHUBBY]).text == "What are Chubby's main parts?"


def test_object_pronoun_after_a_verb_is_replaced() -> None:
    assert resolve("Who wrote it?", [CHUBBY]).text == "Who wrote Chubby?"


def test_demonstrative_before_a_noun_names_the_antecedent() -> None:
    assert resolve("When was this system built?", [CHUBBY]).text == \
        "When was the Chubby system built?"


def test_that_one_is_replaced_whole() -> None:
    assert resolve("Is that one faster?", [CHUBBY]).text == "Is Chubby faster?"


def test_leading_and_before_a_question_word_is_dropped() -> None:
    rewrite = resolve("And how does it handle temporary failures?", [CHUBBY])
    assert rewrite.text == "how does Chubby handle temporary failures?"
    assert rewrite.question == "And how does it handle temporary failures?"


def test_what_about_swaps_the_name_in_the_previous_question() -> None:
    previous = turn("What is Chubby intended for?")
    rewrite = resolve("What about Bigtable?", [previous])
    assert (rewrite.text, rewrite.rule) == ("What is Bigtable intended for?", "ellipsis")


def test_what_about_swaps_the_most_alike_name() -> None:
    previous = turn("Which NFL team represented the AFC at Super Bowl 50?")
    assert resolve("what about the NFC?", [previous]).text == \
        "Which NFL team represented the NFC at Super Bowl 50?"


def test_and_the_second_swaps_the_ordinal() -> None:
    previous = turn("Who wrote the first paper on consensus?")
    assert resolve("and the second?", [previous]).text == \
        "Who wrote the second paper on consensus?"


def test_pronoun_ending_the_question_points_back_despite_a_noun_before_it() -> None:
    rewrite = resolve("Where was the first settlement in it?", [turn("What is Iceland?")])
    assert rewrite.text == "Where was the first settlement in Iceland?"


def test_he_after_a_who_question_is_the_name_in_its_answer() -> None:
    previous = turn("Who is the coalition spokesman?", excerpt="The remarks by coalition "
                    "spokesman, Colonel Ryan Dillon, came as allies worked out ways.")
    read = resolve("What did he say?", [previous])
    assert read.text == "What did Colonel Ryan Dillon say?"
    assert read.short == "What did Dillon say?"  # tried when the first finds nothing


def test_they_is_a_plural_phrase_of_the_previous_question() -> None:
    previous = turn("How many militants have surrendered in Raqqa?")
    assert resolve("Where are they holed up?", [previous]).text == \
        "Where are militants holed up?"


def test_i_is_never_taken_for_a_name() -> None:
    rewrite = resolve("How do I enable it on a client?", [turn("How do I install HTTPX?")])
    assert rewrite.text == "How do I enable HTTPX on a client?"


def test_what_about_an_identifier_swaps_the_identifier() -> None:
    previous = turn("What does max_connections control in HTTPX?")
    assert resolve("And max_keepalive_connections?", [previous]).text == \
        "What does max_keepalive_connections control in HTTPX?"


def test_and_with_a_preposition_adds_to_the_previous_question() -> None:
    previous = turn("How do I follow redirects with httpx.get?")
    assert resolve("And on a client?", [previous]).text == \
        "How do I follow redirects with httpx.get on a client?"


def test_a_name_never_runs_across_a_comma() -> None:
    previous = turn("Who made the conjecture?", excerpt="At PODC 2000, Brewer, in an invited "
                    "talk, made the following conjecture.")
    assert "," not in resolve("Where did he make it?", [previous]).antecedent


def test_bare_why_gets_the_previous_questions_terms() -> None:
    rewrite = resolve("why?", [turn("Why did the Normans invade England?")])
    assert rewrite.rule == "bare"
    assert "Normans" in rewrite.text and "England" in rewrite.text


def test_why_is_that_is_bare_not_a_name_swap() -> None:
    assert resolve("Why is that?", [CHUBBY]).rule == "bare"


def test_too_short_question_gets_the_antecedent() -> None:
    rewrite = resolve("the price?", [turn("What is the iPhone 15?")])
    assert (rewrite.text, rewrite.rule) == ("the price of iPhone 15?", "short")


def test_antecedent_comes_from_the_answer_when_the_question_has_none() -> None:
    previous = Turn("what is it", "what is it", [], "Olympus Mons is the largest volcano.")
    assert resolve("How tall is it?", [previous]).text == "How tall is Olympus Mons?"


def test_rarer_name_wins_by_idf() -> None:
    previous = turn("Did the Commission fine Microsoft?")
    idf = {"commiss": 1.0, "microsoft": 6.0}
    rewrite = resolve("Why did they do it?", [previous],
                      lambda words: {w: idf[w] for w in words if w in idf})
    assert rewrite.antecedent == "Microsoft"


def test_follow_up_prefers_the_last_answers_document() -> None:
    assert resolve("What is it intended for?", [CHUBBY]).prefer == ["chubby.pdf"]


@pytest.mark.parametrize("question", [
    "What is photosynthesis?",
    "Who designed the Eiffel Tower?",
    "How many civilians are trapped in Raqqa?",
    "What did the company do with its profits?",
    "When did Tesla move to New York and what did he do there?",
    "Which NFL team won Super Bowl 50?",
    "What is the name of the ship that sank in 1912?",
    "In what year did the Normans conquer England?",
    "What percentage of the vote did the party get in 2010?",
    "How does BM25 weigh rare words?",
    "Explain the Raft consensus algorithm",
    "Which two importers claimed that under French law they could not sell beer?",
    "What are those with lower incomes often unable to manage?",
    "What is it called when people rebel against unfair laws?",
    "How long did it take for the bridge to be built?",
    "Which player played even though he broke his arm?",
    "How do teachers reward their students?",
])
def test_standalone_question_is_left_exactly_as_asked(question: str) -> None:
    rewrite = resolve(question, [CHUBBY])
    assert rewrite.text == question and not rewrite.followup and not rewrite.prefer


def test_no_history_reads_the_question_as_asked() -> None:
    assert not resolve("What is it intended for?", []).followup


def test_conversation_keeps_only_its_last_turns() -> None:
    from retrieval.answer import Answer

    conversation = Conversation()
    for n in range(5):
        conversation.add(Answer(f"question {n}", False))
    assert [t.question for t in conversation] == ["question 2", "question 3", "question 4"]


def test_retriever_answers_a_follow_up_from_the_history(retriever: Any) -> None:
    conversation = Conversation()
    conversation.add(retriever.ask("Which towns did Vesuvius bury?"))
    answer = retriever.ask("When did it erupt?", history=conversation)
    assert answer.question == "When did it erupt?"
    assert answer.interpreted_as == "When did Vesuvius erupt?"
    assert "79" in answer.hits[0].excerpt
    assert answer.to_dict()["interpreted_as"] == "When did Vesuvius erupt?"


def test_retriever_leaves_a_standalone_question_alone(retriever: Any) -> None:
    conversation = Conversation()
    conversation.add(retriever.ask("Which towns did Vesuvius bury?"))
    with_history = retriever.ask("How tall is the Eiffel Tower?", history=conversation)
    alone = retriever.ask("How tall is the Eiffel Tower?")
    assert with_history.interpreted_as is None
    assert with_history.to_dict() == alone.to_dict()


def test_a_follow_up_keeps_the_folders_it_was_asked_within(retriever: Any) -> None:
    conversation = Conversation()
    conversation.add(retriever.ask("Which towns did Vesuvius bury?", within=["geology"]))
    answer = retriever.ask("When did it erupt?", history=conversation, within=["astronomy"])
    assert answer.interpreted_as == "When did Vesuvius erupt?"
    assert all(h.citation.path.startswith("astronomy/") for h in answer.hits)


def test_a_follow_up_is_measured_as_typed_not_as_rewritten(retriever: Any) -> None:
    conversation = Conversation()
    conversation.add(retriever.ask("Which towns did Vesuvius bury?"))
    typed = "When did it erupt, " + "and " * 494 + "why?"  # 1,999 typed, 2,005 rewritten
    answer = retriever.ask(typed, history=conversation)
    assert len(typed) <= 2000 and "too long" not in answer.reason
    assert answer.interpreted_as and len(answer.interpreted_as) > 2000


@pytest.mark.parametrize(("name", "short"), [
    ("Colonel Ryan Dillon", "Dillon"), ("Elizabeth II", "Elizabeth II"),
    ("Martin Luther King Jr.", "Martin Luther King Jr."),
    ("Vincent Van Gogh", "Vincent Van Gogh"), ("the spokesman", "the spokesman"),
    ("Tesla", "Tesla")])
def test_a_persons_second_reading_is_their_last_name_unless_that_would_cut_it(
        name: str, short: str) -> None:
    from retrieval.conversation import surname

    assert surname(name) == short


def test_a_name_holding_a_request_verb_stays_whole() -> None:
    previous = turn("Who was William Tell?")
    assert resolve("Where did he live?", [previous]).text == "Where did William Tell live?"
    assert resolve("and numbats?", [turn("Tell me about bilbies")]).text == \
        "Tell me about numbats?"
