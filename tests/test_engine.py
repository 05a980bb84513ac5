"""The engine on the replicas: routing by capability, every modality, thinking, streaming and timing."""

from __future__ import annotations

import threading

import pytest
import torch

from conftest import GREEDY, request
from modalities.request import GenerationSettings, validate_request
from modalities.routing import route
from engine.comparator import Comparator
from engine.sides import Side
from models.generation import generation_config
from models.prompting import prepare
from models.tiny import TINY_NOTICE


def test_capabilities_come_from_each_checkpoint(sides):
    gemma, qwen = sides["gemma"].loaded.capabilities, sides["qwen"].loaded.capabilities
    assert (gemma.image, gemma.video, gemma.audio) == (True, True, True), "Gemma replica has an audio tower"
    assert gemma.max_audio_s == 30, "Gemma 4 takes at most 30 s of audio"
    assert (qwen.image, qwen.video, qwen.audio) == (True, True, False), "Qwen 3.5 has no audio input"


def _check_metrics(result, prompt_tokens: int | None = None):
    m = result.metrics
    assert result.error is None, result.error
    assert m is not None, "a finished run has metrics"
    assert 0 < m.ttft_s <= m.total_s, "time to first token within the total"
    assert m.ttft_answer_s is None or m.ttft_s <= m.ttft_answer_s <= m.total_s
    assert m.output_tokens == len(result.token_times) > 0, "one arrival time per generated token"
    assert m.thinking_tokens + m.answer_tokens == m.output_tokens
    assert result.token_times == sorted(result.token_times), "arrival times are monotonic"
    if m.output_tokens >= 2:
        assert m.decode_tok_s > 0
    if prompt_tokens is not None:
        assert m.input_tokens.total == prompt_tokens


@pytest.mark.parametrize("modality", ["text", "image", "video", "audio"])
def test_each_modality_alone(comparator, media, modality):
    kwargs = {
        "text": {},
        "image": {"images": (str(media["image"]),)},
        "video": {"video": str(media["video"])},
        "audio": {"audio": str(media["audio"])},
    }[modality]
    result = comparator.run(request("Describe it.", **kwargs))
    for key in ("gemma", "qwen"):
        r = result.results[key]
        _check_metrics(r)
        assert TINY_NOTICE in r.notes, "replica output must be labelled as noise"
        if modality in ("image", "video", "audio") and not (key == "qwen" and modality == "audio"):
            assert getattr(r.metrics.input_tokens, modality) > 0, f"{key} got no {modality} placeholder tokens"
    if modality == "audio":
        skipped = result.results["qwen"].skipped_inputs
        assert [s.modality for s in skipped] == ["audio"]
        assert "Qwen 3.5 has no audio input" in str(skipped[0])
        assert result.results["qwen"].metrics.input_tokens.audio == 0


def test_all_modalities_together(comparator, media):
    result = comparator.run(
        request(images=(str(media["image"]), str(media["image"])), video=str(media["video"]), audio=str(media["audio"]))
    )
    gemma, qwen = result.results["gemma"], result.results["qwen"]
    _check_metrics(gemma)
    _check_metrics(qwen)
    assert all(getattr(gemma.metrics.input_tokens, m) > 0 for m in ("image", "video", "audio"))
    assert qwen.metrics.input_tokens.audio == 0 and [s.modality for s in qwen.skipped_inputs] == ["audio"]
    assert gemma.skipped_inputs == []


def test_audio_only_request_skips_qwen_with_reason(comparator, media):
    result = comparator.run(request(prompt="", audio=str(media["audio"])))
    qwen = result.results["qwen"]
    assert qwen.status == "skipped" and qwen.metrics is None
    assert any("takes none of the inputs" in n for n in qwen.notes)
    _check_metrics(result.results["gemma"])


def test_long_audio_is_cut_for_gemma(comparator, tmp_path):
    from conftest import write_audio

    long = write_audio(tmp_path / "long.wav", seconds=34, rate=16_000, channels=1)
    gemma = comparator.run(request(audio=str(long))).results["gemma"]
    assert any("cut from 34.0 s to the first 30 s" in n for n in gemma.notes), gemma.notes
    # 30 s at 40 ms per token is the processor's 750-token cap.
    assert gemma.metrics.input_tokens.audio == 750


def test_token_counts_match_generate(sides, media):
    """The streamed counts equal the ids a plain greedy `generate` returns on the same inputs."""
    comparator = Comparator(sides)
    result = comparator.run(request(images=(str(media["image"]),)))
    for key in ("gemma", "qwen"):
        loaded = sides[key].loaded
        routed = route(validate_request(request(images=(str(media["image"]),))), loaded.capabilities)
        prepared = prepare(loaded, routed, thinking=False)
        with torch.inference_mode():
            out = loaded.model.generate(**prepared.batch, generation_config=generation_config(loaded, GREEDY))
        plain = out[0, prepared.batch["input_ids"].shape[1] :]
        r = result.results[key]
        assert r.metrics.output_tokens == len(plain), f"{key}: streamed count differs from generate's"
        assert r.metrics.input_tokens.total == prepared.batch["input_ids"].shape[1]
        assert r.metrics.input_tokens.image == int((prepared.batch["input_ids"] == loaded.model.config.image_token_id).sum())


@pytest.mark.parametrize("thinking", [False, True])
def test_thinking_switch_reaches_each_template(sides, thinking):
    for key in ("gemma", "qwen"):
        loaded = sides[key].loaded
        routed = route(validate_request(request()), loaded.capabilities)
        prepared = prepare(loaded, routed, thinking)
        text = prepared.prompt_text
        if key == "gemma":  # Gemma 4 switches thinking on with <|think|> in the system turn
            assert ("<|think|>" in text) == thinking, f"gemma, thinking {thinking}: {text!r}"
        else:  # Qwen 3.5 opens the think block in the prompt, or closes an empty one
            ending = "<think>\n" if thinking else "<think>\n\n</think>\n\n"
            assert text.endswith(ending), f"qwen, thinking {thinking}: {text[-40:]!r}"
        assert prepared.starts_in_thinking == (thinking and key == "qwen"), "generation starts inside the think block"


def test_thinking_tokens_counted_apart(comparator):
    result = comparator.run(request(settings=GenerationSettings(max_new_tokens=8, temperature=0, thinking=True)))
    qwen = result.results["qwen"]
    # Qwen's template opens the think block, so generation starts inside it.
    assert qwen.metrics.thinking_tokens > 0
    assert qwen.metrics.thinking_tokens + qwen.metrics.answer_tokens == qwen.metrics.output_tokens


def test_greedy_runs_repeat_exactly(comparator):
    a = comparator.run(request())
    b = comparator.run(request())
    for key in ("gemma", "qwen"):
        assert a.results[key].text == b.results[key].text
        assert a.results[key].metrics.output_tokens == b.results[key].metrics.output_tokens


def test_sampled_runs_repeat_with_their_seed(comparator):
    """Sampling draws from the seeded generator: the same seed gives the same answer, another seed
    (almost surely, over 24 tokens of a random-weight model) another one."""
    def sampled(seed):
        settings = GenerationSettings(max_new_tokens=24, temperature=1.0, top_p=1.0, seed=seed)
        return {k: r.text for k, r in comparator.run(request("Say something.", settings)).results.items()}

    first = sampled(7)
    assert sampled(7) == first
    assert all(sampled(8)[k] != first[k] for k in first)


def test_sequential_order_alternates(sides):
    comparator = Comparator(sides)
    orders = [comparator.run(request(settings=GenerationSettings(max_new_tokens=2, temperature=0))).order for _ in range(3)]
    assert orders == [["gemma", "qwen"], ["qwen", "gemma"], ["gemma", "qwen"]]


def test_parallel_mode_marks_timings_contended(sides):
    result = Comparator(sides, parallel=True).run(request())
    assert result.mode == "parallel"
    for r in result.results.values():
        _check_metrics(r)
        assert r.metrics.contended


def test_streaming_grows_text_and_ends_with_metrics(comparator):
    settings = GenerationSettings(max_new_tokens=200, min_new_tokens=200, temperature=0)
    seen = []
    for state in comparator.stream(request(settings=settings)):
        seen.append((state.done, {k: (r.status, len(r.token_times), r.metrics is not None) for k, r in state.results.items()}))
    counts = [s["gemma"][1] for _, s in seen]
    assert counts == sorted(counts), "tokens only ever accumulate"
    partial = [c for c in counts if 0 < c < 200]
    assert len(partial) >= 2, f"expected updates while Gemma was generating, saw counts {counts}"
    assert all(not s[k][2] for _, s in seen[:-1] for k in s if s[k][0] == "running"), "metrics only when done"
    done, last = seen[-1]
    assert done and all(status == "done" and n == 200 and has for status, n, has in last.values())


def test_stop_signal_ends_both(sides):
    stop = threading.Event()
    comparator = Comparator(sides)
    settings = GenerationSettings(max_new_tokens=400, temperature=0)
    result = None
    for result in comparator.stream(request(settings=settings), stop_event=stop):
        first = result.results[result.order[0]]
        if len(first.token_times) >= 3:
            stop.set()
    first, second = (result.results[k] for k in result.order)
    assert first.status == "stopped" and first.metrics.stopped
    assert first.metrics.output_tokens < 400
    assert second.status == "stopped" and second.metrics is None, "the second model never starts after Stop"


def test_one_side_failing_leaves_the_other(sides):
    broken = Side("qwen", load_error="could not load 'nowhere': not found")
    result = Comparator({"gemma": sides["gemma"], "qwen": broken}).run(request())
    assert result.results["qwen"].error == "could not load 'nowhere': not found"
    _check_metrics(result.results["gemma"])


def test_exception_mid_stream_becomes_that_sides_error(sides, monkeypatch):
    """Fault injection: Qwen's forward raises partway through; Gemma's answer is intact."""
    head = sides["qwen"].loaded.model.lm_head
    calls = {"n": 0}
    original = head.forward

    def failing_forward(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("injected fault")
        return original(*args, **kwargs)

    monkeypatch.setattr(head, "forward", failing_forward)
    result = Comparator(sides).run(request())
    assert result.results["qwen"].status == "error"
    assert "injected fault" in result.results["qwen"].error
    _check_metrics(result.results["gemma"])


def test_environment_names_models_and_versions(comparator):
    env = comparator.run(request(settings=GenerationSettings(max_new_tokens=2, temperature=0))).environment
    assert env["torch"] and env["transformers"]
    assert env["models"]["gemma"]["family"] == "Gemma 4" and env["models"]["qwen"]["family"] == "Qwen 3.5"
    assert env["models"]["gemma"]["replica"] is True


def test_a_slow_reader_does_not_count_as_the_models_time(sides):
    """The page may take its time over every update; the model's times must not include it."""
    import time

    settings = GenerationSettings(max_new_tokens=12, temperature=0)
    quick = Comparator(sides).run(request(settings=settings))
    slow = None
    for slow in Comparator(sides).stream(request(settings=settings)):
        time.sleep(0.4)  # a page that takes 0.4 s over each update
    for key in ("gemma", "qwen"):
        q, s = quick.results[key].metrics, slow.results[key].metrics
        assert s.ttft_s < q.ttft_s + 0.2, f"{key}: the reader's pause landed in time to first token ({s.ttft_s:.2f} s)"
        assert s.preprocess_s < q.preprocess_s + 0.2, f"{key}: the reader's pause landed in preprocessing"
        assert s.total_s < q.total_s + 0.3, f"{key}: the reader's pauses landed in the total ({s.total_s:.2f} s)"


def test_generations_that_overlap_mark_each_other_contended(sides):
    """Two comparisons through one comparator whose generations overlap (as --concurrency admits
    them) mark exactly the overlapping ones contended; a comparison alone is clean."""
    import queue

    comparator = Comparator(sides)
    settings = GenerationSettings(max_new_tokens=6, min_new_tokens=6, temperature=0)
    alone = comparator.run(request("alone", settings))
    assert not any(r.metrics.contended for r in alone.results.values()), "nothing else ran"
    first = comparator.stream(request("first", settings), order=["gemma", "qwen"])
    state = next(first)
    while state.results["gemma"].status != "running" or not state.results["gemma"].token_times:
        state = next(first)  # Gemma's generation is now in flight, paused between two tokens
    updates: queue.Queue = queue.Queue()
    second = threading.Thread(target=lambda: [updates.put(s.results["qwen"].status) for s in comparator.stream(
        request("second", settings), order=["qwen", "gemma"])], daemon=True)
    second.start()
    while updates.get(timeout=60) != "running":  # the second comparison's Qwen begins beside it
        pass
    for state in first:  # Gemma finishes; Qwen then waits for the second comparison's Qwen to end
        pass
    second.join(timeout=120)
    assert state.results["gemma"].metrics.contended, "Gemma ran while another generation was in flight"
    assert not comparator.overlaps._running, "a generation that ended still counts as running"
    later = comparator.run(request("later", settings))
    assert not any(r.metrics.contended for r in later.results.values()), "a generation that ended still counted"


def test_each_models_wait_runs_from_the_click(sides):
    """`waited_s`: from the click (here 5 s before the comparison began, as a queue wait would be) to
    each model's first token; the model that ran second also waited for the whole first run."""
    import time

    clicked_at = time.perf_counter() - 5.0
    result = Comparator(sides).run(request("Hi", GenerationSettings(max_new_tokens=4, temperature=0)),
                                   clicked_at=clicked_at, order=["qwen", "gemma"])
    qwen, gemma = result.results["qwen"].metrics, result.results["gemma"].metrics
    assert qwen.waited_s >= 5.0 + qwen.preprocess_s + qwen.ttft_s
    assert gemma.waited_s >= 5.0 + qwen.total_s + gemma.preprocess_s + gemma.ttft_s, "it waited for Qwen's run"
    assert gemma.waited_s < time.perf_counter() - clicked_at
    back = type(result).from_dict(result.to_dict()).results["gemma"].metrics
    assert back.waited_s == gemma.waited_s, "recorded with the result"
