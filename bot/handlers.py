"""What the bot does with each update: commands, questions, buttons, uploads, errors.

Every handler first checks access (allowlists; admins for uploads, /reindex, /stats) and
the sender's output budget: each update a user sends (a question, a command, a button
press, an upload, a refusal's cause) takes one token of their rate limit, so a flood gets
a few replies and one "slow down", then silence. Every message and edit goes through one
`bot.sender.Sender` that keeps Telegram's flood limits.
Questions run in a worker thread (`ask_pool`) so the event loop never blocks; index
builds run in their own single thread while questions keep using the old index.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.access import AccessPolicy, RateLimiter
from bot.conversations import Conversations, Key, conversation_key
from bot.journal import ANSWERING, DONE, Journal
from bot.render import (
    HTML,
    escape_html,
    paginate,
    render_context,
    render_page,
    split_html,
)
from bot.scopes import effective_scope, split_scope
from bot.sender import Sender, SendLimits
from bot.smalltalk import small_talk, small_talk_reply
from bot.state import AnswerStore, Conversation, Stats
from bot.uploads import already_saved, clean_stale_parts, safe_name, save_upload, suffix_of
from quotebot.config import Config
from quotebot.errors import DocumentChanged
from retrieval.answer import Answer, Hit
from retrieval.retriever import normalise_scope

if TYPE_CHECKING:
    from index.build import BuildReport

logger = logging.getLogger(__name__)

HITS_PER_QUESTION = 9  # three pages of three quotes
REFUSAL = "Sorry, this bot is private: it only answers its allowed users and chats."
ADMIN_ONLY = "Sorry, only the bot's admins can do that."
EXPIRED = "This answer has expired; please ask the question again."
MAX_CAPTION = 1024  # Telegram's limit on a photo's caption
FAILED = "Sorry, something went wrong while handling that. Please try again later."
RESTARTED = ("Sorry, I was restarting and your question waited too long for a useful "
             "answer. Please ask it again.")
SLOW_DOWN = ("You are sending me messages faster than I can answer. Please slow down and "
             "try again in {seconds} s.")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class Answerer(Protocol):
    """What the bot needs of `retrieval.Retriever`."""

    def ask(self, question: str, k: int | None = None) -> Answer: ...
    # Also, when it has them: ask(question, k, history=turns, within=folders), titles(limit).
    def refresh(self) -> bool: ...
    def counts(self) -> dict[str, int]: ...


@dataclass
class Services:
    """Everything the handlers share; built once per Application (`make_services`)."""

    config: Config
    retriever: Answerer
    policy: AccessPolicy
    limiter: RateLimiter
    answers: AnswerStore = field(default_factory=AnswerStore)
    stats: Stats = field(default_factory=Stats)
    ask_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(4, thread_name_prefix="quotebot-ask"))
    build_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="quotebot-build"))
    builds: set[asyncio.Task] = field(default_factory=set)
    journal: Journal | None = None  # updates recorded before Telegram is told they arrived
    watch_stop: threading.Event = field(default_factory=threading.Event)
    watcher: threading.Thread | None = None  # watch mode: builds after corpus changes
    sender: Sender = field(default_factory=Sender)
    conversations: Conversations = field(default_factory=Conversations)

    def shutdown(self) -> None:
        self.ask_pool.shutdown(wait=True, cancel_futures=True)
        self.build_pool.shutdown(wait=True)


def make_services(config: Config, retriever: Answerer) -> Services:
    tg = config.telegram
    limits = SendLimits(per_second=tg.send_per_second, group_per_minute=tg.group_per_minute,
                        chat_per_second=tg.chat_per_second)
    return Services(config=config, retriever=retriever,
                    policy=AccessPolicy(tg.allowed_users, tg.allowed_chats, tg.admins,
                                        public=tg.public),
                    limiter=RateLimiter(tg.rate_per_minute, tg.rate_burst),
                    sender=Sender(limits),
                    conversations=Conversations(tg.conversation_ttl_s, tg.conversation_turns,
                                                tg.max_conversations))


def _services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


# --- sending -----------------------------------------------------------------------------


def thread_of(message: Message | None) -> int | None:
    """The forum topic a message is in (None outside forum topics): every reply to it,
    each part of a long answer included, must go to the same topic."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


async def send_html(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str, *,
                    reply_to: int | None = None,
                    markup: InlineKeyboardMarkup | None = None,
                    thread_id: int | None = None) -> Message | None:
    """Send `text` (HTML), split below 4096 characters; buttons go on the last part;
    every part goes to forum topic `thread_id` when given.

    The parts are queued in the sender (in order); this waits for them a bounded time.
    """
    sender = _services(context).sender
    parts = split_html(text)
    answering = ANSWERING.get()  # the sender sends from its own task: carry it there
    futures = [sender.submit(chat_id, _answering(answering, functools.partial(
        context.bot.send_message, chat_id, part, parse_mode=ParseMode.HTML,
        link_preview_options=NO_PREVIEW,
        reply_parameters=(ReplyParameters(reply_to, allow_sending_without_reply=True)
                          if reply_to and i == 0 else None),
        reply_markup=markup if i == len(parts) - 1 else None, message_thread_id=thread_id)))
        for i, part in enumerate(parts)]
    sent = None
    for n, future in enumerate(futures):
        try:
            sent = await sender.wait_for(future, chat_id)
        except BaseException:
            for later in futures[n + 1:]:
                later.cancel()  # a message in pieces is not sent with a piece missing
            raise
    journal = _services(context).journal
    if sent is None and answering is not None and journal is not None:
        # Still queued after the bounded wait (a per-chat backlog, flood control): the
        # update is done when its last part has left, not now, or a crash before then
        # would lose an answer the journal calls done. The caller sees None: not done yet.
        # A message dropped unsent when the bot stops (cancelled) leaves the update
        # `received`, so the next start answers it.
        journal.defer(answering)
        futures[-1].add_done_callback(
            lambda f, u=answering: None if f.cancelled() else journal.done_later(u))
    return sent


def _answering(update_id: int | None,
               call: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    """`call`, run with ANSWERING set to `update_id` (the journal's sending hook reads it)."""
    if update_id is None:
        return call

    async def run() -> Any:
        token = ANSWERING.set(update_id)
        try:
            return await call()
        finally:
            ANSWERING.reset(token)

    return run


async def edit_html(context: ContextTypes.DEFAULT_TYPE, message: Message, text: str, *,
                    markup: InlineKeyboardMarkup | None = None,
                    on_edited: Callable[[], None] | None = None) -> None:
    """Edit `message` to `text` (HTML) through the sender; `on_edited` runs once it is shown.

    A text over Telegram's limit is split: the message shows the first part (with the
    buttons) and the rest follows as replies. "Message is not modified" counts as done.
    """
    sender = _services(context).sender
    chat_id = message.chat.id
    parts = split_html(text) or [text]

    async def edit() -> object:
        try:
            return await context.bot.edit_message_text(
                parts[0], chat_id=chat_id, message_id=message.message_id,
                parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
            return None

    future = sender.submit(chat_id, edit,
                           on_sent=None if on_edited is None else lambda _: on_edited())
    for part in parts[1:]:
        sender.submit(chat_id, functools.partial(
            context.bot.send_message, chat_id, part, parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_parameters=ReplyParameters(message.message_id,
                                             allow_sending_without_reply=True),
            message_thread_id=thread_of(message)))
    await sender.wait_for(future, chat_id)


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """A short HTML reply to the update's message (quoting it in groups)."""
    message = update.effective_message
    chat = update.effective_chat
    if chat is None:
        return
    quote = message.message_id if message and chat.type != ChatType.PRIVATE else None
    await send_html(context, chat.id, text, reply_to=quote, thread_id=thread_of(message))


@contextlib.asynccontextmanager
async def typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int,
                 thread_id: int | None = None) -> AsyncIterator[None]:
    """Show "typing…" in the chat, or its forum topic (renewed every 4.5 s, Telegram shows
    it for 5) meanwhile."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING,
                                                   message_thread_id=thread_id)
            await asyncio.sleep(4.5)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# --- access ------------------------------------------------------------------------------


async def admitted(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True if the sender may use the bot and has output budget left.

    Someone not allowed gets one polite refusal, then silence; someone over their rate
    limit one "slow down" per stretch, then silence. Every update takes a token, whatever
    it asks: commands, questions too long or empty, button presses, uploads.
    """
    services = _services(context)
    policy = services.policy
    user = update.effective_user
    chat = update.effective_chat
    user_id = user.id if user else None
    chat_id = chat.id if chat else None
    private = chat is not None and chat.type == ChatType.PRIVATE
    key = user_id if user_id is not None else chat_id or 0
    if not policy.allows(user_id, chat_id, private=private):
        logger.info("refused user %s in chat %s", user_id, chat_id)
        if update.callback_query is not None:
            if not services.limiter.acquire(key):
                with contextlib.suppress(TelegramError):
                    await update.callback_query.answer(REFUSAL, show_alert=True)
        elif policy.first_refusal(user_id, chat_id) and not services.limiter.acquire(key):
            await reply(update, context, REFUSAL)
        return False
    wait = services.limiter.acquire(key)
    if not wait:
        return True
    logger.info("user %s is over the rate limit", key)
    if services.limiter.should_warn(key):
        text = SLOW_DOWN.format(seconds=max(1, round(wait)))
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer(text, show_alert=True)
        else:
            await reply(update, context, text)
    return False


async def admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for an admin; others are told the command is not for them."""
    if not await admitted(update, context):
        return False
    user = update.effective_user
    if _services(context).policy.is_admin(user.id if user else None):
        return True
    await reply(update, context, ADMIN_ONLY)
    return False


# --- commands ----------------------------------------------------------------------------


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: what the bot knows and how to ask."""
    if not await admitted(update, context):
        return
    services = _services(context)
    counts = await asyncio.get_running_loop().run_in_executor(
        services.ask_pool, services.retriever.counts)
    name = context.bot.username
    lines = [
        f"I answer questions from <b>{counts.get('documents', 0)} documents</b> "
        f"({counts.get('chunks', 0)} passages) by quoting them and saying where each quote "
        "stands (document, lines or page). I never write answers of my own.",
        "",
        "<b>How to ask</b>",
        "• In a private chat, just send your question.",
        f"• In a group, mention me (@{escape_html(name)} your question), reply to one of my "
        "messages, or use /ask your question.",
        "• /ask &lt;question&gt; works everywhere.",
        "Under an answer, <b>More</b> shows further quotes, <b>Context</b> the passage "
        "around a quote, and <b>\U0001f4c4 Page</b> (quotes from PDFs) the page with the "
        "quote highlighted.",
        "• Follow-up questions are understood (\u201cwhat is it used for?\u201d after a "
        "question about something); I say how I read them. /new starts afresh.",
    ]
    user = update.effective_user
    if services.policy.is_admin(user.id if user else None):
        tg = services.config.telegram
        kinds = " ".join(sorted(allowed_suffixes(services.config)))
        lines += ["", "<b>Admin</b>",
                  f"• Send me a document ({escape_html(kinds)}, up to {tg.max_upload_mb:g} MB) "
                  "to add it to the corpus.",
                  "• /reindex after files were added on disk; /stats for usage."]
    await reply(update, context, "\n".join(lines))


async def new_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/new: forget the conversation, so the next question is read on its own."""
    if not await admitted(update, context):
        return
    _services(context).conversations.reset(_conversation_key(update))
    await reply(update, context, "New conversation: I have forgotten the previous "
                "questions. Ask away.")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have, in a private chat: say so, not nothing. (In a
    group it may be another bot's.)"""
    if not await admitted(update, context):
        return
    await reply(update, context, "I don't know that command. /help says what I can do; "
                "to ask, just send your question.")


def _conversation_key(update: Update) -> Key:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    return conversation_key(chat.id, chat.type, user.id if user else None, thread_of(message))


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask <question>, in any chat."""
    await answer_question(update, context, " ".join(context.args or []))


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    await answer_question(update, context, update.effective_message.text or "")


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, only messages that mention the bot or reply to it are questions."""
    message = update.effective_message
    text = message.text or ""
    me = context.bot
    addressed = False
    reply_to = message.reply_to_message
    if reply_to is not None and reply_to.from_user and reply_to.from_user.id == me.id:
        addressed = True
    mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    for entity, value in mentions.items():
        if (entity.type == MessageEntity.MENTION
                and value.lstrip("@").lower() == (me.username or "").lower()) or (
                entity.type == MessageEntity.TEXT_MENTION and entity.user
                and entity.user.id == me.id):
            addressed = True
            text = text.replace(value, " ")
    if addressed:
        await answer_question(update, context, text)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE,
                          question: str) -> None:
    """Check, ask the retriever in a worker thread, reply with quotes and buttons."""
    if not await admitted(update, context):
        return
    services = _services(context)
    tg = services.config.telegram
    message, chat = update.effective_message, update.effective_chat
    if message.date and time.time() - message.date.timestamp() > tg.stale_after_s:
        # Asked long before this answer could come (the bot was down): a late answer to a
        # question the user may have given up on is worse than a short note.
        await reply(update, context, RESTARTED)
        return
    question, requested = split_scope(question)
    try:
        normalise_scope(requested)  # the retriever's own check: no "..", as `ask --in`
    except ValueError:
        await reply(update, context, "<code>in:</code> takes a folder inside the documents, "
                    "e.g. <code>in:reports/2024</code>, without <code>..</code>.")
        return
    within = effective_scope(tg.scopes, chat.id, requested)
    if within == []:
        await reply(update, context, "This chat cannot search "
                    f"{escape_html(', '.join(requested))}: ask about its own folders.")
        return
    question = " ".join(question.split())
    if not question:
        await reply(update, context, "Ask me a question, e.g. <code>/ask When did the first "
                    "coffeehouse in London open?</code> (see /help).")
        return
    if len(question) > tg.max_question_chars:
        await reply(update, context, f"That question is too long ({len(question)} characters; "
                    f"the limit is {tg.max_question_chars}). Please ask it more briefly.")
        return
    thread = thread_of(message)
    quote = message.message_id if chat.type != ChatType.PRIVATE else None
    loop = asyncio.get_running_loop()
    kind = small_talk(question)
    if kind is not None:
        counts, titles = await loop.run_in_executor(services.ask_pool, _corpus, services)
        await send_html(context, chat.id, small_talk_reply(kind, counts.get("documents", 0),
                                                           titles, HTML),
                        reply_to=quote, thread_id=thread)
        return
    conversation = _conversation_key(update)
    history = services.conversations.history(conversation)
    started = time.monotonic()
    async with typing(context, chat.id, thread):
        answer = await loop.run_in_executor(
            services.ask_pool, functools.partial(_ask, services, question, history, within))
    services.conversations.record(conversation, answer)
    services.stats.record(time.monotonic() - started, answer.found)
    logger.info("question in chat %s answered in %.2f s (found=%s)", chat.id,
                time.monotonic() - started, answer.found)
    answering = ANSWERING.set(update.update_id)  # the journal marks the send as it leaves
    try:
        if not answer.found:  # the closest quote, marked "not sure" (retrieval.show_closest)
            sent = await send_html(context, chat.id, render_page(
                answer, closest=services.config.retrieval.show_closest), reply_to=quote,
                thread_id=thread)
        else:
            key = services.answers.add(Conversation(answer, chat.id))
            sent = await send_html(context, chat.id, render_page(answer, 0), reply_to=quote,
                                   markup=keyboard(answer, key, 0), thread_id=thread)
    finally:
        ANSWERING.reset(answering)
    if services.journal is not None and sent is not None:  # None: send_html marks it later
        services.journal.mark(update.update_id, DONE)  # at once: the crash window is small


def _ask(services: Services, question: str, history: list | None = None,
         within: list[str] | None = None) -> Answer:
    extra: dict = {}  # retrievers without these (test doubles) are asked plainly
    if history:
        extra["history"] = history
    if within is not None:
        extra["within"] = within
    return services.retriever.ask(question, k=HITS_PER_QUESTION, **extra)


def _corpus(services: Services) -> tuple[dict[str, int], list[str]]:
    """Document count and a few titles, to say what the bot knows."""
    titles = getattr(services.retriever, "titles", None)
    return services.retriever.counts(), titles(3) if titles else []


def keyboard(answer: Answer, key: str, page: int) -> InlineKeyboardMarkup:
    """Context button(s) for the quotes on this page (each with a "📄 Page" button beside it
    when the quote is from a PDF), and More (or back to the first page)."""
    pages = paginate(answer)
    hits = pages[page]
    row = []
    for i in hits:
        number = "" if len(hits) == 1 else f" {i + 1}"
        row.append(InlineKeyboardButton(f"Context{number}", callback_data=f"c:{key}:{i}"))
        if has_picture(answer.hits[i]):
            row.append(InlineKeyboardButton(f"\U0001f4c4 Page{number}",
                                            callback_data=f"p:{key}:{i}"))
    nav = []
    if page + 1 < len(pages):
        nav.append(InlineKeyboardButton("More ›", callback_data=f"m:{key}:{page + 1}"))
    elif page > 0:
        nav.append(InlineKeyboardButton("« First", callback_data=f"m:{key}:0"))
    return InlineKeyboardMarkup([row, nav] if nav else [row])


# --- buttons -----------------------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """More: edit the message to the next page. Context: send the passage around a quote."""
    query = update.callback_query
    if not await admitted(update, context):
        return
    services = _services(context)
    kind, key, number = _parse_data(query.data or "")
    message = query.message
    conversation = services.answers.get(key) if kind else None
    if (conversation is None or not isinstance(message, Message)
            or message.chat.id != conversation.chat_id):
        await query.answer(EXPIRED, show_alert=True)
        return
    answer = conversation.answer
    if kind == "m":
        page = max(0, min(number, len(paginate(answer)) - 1))
        await query.answer()
        if page != conversation.page:
            # The page moves only once Telegram shows it: a failed edit leaves "More" working.
            await edit_html(context, message, render_page(answer, page),
                            markup=keyboard(answer, key, page),
                            on_edited=functools.partial(setattr, conversation, "page", page))
        return
    if not 0 <= number < len(answer.hits):
        await query.answer(EXPIRED, show_alert=True)
        return
    if kind == "p":
        await send_picture(query, context, services, conversation, number)
        return
    if number in conversation.contexts_sent:
        await query.answer("The context of this quote is already in the chat.")
        return
    conversation.contexts_sent.add(number)
    await query.answer()
    try:
        await send_html(context, message.chat.id, render_context(answer.hits[number]),
                        reply_to=message.message_id, thread_id=thread_of(message))
    except BaseException:
        conversation.contexts_sent.discard(number)  # not shown: the button may try again
        raise


def has_picture(hit: Hit) -> bool:
    """Whether a quote can be shown on its page: it comes from a PDF."""
    return hit.citation.page is not None and hit.citation.path.lower().endswith(".pdf")


async def send_picture(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE,
                       services: Services, conversation: Conversation, number: int) -> None:
    """📄 Page: the quote's page, quote highlighted, as a photo captioned with the citation."""
    from retrieval.pictures import picture_png

    message = query.message
    hit = conversation.answer.hits[number]
    if number in conversation.pictures_sent:
        await query.answer("The page of this quote is already in the chat.")
        return
    try:
        png = await asyncio.get_running_loop().run_in_executor(
            services.ask_pool, functools.partial(picture_png, services.config, hit))
    except DocumentChanged:
        await query.answer("This document has changed since this answer: ask again to see "
                           "its page (once the index has the change: /reindex).",
                           show_alert=True)
        return
    if png is None:
        await query.answer("The page of this quote is not available (the PDF is no longer "
                           "in the corpus).", show_alert=True)
        return
    conversation.pictures_sent.add(number)
    await query.answer()
    caption = hit.citation.label()
    if len(caption) > MAX_CAPTION:
        caption = caption[:MAX_CAPTION - 1] + "\u2026"
    try:
        await services.sender.deliver(message.chat.id, functools.partial(
            context.bot.send_photo, message.chat.id, photo=png, caption=caption,
            reply_parameters=ReplyParameters(message.message_id,
                                             allow_sending_without_reply=True)))
    except BaseException:
        conversation.pictures_sent.discard(number)  # not shown: the button may try again
        raise


def _parse_data(data: str) -> tuple[str, str, int]:
    """("m", "c" or "p", key, number) from "m:KEY:2"; ("", "", 0) for anything else.

    Callback data can be forged: only ASCII digits are numbers ("²".isdigit() is True).
    """
    parts = data.split(":")
    if (len(parts) != 3 or parts[0] not in ("m", "c", "p") or not parts[2].isascii()
            or not parts[2].isdigit() or len(parts[2]) > 4):
        return "", "", 0
    return parts[0], parts[1], int(parts[2])


# --- admin: stats, uploads, reindex --------------------------------------------------------


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): documents, chunks, questions answered, median answer time."""
    if not await admin(update, context):
        return
    services = _services(context)
    counts = await asyncio.get_running_loop().run_in_executor(
        services.ask_pool, services.retriever.counts)
    stats = services.stats
    median = stats.median()
    uptime = time.time() - stats.started
    status = await asyncio.get_running_loop().run_in_executor(
        services.ask_pool, _status_lines, services)
    await reply(update, context, "\n".join([
        "<b>quotebot stats</b>",
        f"Documents: {counts.get('documents', 0)}",
        f"Chunks: {counts.get('chunks', 0)}",
        f"Files skipped by the last build: {counts.get('skipped', 0)} (/reindex lists why)",
        f"Questions: {stats.questions} ({stats.answered} answered from the corpus)",
        "Median answer time: " + ("n/a" if median is None else f"{median:.2f} s"),
        f"Answers kept for buttons: {len(services.answers)}",
        f"Questions answered after a restart: {stats.replayed}"
        + (f" ({stats.uncertain} were being sent when it stopped: not resent)"
           if stats.uncertain else ""),
        f"Up for {uptime / 3600:.1f} h",
        "",
        "<b>Index</b>",
        *(escape_html(line) for line in status),
    ]))


def _status_lines(services: Services) -> list[str]:
    from index.status import store_status

    lines = store_status(services.config).lines()
    if services.watcher is not None and services.watcher.is_alive():
        lines = [line for line in lines if not line.startswith("Watch mode:")]
        lines.append("Watch mode: on (in this bot)")
    return lines


def allowed_suffixes(config: Config) -> set[str]:
    from index.loaders import indexed_suffixes

    return indexed_suffixes(config.loading.extensions)


async def upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's document: save it into the corpus, then update the index in the background."""
    if not await admin(update, context):
        return
    services = _services(context)
    config = services.config
    document = update.effective_message.document
    name = safe_name(document.file_name or "document")
    kinds = allowed_suffixes(config)
    if suffix_of(name) not in kinds:
        await reply(update, context, f"I can only add these kinds of files: "
                    f"{escape_html(' '.join(sorted(kinds)))}.")
        return
    limit = int(config.telegram.max_upload_mb * 1024 * 1024)
    if document.file_size and document.file_size > limit:
        await reply(update, context, f"That file is too large ({document.file_size / 2**20:.1f}"
                    f" MB; the limit is {config.telegram.max_upload_mb:g} MB).")
        return
    file = await document.get_file()
    if file.file_size and file.file_size > limit:  # a message that did not say its size
        await reply(update, context, f"That file is too large (the limit is "
                    f"{config.telegram.max_upload_mb:g} MB).")
        return
    data = bytes(await file.download_as_bytearray())
    if len(data) > limit:
        await reply(update, context, f"That file is too large (the limit is "
                    f"{config.telegram.max_upload_mb:g} MB).")
        return
    loop = asyncio.get_running_loop()
    same = await loop.run_in_executor(None, already_saved, config.corpus, name, data)
    if same is not None:
        shown = (f"<code>{escape_html(same.name)}</code> is already in the corpus with the "
                 "same content")
        state = await loop.run_in_executor(None, _index_state, config, same)
        if not state:
            await reply(update, context, f"{shown}, and indexed: nothing to add.")
            return
        # Saved before a build failed or a kill; or skipped, when the limits or OCR may
        # have changed since: a build either way.
        start_rebuild(update, context)
        if state == PENDING:
            await reply(update, context, f"{shown}, but not in the index yet. Updating the "
                        "index in the background; I keep answering from the current index "
                        "meanwhile.")
        else:
            await reply(update, context, f"{shown}, but the last build skipped it: "
                        f"{escape_html(state)}. Trying it again in the background (a file "
                        "that failed unchanged is not read again: send a corrected one).")
        return
    path = await loop.run_in_executor(None, save_upload, config.corpus, name, data)
    note = "" if path.name == name else (
        f" (a file named <code>{escape_html(name)}</code> already exists, so I did not "
        "overwrite it)")
    logger.info("admin %s uploaded %s", update.effective_user.id, path.name)
    await reply(update, context, f"Saved as <code>{escape_html(path.name)}</code>{note}. "
                "Updating the index in the background; I keep answering from the current "
                "index meanwhile.")
    start_rebuild(update, context)


PENDING = "pending"


def _index_state(config: Config, path: Path) -> str:
    """Where the corpus file `path` stands: "" indexed, `PENDING` (added or changed since the
    live index, or no index yet), else why the live build skipped it."""
    from index.changes import corpus_changes

    changes = corpus_changes(config)
    rel = path.relative_to(config.corpus).as_posix()
    if changes.no_index or rel in changes.added or rel in changes.changed:
        return PENDING
    return changes.skipped.get(rel, "")


async def reindex_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex (admins): pick up files added to the corpus folder on disk."""
    if not await admin(update, context):
        return
    await reply(update, context, "Updating the index in the background; I keep answering "
                "from the current index meanwhile.")
    start_rebuild(update, context)


def start_rebuild(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Queue an incremental build (one at a time) and report to the chat when it is done."""
    services = _services(context)
    task = asyncio.create_task(_rebuild(update, context))
    services.builds.add(task)
    task.add_done_callback(services.builds.discard)


async def finish_builds(services: Services) -> None:
    """Wait for queued builds and their reports (at shutdown, before the HTTP client closes)."""
    while services.builds:
        await asyncio.gather(*list(services.builds), return_exceptions=True)


async def _rebuild(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    services = _services(context)
    loop = asyncio.get_running_loop()
    try:
        report = await loop.run_in_executor(services.build_pool, _build_and_refresh, services)
    except Exception as exc:  # noqa: BLE001 - reported to the admin, logged in full
        logger.exception("index build failed (update %s)", update.update_id)
        text = ("The index could not be updated: "
                f"{escape_html(type(exc).__name__)}: {escape_html(str(exc)[:500])}")
    else:
        text = f"Index updated.\n<pre>{escape_html(report.summary(max_skipped=20))}</pre>"
    try:
        await reply(update, context, text)
    except TelegramError:
        logger.exception("could not send the build report (update %s)", update.update_id)


def catch_up(services: Services) -> None:
    """At start, in the background: remove uploads a kill left unfinished, and update the
    index when the corpus changed while the bot was down (`telegram.build_at_start`)."""
    task = asyncio.create_task(_catch_up(services))
    services.builds.add(task)
    task.add_done_callback(services.builds.discard)


async def _catch_up(services: Services) -> None:
    from index.changes import corpus_changes

    config = services.config
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, clean_stale_parts, config.corpus)
        if not config.telegram.build_at_start:
            return
        changes = await loop.run_in_executor(None, corpus_changes, config)
        if not changes or changes.no_index:
            return
        logger.info("the corpus changed while the bot was down (%s): updating the index in "
                    "the background", changes.summary())
        report = await loop.run_in_executor(services.build_pool, _build_and_refresh, services)
    except Exception:  # noqa: BLE001 - the bot keeps answering from the current index
        logger.exception("could not update the index at start")
    else:
        logger.info("index updated at start:\n%s", report.summary())


def _build_and_refresh(services: Services, wait: bool = True) -> BuildReport:
    from index.build import build_index

    report = build_index(services.config, wait=wait, progress=False)
    services.retriever.refresh()  # at once (questions under way finish on the old index)
    return report


def start_watch(application: Application, services: Services) -> None:
    """Watch mode: a thread waits for corpus changes; builds run on the build thread; the
    admins get each build's report when `telegram.notify_rebuilds` is on."""
    from index.watch import watch_corpus

    loop = asyncio.get_running_loop()
    tg = services.config.telegram

    def build(wait: bool) -> BuildReport:
        return services.build_pool.submit(_build_and_refresh, services, wait).result()

    async def notify(text: str) -> None:
        for admin_id in tg.admins:
            try:
                await send_html(_AppContext(application), admin_id, text)
            except TelegramError:
                logger.exception("could not send the build report to admin %s", admin_id)

    def on_report(report: BuildReport) -> None:
        if tg.notify_rebuilds and (report.added or report.changed or report.removed):
            summary = escape_html(report.summary(max_skipped=20))
            text = f"Index updated (watch mode).\n<pre>{summary}</pre>"
            asyncio.run_coroutine_threadsafe(notify(text), loop)

    def on_error(exc: Exception) -> None:
        if tg.notify_rebuilds:
            text = ("The index could not be updated (watch mode): "
                    f"{escape_html(type(exc).__name__)}: {escape_html(str(exc)[:500])}")
            asyncio.run_coroutine_threadsafe(notify(text), loop)

    services.watcher = threading.Thread(
        target=watch_corpus, args=(services.config, build), name="quotebot-watch", daemon=True,
        kwargs={"on_report": on_report, "on_error": on_error, "stop": services.watch_stop,
                # the start's own catch-up build (telegram.build_at_start) covers it
                "catch_up": not tg.build_at_start})
    services.watcher.start()


def stop_watch(services: Services) -> None:
    services.watch_stop.set()
    if services.watcher is not None:
        services.watcher.join(15)


@dataclass
class _AppContext:
    """What `send_html` needs of a handler's context, for messages sent outside handlers."""

    application: Application

    @property
    def bot(self) -> Any:
        return self.application.bot


# --- the journal -------------------------------------------------------------------------


async def _journal(services: Services, update_id: int, state: str) -> None:
    if services.journal is not None:
        await asyncio.get_running_loop().run_in_executor(None, services.journal.mark,
                                                         update_id, state)


async def finish_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After every handler (group 1): the update is answered; never handle it again (an
    answer still waiting in the send queue is marked when it leaves: `send_html`)."""
    journal = _services(context).journal
    if journal is not None and journal.deferred(update.update_id):
        return
    await _journal(_services(context), update.update_id, DONE)


# --- errors ------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the exception with the update id; tell the user briefly, never with a traceback."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(FAILED, show_alert=True)
        elif update.effective_chat is not None:
            chat_id = update.effective_chat.id
            await _services(context).sender.deliver(
                chat_id, functools.partial(context.bot.send_message, chat_id, FAILED,
                                           message_thread_id=thread_of(
                                               update.effective_message)))
    except TelegramError as exc:
        logger.warning("could not tell the user about the error: %s", type(exc).__name__)


# --- wiring ------------------------------------------------------------------------------

COMMANDS = [("ask", "Ask a question about the documents"),
            ("new", "Start a new conversation (forget earlier questions)"),
            ("help", "What I know and how to ask")]


def register(application: Application, services: Services) -> None:
    """Add every handler to `application`; `services` goes into bot_data."""
    application.bot_data["services"] = services
    new = filters.UpdateType.MESSAGE  # edited messages are not asked again
    application.add_handler(CommandHandler(["start", "help"], help_command, filters=new))
    application.add_handler(CommandHandler("ask", ask_command, filters=new))
    application.add_handler(CommandHandler("new", new_command, filters=new))
    application.add_handler(CommandHandler("stats", stats_command, filters=new))
    application.add_handler(CommandHandler("reindex", reindex_command, filters=new))
    application.add_handler(MessageHandler(
        new & filters.COMMAND & filters.ChatType.PRIVATE, unknown_command))
    application.add_handler(MessageHandler(
        new & filters.Document.ALL & filters.ChatType.PRIVATE, upload))
    application.add_handler(MessageHandler(
        new & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, private_text))
    application.add_handler(MessageHandler(
        new & filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS, group_text))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(TypeHandler(Update, finish_update), group=1)
    application.add_error_handler(on_error)

