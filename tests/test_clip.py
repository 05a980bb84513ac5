"""Clips of recorded comparisons: frame-accurate from a synthetic recording with known times."""

from __future__ import annotations

import bisect
import copy
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLES, request
from modalities.request import GenerationSettings
from recording.clip import MP4_FPS, render_clip
from recording.clip_frames import Renderer
from recording.clip_timeline import END_S, TITLE_S, ClipError, ClipTimeline
from recording.session import Recorded

GEMMA_TOKENS = [0.5 * n for n in range(1, 11)]  # ten tokens, one every 0.5 s from 0.5 s
QWEN_TOKENS = [0.2 + 0.3 * n for n in range(8)]  # eight, from 0.2 s every 0.3 s


@pytest.fixture(scope="module")
def synthetic(sides):
    """A real comparison whose times are replaced by known ones: Gemma writes 'abcdefghij' a letter
    a token; Qwen thinks 'hmm?' (four tokens) then answers 'okay' (four)."""
    from engine.comparator import Comparator

    result = Comparator(sides).run(request("Race", GenerationSettings(max_new_tokens=4, temperature=0.0)))
    result = copy.deepcopy(result)
    gemma, qwen = result.results["gemma"], result.results["qwen"]
    gemma.text, gemma.thinking, gemma.token_times = "abcdefghij", "", list(GEMMA_TOKENS)
    gemma.progress = [(t, n + 1, 0) for n, t in enumerate(GEMMA_TOKENS)]
    qwen.thinking, qwen.text, qwen.token_times = "hmm?", "okay", list(QWEN_TOKENS)
    qwen.progress = [(t, max(0, n - 3), min(n + 1, 4)) for n, t in enumerate(QWEN_TOKENS)]
    for r, tokens in ((gemma, GEMMA_TOKENS), (qwen, QWEN_TOKENS)):
        r.metrics.preprocess_s, r.metrics.total_s, r.metrics.output_tokens = 0.0, tokens[-1], len(tokens)
    return Recorded(1, "2026-12-02T10:00:00+00:00", result)


def _due(times, t):
    return bisect.bisect_right(times, t)


@pytest.mark.parametrize("speed", [1.0, 2.0, 0.5])
def test_each_moment_shows_exactly_what_was_due_by_then(synthetic, speed):
    timeline = ClipTimeline(synthetic.result, speed)
    assert timeline.race_s == pytest.approx(5.0 / speed)
    for t in (0.0, 0.1999, 0.2, 0.49, 0.5, 0.51, 1.25, 2.0, 3.3, 4.99, 5.0, 6.0):
        race_t = t / speed
        shown = timeline.at(race_t)
        gemma, qwen = shown["gemma"], shown["qwen"]
        assert gemma.tokens == _due(GEMMA_TOKENS, t) and gemma.answer == "abcdefghij"[: _due(GEMMA_TOKENS, t)], (t, gemma)
        n = _due(QWEN_TOKENS, t)
        assert qwen.tokens == n and qwen.thinking == "hmm?"[: min(n, 4)] and qwen.answer == "okay"[: max(0, n - 4)], (t, qwen)
        assert gemma.first_token_s == (0.5 if t >= 0.5 else None)
        assert gemma.elapsed_s == pytest.approx(min(t, 5.0))
        if gemma.tokens > 1:
            assert gemma.tokens_per_s == pytest.approx((gemma.tokens - 1) / (min(t, 5.0) - 0.5))
        assert qwen.done == (t >= QWEN_TOKENS[-1]) and gemma.done == (t >= 5.0)


def test_a_frame_draws_the_state_of_its_moment(synthetic):
    timeline = ClipTimeline(synthetic.result, 1.0)
    renderer = Renderer(synthetic, timeline, (640, 360))
    for t in (0.3, 1.0, 2.6, 4.9):
        renderer.frame(TITLE_S + t)
        assert renderer.shown == timeline.at(t), t
        assert renderer.shown["gemma"].tokens == _due(GEMMA_TOKENS, t)


@pytest.mark.parametrize("speed", [1.0, 2.5])
def test_an_mp4_lasts_the_race_over_speed_plus_the_cards(synthetic, tmp_path, speed):
    import av

    out = render_clip(synthetic, tmp_path / "race.mp4", (320, 180), speed)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert stream.codec_context.name == "h264" and (stream.width, stream.height) == (320, 180)
    expected = TITLE_S + 5.0 / speed + END_S
    assert frames == round(expected * MP4_FPS), (frames, expected)


def test_a_twenty_second_gif_at_720p_stays_under_8_mb(synthetic, tmp_path):
    result = copy.deepcopy(synthetic.result)
    for r in result.results.values():  # the same race, slowed to 20 s, with a long answer that scrolls
        r.token_times = [t * 4 for t in r.token_times]
        r.progress = [(t * 4, a, th) for t, a, th in r.progress]
        r.metrics.total_s *= 4
        r.text = r.text * 200
    out = render_clip(Recorded(1, "now", result), tmp_path / "race.gif", (1280, 720), 1.0)
    assert out.stat().st_size <= 8 * 2**20, f"{out.stat().st_size / 2**20:.1f} MB"


def test_cjk_and_right_to_left_text_are_drawn_in_a_font_that_has_them(synthetic, tmp_path):
    """With the fonts the project names (DejaVu Sans from matplotlib; a CJK font from Debian's
    fonts-wqy-microhei, installed by .ci/run): no character is left to a font without its glyph."""
    from recording.clip_text import Fonts, _cmap, fallback_font, wrap

    assert fallback_font(), "no CJK font: install Debian's fonts-wqy-microhei (the README says so)"
    fonts = Fonts(20)
    text = "你好，世界。これは日本語です。مرحبا بالعالم שלום עולם Hello"
    for char in text:
        if not char.isspace():
            assert ord(char) in _cmap(fonts.font_for(char).path), f"{char!r} has no glyph in its font"
    lines = wrap(fonts, "中文" * 80, 300)
    assert len(lines) > 1 and all(fonts.width(line) <= 300 for line in lines), "CJK wraps between characters"
    result = copy.deepcopy(synthetic.result)
    result.results["gemma"].text = text * 3
    render_clip(Recorded(1, "now", result), tmp_path / "scripts.mp4", (640, 360), 4.0)


def test_the_clip_command_makes_a_clip_of_a_recorded_session_and_refuses_what_it_cannot(tmp_path):
    session = tmp_path / "session"
    recorded = subprocess.run(
        [sys.executable, "app.py", "compare", "--tiny", "--prompt", "What is shown?", "--image",
         str(SAMPLES / "chart.png"), "--max-new-tokens", "8", "--record", str(session)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert recorded.returncode == 0, recorded.stderr[-1000:]

    def clip(*args):
        return subprocess.run([sys.executable, "app.py", "clip", str(session), *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)

    made = clip("--out", str(tmp_path / "c.gif"), "--size", "1080x1920")
    assert made.returncode == 0 and (tmp_path / "c.gif").stat().st_size > 0, made.stderr[-1000:]
    from PIL import Image

    with Image.open(tmp_path / "c.gif") as gif:  # identical frames are merged: the durations add up
        durations = []
        for n in range(gif.n_frames):
            gif.seek(n)
            durations.append(gif.info["duration"])
        assert gif.size == (1080, 1920) and sum(durations) >= (TITLE_S + END_S) * 1000, durations
    for args, message in ((("--entry", "2", "--out", "x.mp4"), "error: entry 2: the session holds 1 comparison(s)"),
                          (("--out", str(tmp_path / "x.avi")), "'x.avi': a clip is written as .mp4 or .gif"),
                          (("--speed", "0", "--out", str(tmp_path / "x.mp4")), "speed 0.0: must be a positive number")):
        refused = clip(*args)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr[-500:]


def test_a_race_longer_than_the_bound_is_refused_unless_sped_up(synthetic):
    result = copy.deepcopy(synthetic.result)
    result.results["gemma"].token_times.append(700.0)
    with pytest.raises(ClipError, match="the race is 700 s long at this speed, over 600 s: make it shorter with a higher speed"):
        ClipTimeline(result, 1.0)
    assert ClipTimeline(result, 2.0).race_s == pytest.approx(350.0)
