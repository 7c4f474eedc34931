"""The command line: `quotebot index`, `ask` (text, JSON, stdin) and its errors."""

from __future__ import annotations

import io
import json
import sys

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
