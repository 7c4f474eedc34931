"""Conversations in the bot, over the fake Bot API: follow-ups, who shares a conversation,
forum topics, /new, expiry, small talk."""

from __future__ import annotations

from typing import Any

from support.conversation import Clock
from support.fake_telegram import FakeTelegram
from support.retrievers import BrokenRetriever, LongRetriever

USER, OTHER, GROUP, FORUM = 1001, 2002, -5001, -6001
VESUVIUS = "Which towns did Vesuvius bury?"
EIFFEL = "Who designed the Eiffel Tower?"
READING_VESUVIUS = "(reading this as: When did Vesuvius erupt?)"


def last_text(fake: FakeTelegram, chat: int, count: int) -> str:
    return fake.wait_sent(chat, count)[count - 1]["text"]


def test_follow_up_in_private_chat_is_read_with_previous_question(
        fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, VESUVIUS)
    fake.wait_sent(USER, 1)
    fake.user_message(USER, "When did it erupt?")
    text = last_text(fake, USER, 2)
    assert text.startswith(READING_VESUVIUS)
    assert "79" in text.split("\n\n")[1]


def test_group_users_conversations_do_not_mix(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, f"/ask {VESUVIUS}", chat_id=GROUP)
    fake.wait_sent(GROUP, 1)
    fake.user_message(OTHER, f"/ask {EIFFEL}", chat_id=GROUP)
    fake.wait_sent(GROUP, 2)
    fake.user_message(USER, "/ask When did it erupt?", chat_id=GROUP)
    assert last_text(fake, GROUP, 3).startswith(READING_VESUVIUS)
    fake.user_message(OTHER, "/ask When was it completed?", chat_id=GROUP)
    text = last_text(fake, GROUP, 4)
    assert text.startswith("(reading this as: When was Eiffel Tower completed?)")
    assert "1889" in text


def test_forum_topics_do_not_mix_and_answers_stay_in_their_topic(
        fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, f"/ask {VESUVIUS}", chat_id=FORUM, thread_id=11)
    fake.wait_sent(FORUM, 1)
    fake.user_message(USER, f"/ask {EIFFEL}", chat_id=FORUM, thread_id=22)
    fake.wait_sent(FORUM, 2)
    fake.user_message(USER, "/ask When did it erupt?", chat_id=FORUM, thread_id=11)
    fake.wait_sent(FORUM, 3)
    fake.user_message(USER, "/ask When was it completed?", chat_id=FORUM, thread_id=22)
    sent = fake.wait_sent(FORUM, 4)
    by_topic = {11: [m["text"] for m in sent if m.get("message_thread_id") == 11],
                22: [m["text"] for m in sent if m.get("message_thread_id") == 22]}
    assert len(by_topic[11]) == 2 and len(by_topic[22]) == 2
    assert by_topic[11][1].startswith(READING_VESUVIUS)
    assert by_topic[22][1].startswith("(reading this as: When was Eiffel Tower completed?)")
    typing = fake.calls_to("sendChatAction")
    assert typing and all(c.params.get("message_thread_id") in (11, 22) for c in typing)


def test_every_part_of_a_long_reply_goes_to_the_topic(fake: FakeTelegram,
                                                      start_bot: Any) -> None:
    start_bot(retriever_=LongRetriever())
    fake.user_message(USER, "/ask Tell me about the long road", chat_id=FORUM, thread_id=33)
    (answer,) = fake.wait_sent(FORUM, 1)
    button = answer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    fake.press_button(USER, answer, button)
    sent = fake.wait_for(lambda: len(fake.sent(FORUM)) >= 3 and fake.sent(FORUM))
    assert all(m.get("message_thread_id") == 33 for m in sent)


def test_error_reply_goes_to_the_topic(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(retriever_=BrokenRetriever())
    fake.user_message(USER, "/ask Anything?", chat_id=FORUM, thread_id=44)
    (reply,) = fake.wait_sent(FORUM, 1)
    assert "something went wrong" in reply["text"]
    assert reply.get("message_thread_id") == 44


def test_new_starts_a_fresh_conversation(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, VESUVIUS)
    fake.wait_sent(USER, 1)
    fake.user_message(USER, "/new")
    assert "New conversation" in last_text(fake, USER, 2)
    fake.user_message(USER, "When did it erupt?")
    assert "reading this as" not in last_text(fake, USER, 3)


def test_conversation_expires_after_the_configured_silence(fake: FakeTelegram,
                                                           start_bot: Any) -> None:
    runner = start_bot(conversation_ttl_s=60)
    clock = Clock()
    runner.services.conversations.clock = clock
    fake.user_message(USER, VESUVIUS)
    fake.wait_sent(USER, 1)
    clock.advance(59)
    fake.user_message(USER, "When did it erupt?")
    assert last_text(fake, USER, 2).startswith(READING_VESUVIUS)
    clock.advance(61)
    fake.user_message(USER, "When did it erupt?")
    assert "reading this as" not in last_text(fake, USER, 3)


def test_small_talk_gets_a_kind_answer_naming_the_corpus(fake: FakeTelegram, start_bot: Any,
                                                         retriever: Any) -> None:
    start_bot()
    fake.user_message(USER, "Hi!")
    text = last_text(fake, USER, 1)
    documents = retriever.counts()["documents"]
    assert text.startswith("Hello!") and "/help" in text
    assert f"{documents} documents" in text and retriever.titles(1)[0] in text
    assert "could not find" not in text
