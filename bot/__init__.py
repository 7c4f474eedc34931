"""The Telegram front end of quotebot, and a terminal chat with the same answers.

Entry points for the CLI: `bot.app.run_bot(config)` (`quotebot bot`) and
`bot.chat.run_chat(config)` (`quotebot chat`); `bot.app.build_application(config, retriever)`
for embedding or tests.
"""
