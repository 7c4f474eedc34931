"""One user floods the bot; how many messages come back, and is anyone else held up?

Runs the real bot (Application, Retriever on the tests' tiny corpus, indexed here) against
the fake Bot API of tests/bot, which enforces Telegram's limits (429 past them). With the
default budget (telegram.rate_per_minute = 10, rate_burst = 5), one user sends a flood of
commands, over-long questions and button presses while another user asks one question.

    python benchmarks/flood.py            # 60 updates (20 of each kind)
    python benchmarks/flood.py --each 100
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.fake_telegram import FakeTelegram  # noqa: E402

from bot.app import build_application  # noqa: E402
from index.build import build_index  # noqa: E402
from retrieval import Retriever  # noqa: E402

TOKEN = "123456789:FLOOD-benchmark_ABCDEFGHIJKLMNOPQRSTUVWX"
FLOODER, OTHER = 1001, 2002
COFFEE = "When did the first coffeehouse in London open?"


def outgoing(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [c.method for c in fake.calls
            if c.method in ("sendMessage", "editMessageText", "sendPhoto")
            and int(c.params.get("chat_id", 0)) == chat_id]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--each", type=int, default=20, help="updates of each kind (3 kinds)")
    args = parser.parse_args()
    from support.bot_runner import BotRunner  # the bot in a thread
    from support.corpus import make_config, make_corpus

    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(Path(tmp) / "corpus")
        config = make_config(corpus, Path(tmp) / "store")
        build_index(config, progress=False)
        retriever = Retriever.open(config)
        fake = FakeTelegram(TOKEN).start()
        config.telegram.base_url = fake.base_url
        config.telegram.public = True
        config.telegram.build_at_start = False
        config.telegram.max_question_chars = 100
        runner = BotRunner(build_application(config, retriever, token=TOKEN,
                                             poll_timeout=1)).start()
        try:
            fake.user_message(FLOODER, COFFEE)  # an answer with buttons to press
            answer = fake.wait_sent(FLOODER)[0]
            data = [b["callback_data"] for row in answer["reply_markup"]["inline_keyboard"]
                    for b in row]
            time.sleep(7)  # one token back, as after a normal pause
            before = len(outgoing(fake, FLOODER))
            started = time.monotonic()
            for i in range(args.each):
                fake.user_message(FLOODER, "/help" if i % 2 else "/start")
                fake.user_message(FLOODER, "why " * 60)
                fake.press_button(FLOODER, answer, data[i % len(data)])
            fake.user_message(OTHER, COFFEE)
            fake.wait_sent(OTHER, timeout=60)
            other_s = time.monotonic() - started
            time.sleep(5)
            flood = outgoing(fake, FLOODER)[before:]
            texts = [m["text"] for m in fake.sent(FLOODER)]
            slow = sum("slow down" in t for t in texts) + sum(
                "slow down" in (c.params.get("text") or "")
                for c in fake.calls_to("answerCallbackQuery"))
            refused = len(fake.refused())
        finally:
            runner.stop()
            retriever.close()
            fake.stop()
    print(f"flood: {3 * args.each} updates from one user (commands, over-long questions, "
          f"button presses) with rate_per_minute=10, rate_burst=5")
    print(f"messages and edits back to the flooder: {len(flood)} "
          f"({flood.count('sendMessage')} sent, {flood.count('editMessageText')} edits), "
          f"'slow down' notices (a message or a button alert): {slow}")
    print(f"another user's answer arrived {other_s:.2f} s after the flood began")
    print(f"calls Telegram (the fake) refused: {refused}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
