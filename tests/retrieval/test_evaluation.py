"""Evaluation metrics against values computed by hand, and the data-set readers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from retrieval.evaluation import (
    EvalDataError,
    contains_answer,
    load_beir,
    load_squad,
    materialise,
    mrr_at,
    ndcg_at,
    recall_at,
)

RANKED = ["d3", "d1", "d7", "d2"]
QRELS = {"d1": 1, "d2": 2, "d9": 1}


def test_ndcg_matches_hand_computation() -> None:
    dcg = 1 / math.log2(3) + 2 / math.log2(5)  # d1 at rank 2, d2 at rank 4
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(RANKED, QRELS, 10) == pytest.approx(dcg / idcg)


def test_ndcg_cut_off_ignores_lower_ranks() -> None:
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(RANKED, QRELS, 2) == pytest.approx((1 / math.log2(3)) / idcg)


def test_recall_counts_relevant_found() -> None:
    assert recall_at(RANKED, QRELS, 2) == pytest.approx(1 / 3)
    assert recall_at(RANKED, QRELS, 10) == pytest.approx(2 / 3)


def test_mrr_is_reciprocal_rank_of_first_relevant() -> None:
    assert mrr_at(RANKED, QRELS, 10) == pytest.approx(0.5)
    assert mrr_at(["x", "y"], QRELS, 10) == 0.0


def test_answer_containment_ignores_case_and_spacing() -> None:
    assert contains_answer("Founded in  the year 1652 in London", ["THE YEAR 1652"])
    assert not contains_answer("Founded in 1653", ["1652"])


def test_beir_reader_keeps_queries_with_judgements(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(
        json.dumps({"_id": "1", "title": "T", "text": "Body."}) + "\n", encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "a?"}) + "\n"
        + json.dumps({"_id": "q2", "text": "b?"}) + "\n", encoding="utf-8")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t1\t1\n")
    evalset = load_beir(tmp_path)
    assert evalset.queries == {"q1": "a?"}
    assert evalset.qrels == {"q1": {"1": 1}}
    materialise(evalset, tmp_path / "out")
    assert (tmp_path / "out" / "1.txt").read_text() == "T\n\nBody.\n"


def test_squad_reader_makes_one_document_per_paragraph(tmp_path: Path) -> None:
    data = {"data": [{"title": "Some_Topic", "paragraphs": [
        {"context": "First para.", "qas": [{"id": "a", "question": "Q?",
                                            "answers": [{"text": "First", "answer_start": 0}]}]},
        {"context": "Second para.", "qas": []}]}]}
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(data))
    evalset = load_squad(path)
    assert evalset.corpus == {"000_000": ("Some Topic", "First para."),
                              "000_001": ("Some Topic", "Second para.")}
    assert evalset.answers == {"a": ["First"]}
    assert evalset.query_group == {"a": "0"}


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_squad_v2_impossible_questions_are_should_decline(tmp_path: Path) -> None:
    data = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{
        "context": "Ada wrote the first program.", "document_id": 7, "qas": [
            {"id": "p", "question": "Who wrote it?", "is_impossible": False,
             "answers": [{"text": "Ada", "answer_start": 0}]},
            {"id": "i", "question": "Who sang it?", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "Ada", "answer_start": 0}]}]}]}]}
    evalset = load_squad(_write(tmp_path / "v2.json", data))
    assert evalset.impossible == {"i"}
    assert evalset.answers["p"] == ["Ada"]


def test_squad_without_titles_is_read(tmp_path: Path) -> None:
    data = {"data": [{"paragraphs": [{"context": "Body text.", "qas": [
        {"id": "q", "question": "What?", "answers": [{"text": "Body"}], "extra": 1}]}]}]}
    evalset = load_squad(_write(tmp_path / "untitled.json", data))
    assert evalset.corpus == {"000_000": ("", "Body text.")}
    assert evalset.queries == {"q": "What?"}


def test_malformed_squad_error_names_the_entry(tmp_path: Path) -> None:
    data = {"data": [{"title": "T", "paragraphs": [{"context": "C.", "qas": [
        {"id": "q", "answers": []}]}]}]}
    with pytest.raises(EvalDataError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\].*question"):
        load_squad(_write(tmp_path / "bad.json", data))


def test_squad_that_is_not_json_names_the_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"data": [', encoding="utf-8")
    with pytest.raises(EvalDataError, match="not valid JSON"):
        load_squad(path)


def test_question_file_lines_are_read_with_optional_path(tmp_path: Path) -> None:
    from retrieval.evaluation import load_questions

    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Q1?", "answers": ["a"], "path": "x.pdf"}\n\n'
                    '# a comment\n{"question": "Q2?", "answers": "b"}\n'
                    '{"question": "Q3?", "answers": ["c"], "path": ["x.md", "y.md"]}\n',
                    encoding="utf-8")
    questions = load_questions(path)
    assert [(q.question, q.answers, q.paths) for q in questions] == [
        ("Q1?", ["a"], ("x.pdf",)), ("Q2?", ["b"], ()), ("Q3?", ["c"], ("x.md", "y.md"))]


def test_malformed_question_line_names_its_line(tmp_path: Path) -> None:
    from retrieval.evaluation import load_questions

    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Q1?", "answers": ["a"]}\n{"question": "Q2?"}\n',
                    encoding="utf-8")
    with pytest.raises(ValueError, match=":2:"):
        load_questions(path)


def test_question_with_no_answers_is_an_absent_question(tmp_path: Path) -> None:
    from retrieval.evaluation import load_questions

    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Who won the 1950 World Cup?", "answers": []}\n',
                    encoding="utf-8")
    [question] = load_questions(path)
    assert question.absent and question.answers == []


def test_blank_answer_phrase_is_a_malformed_line(tmp_path: Path) -> None:
    from retrieval.evaluation import load_questions

    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Q1?", "answers": ["a", " "]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":1:.*empty answer"):
        load_questions(path)


def test_answer_match_folds_case_whitespace_and_ligatures() -> None:
    from retrieval.evaluation import answers_in

    assert answers_in("The \ufb01les are\n  STORED on disk.", ["files are stored"])
    assert not answers_in("The files are kept.", ["files are stored"])


def test_eval_questions_reports_excerpt_hits_over_a_folder(fresh_copy, tmp_path: Path,
                                                           capsys) -> None:
    from quotebot.cli import main

    config = fresh_copy()  # the evaluation updates the index of the folder it is given
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": "How tall is the Eiffel Tower?", "answers": ["330 metres"],
                    "path": "landmarks/eiffel.pdf"}) + "\n"
        + json.dumps({"question": "How tall is the Eiffel Tower?", "answers": ["330 metres"],
                      "path": "news/raqqa.txt"}) + "\n", encoding="utf-8")
    code = main(["eval", "--questions", str(questions), "--corpus", str(config.corpus),
                 "--store", str(config.store), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["metrics"]["excerpt_hit@1"] == 0.5  # the second names the wrong file
    assert result["details"][0]["excerpt_rank"] == 1


def test_eval_details_give_each_question_whose_mean_is_the_metric(tmp_path: Path,
                                                                 capsys) -> None:
    from quotebot.cli import main

    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    docs = {"1": "The Eiffel Tower is 330 metres tall.",
            "2": "The first London coffeehouse opened in 1652.",
            "3": "Sourdough bread rises with a culture of wild yeast."}
    (beir / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "title": "", "text": t}) + "\n" for i, t in docs.items()))
    (beir / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "How tall is the Eiffel Tower?"}) + "\n"
        + json.dumps({"_id": "q2", "text": "What makes sourdough rise?"}) + "\n"
        + json.dumps({"_id": "q3", "text": "When did a coffeehouse open in London?"}) + "\n")
    # q3's judged document is the wrong one, so the per-question figures differ.
    (beir / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\t1\t1\nq2\t3\t1\nq3\t3\t1\n")
    details = tmp_path / "details.jsonl"
    code = main(["eval", "--beir", str(beir), "--corpus", str(tmp_path / "corpus"),
                 "--store", str(tmp_path / "store"), "--json", "--details", str(details)])
    result = json.loads(capsys.readouterr().out)
    rows = [json.loads(line) for line in details.read_text().splitlines()]
    assert code == 0
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"]
    assert rows[0]["backend"] == result["backend"] and rows[0]["mode"] == "hybrid"
    assert rows[0]["MRR@10"] == 1.0 and rows[2]["MRR@10"] < 1.0
    for name in ("nDCG@10", "Recall@10", "MRR@10"):
        mean = sum(r[name] for r in rows) / len(rows)
        assert result["metrics"][name] == pytest.approx(mean, abs=1e-4)


def test_eval_never_writes_its_corpus_over_a_folder_of_someone_s_documents(
        tmp_path: Path, capsys) -> None:
    from quotebot.cli import main

    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text(json.dumps(
        {"_id": "1", "title": "", "text": "The Eiffel Tower is 330 metres tall."}) + "\n")
    (beir / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "How tall?"}) + "\n")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t1\t1\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "1.txt").write_text("My own notes.\n")
    (docs / "plans.md").write_text("# Plans\n")
    code = main(["eval", "--beir", str(beir), "--corpus", str(docs),
                 "--store", str(tmp_path / "store")])
    assert code == 2 and "give --corpus an empty folder" in capsys.readouterr().err
    assert (docs / "1.txt").read_text() == "My own notes.\n"
    assert sorted(p.name for p in docs.iterdir()) == ["1.txt", "plans.md"]


def test_eval_questions_reports_how_often_absent_questions_are_declined(
        fresh_copy, tmp_path: Path, capsys) -> None:
    from quotebot.cli import main

    config = fresh_copy()
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": "How tall is the Eiffel Tower?", "answers": ["330 metres"]})
        + "\n" + json.dumps({"question": "What is the boiling point of liquid nitrogen "
                                         "in kelvin?", "answers": []}) + "\n",
        encoding="utf-8")
    code = main(["eval", "--questions", str(questions), "--corpus", str(config.corpus),
                 "--store", str(config.store), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["metrics"]["excerpt_hit@1"] == 1.0  # ranked over the answerable one only
    assert result["metrics"]["answerable_declined"] == 0.0
    assert result["metrics"]["absent_declined"] == 1.0
    assert result["details"][1]["declined"] is True


def test_a_hit_counts_from_any_file_the_question_lists() -> None:
    from retrieval.evaluation import same_file

    assert same_file("httpx/index.md", ("httpx/http2.md", "httpx/index.md"))
    assert same_file("docs/httpx/index.md", ("httpx/index.md",))
    assert not same_file("httpx/quickstart.md", ("httpx/http2.md", "httpx/index.md"))
    assert same_file("anything.md", ())


def test_a_leading_dot_slash_is_a_prefix_not_characters() -> None:
    from retrieval.evaluation import same_file

    assert same_file(".github/README.md", ("./.github/README.md",))
    assert same_file(".github/README.md", (".github/README.md",))


@pytest.mark.parametrize("path", ["0", "false", "{}", "[]", '[""]', '["  "]', "[1]", '"  "',
                                  '"/"'])
def test_a_path_that_names_no_file_is_refused(tmp_path: Path, path: str) -> None:
    from retrieval.evaluation import load_questions

    questions = tmp_path / "q.jsonl"
    line = '{"question": "Q?", "answers": ["a"], "path": ' + path + "}\n"
    questions.write_text(line, encoding="utf-8")
    with pytest.raises(ValueError, match="q.jsonl:1: not a question line"):
        load_questions(questions)


def _eiffel_question(tmp_path: Path) -> Path:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "How tall is the Eiffel Tower?",
                                     "answers": ["330 metres"],
                                     "path": "landmarks/eiffel.pdf"}) + "\n", encoding="utf-8")
    return questions


def test_hide_sources_asks_again_without_the_named_file_and_reports_declines(
        fresh_copy, tmp_path: Path, capsys) -> None:
    from quotebot.cli import main

    config = fresh_copy()
    code = main(["eval", "--questions", str(_eiffel_question(tmp_path)), "--corpus",
                 str(config.corpus), "--store", str(config.store), "--json", "--hide-sources"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["metrics"]["excerpt_hit@1"] == 1.0  # asked whole, it is answered
    assert result["metrics"]["hidden_declined"] == 1.0  # no other file knows the height
    assert result["details"][0]["hidden_confidence"] < result["details"][0]["confidence"]


def test_hide_sources_does_not_count_a_question_another_file_answers(
        fresh_copy, tmp_path: Path, capsys) -> None:
    from quotebot.cli import main

    config = fresh_copy()
    (config.corpus / "notes.txt").write_text(
        "Travel notes\n\nThe Eiffel Tower is 330 metres tall, taller than we thought.\n",
        encoding="utf-8")
    code = main(["eval", "--questions", str(_eiffel_question(tmp_path)), "--corpus",
                 str(config.corpus), "--store", str(config.store), "--json", "--hide-sources"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert "hidden_declined" not in result["metrics"]
    assert "hidden_confidence" not in result["details"][0]


def test_hide_sources_is_refused_without_a_question_file(tmp_path: Path, capsys) -> None:
    from quotebot.cli import main

    code = main(["eval", "--squad", str(tmp_path / "x.json"), "--hide-sources",
                 "--store", str(tmp_path / "store")])
    assert code == 2
    assert "--hide-sources goes with --questions" in capsys.readouterr().err


def test_a_squad_file_in_the_current_folder_is_named_by_its_file(tmp_path: Path,
                                                                monkeypatch) -> None:
    data = {"data": [{"paragraphs": [{"context": "Body text.", "qas": [
        {"id": "q", "question": "What?", "answers": [{"text": "Body"}]}]}]}]}
    _write(tmp_path / "mine.json", data)
    monkeypatch.chdir(tmp_path)
    assert load_squad(Path("mine.json")).name == "mine"


def test_an_evaluation_folder_keeps_only_the_current_sets_paragraphs(tmp_path: Path) -> None:
    def squad(name: str, contexts: list[str]) -> Path:
        return _write(tmp_path / name, {"data": [{"paragraphs": [
            {"context": c, "qas": [{"id": f"{name}{i}", "question": "What?",
                                    "answers": [{"text": c.split()[0]}]}]}
            for i, c in enumerate(contexts)]}]})

    folder = tmp_path / "corpus"
    materialise(load_squad(squad("a.json", ["Louvre text.", "Seine text."])), folder,
                prune=True)
    materialise(load_squad(squad("b.json", ["Tower text."])), folder, prune=True)
    assert [p.read_text() for p in folder.glob("*.txt")] == ["Tower text.\n"]


@pytest.mark.parametrize("name", ["..", ".", "", "a/../b", "squad-v1.1"])
def test_an_evaluation_set_folder_is_one_safe_name_under_the_eval_root(name: str) -> None:
    from quotebot.evalstore import EVAL_ROOT, set_folder

    folder = EVAL_ROOT / set_folder(name)
    assert folder.parent == EVAL_ROOT and set_folder(name).strip(".")
    assert "/" not in set_folder(name) and (name != "squad-v1.1" or folder.name == name)


def test_eval_of_a_squad_file_in_the_parent_folder_leaves_the_live_index_alone(
        tmp_path: Path, monkeypatch, capsys) -> None:
    from quotebot.cli import main

    data = {"data": [{"paragraphs": [{"context": "Bilbies dig burrows.", "qas": [
        {"id": "q", "question": "What do bilbies dig?", "answers": [{"text": "burrows"}]}]}]}]}
    _write(tmp_path / "tiny.json", data)
    work = tmp_path / "work"
    (work / "mydocs").mkdir(parents=True)
    (work / "mydocs" / "numbat.txt").write_text("Numbats eat termites.\n")
    # The live store where ".quotebot/eval/.." (the set named after "../") would land.
    (work / "config.toml").write_text('corpus = "mydocs"\nstore = ".quotebot/store"\n')
    monkeypatch.chdir(work)
    assert main(["index"]) == 0
    live = sorted(p.name for p in (work / ".quotebot" / "store").iterdir())
    assert main(["eval", "--squad", "../tiny.json", "--json"]) == 0
    assert sorted(p.name for p in (work / ".quotebot" / "store").iterdir()) == live
    assert (work / "mydocs" / "numbat.txt").is_file()
