"""The app's pure formatters and the one clock's definitions, without a browser or a model."""

from __future__ import annotations

import pytest

from engine.results import ComparisonResult, Metrics, ModelResult, Status
from engine.timing import Overlap, Stopwatch, decode_speed
from modalities.request import CompareRequest
from modalities.routing import SkippedInput
from models.backend import ANSWER, CONTROL, THINKING, Finished, InputTokens, Note, Started, Tokens
from ui.charts import first_token_rows, token_curve_rows
from ui.format import assistant_messages, details_markdown, input_tokens_text, user_message
from ui.table import BETTER as BETTER_MARK, comparison_table


def metrics(**changes) -> Metrics:
    base = dict(
        preprocess_s=0.25, ttft_s=0.5, ttft_answer_s=1.5, decode_tok_s=20.0, total_s=3.0, output_tokens=41,
        thinking_tokens=10, answer_tokens=31, input_tokens=InputTokens(total=120, text=20, image=100, video=0, audio=0),
        device="cpu", dtype="float32", peak_memory_mb=900.0, memory_scope="process_rss",
    )
    return Metrics(**(base | changes))


def test_user_message_names_attachments_by_file_name_only():
    request = CompareRequest("What is it?", images=("/tmp/up/abc/chart.png",), audio="/srv/q.wav")
    assert user_message(request) == {"role": "user", "content": "<p>What is it?</p>\n<p><em>Attached: chart.png, q.wav</em></p>\n"}
    assert user_message(CompareRequest("", video="/x/clip.mp4"))["content"].startswith("<p>(no text)</p>")


def test_a_turns_images_are_thumbnails_that_stay_while_their_upload_does(tmp_path):
    """Sent images follow the text as file parts (ones a model was not sent do not); an earlier turn
    whose upload was since removed is shown without it, rather than failing the page's update."""
    from ui.format import still_there

    kept, gone = tmp_path / "chart.png", tmp_path / "gone.png"
    kept.write_bytes(b"png")
    request = CompareRequest("Hi", images=(str(kept), str(gone)))
    message = user_message(request, thumbnails=True)
    assert message["content"][1:] == [{"path": str(kept), "alt_text": "chart.png"}, {"path": str(gone), "alt_text": "gone.png"}]
    qwen = ModelResult("qwen", "q", skipped_inputs=[SkippedInput("image 'gone.png'", "image", "too many")])
    assert [part["path"] for part in user_message(request, qwen, thumbnails=True)["content"][1:]] == [str(kept)]
    assert isinstance(user_message(request)["content"], str), "no thumbnails unless asked (Replay and the Arena)"
    assert still_there([message])[0]["content"][1:] == [{"path": str(kept), "alt_text": "chart.png"}]


def test_assistant_messages_by_status():
    running = ModelResult("qwen", "q", Status.RUNNING)
    assert assistant_messages(running) == [{"role": "assistant", "content": "…"}], "a placeholder while it runs"
    thinking = ModelResult("qwen", "q", Status.RUNNING, text="", thinking="hmm")
    assert assistant_messages(thinking)[0]["metadata"] == {"title": "Thinking", "status": "pending"}
    done = ModelResult("qwen", "q", Status.DONE, text="Four.", thinking="2+2")
    assert [m["content"] for m in assistant_messages(done)] == ["<p>2+2</p>\n", "<p>Four.</p>\n"]
    assert assistant_messages(done)[0]["metadata"]["status"] == "done"
    failed = ModelResult("gemma", "g", Status.ERROR, text="Par", error="timed out")
    assert [m["content"] for m in assistant_messages(failed)] == ["<p>Par</p>\n", "<p><strong>Error:</strong> timed out</p>\n"], "partial text kept"
    skipped = ModelResult("qwen", "q", Status.SKIPPED)
    assert assistant_messages(skipped) == [{"role": "assistant", "content": "(not run: it takes none of the inputs)"}]


def test_details_markdown_lists_skips_notes_and_leaves_the_figures_to_the_table():
    r = ModelResult("qwen", "q", Status.DONE, notes=["a note"], metrics=metrics(contended=True),
                    skipped_inputs=[SkippedInput("audio 'q.wav'", "audio", "Qwen 3.5 has no audio input")])
    text = details_markdown(r)
    assert "- **audio 'q.wav' not sent: Qwen 3.5 has no audio input**" in text and "- a note" in text
    assert "time to first token" not in text, "figures are in the one comparison table"
    assert details_markdown(ModelResult("g", "g")) == " ", "an empty Markdown keeps its height"


def _state(gemma: ModelResult, qwen: ModelResult, order=("gemma", "qwen"), mode="sequential") -> ComparisonResult:
    state = ComparisonResult(CompareRequest("x"), {"gemma": gemma, "qwen": qwen}, {}, list(order), mode)
    state.validation_s = 0.1
    return state


def _row(table: str, name: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
    return [c.strip() for c in line.strip("|").split("|")][1:]


def test_comparison_table_aligns_both_models_and_stars_the_better_value():
    gemma = ModelResult("gemma", "g", Status.DONE, metrics=metrics(ttft_s=0.5, decode_tok_s=20.0, total_s=3.0, output_tokens=41,
                                                                   waited_s=2.85))
    qwen = ModelResult("qwen", "q", Status.DONE, metrics=metrics(ttft_s=0.2, decode_tok_s=30.0, total_s=2.0, output_tokens=41,
                                                                 waited_s=0.55))
    table = comparison_table(_state(gemma, qwen, order=("qwen", "gemma")))
    assert table.splitlines()[0] == "**Verdict:** Qwen 3.5 began answering 2.5× sooner; Qwen 3.5 decoded 1.5× faster."
    assert table.splitlines()[2] == "| metric | Gemma 4 (ran second) | Qwen 3.5 (ran first) |"
    assert _row(table, "time to first token (s)") == ["0.500", "0.200 ★"]
    assert _row(table, "decode speed (tok/s)") == ["20.0", "30.0 ★"], "higher is better for speed"
    assert _row(table, "total (s)") == ["3.000", "2.000 ★"], "same length: totals compare"
    # As the engine timed it (tests/test_engine.py): no star, since it depends on which model ran first.
    assert _row(table, "first token after you clicked (s)") == ["2.850", "0.550"]
    assert "*The answers differ in length" not in table


def test_comparison_table_compares_per_token_when_lengths_differ_and_never_a_partial_answer():
    short = ModelResult("gemma", "g", Status.DONE, metrics=metrics(total_s=1.0, output_tokens=10))
    long = ModelResult("qwen", "q", Status.DONE, metrics=metrics(total_s=4.0, output_tokens=100))
    table = comparison_table(_state(short, long))
    assert _row(table, "total (s)") == ["1.000", "4.000"], "no star on totals of different lengths"
    assert _row(table, "total per output token (ms)") == ["100.0", "40.0 ★"]
    assert "The answers differ in length" in table
    stopped = ModelResult("qwen", "q", Status.STOPPED, metrics=metrics(output_tokens=3, stopped=True, ttft_s=0.1))
    table = comparison_table(_state(short, stopped))
    assert "★ " not in table.split("\n\n")[1], "nothing is starred against a stopped answer"
    assert table.startswith("**No verdict:** Qwen 3.5 did not run to the end")
    assert _row(table, "status") == ["done", "stopped by you (partial)"]
    assert _row(table, "decode speed (tok/s)")[1] == "—", "no speed from a handful of tokens"
    assert comparison_table(_state(ModelResult("gemma", "g"), ModelResult("qwen", "q"))) == " "


def test_no_star_and_no_verdict_between_answers_to_different_inputs():
    """Audio only Gemma hears: Gemma processed more before its first token, so no time compares."""
    gemma = ModelResult("gemma", "g", Status.DONE, metrics=metrics(ttft_s=0.9))
    qwen = ModelResult("qwen", "q", Status.DONE, metrics=metrics(ttft_s=0.2),
                       skipped_inputs=[SkippedInput("audio '<b>q</b>.wav'", "audio", "Qwen 3.5 has no audio input")])
    table = comparison_table(_state(gemma, qwen))
    assert BETTER_MARK not in table.split("\n\n")[1], "starred across unequal inputs"
    assert table.startswith("**No verdict:** Qwen 3.5 was not sent audio '&lt;b&gt;q&lt;/b&gt;.wav', so the two")
    assert "*No ★: Qwen 3.5 was not sent" in table
    thinking_off = comparison_table(_state(ModelResult("gemma", "g", Status.DONE, metrics=metrics(thinking_tokens=0)),
                                           ModelResult("qwen", "q", Status.DONE, metrics=metrics(thinking_tokens=0))))
    assert "time to first answer token" not in thinking_off, "a row that repeats the first token's"
    assert "**Verdict:** both began answering within 10% of each other; both decoded at about the same speed." in thinking_off


def test_input_tokens_from_a_server_show_the_total_only():
    assert input_tokens_text(InputTokens(total=57)) == "total 57"
    assert input_tokens_text(InputTokens(total=None)) == "total —"


def test_first_token_bars_one_per_model_with_the_visitors_wait():
    results = {"gemma": ModelResult("gemma", "g", metrics=metrics(ttft_answer_s=None, thinking_tokens=0, waited_s=1.25)),
               "qwen": ModelResult("qwen", "q")}
    rows = first_token_rows(ComparisonResult(CompareRequest("x"), results, {}, ["qwen", "gemma"], "sequential"))
    assert rows == [{"bar": "Gemma 4: first token", "seconds": 0.5, "model": "Gemma 4"},
                    {"bar": "Gemma 4: after your click", "seconds": 1.25, "model": "Gemma 4"}], (
        "no bar for a model without metrics, no first-answer bar where nothing was thought first"
    )
    thought = {k: ModelResult(k, k, metrics=metrics(thinking_tokens=10 if k == "qwen" else 0)) for k in ("gemma", "qwen")}
    bars = [r["bar"] for r in first_token_rows(ComparisonResult(CompareRequest("x"), thought, {}, ["gemma", "qwen"],
                                                                "sequential"))]
    assert bars == ["Gemma 4: first token", "Qwen 3.5: first token", "Gemma 4: first answer token",
                    "Qwen 3.5: first answer token"], "where either thought: each one's first answer token"


def test_token_curve_keeps_the_ends_and_at_most_its_points_per_model():
    many = ModelResult("gemma", "g", token_times=[0.01 * i for i in range(1, 1001)])
    few = ModelResult("qwen", "q", token_times=[0.5, 0.7])
    rows = token_curve_rows(_state(many, few))
    gemma = [r for r in rows if r["model"] == "Gemma 4"]
    assert len(gemma) <= 201 and gemma[0] == {"seconds": 0.01, "tokens": 1, "model": "Gemma 4"}
    assert gemma[-1]["tokens"] == 1000, "the curve ends at the answer's last token"
    assert [r["tokens"] for r in rows if r["model"] == "Qwen 3.5"] == [1, 2]


def test_the_turn_line_says_what_each_model_sees():
    from ui.format import turn_line

    assert turn_line(0).startswith("**Turn 1**") and "only this message" in turn_line(0)
    assert turn_line(2).startswith("**Turn 3**") and "2 earlier exchanges" in turn_line(2)


def test_stopwatch_defines_each_metric_once():
    """Events on one clock: the model is called at 10.0 after a job started at 9.5."""
    result = ModelResult("qwen", "q")
    watch = Stopwatch(result, job_start=9.5, overlap=Overlap(contended=True), clicked_at=8.0)
    watch.add(Note("prepared"))
    watch.add(Started(10.0, InputTokens(total=7, text=7), "cpu", "float32"))
    watch.add(Tokens((10.5, 10.6), (THINKING, THINKING), "", "hm"))
    watch.add(Tokens((11.0, 11.5, 12.5), (ANSWER, ANSWER, CONTROL), "Hi", "hm"))
    watch.add(Finished(12.75, "Hi!", "hm", output_tokens=5, memory_scope="process_rss"))
    m = result.metrics
    assert result.notes == ["prepared"] and (result.text, result.thinking) == ("Hi!", "hm")
    assert result.token_times == pytest.approx([0.5, 0.6, 1.0, 1.5, 2.5]), "seconds from the model call"
    assert result.progress[-1] == (pytest.approx(2.5), 2, 2)
    assert (m.preprocess_s, m.ttft_s, m.ttft_answer_s, m.total_s) == pytest.approx((0.5, 0.5, 1.0, 3.25))
    assert m.waited_s == pytest.approx(2.5), "from the click at 8.0 to the first arrival at 10.5"
    assert m.decode_tok_s == pytest.approx(4 / 2.0), "tokens after the first over the time after the first"
    assert (m.output_tokens, m.thinking_tokens, m.answer_tokens) == (5, 2, 3)
    assert m.contended and m.input_tokens.total == 7


def test_stopwatch_scales_thinking_when_a_server_counts_only_the_output():
    result = ModelResult("gemma", "g @ http://127.0.0.1:1/v1")
    watch = Stopwatch(result, job_start=0.0, overlap=Overlap())
    watch.add(Started(0.0, InputTokens(total=None), "remote", "server", includes_network=True))
    watch.add(Tokens((1.0, 2.0, 3.0, 4.0), (THINKING, ANSWER, ANSWER, ANSWER), "abc", "t"))
    watch.add(Finished(4.0, "abc", "t", output_tokens=40, input_tokens=InputTokens(total=9)))
    m = result.metrics
    assert (m.output_tokens, m.thinking_tokens) == (40, 10), "a quarter of the chunks were thinking"
    assert m.decode_tok_s == pytest.approx(39 / 3.0), "the server's token count, not the chunks that carried them"
    assert m.waited_s == pytest.approx(1.0) and not m.contended, "no click given: from the job's start"
    assert m.input_tokens == InputTokens(total=9) and m.includes_network


@pytest.mark.parametrize("n, first, last, speed", [(1, 0.0, 1.0, None), (3, 1.0, 1.0, None), (3, 1.0, 2.0, 2.0), (0, None, None, None)])
def test_decode_speed(n, first, last, speed):
    assert decode_speed(n, first, last) == speed


def test_each_column_says_what_its_model_is_doing():
    from ui.format import status_line

    waiting = ModelResult("qwen", "q")
    assert status_line(waiting, waiting_for="Gemma 4").startswith("◷ Waiting: runs after Gemma 4")
    running = ModelResult("gemma", "g", Status.RUNNING, token_times=[0.1 * i for i in range(1, 11)])
    assert status_line(running) == "▶ Generating: 10 tokens, 10.0 tok/s"
    stopped = ModelResult("gemma", "g", Status.STOPPED, metrics=metrics(output_tokens=3, stopped=True))
    assert status_line(stopped) == "■ Stopped by you after 3 tokens: the answer is partial"
    assert "**Stopped by you**" in details_markdown(stopped)
    never = ModelResult("qwen", "q", Status.STOPPED)  # stopped while it waited its turn
    assert status_line(never) == "■ Not run: stopped before it started"
    assert status_line(ModelResult("gemma", "g", Status.DONE, metrics=metrics())) == "✓ Done in 3.00 s"


def test_every_status_marker_draws_in_a_plain_font():
    """No emoji: every character of every status line is in DejaVu Sans (no emoji font needed)."""
    import os

    import matplotlib
    from fontTools.ttLib import TTFont

    from ui.arena import NEUTRAL_STATUS, WAITING
    from ui.format import CHECKING, queued_line, status_line

    cmap = TTFont(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data/fonts/ttf/DejaVuSans.ttf")).getBestCmap()
    lines = [status_line(ModelResult("g", "g", status, metrics=metrics() if status == Status.DONE else None,
                                     token_times=[0.1] * 9 if status == Status.RUNNING else []), waiting_for="Qwen 3.5")
             for status in Status] + [status_line(ModelResult("g", "g")), WAITING, *NEUTRAL_STATUS.values(),
                                      CHECKING, queued_line(None), queued_line(2)]
    missing = {ch for line in lines for ch in line if ord(ch) not in cmap}
    assert not missing, f"needs an emoji font: {sorted(missing)}"


def test_inputs_a_model_was_not_sent_are_struck_out_in_its_own_column():
    request = CompareRequest("Hi", images=("/tmp/a/chart.png",), audio="/tmp/a/q.wav")
    qwen = ModelResult("qwen", "q", skipped_inputs=[SkippedInput("audio 'q.wav'", "audio", "Qwen 3.5 has no audio input")])
    assert user_message(request, qwen)["content"].endswith("<em>Attached: chart.png, <s>q.wav</s> (not sent)</em></p>\n")
    assert user_message(request, ModelResult("gemma", "g"))["content"].endswith("<em>Attached: chart.png, q.wav</em></p>\n")


def test_updates_are_paced_but_every_status_change_and_the_end_are_sent_and_closing_ends_the_stream():
    """What crosses from the GPU call to the page (engine.gpu): about ten states a second, never
    a status change or the last state missed."""
    from types import SimpleNamespace as NS

    from engine.gpu import GpuCall, _run
    from engine.stop import StopFlag

    closed = []

    def states():
        try:
            for i in range(200):  # far faster than the page's pace: only the status changes get through
                yield NS(i=i, done=i == 199,
                         results={"gemma": NS(status="running" if i < 150 else "done"), "qwen": NS(status="pending")})
        finally:
            closed.append(True)

    comparator = NS(stream=lambda *a, **k: states())
    call = GpuCall(CompareRequest("x"), None, StopFlag())
    assert [s.i for s in _run(comparator, call)] == [0, 150, 199]
    updates = _run(comparator, call)
    next(updates)
    updates.close()
    assert closed == [True, True], "closing the page's updates left the comparison running"


# --- model text made safe: a real parser, and nothing it builds that fetches ---------------------

SAFE_TAGS = {"p", "code", "pre", "a", "em", "strong", "s", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
             "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td"}


def _elements(html: str) -> list[tuple[str, dict]]:
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


def _only_safe_elements(html: str) -> None:
    for tag, attrs in _elements(html):
        assert tag in SAFE_TAGS, f"<{tag}> built: {html[:300]}"
        allowed = {"a": {"href"}, "code": {"class"}}.get(tag, set())
        assert set(attrs) <= allowed, f"<{tag} {attrs}> built"
        assert not attrs.get("href", "").lower().startswith(("javascript:", "data:", "vbscript:")), attrs


def test_model_text_renders_through_a_real_parser_and_builds_nothing():
    """Every way past a guess at code regions (tests/hostile_markdown.py) in an answer, thinking, an
    error, a prompt and the Evaluate tab's details: only the parser's own elements, no image."""
    from engine.results import ModelResult
    from evaluation.runner import TaskRun, Verdict
    from hostile_markdown import corpus
    from ui.evaluate import task_markdown

    text = corpus("http://127.0.0.1:9/leak") + "\n\n[script](javascript:alert(1))"
    result = ModelResult(side="gemma", source="x", text=text, thinking=text, error=text, status=Status.ERROR)
    shown = [m["content"] for m in assistant_messages(result)]
    shown.append(user_message(CompareRequest(prompt=text, images=(f"/tmp/<img src=x>{text[:20]}.png",)))["content"])
    run = TaskRun("suite", text, text, False, text, results={"gemma": result, "qwen": replace_text(result, "ok")},
                  verdicts={"gemma": Verdict(True, False, text)})
    shown.append(task_markdown(text, run))
    for html in shown:
        _only_safe_elements(html)
        assert "&lt;img src=" in html, "the text is shown as typed"
    assert '<code>&lt;b&gt;code&lt;/b&gt;</code>' in shown[1], "code keeps its text"


def replace_text(result, text):
    from dataclasses import replace

    return replace(result, text=text, error=None, status=Status.DONE)


def test_the_queue_line_counts_only_what_must_go_before():
    """Waiting comparisons, and running ones beyond the queue's free places (with --concurrency N,
    N - 1 run beside a new one); none where the queue has no limit; unknown where it cannot be read."""
    from types import SimpleNamespace

    from ui.format import queued_line
    from ui.session import MODELS_QUEUE, models_ahead

    def req(waiting: int, running: int, limit: int | None):
        queue = SimpleNamespace(queue=[object()] * waiting, current_concurrency=running, concurrency_limit=limit)
        blocks = SimpleNamespace(_queue=SimpleNamespace(event_queue_per_concurrency_id={MODELS_QUEUE: queue}))
        return SimpleNamespace(request=SimpleNamespace(app=SimpleNamespace(get_blocks=lambda: blocks)))

    assert [models_ahead(req(0, 1, 1)), models_ahead(req(2, 1, 1)), models_ahead(req(0, 1, 4)),
            models_ahead(req(0, 4, 4)), models_ahead(req(3, 2, None))] == [1, 3, 0, 1, 0]
    assert models_ahead(SimpleNamespace(request=None)) is None
    assert queued_line(0) == queued_line(None) == "◷ Waiting for its turn on the models…"
    assert queued_line(1) == "◷ Queued: 1 comparison ahead of yours"
    assert queued_line(3) == "◷ Queued: 3 comparisons ahead of yours"
