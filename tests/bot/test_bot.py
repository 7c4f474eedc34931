"""End to end: the real Application, long polling a fake Bot API server, real retrieval."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from support.asking import ask, wait_answered
from support.bot_runner import TOKEN
from support.fake_telegram import BOT_ID, BOT_USERNAME, FakeTelegram
from support.html_check import well_formed

from bot.handlers import EXPIRED, REFUSAL
from retrieval.answer import Answer, Citation, Hit

COFFEE = "When did the first coffeehouse in London open?"
USER, OTHER, GROUP = 1001, 2002, -5001


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Button label -> callback data of a sent message."""
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", [])
            for b in row}


def settle(fake: FakeTelegram, seconds: float = 0.6) -> None:
    """Give the bot time to (wrongly) do more than it should have."""
    time.sleep(seconds)


def test_question_gets_quote_with_citation(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, COFFEE)
    (reply,) = fake.wait_sent(USER)
    quote = reply["html"].split("</blockquote>")[0]
    assert quote.startswith("<blockquote>") and "1652" in quote
    assert "A Short History of Coffee" in reply["html"]
    assert "food/coffee.html" in reply["html"]
    assert well_formed(reply["html"])
    assert any(label.startswith("Context") for label in buttons(reply))
    typing = fake.calls_to("sendChatAction")
    assert typing and typing[0].params["action"] == "typing"
    assert typing[0].params["chat_id"] == USER
    settle(fake)
    assert len(fake.sent(USER)) == 1


def test_start_explains_corpus_and_how_to_ask(fake: FakeTelegram, start_bot: Any,
                                              retriever: Any) -> None:
    start_bot()
    fake.user_message(USER, "/start")
    (reply,) = fake.wait_sent(USER)
    counts = retriever.counts()
    assert f"{counts['documents']} documents" in reply["text"]
    assert "/ask" in reply["text"] and f"@{BOT_USERNAME}" in reply["text"]
    assert "Admin" not in reply["text"]
    assert [c.method for c in fake.calls[:1]] == ["getMe"]
    assert fake.calls_to("setMyCommands")


def test_nothing_found_says_so_and_suggests_rephrasing(fake: FakeTelegram,
                                                       start_bot: Any) -> None:
    class Nothing:
        def ask(self, question: str, k: int | None = None, **_: object) -> Answer:
            return Answer(question, False, reason="Nothing in the corpus is close enough.")

        def counts(self) -> dict[str, int]:
            return {"documents": 0, "chunks": 0}

        def refresh(self) -> bool:
            return False

    start_bot(retriever_=Nothing())
    fake.user_message(USER, "What is the airspeed of an unladen swallow?")
    (reply,) = fake.wait_sent(USER)
    assert "could not find" in reply["text"] and "rephras" in reply["text"]
    assert "reply_markup" not in reply


def test_unrelated_question_is_marked_not_sure_with_the_closest_quote(
        fake: FakeTelegram, start_bot: Any, retriever: Any) -> None:
    answer = retriever.ask("How do I reset my router password?")
    assert not answer.found and answer.hits
    start_bot()
    fake.user_message(USER, "How do I reset my router password?")
    (reply,) = fake.wait_sent(USER)
    assert reply["text"].startswith("Not sure this answers it — the closest passage is:")
    assert " ".join(answer.hits[0].excerpt.split())[:40] in reply["text"]


def test_show_closest_off_gives_a_plain_no_answer(fake: FakeTelegram, start_bot: Any,
                                                  session_config: Any) -> None:
    import copy

    config = copy.deepcopy(session_config)
    config.override("retrieval.show_closest", "false")  # as QUOTEBOT_RETRIEVAL_SHOW_CLOSEST
    start_bot(config=config)
    fake.user_message(USER, "How do I reset my router password?")
    (reply,) = fake.wait_sent(USER)
    assert "could not find" in reply["text"] and "Not sure" not in reply["text"]


def test_group_mention_with_low_confidence_still_gets_a_marked_reply(
        fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, f"@{BOT_USERNAME} How do I reset my router password?", chat_id=GROUP)
    (reply,) = fake.wait_sent(GROUP)
    assert reply["text"].startswith("Not sure this answers it")
    assert "<blockquote>" in reply["html"]


def test_group_plain_message_ignored(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, COFFEE, chat_id=GROUP)
    fake.user_message(USER, "/help", chat_id=GROUP)  # a marker the bot does answer
    (reply,) = fake.wait_sent(GROUP)
    assert "How to ask" in reply["text"]
    settle(fake)
    assert len(fake.sent(GROUP)) == 1


def test_group_mention_answered(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    asked = fake.user_message(USER, f"@{BOT_USERNAME} {COFFEE}", chat_id=GROUP)
    (reply,) = fake.wait_sent(GROUP)
    assert "1652" in reply["text"]
    assert reply["reply_to_message_id"] == asked["message_id"]


def test_group_mention_of_another_bot_ignored(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, f"@some_other_bot {COFFEE}", chat_id=GROUP)
    settle(fake, 1.0)
    assert fake.sent(GROUP) == []


def test_group_reply_to_bot_answered(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    earlier = {"message_id": 1, "date": int(time.time()), "text": "an earlier answer",
               "chat": {"id": GROUP, "type": "supergroup", "title": "G"},
               "from": fake.bot_user}
    fake.user_message(USER, COFFEE, chat_id=GROUP, reply_to=earlier)
    (reply,) = fake.wait_sent(GROUP)
    assert "1652" in reply["text"]


def test_group_ask_command_answered(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, f"/ask {COFFEE}", chat_id=GROUP)
    fake.user_message(USER, f"/ask@{BOT_USERNAME} How many moons does Mars have?",
                      chat_id=GROUP)
    replies = fake.wait_sent(GROUP, 2)
    texts = " ".join(r["text"] for r in replies)
    assert "1652" in texts and "Phobos" in texts


def test_allowlist_refuses_others_once(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(allowed_users=[USER])
    fake.user_message(OTHER, COFFEE)
    (reply,) = fake.wait_sent(OTHER)
    assert reply["text"] == REFUSAL
    fake.user_message(OTHER, "How many moons does Mars have?")
    fake.user_message(USER, COFFEE)
    fake.wait_sent(USER)
    settle(fake)
    assert len(fake.sent(OTHER)) == 1  # one polite refusal, nothing from the corpus


def test_allowlist_refuses_forged_callback(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(allowed_users=[USER])
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    for data in buttons(answer).values():
        forged = dict(answer, chat={"id": OTHER, "type": "private", "first_name": "x"})
        query_id = fake.press_button(OTHER, forged, data)
        call = fake.wait_for(lambda q=query_id: [c for c in fake.calls_to("answerCallbackQuery")
                                                 if c.params["callback_query_id"] == q])[0]
        assert call.params["text"] == REFUSAL
    settle(fake)
    assert fake.sent(OTHER) == [] and not fake.calls_to("editMessageText")
    assert len(fake.sent()) == 1


def test_rate_limit_says_slow_down_once(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(rate_per_minute=1, rate_burst=2)
    for _ in range(4):
        fake.user_message(USER, COFFEE)
    fake.wait_sent(USER, 3)
    settle(fake)
    texts = [m["text"] for m in fake.sent(USER)]
    assert len(texts) == 3
    assert sum("slow down" in t for t in texts) == 1
    assert sum("1652" in t for t in texts) == 2


def test_question_too_long_refused(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot(max_question_chars=40)
    fake.user_message(USER, COFFEE + " And please explain everything else too.")
    (reply,) = fake.wait_sent(USER)
    assert "too long" in reply["text"] and "40" in reply["text"]


def test_more_button_pages_in_the_same_message(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    assert "More ›" in buttons(answer), "the retriever returned 3 hits or fewer for k=9"
    more = buttons(answer)["More ›"]
    assert len(more.encode()) <= 64
    fake.press_button(USER, answer, more)
    (edit,) = fake.wait_for(lambda: fake.calls_to("editMessageText"))
    assert edit.params["message_id"] == answer["message_id"]
    edited = fake.message(USER, answer["message_id"])
    assert edited["text"].startswith("More results (4")
    assert edited["html"] != answer["html"] and well_formed(edited["html"])
    assert fake.calls_to("answerCallbackQuery")
    assert len(fake.sent(USER)) == 1  # paged in place, no new message


def test_context_button_shows_passage_once(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    data = buttons(answer)["Context 1"]
    fake.press_button(USER, answer, data)
    _, context = fake.wait_sent(USER, 2)
    assert context["html"].startswith("<b>Context</b>")
    assert "<u>The first coffeehouse in London opened in 1652." in context["html"]
    assert "Lloyd" in context["text"]  # the rest of the passage around the quote
    assert context["reply_to_message_id"] == answer["message_id"]
    query = fake.press_button(USER, answer, data)
    call = fake.wait_for(lambda: [c for c in fake.calls_to("answerCallbackQuery")
                                  if c.params["callback_query_id"] == query])[0]
    assert "already" in call.params["text"]
    assert len(fake.sent(USER)) == 2


def test_expired_button_answered_politely(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    query = fake.press_button(USER, answer, "m:doesnotexist:1")
    call = fake.wait_for(lambda: [c for c in fake.calls_to("answerCallbackQuery")
                                  if c.params["callback_query_id"] == query])[0]
    assert call.params["text"] == EXPIRED
    assert not fake.calls_to("editMessageText")


def long_hit() -> Hit:
    paragraphs = [f"Paragraph {i}: the <b>long</b> & winding </blockquote> road. " * 12
                  for i in range(30)]
    text = "\n\n".join(paragraphs)
    excerpt = paragraphs[3].strip()
    start = text.index(excerpt)
    return Hit(1, 0.9, text, excerpt, start, start + len(excerpt),
               Citation("d", "Long <Doc>", "long.txt", 1, 60), 0, len(text))


class LongRetriever:
    def ask(self, question: str, k: int | None = None, **_: object) -> Answer:
        return Answer(question, True, [long_hit()])

    def counts(self) -> dict[str, int]:
        return {"documents": 1, "chunks": 1}

    def refresh(self) -> bool:
        return False


def test_long_context_split_below_4096_without_breaking_tags(fake: FakeTelegram,
                                                             start_bot: Any) -> None:
    start_bot(retriever_=LongRetriever())
    fake.user_message(USER, "Tell me about the long road")
    (answer,) = fake.wait_sent(USER)
    assert len(answer["html"]) <= 4096 and well_formed(answer["html"])
    fake.press_button(USER, answer, buttons(answer)["Context"])
    # The parts are paced as Telegram asks (about one a second in a chat): wait for the last.
    fake.wait_for(lambda: any("Paragraph 29" in m["text"] for m in fake.sent(USER)))
    settle(fake)
    parts = fake.sent(USER)[1:]
    assert len(parts) >= 3
    for part in parts:
        assert len(part["html"]) <= 4096
        assert well_formed(part["html"]), part["html"][:300]
        assert "&lt;/blockquote&gt;" in part["html"]
    shown = " ".join(" ".join(p["text"].split()) for p in parts)
    for i in range(30):  # every paragraph whole in one message: cuts between paragraphs
        paragraph = " ".join((f"Paragraph {i}: the <b>long</b> & winding </blockquote> road. "
                              * 12).split())
        assert paragraph in shown
    assert buttons(parts[-1]) == {} and "reply_markup" not in parts[0]


def test_429_retry_after_honoured_and_reply_sent_once(fake: FakeTelegram,
                                                      start_bot: Any) -> None:
    start_bot()
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.user_message(USER, COFFEE)
    (reply,) = fake.wait_sent(USER)
    assert "1652" in reply["text"]
    first, second = fake.calls_to("sendMessage")
    assert first.status == 429 and second.status == 200
    assert second.at - first.at >= 0.95
    settle(fake)
    assert len(fake.sent(USER)) == 1 and len(fake.calls_to("sendMessage")) == 2


def test_server_errors_on_edits_retried(fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, COFFEE)
    (answer,) = fake.wait_sent(USER)
    fake.fail_next("editMessageText", 502)
    fake.press_button(USER, answer, buttons(answer)["More ›"])
    fake.wait_for(lambda: [c for c in fake.calls_to("editMessageText") if c.status == 200])
    assert [c.status for c in fake.calls_to("editMessageText")] == [502, 200]


def test_dropped_send_not_repeated_but_dropped_edit_retried(fake: FakeTelegram,
                                                            start_bot: Any) -> None:
    start_bot()
    fake.fail_next("sendMessage", 0)  # the answer may have been delivered: never resent
    fake.user_message(USER, COFFEE)
    (apology,) = fake.wait_sent(USER)
    assert "something went wrong" in apology["text"]
    sends = fake.calls_to("sendMessage")
    assert [c.status for c in sends] == [0, 200]  # the answer once, then the apology
    assert "1652" in sends[0].params["text"]
    fake.user_message(USER, COFFEE)
    answer = fake.wait_sent(USER, 2)[1]
    fake.fail_next("editMessageText", 0)  # an edit is idempotent: retried
    fake.press_button(USER, answer, buttons(answer)["More ›"])
    fake.wait_for(lambda: [c for c in fake.calls_to("editMessageText") if c.status == 200])
    assert [c.status for c in fake.calls_to("editMessageText")] == [0, 200]
    settle(fake)
    assert len(fake.sent(USER)) == 2


def test_200_chats_asking_at_once_get_each_answer_once(fake: FakeTelegram,
                                                        start_bot: Any) -> None:
    # Two questions per chat keep CI short; benchmarks/soak.py asks five and times them.
    start_bot()
    expected = ask(fake, range(50_000, 50_200), questions=2)  # 400 updates, all queued
    counts = wait_answered(fake, expected, timeout=300)
    assert counts == Counter({key: 1 for key in expected})
    assert len(fake.sent()) == len(expected)  # and nothing else (no apology, no "slow down")


def test_error_handler_tells_user_without_traceback(fake: FakeTelegram, start_bot: Any,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    class Broken(LongRetriever):
        def ask(self, question: str, k: int | None = None, **_: object) -> Answer:
            raise RuntimeError("index exploded /secret/path")

    start_bot(retriever_=Broken())
    message = fake.user_message(USER, "Anything?")
    (reply,) = fake.wait_sent(USER)
    assert "something went wrong" in reply["text"]
    assert "Traceback" not in reply["text"] and "exploded" not in reply["text"]
    update_id = next(u["update_id"] for u in fake.injected
                     if u.get("message", {}).get("message_id") == message["message_id"])
    record = next(r for r in caplog.records if "error while handling update" in r.getMessage())
    assert record.exc_info is not None
    assert record.getMessage().endswith(f"update {update_id}")


def test_stats_count_the_files_the_last_build_skipped(fake: FakeTelegram, start_bot: Any,
                                                     retriever: Any) -> None:
    start_bot(admins=[USER])
    fake.user_message(USER, "/stats")
    stats = fake.wait_sent(USER)[0]["text"]
    assert retriever.counts()["skipped"] == 2  # the session corpus's broken/ files
    assert "Files skipped by the last build: 2 (/reindex lists why)" in stats


def test_stats_for_admins_only(fake: FakeTelegram, start_bot: Any, retriever: Any) -> None:
    start_bot(admins=[USER])
    fake.user_message(USER, COFFEE)
    fake.wait_sent(USER)
    fake.user_message(USER, "/stats")
    stats = fake.wait_sent(USER, 2)[1]["text"]
    assert f"Documents: {retriever.counts()['documents']}" in stats
    assert f"Chunks: {retriever.counts()['chunks']}" in stats
    assert "Questions: 1 (1 answered" in stats and "Median answer time: 0." in stats
    fake.user_message(OTHER, "/stats")
    (refused,) = fake.wait_sent(OTHER)
    assert "only the bot's admins" in refused["text"]


def test_bot_talks_to_configured_base_url(fake: FakeTelegram, start_bot: Any) -> None:
    runner = start_bot()
    assert runner.application.bot.id == BOT_ID
    assert runner.application.bot.base_url == fake.base_url + TOKEN


BOT_HOSTILE_QUESTIONS = {
    "empty /ask": "/ask",
    "blank /ask": "/ask    \t ",
    "10,000 characters": ("When did the first coffeehouse in London open? " * 250)[:10_000],
    "only punctuation": "?!...;:—«»¿¡",
    "Chinese": "伦敦第一家咖啡馆是什么时候开的？",
    "Arabic": "متى افتتح أول مقهى في لندن؟",
    "Russian": "Когда открылась первая кофейня в Лондоне?",
    "emoji": "☕🏰❓",
    "control characters": "\x00\x07\x1b[31mWhen\x08 did\x7f the coffeehouse open?\r\n",
    "HTML": "<b>When</b> did the <a href='https://x.example'>coffeehouse</a> open?<script>",
    "entities": "&lt;b&gt; &amp; &#x27; when did the coffeehouse open?",
    "zero-width and bidi": "\u200b\u202eWhen did the coffeehouse open?\u202c",
}


def test_hostile_questions_get_one_sensible_reply_each(fake: FakeTelegram,
                                                       start_bot: Any) -> None:
    start_bot()
    chats = dict(zip(BOT_HOSTILE_QUESTIONS, range(70_000, 70_100), strict=False))
    for kind, chat in chats.items():
        fake.user_message(chat, BOT_HOSTILE_QUESTIONS[kind])
    fake.wait_for(lambda: all(fake.sent(chat) for chat in chats.values()), timeout=60)
    settle(fake, 1.0)
    for kind, chat in chats.items():
        (reply,) = fake.sent(chat)
        assert "something went wrong" not in reply["text"], kind
        assert well_formed(reply["html"]), (kind, reply["html"])
        assert "<script" not in reply["html"] and "<a " not in reply["html"], kind
    assert "too long" in fake.sent(chats["10,000 characters"])[0]["text"]
    assert "Ask me a question" in fake.sent(chats["empty /ask"])[0]["text"]


def test_an_unknown_command_in_a_private_chat_gets_a_pointer_to_help(
        fake: FakeTelegram, start_bot: Any) -> None:
    start_bot()
    fake.user_message(USER, "/frobnicate now")
    (reply,) = fake.wait_sent(USER)
    assert "don't know that command" in reply["text"] and "/help" in reply["text"]
