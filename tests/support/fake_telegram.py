"""A fake Telegram Bot API server for end-to-end tests of the bot.

A stdlib `ThreadingHTTPServer` on 127.0.0.1 (random port) in a thread. It answers the
methods the bot and python-telegram-bot call (getMe, getUpdates with long polling and
offsets, sendMessage, sendPhoto, editMessageText, answerCallbackQuery, sendChatAction,
getFile and file downloads, setMyCommands, deleteWebhook, ...), records every call, lets a
test inject updates (private and group messages, mentions, replies, button presses,
documents, forum topics) and faults (`fail_next("sendMessage", 429, retry_after=1)`), and
wait for what the bot did.

It refuses what Telegram refuses (`Limits`): text over 4,096 characters after entity
parsing (UTF-16 code units), captions over 1,024, callback data over 64 bytes, HTML it
cannot parse ("can't parse entities"), identical edits ("message is not modified"), and
floods: 429 with retry_after past ~1 message a second per chat (short bursts allowed),
20 a minute per group, 30 a second overall. A test lowers the limits to trigger them.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE = "<page>"  # key of a payload that is an HTML page, not JSON
BOT_ID = 777000111
BOT_USERNAME = "quote_test_bot"
STRING_KEYS = {"text", "caption", "callback_query_id", "file_id", "parse_mode", "action",
               "inline_message_id", "url", "secret_token", "description", "short_description",
               "name", "language_code", "allowed_updates_raw"}


@dataclass
class Call:
    """One request the bot made, and what the fake answered."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None


@dataclass
class Fault:
    method: str
    status: int  # 0: drop the connection instead of answering; -1: answer late (`delay`)
    description: str
    retry_after: int | None = None
    count: int = 1
    deliver: bool = False  # with status 0: do the call (send the message), then drop
    delay: float = 0.0
    page: bool = False  # answer with a proxy's HTML error page, not a Bot API error object


@dataclass
class Limits:
    """What the fake enforces, as Telegram does (Bot API FAQ: "My bot is hitting limits").

    Floods are token buckets: a chat may get `chat_burst` messages at once, then
    `chat_per_second`; a group `group_per_minute` a minute; the bot `global_per_second`
    overall. Sends and edits of messages count (chat actions and callback answers do not).
    """

    text: int = 4096
    caption: int = 1024
    callback_data: int = 64
    chat_burst: int = 5
    chat_per_second: float = 1.0
    group_per_minute: float = 20.0
    global_per_second: float = 30.0


FLOODED = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText",
                     "editMessageCaption"})


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens a second
    tokens: float = -1.0
    stamp: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until a token is free (0: one is), refilling first."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class EntityError(ValueError):
    """HTML that Telegram would refuse with "can't parse entities"."""


@dataclass
class FakeTelegram:
    """The server's state; all public methods are thread-safe."""

    token: str
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    injected: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    polls: list[Call] = field(default_factory=list)  # getUpdates calls (their offsets)
    max_poll_timeout: float = 2.0
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        self.cond = threading.Condition()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self._buckets: dict[Any, _Bucket] = {}

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(_Handler):
            server_state = fake

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.05})
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            with self.cond:
                self.cond.notify_all()
            self.server.shutdown()
            self.server.server_close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Quote", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    # --- injecting updates ---------------------------------------------------------------

    def _chat(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        chat = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User{chat_id}"
        else:
            chat["title"] = f"Group {chat_id}"
        self.chats[chat_id] = chat
        return chat

    def add_update(self, payload: dict[str, Any]) -> int:
        with self.cond:
            update_id = next(self._update_ids)
            self.updates.append({"update_id": update_id, **payload})
            self.injected.append(self.updates[-1])
            self.cond.notify_all()
        return update_id

    def user_message(self, user_id: int, text: str = "", *, chat_id: int | None = None,
                     chat_type: str | None = None, reply_to: dict[str, Any] | None = None,
                     document: dict[str, Any] | None = None,
                     thread_id: int | None = None,
                     date: int | None = None) -> dict[str, Any]:
        """Inject a message from a user (private chat by default; group if chat_id < 0),
        sent now or at `date` (Unix time).

        `thread_id` makes it a message in that forum topic (message_thread_id).
        """
        chat_id = user_id if chat_id is None else chat_id
        chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
        with self.cond:
            message: dict[str, Any] = {
                "message_id": next(self._ids), "date": date or int(time.time()),
                "chat": self._chat(chat_id, chat_type),
                "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
            }
        if text:
            message["text"] = text
            entities = entities_for(text)
            if entities:
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if document is not None:
            message["document"] = document
        if thread_id is not None:
            message["chat"]["is_forum"] = True
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        self.add_update({"message": message})
        return message

    def press_button(self, user_id: int, message: dict[str, Any], data: str) -> str:
        """Inject a callback query from `user_id` on a message the bot sent."""
        query_id = str(next(self._ids) + 10_000_000)
        self.add_update({"callback_query": {
            "id": query_id, "chat_instance": str(message["chat"]["id"]), "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
            "message": message,
        }})
        return query_id

    def upload(self, user_id: int, file_name: str, data: bytes, *, chat_id: int | None = None,
               mime_type: str = "text/plain", caption: str = "",
               declared_size: int | None = -1) -> dict[str, Any]:
        """Inject a document message; the file can then be fetched with getFile.

        The message states the file's size unless `declared_size` says otherwise (None:
        no size, as Telegram may send; a number: a size that need not be true).
        """
        with self.cond:
            n = next(self._ids)
        file_id = f"FILE{n}"
        self.files[file_id] = data
        document = {"file_id": file_id, "file_unique_id": f"U{n}", "file_name": file_name,
                    "mime_type": mime_type}
        size = len(data) if declared_size == -1 else declared_size
        if size is not None:
            document["file_size"] = size
        message = self.user_message(user_id, chat_id=chat_id, document=document)
        if caption:
            message["caption"] = caption
        return message

    def fail_next(self, method: str, status: int = 429, *, retry_after: int | None = 1,
                  description: str = "", count: int = 1, deliver: bool = False,
                  page: bool = False) -> None:
        """The next `count` calls of `method` fail with `status` (429: with retry_after).

        `status=0` drops the connection without an answer, after the call was recorded
        (and, for sendMessage, not delivered; with `deliver=True` it is done first, as when
        the answer is lost on its way back): the client cannot know what happened. On
        getUpdates the updates are then not delivered (not confirmed either: the client
        asks again with the same offset, as with Telegram). `page=True` answers with an
        HTML page, as a proxy in front of the Bot API does, instead of an error object.
        """
        if not description:
            description = (f"Too Many Requests: retry after {retry_after}" if status == 429
                           else "Internal Server Error")
        with self.cond:
            self.faults.append(Fault(method, status, description,
                                     retry_after if status == 429 else None, count, deliver,
                                     page=page))

    def slow_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """The next `count` calls of `method` are answered normally, `seconds` late."""
        with self.cond:
            self.faults.append(Fault(method, -1, "", None, count, delay=seconds))

    # --- what the bot did ----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self.cond:
            return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages that reached the chat (sendMessage done, answered or not), oldest first."""
        with self.cond:
            return [c.result for c in self.calls
                    if c.method == "sendMessage" and isinstance(c.result, dict)
                    and (chat_id is None or c.result["chat"]["id"] == chat_id)]

    def photos(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Pictures that reached the chat (sendPhoto done), oldest first."""
        with self.cond:
            return [c.result for c in self.calls
                    if c.method == "sendPhoto" and isinstance(c.result, dict)
                    and (chat_id is None or c.result["chat"]["id"] == chat_id)]

    def refused(self, method: str | None = None) -> list[Call]:
        """Calls the fake refused (status other than 200), e.g. for a limit."""
        with self.cond:
            return [c for c in self.calls if c.status not in (0, 200)
                    and (method is None or c.method == method)]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        with self.cond:
            return dict(self.messages[(chat_id, message_id)])

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until `predicate()` is truthy (checked whenever the bot calls); return it."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the bot did not do what the test waited for")
                self.cond.wait(min(left, 0.2))

    def wait_sent(self, chat_id: int, count: int = 1, timeout: float = 15.0) -> list[dict]:
        def enough() -> list[dict] | None:
            sent = self.sent(chat_id)  # one scan of the calls per check (under the lock)
            return sent if len(sent) >= count else None

        return self.wait_for(enough, timeout)

    # --- the API -------------------------------------------------------------------------

    def _take_fault(self, method: str) -> Fault | None:
        """The fault for this call of `method`, if one is queued (under self.cond)."""
        fault = next((f for f in self.faults if f.method == method), None)
        if fault is not None:
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
        return fault

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.cond:
            call = Call(method, params, time.monotonic())
            (self.polls if method == "getUpdates" else self.calls).append(call)
            fault = self._take_fault(method)
            if fault is not None and fault.status == -1:
                delay, fault = fault.delay, None
            else:
                delay = 0.0
            if fault is None and method in FLOODED:
                fault = self._flood(params)
            if fault is not None and not fault.deliver:
                body: dict[str, Any] = {"ok": False, "error_code": fault.status,
                                        "description": fault.description}
                if fault.retry_after is not None:
                    body["parameters"] = {"retry_after": fault.retry_after}
                call.status = fault.status
                self.cond.notify_all()
                if fault.status == 0:
                    raise ConnectionAbortedError("fault: connection dropped")
                if fault.page:
                    return fault.status, {PAGE: f"<html><body><h1>{fault.status} "
                                                f"{fault.description}</h1></body></html>"}
                return fault.status, body
        if delay:
            time.sleep(delay)  # outside the lock: other calls go on meanwhile
        if method == "getUpdates":
            call.result = self._get_updates(params)
            if fault is not None:  # deliver=True makes no sense here: plain drop
                raise ConnectionAbortedError("fault: connection dropped")
            return 200, {"ok": True, "result": call.result}
        with self.cond:
            try:
                status, result = self._method(method, params)
            except EntityError as exc:
                status, result = 400, f"Bad Request: {exc}"
            except (KeyError, ValueError) as exc:
                status, result = 400, f"Bad Request: {exc}"
            call.status = status if fault is None else 0
            call.result = result
            self.cond.notify_all()
        if fault is not None:  # done (delivered), but the answer never reaches the client
            raise ConnectionAbortedError("fault: connection dropped after the call")
        if status != 200:
            return status, {"ok": False, "error_code": status, "description": result}
        return 200, {"ok": True, "result": result}

    def _flood(self, params: dict[str, Any]) -> Fault | None:
        """A 429 when this message would pass the chat's, group's or bot's limit (under lock).

        A token is taken from every bucket only when all of them have one, as a refused
        call does nothing.
        """
        limits = self.limits
        try:
            chat_id = int(params.get("chat_id") or 0)
        except (TypeError, ValueError):
            return None
        buckets = [self._buckets.setdefault(("chat", chat_id), _Bucket(
                       limits.chat_burst, limits.chat_per_second)),
                   self._buckets.setdefault("global", _Bucket(
                       limits.global_per_second, limits.global_per_second))]
        if chat_id < 0:
            buckets.append(self._buckets.setdefault(("group", chat_id), _Bucket(
                limits.group_per_minute, limits.group_per_minute / 60.0)))
        now = time.monotonic()
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait <= 0:
            for bucket in buckets:
                bucket.tokens -= 1.0
            return None
        retry_after = max(1, math.ceil(wait))
        return Fault("", 429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), self.max_poll_timeout)
        deadline = time.monotonic() + timeout
        with self.cond:
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while True:
                pending = [u for u in self.updates if u["update_id"] >= offset]
                left = deadline - time.monotonic()
                if pending or left <= 0:
                    return pending[:limit]
                self.cond.wait(left)

    def _method(self, method: str, p: dict[str, Any]) -> tuple[int, Any]:
        if method == "getMe":
            return 200, self.bot_user
        if method in ("deleteWebhook", "setWebhook", "setMyCommands", "deleteMyCommands",
                      "sendChatAction", "answerCallbackQuery", "close", "logOut",
                      "setMyDescription", "setMyShortDescription"):
            return 200, True
        if method == "getWebhookInfo":
            return 200, {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if method in ("sendMessage", "sendPhoto"):
            chat_id = int(p["chat_id"])
            if method == "sendMessage":
                content = _text_of(p, self.limits.text)
            else:
                content = _caption_of(p, self.limits.caption)
            _check_markup(p.get("reply_markup"), self.limits.callback_data)
            chat = self.chats.get(chat_id) or self._chat(
                chat_id, "private" if chat_id > 0 else "supergroup")
            message = {"message_id": next(self._ids), "date": int(time.time()), "chat": chat,
                       "from": self.bot_user, **content}
            if p.get("message_thread_id"):
                message["message_thread_id"] = int(p["message_thread_id"])
                message["is_topic_message"] = True
            if "reply_markup" in p:
                message["reply_markup"] = p["reply_markup"]
            reply = p.get("reply_parameters") or {}
            if isinstance(reply, dict) and reply.get("message_id"):
                message["reply_to_message_id"] = reply["message_id"]
            self.messages[(chat_id, message["message_id"])] = dict(message)  # edits change this
            return 200, message
        if method == "editMessageText":
            key = (int(p["chat_id"]), int(p["message_id"]))
            if key not in self.messages:
                return 400, "Bad Request: message to edit not found"
            message = self.messages[key]
            new = _text_of(p, self.limits.text)
            markup = p.get("reply_markup")
            _check_markup(markup, self.limits.callback_data)
            if new["html"] == message.get("html") and markup == message.get("reply_markup"):
                return 400, ("Bad Request: message is not modified: specified new message "
                             "content and reply markup are exactly the same")
            message.update(new, edit_date=int(time.time()))
            if markup is None:
                message.pop("reply_markup", None)
            else:
                message["reply_markup"] = markup
            return 200, dict(message)
        if method == "getFile":
            file_id = p["file_id"]
            if file_id not in self.files:
                return 400, "Bad Request: invalid file_id"
            return 200, {"file_id": file_id, "file_unique_id": "U" + file_id,
                         "file_size": len(self.files[file_id]),
                         "file_path": f"documents/{file_id}.bin"}
        return 404, "Not Found"


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# Telegram's HTML: these tags (and <span class="tg-spoiler">), and the entities
# &lt; &gt; &amp; &quot; plus numeric ones (core.telegram.org/bots/api#html-style).
HTML_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                       "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"})
_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z][\w-]*)((?:\s[^<>]*)?)>|<|&(#x[0-9a-fA-F]+|#[0-9]+|"
                         r"[a-zA-Z]+);|[^<&]+|&")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(raw: str) -> str:
    """The text Telegram shows for `raw` (parse_mode HTML); EntityError where it would refuse."""
    out: list[str] = []
    stack: list[str] = []
    for match in _HTML_TOKEN.finditer(raw):
        token = match.group()
        offset = _ByteOffset(raw, match.start())
        if match.group(2) is not None:
            name = match.group(2).lower()
            if match.group(1):
                if not stack or stack[-1] != name:
                    raise EntityError(f"can't parse entities: Unmatched end tag at byte offset "
                                      f"{offset}, expected \"</{stack[-1] if stack else ''}>\", "
                                      f"found \"</{name}>\"")
                stack.pop()
            elif name not in HTML_TAGS:
                raise EntityError(f"can't parse entities: Unsupported start tag \"{name}\" at "
                                  f"byte offset {offset}")
            else:
                stack.append(name)
        elif token == "<":
            raise EntityError(f"can't parse entities: Unexpected character '<' at byte offset "
                              f"{offset}")
        elif match.group(4) is not None:
            ref = match.group(4)
            if ref.startswith("#"):
                try:
                    out.append(chr(int(ref[2:], 16) if ref[1:2] in "xX" else int(ref[1:])))
                except (ValueError, OverflowError):
                    raise EntityError(f"can't parse entities: invalid character reference "
                                      f"at byte offset {offset}") from None
            else:
                out.append(_NAMED.get(ref, token))
        else:
            out.append(token)
    if stack:
        raise EntityError(f"can't parse entities: Can't find end tag corresponding to start "
                          f"tag \"{stack[-1]}\"")
    return "".join(out)


class _ByteOffset:
    """A token's byte offset, as Telegram's errors give it (computed only when shown)."""

    def __init__(self, text: str, index: int) -> None:
        self.text, self.index = text, index

    def __str__(self) -> str:
        return str(len(self.text[:self.index].encode("utf-8", "surrogatepass")))


def _shown(raw: str, params: dict[str, Any]) -> str:
    return parse_html(raw) if str(params.get("parse_mode", "")).upper() == "HTML" else raw


def _text_of(params: dict[str, Any], limit: int = 4096) -> dict[str, Any]:
    """The message text as Telegram would show it, plus the raw HTML the bot sent.

    ValueError (a 400) for what Telegram refuses: empty or over `limit` UTF-16 units
    after entity parsing, or HTML it cannot parse.
    """
    raw = params["text"]
    shown = _shown(raw, params).strip()
    if not shown:
        raise ValueError("message text is empty")
    if utf16_len(shown) > limit:
        raise ValueError("message is too long")
    return {"text": shown, "html": raw}


def _caption_of(params: dict[str, Any], limit: int = 1024) -> dict[str, Any]:
    """A picture's caption (at most `limit` UTF-16 units after parsing) and its size."""
    raw = params.get("caption") or ""
    shown = _shown(raw, params).strip()
    if utf16_len(shown) > limit:
        raise ValueError("message caption is too long")
    photo = params.get("photo")
    size = len(photo) if isinstance(photo, bytes | bytearray) else 0
    return {"caption": shown, "caption_html": raw,
            "photo": [{"file_id": f"PHOTO{size}", "file_unique_id": f"P{size}",
                       "width": 1, "height": 1, "file_size": size}]}


def _check_markup(markup: Any, limit: int = 64) -> None:
    """ValueError as Telegram's for buttons whose callback_data is over `limit` bytes."""
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= limit:
                raise ValueError("BUTTON_DATA_INVALID")


def entities_for(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities, offsets in UTF-16 units like Telegram's."""
    def units(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    found = []
    command = re.match(r"/\w+(?:@\w+)?", text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": units(command.group())})
    for mention in re.finditer(r"(?<![\w/])@\w{3,}", text):
        found.append({"type": "mention", "offset": units(text[:mention.start()]),
                      "length": units(mention.group())})
    return found


def _parse_params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    raw: dict[str, str] = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
    files: dict[str, bytes] = {}
    if content_type.startswith("application/json") and body:
        return {**raw, **json.loads(body)}
    if content_type.startswith("application/x-www-form-urlencoded"):
        raw.update({k: v[-1] for k, v in
                    urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()})
    elif content_type.startswith("multipart/form-data"):
        msg = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name and part.get_filename() is None:
                raw[name] = part.get_content()
            elif name:  # an uploaded file (a photo): its bytes
                files[name] = part.get_payload(decode=True) or b""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in STRING_KEYS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except (TypeError, ValueError):
            params[key] = value
    for key, data in files.items():
        # python-telegram-bot sends a file as "attach://NAME" in the field, bytes in part NAME
        target = next((k for k, v in params.items() if v == f"attach://{key}"), key)
        params[target] = data
    return params


class _Server(ThreadingHTTPServer):
    """Quiet about clients that go away mid-request (a bot being stopped or killed).

    The listen backlog is 128, not socketserver's 5: a burst of new connections (the bot
    answering many chats at once) must not be reset by the fake, which Telegram never does.
    """

    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server_state: FakeTelegram
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _dispatch(self) -> None:
        state = self.server_state
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        file_prefix = f"/file/bot{state.token}/"
        path = urllib.parse.unquote(url.path)  # python-telegram-bot quotes the token's ':'
        if path.startswith(file_prefix):
            name = path[len(file_prefix):].rsplit("/", 1)[-1].removesuffix(".bin")
            data = state.files.get(name)
            if data is None:
                self._reply(404, b"not found", "text/plain")
            else:
                self._reply(200, data, "application/octet-stream")
            return
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", url.path)
        if not match:
            self._reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            return
        if match.group(1) != state.token:
            self._reply(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
            return
        params = _parse_params(self.headers.get("Content-Type", ""), body, url.query)
        try:
            status, payload = state.handle(match.group(2), params)
        except ConnectionAbortedError:
            self.close_connection = True
            self.connection.shutdown(2)  # socket.SHUT_RDWR
            return
        if PAGE in payload:
            self._reply(status, payload[PAGE].encode(), "text/html")
            return
        self._reply(status, json.dumps(payload).encode())

    do_GET = _dispatch
    do_POST = _dispatch
