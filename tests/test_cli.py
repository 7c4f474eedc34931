"""The command line: `quotebot index`, `ask` (text, JSON, stdin) and its errors."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from quotebot.cli import main
from quotebot.config import Config


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def where(config: Config) -> list[str]:
    return ["--corpus", str(config.corpus), "--store", str(config.store)]


def test_ask_prints_quote_and_citation(session_config: Config, capsys) -> None:
    code, out, _ = run(capsys, "ask", *where(session_config), "How tall is the Eiffel Tower?")
    assert code == 0
    assert "330 metres" in out and "landmarks/eiffel.pdf" in out and "page 2" in out


def test_ask_json_is_one_object(session_config: Config, capsys) -> None:
    code, out, _ = run(capsys, "ask", *where(session_config), "--json", "-k", "2",
                       "Why is Mars red?")
    data = json.loads(out)
    assert code == 0 and data["found"] and len(data["hits"]) <= 2


def test_ask_reads_questions_from_stdin_one_json_line_each(session_config: Config, capsys,
                                                           monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Why is Mars red?\n\nHow do I bake bread?\n"))
    code, out, _ = run(capsys, "ask", *where(session_config), "--json", "-")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [d["question"] for d in lines] == ["Why is Mars red?", "How do I bake bread?"]
    assert [d["found"] for d in lines] == [True, False]


def test_low_confidence_is_marked_and_not_an_error(session_config: Config, capsys) -> None:
    code, out, _ = run(capsys, "ask", *where(session_config), "How do I reset my router?")
    assert code == 0 and out.startswith("Not sure this answers it")
    assert "\u201c" in out and "confidence" in out


def test_json_not_found_still_has_hits_with_confidence(session_config: Config,
                                                       capsys) -> None:
    code, out, _ = run(capsys, "ask", *where(session_config), "--json",
                       "How do I reset my router?")
    data = json.loads(out)
    assert code == 0 and data["found"] is False and data["hits"]
    assert all(0 <= h["confidence"] < 1 for h in data["hits"])
    assert data["confidence"] == data["hits"][0]["confidence"]


def test_missing_index_says_how_to_build_it(tmp_path, capsys) -> None:
    code, _, err = run(capsys, "ask", "--corpus", str(tmp_path), "--store",
                       str(tmp_path / "none"), "anything")
    assert code == 1 and "quotebot index" in err


def test_index_json_reports_nothing_to_embed_on_rebuild(fresh_copy, capsys) -> None:
    config = fresh_copy()
    code, out, _ = run(capsys, "index", *where(config), "--json")
    report = json.loads(out)
    assert code == 0 and report["chunks_embedded"] == 0 and report["unchanged"] > 0


def test_a_store_folder_named_in_bytes_that_are_not_utf8_is_refused_before_work(
        tmp_path, capsys) -> None:
    store = os.fsdecode(os.fsencode(tmp_path) + b"/s\xff4")
    (tmp_path / "corpus").mkdir()
    code, _, err = run(capsys, "index", "--corpus", str(tmp_path / "corpus"), "--store", store)
    assert code == 2 and "not valid UTF-8" in err and "Traceback" not in err
    assert not os.path.exists(store)


def test_a_model_not_on_this_machine_is_said_once_and_plainly(tmp_path, capsys) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("The cat sat on the mat.\n")
    code, _, err = run(capsys, "index", "--corpus", str(tmp_path / "corpus"), "--store",
                       str(tmp_path / "store"), "--model", "nosuch/model")
    assert code == 1
    assert "'nosuch/model' is not on this machine" in err and "allow_download" in err
    assert "huggingface.co" not in err and "ONNX export" not in err


def test_library_info_lines_are_kept_from_an_operator() -> None:
    import logging

    from quotebot.cli import quiet_libraries

    for name in ("faiss", "httpx"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    before = logging.getLogger().level
    logging.getLogger().setLevel(logging.INFO)  # as watch mode and the bot set it
    try:
        quiet_libraries()
        assert logging.getLogger("faiss.loader").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    finally:
        logging.getLogger().setLevel(before)


def test_bad_config_file_is_a_config_error(tmp_path, capsys) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("corpus = [unclosed\n")
    code, _, err = run(capsys, "ask", "--config", str(bad), "anything")
    assert code == 2 and "config" in err


def test_help_teaches_with_examples(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["ask", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "examples:" in out and "--json" in out


def test_chat_answers_questions_from_stdin(session_config: Config, capsys,
                                           monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Why is Mars red?\nquit\n"))
    code, out, _ = run(capsys, "chat", *where(session_config))
    assert code == 0 and "iron oxide" in out and "astronomy/solar.md" in out


def test_bot_without_token_is_a_clear_error(session_config: Config, capsys,
                                            monkeypatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    code, out, err = run(capsys, "bot", *where(session_config))
    assert code == 2 and "TELEGRAM_BOT_TOKEN" in err and "quotebot chat" in err
    assert out == ""


def test_damaged_index_is_exit_1_with_what_to_do(fresh_copy, capsys) -> None:
    config = fresh_copy()
    live = config.store / (config.store / "CURRENT").read_text().strip()
    with open(live / "vectors.faiss", "r+b") as f:  # a bad sector in the vectors
        f.seek(200)
        f.write(b"\0" * 64)
    code, out, err = run(capsys, "ask", *where(config), "Why is Mars red?")
    assert code == 1 and out == ""
    assert "damaged" in err and "quotebot index --full" in err and "Traceback" not in err


def test_question_bytes_that_are_not_utf8_are_still_asked(session_config: Config, capsys,
                                                          monkeypatch) -> None:
    code, out, _ = run(capsys, "ask", *where(session_config), "--json",
                       "caf\udce9 in London?")  # how Python passes a Latin-1 argument
    assert code == 0 and json.loads(out)["question"] == "caf\ufffd in London?"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        b"caf\xe9 in London?\nWhy is Mars red?\n"), encoding="utf-8"))  # strict, like a tty
    code, out, _ = run(capsys, "ask", *where(session_config), "--json", "-")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [d["question"] for d in lines] == ["caf\ufffd in London?",
                                                            "Why is Mars red?"]


def test_eval_of_malformed_squad_is_one_line_error(tmp_path, capsys) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"data": [{"title": "T"}]}), encoding="utf-8")
    code, out, err = run(capsys, "eval", "--squad", str(path), "--store",
                         str(tmp_path / "store"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "data[0]" in err and "paragraphs" in err


def test_ask_conversation_reads_stdin_lines_as_one_conversation(session_config: Config, capsys,
                                                                 monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(
        "Which towns did Vesuvius bury?\nWhen did it erupt?\n"))
    code, out, _ = run(capsys, "ask", "-", "--json", "--conversation", *where(session_config))
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 0 and first["interpreted_as"] is None
    assert second["interpreted_as"] == "When did Vesuvius erupt?"
    assert "79" in second["hits"][0]["excerpt"]


def test_ask_pictures_writes_png_for_pdf_hits_only(session_config: Config, capsys,
                                                   tmp_path) -> None:
    code, out, _ = run(capsys, "ask", *where(session_config), "--json", "-k", "3",
                       "--pictures", str(tmp_path / "pics"), "How tall is the Eiffel Tower?")
    hits = json.loads(out)["hits"]
    assert code == 0
    pdf_hits = [h for h in hits if h["citation"]["path"].endswith(".pdf")]
    assert pdf_hits and all(Path(h["picture"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                            for h in pdf_hits)
    assert all("picture" not in h for h in hits if h not in pdf_hits)


# --- extract ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["txt", "md", "html", "pdf", "docx"])


def test_extract_json_shows_the_text_the_index_sees_for_every_format(tmp_path, capsys,
                                                                     fmt: str) -> None:
    from support.files import SENTENCE, write_every_format

    path = write_every_format(tmp_path)[fmt]
    code, out, _ = run(capsys, "extract", "--json", str(path))
    found = json.loads(out)
    assert code == 0 and found["path"] == str(path) and found["format"] == fmt
    assert {"title", "text", "pages", "skipped", "blocks"} <= found.keys()
    assert SENTENCE in found["text"] and "Home" not in found["text"]
    block = next(b for b in found["blocks"] if SENTENCE in b["text"])
    assert found["text"][block["start"]:block["end"]] == block["text"]
    assert (found["pages"] is not None) == (fmt == "pdf")
    if fmt == "pdf":
        assert block["page"] == 2 and found["pages"][1]["page"] == 2


def test_extract_lists_sentences_left_out_as_page_chrome(tmp_path, capsys) -> None:
    path = tmp_path / "story.txt"
    path.write_text("Rain is expected across the north on Friday.\n\n"
                    "Sign up for our newsletter to get updates in your inbox.\n")
    code, out, _ = run(capsys, "extract", "--json", str(path))
    skipped = json.loads(out)["skipped"]
    assert code == 0 and [(s["line"], s["reason"]) for s in skipped] == [(3, "page chrome")]


def test_a_file_named_with_terminal_escapes_is_printed_not_obeyed(tmp_path, capsys) -> None:
    (tmp_path / "ferry\x1b]0;pwned\x07\x1b[2J.md").write_text("")
    code, out, _ = run(capsys, "extract", str(tmp_path))
    assert code == 0 and "ferry\\x1b]0;pwned\\x07\\x1b[2J.md: not indexed" in out
    assert "\x1b" not in out and "\x07" not in out


def test_extract_says_why_a_file_is_not_indexed(tmp_path, capsys) -> None:
    (tmp_path / "empty.md").write_text("")
    code, out, _ = run(capsys, "extract", str(tmp_path))
    assert code == 0 and "empty.md: not indexed: empty file" in out


def test_extract_of_a_folder_reports_a_non_utf8_name_and_goes_on(tmp_path, capsys) -> None:
    (tmp_path / "good.md").write_text("# Good\n\nThe harbour opens at dawn.\n")
    bad = os.fsencode(tmp_path) + b"/bad\xffname.md"
    with open(bad, "wb") as f:
        f.write(b"# Bad\n\nA name that is not UTF-8.\n")
    code, out, _ = run(capsys, "extract", "--json", str(tmp_path))
    found = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert code == 0
    assert "harbour" in found["good.md"]["text"]
    assert "not valid UTF-8" in found["bad\\xffname.md"]["error"]


def test_extract_of_a_folder_skips_hidden_files_as_a_build_does(tmp_path, capsys) -> None:
    (tmp_path / "seen.md").write_text("# Seen\n\nThis one is read.\n")
    (tmp_path / ".hidden.md").write_text("# Hidden\n\nA build never reads this.\n")
    code, out, _ = run(capsys, "extract", "--json", str(tmp_path))
    assert code == 0 and [Path(json.loads(line)["path"]).name
                          for line in out.splitlines()] == ["seen.md"]


def test_extract_prints_each_block_with_its_source_line(tmp_path, capsys) -> None:
    path = tmp_path / "guide.md"
    path.write_text("# Guide\n\nSome *emphasis* here.\n\n- an item\n")
    code, out, _ = run(capsys, "extract", str(path))
    assert code == 0
    assert "[line 3] para: Some emphasis here." in out and "[line 5] item: an item" in out


def test_extract_lists_the_furniture_left_out_of_a_web_page(tmp_path, capsys) -> None:
    from support.files import write_every_format

    path = write_every_format(tmp_path)["html"]
    code, out, _ = run(capsys, "extract", "--json", str(path))
    skipped = json.loads(out)["skipped"]
    assert code == 0
    assert (skipped[0]["reason"], skipped[0]["text"], skipped[0]["start"]) == (
        "page furniture", "Home", None)


def test_output_survives_a_terminal_that_is_not_utf8(session_config: Config, monkeypatch,
                                                     capsys) -> None:
    # LANG=en_US.ISO-8859-1, PYTHONIOENCODING=ascii, a cp1252 console: quotes and dashes in
    # answers and citations cannot be encoded there. JSON is UTF-8 whatever the terminal.
    for flags in (["--json"], []):
        raw = io.BytesIO()
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
        code = main(["ask", *where(session_config), *flags, "Why is Mars red? \u2014 caf\u00e9"])
        sys.stdout.flush()
        assert code == 0, capsys.readouterr().err
        text = raw.getvalue().decode("utf-8")
        if flags:
            assert json.loads(text)["question"] == "Why is Mars red? \u2014 caf\u00e9"
        else:
            assert "iron oxide" in text


@pytest.mark.parametrize("k", ["0", "-5", "three"])
def test_k_below_one_is_a_usage_error(session_config: Config, capsys, k: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["ask", *where(session_config), "-k", k, "Why is Mars red?"])
    assert exit_.value.code == 2 and "above 0" in capsys.readouterr().err


def test_an_empty_store_variable_is_a_config_error_not_the_working_directory(
        session_config: Config, capsys, monkeypatch) -> None:
    monkeypatch.setenv("QUOTEBOT_STORE", "")  # QUOTEBOT_STORE=$UNSET quotebot index
    code, out, err = run(capsys, "index", "--corpus", str(session_config.corpus))
    assert code == 2 and out == "" and "QUOTEBOT_STORE" not in err and "'store'" in err


def test_a_folder_that_climbs_out_of_the_corpus_is_a_usage_error(session_config: Config,
                                                                 capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["ask", *where(session_config), "--in", "../..", "Why is Mars red?"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "climbs out of the corpus" in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "exit_code"), [
    (["ask", "--pictures", "{file}", "How tall is the Eiffel Tower?"], 2),  # a usage error
    (["eval", "--squad", "{folder}"], 1),  # IsADirectoryError
])
def test_a_path_of_the_wrong_kind_is_one_line_not_a_traceback(session_config: Config, capsys,
                                                              tmp_path, argv,
                                                              exit_code: int) -> None:
    (tmp_path / "a file").write_text("x")
    argv = [a.format(file=tmp_path / "a file", folder=tmp_path) for a in argv]
    code, _, err = run(capsys, argv[0], *where(session_config), *argv[1:])
    assert code == exit_code and err.count("\n") == 1 and str(tmp_path) in err


def test_a_reader_that_stops_reading_ends_the_command_quietly(session_config: Config) -> None:
    # `quotebot ask - --json < questions.txt | head -1` printed a BrokenPipeError traceback.
    import subprocess

    command = [sys.executable, "-m", "quotebot", "ask", "-", "--json", *where(session_config)]
    done = subprocess.run(
        f"{' '.join(map(repr, command))} | head -c 1 >/dev/null", shell=True,
        input="Why is Mars red?\n" * 200, capture_output=True, text=True, timeout=300,
        cwd=Path(__file__).resolve().parents[1])
    assert done.stderr == ""


def test_conversation_without_stdin_questions_is_refused(session_config: Config, capsys) -> None:
    code, _, err = run(capsys, "ask", *where(session_config), "--conversation", "What is it?")
    assert code == 2 and "use it with -" in err


def test_pictures_into_a_file_is_refused_plainly(session_config: Config, capsys,
                                                 tmp_path) -> None:
    (tmp_path / "afile").write_text("x")
    for folder in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        code, _, err = run(capsys, "ask", *where(session_config), "--pictures",
                           str(folder), "How tall is the Eiffel Tower?")
        assert code == 2 and "cannot be made a folder" in err and "Errno" not in err


def test_eval_of_an_empty_question_file_is_refused(session_config: Config, capsys,
                                                   tmp_path) -> None:
    (tmp_path / "q.jsonl").write_text("\n# nothing yet\n")
    code, _, err = run(capsys, "eval", "--questions", str(tmp_path / "q.jsonl"),
                       *where(session_config))
    assert code == 2 and "no questions" in err


def test_eval_notes_questions_naming_a_file_not_in_the_corpus(fresh_copy, capsys,
                                                              tmp_path) -> None:
    config = fresh_copy()
    (tmp_path / "q.jsonl").write_text(json.dumps(
        {"question": "How tall is the Eiffel Tower?", "answers": ["330 metres"],
         "path": "landmarks/eifel.pdf"}) + "\n")
    code, _, err = run(capsys, "eval", "--questions", str(tmp_path / "q.jsonl"),
                       *where(config), "--json")
    assert code == 0
    assert "1 question(s) name a file not in" in err and "landmarks/eifel.pdf" in err


def test_metrics_table_shows_a_metric_one_mode_lacks_as_a_dash() -> None:
    from quotebot.cli import metrics_table

    table = metrics_table([{"mode": "bm25", "metrics": {"hit@1": 0.5, "hidden_declined": 1.0}},
                           {"mode": "hybrid", "metrics": {"hit@1": 0.75}}], 8)
    header, bm25, hybrid = table.splitlines()
    assert header.split() == ["mode", "hit@1", "hidden_declined"]
    assert bm25.split() == ["bm25", "0.5000", "1.0000"]
    assert hybrid.split() == ["hybrid", "0.7500", "-"]
