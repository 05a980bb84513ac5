"""The app's pure formatters and the one clock's definitions, without a browser or a model."""

from __future__ import annotations

import pytest

from engine.results import ComparisonResult, Metrics, ModelResult, Status
from engine.timing import Stopwatch, decode_speed
from modalities.request import CompareRequest
from modalities.routing import SkippedInput
from models.backend import ANSWER, CONTROL, THINKING, Finished, InputTokens, Note, Started, Tokens
from ui.format import assistant_messages, details_markdown, input_tokens_text, timing_rows, user_message


def metrics(**changes) -> Metrics:
    base = dict(
        preprocess_s=0.25, ttft_s=0.5, ttft_answer_s=1.5, decode_tok_s=20.0, total_s=3.0, output_tokens=41,
        thinking_tokens=10, answer_tokens=31, input_tokens=InputTokens(total=120, text=20, image=100, video=0, audio=0),
        device="cpu", dtype="float32", peak_memory_mb=900.0, memory_scope="process_rss",
    )
    return Metrics(**(base | changes))


def test_user_message_names_attachments_by_file_name_only():
    request = CompareRequest("What is it?", images=("/tmp/up/abc/chart.png",), audio="/srv/q.wav")
    assert user_message(request) == {"role": "user", "content": "What is it?\n\n*Attached: chart.png, q.wav*"}
    assert user_message(CompareRequest("", video="/x/clip.mp4"))["content"].startswith("(no text)")


def test_assistant_messages_by_status():
    running = ModelResult("qwen", "q", Status.RUNNING)
    assert assistant_messages(running) == [{"role": "assistant", "content": "…"}], "a placeholder while it runs"
    thinking = ModelResult("qwen", "q", Status.RUNNING, text="", thinking="hmm")
    assert assistant_messages(thinking)[0]["metadata"] == {"title": "Thinking", "status": "pending"}
    done = ModelResult("qwen", "q", Status.DONE, text="Four.", thinking="2+2")
    assert [m["content"] for m in assistant_messages(done)] == ["2+2", "Four."]
    assert assistant_messages(done)[0]["metadata"]["status"] == "done"
    failed = ModelResult("gemma", "g", Status.ERROR, text="Par", error="timed out")
    assert [m["content"] for m in assistant_messages(failed)] == ["Par", "**Error:** timed out"], "partial text kept"
    skipped = ModelResult("qwen", "q", Status.SKIPPED)
    assert assistant_messages(skipped) == [{"role": "assistant", "content": "(not run: it takes none of the inputs)"}]


def test_details_markdown_lists_skips_notes_and_metrics():
    r = ModelResult("qwen", "q", Status.DONE, notes=["a note"], metrics=metrics(contended=True),
                    skipped_inputs=[SkippedInput("audio 'q.wav'", "audio", "Qwen 3.5 has no audio input")])
    text = details_markdown(r)
    assert "- **audio 'q.wav' not sent: Qwen 3.5 has no audio input**" in text and "- a note" in text
    assert "| time to first token | 0.500 s |" in text and "| decode speed | 20.0 tok/s |" in text
    assert "| output tokens (thinking) | 41 (10) |" in text
    assert "| input tokens | total 120 (text 20, image 100) |" in text
    assert "contended" in text
    assert "*Generating… 3 tokens*" in details_markdown(ModelResult("g", "g", Status.RUNNING, token_times=[0.1, 0.2, 0.3]))
    assert details_markdown(ModelResult("g", "g")) == " ", "an empty Markdown keeps its height"


def test_input_tokens_from_a_server_show_the_total_only():
    assert input_tokens_text(InputTokens(total=57)) == "total 57"
    assert input_tokens_text(InputTokens(total=None)) == "total —"


def test_timing_rows_per_model_in_side_order():
    results = {"gemma": ModelResult("gemma", "g", metrics=metrics(ttft_answer_s=None)), "qwen": ModelResult("qwen", "q")}
    rows = timing_rows(ComparisonResult(CompareRequest("x"), results, {}, ["qwen", "gemma"], "sequential"))
    assert rows == [
        {"bar": "first token · Gemma 4", "seconds": 0.5, "model": "Gemma 4"},
        {"bar": "total · Gemma 4", "seconds": 3.0, "model": "Gemma 4"},
    ], "no bar for a missing value or a model without metrics"


def test_stopwatch_defines_each_metric_once():
    """Events on one clock: the model is called at 10.0 after a job started at 9.5."""
    result = ModelResult("qwen", "q")
    watch = Stopwatch(result, job_start=9.5, contended=True)
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
    assert m.decode_tok_s == pytest.approx(4 / 2.0), "tokens after the first over the time after the first"
    assert (m.output_tokens, m.thinking_tokens, m.answer_tokens) == (5, 2, 3)
    assert m.contended and m.input_tokens.total == 7


def test_stopwatch_scales_thinking_when_a_server_counts_only_the_output():
    result = ModelResult("gemma", "g @ http://127.0.0.1:1/v1")
    watch = Stopwatch(result, job_start=0.0, contended=False)
    watch.add(Started(0.0, InputTokens(total=None), "remote", "server", includes_network=True))
    watch.add(Tokens((1.0, 2.0, 3.0, 4.0), (THINKING, ANSWER, ANSWER, ANSWER), "abc", "t"))
    watch.add(Finished(4.0, "abc", "t", output_tokens=40, input_tokens=InputTokens(total=9)))
    m = result.metrics
    assert (m.output_tokens, m.thinking_tokens) == (40, 10), "a quarter of the chunks were thinking"
    assert m.input_tokens == InputTokens(total=9) and m.includes_network


@pytest.mark.parametrize("n, first, last, speed", [(1, 0.0, 1.0, None), (3, 1.0, 1.0, None), (3, 1.0, 2.0, 2.0), (0, None, None, None)])
def test_decode_speed(n, first, last, speed):
    assert decode_speed(n, first, last) == speed


def test_each_column_says_what_its_model_is_doing():
    from ui.format import status_line

    waiting = ModelResult("qwen", "q")
    assert status_line(waiting, waiting_for="Gemma 4").startswith("⏳ Waiting: runs after Gemma 4")
    running = ModelResult("gemma", "g", Status.RUNNING, token_times=[0.1 * i for i in range(1, 11)])
    assert status_line(running) == "▶ Generating: 10 tokens, 10.0 tok/s"
    stopped = ModelResult("gemma", "g", Status.STOPPED, metrics=metrics(output_tokens=3, stopped=True))
    assert status_line(stopped) == "⏹ Stopped by you after 3 tokens: the answer is partial"
    details = details_markdown(stopped)
    assert "**Stopped by you**" in details and "| decode speed | — |" in details, "no speed from a handful of tokens"
    assert status_line(ModelResult("gemma", "g", Status.DONE, metrics=metrics())) == "✓ Done in 3.00 s"


def test_inputs_a_model_was_not_sent_are_struck_out_in_its_own_column():
    request = CompareRequest("Hi", images=("/tmp/a/chart.png",), audio="/tmp/a/q.wav")
    qwen = ModelResult("qwen", "q", skipped_inputs=[SkippedInput("audio 'q.wav'", "audio", "Qwen 3.5 has no audio input")])
    assert user_message(request, qwen)["content"].endswith("*Attached: chart.png, ~~q.wav~~ (not sent)*")
    assert user_message(request, ModelResult("gemma", "g"))["content"].endswith("*Attached: chart.png, q.wav*")
