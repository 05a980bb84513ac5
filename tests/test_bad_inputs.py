"""A matrix of bad and awkward files, made here: valid ones work (with a note where something was
cut or converted); invalid ones get one message naming the file and the reason, and no model runs.

Each case goes through the engine as `compare` runs it, and through the app's API.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, request, write_audio, write_audio_av, write_audio_only_container, write_video
from modalities.errors import InputError
from modalities.request import GenerationSettings

TINY_RUN = GenerationSettings(max_new_tokens=2, temperature=0.0)


def _png(path: Path, mode="RGB", size=(64, 48)) -> Path:
    Image.new(mode, size, 128 if mode in ("L", "I;16") else (200, 30, 30)).save(path)
    return path


def _text(path: Path) -> Path:
    path.write_text("plain text, not media\n" * 40)
    return path


def _cut(path: Path, fraction: float, name: str) -> Path:
    out = path.with_name(name)
    out.write_bytes(path.read_bytes()[: max(1, int(path.stat().st_size * fraction))])
    return out


def _exif(path: Path) -> Path:
    im = Image.new("RGB", (60, 30), "blue")
    exif = im.getexif()
    exif[0x0112] = 8
    im.save(path, exif=exif)
    return path


def _gif(path: Path) -> Path:
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "green")]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    return path


def _noisy_png(path: Path) -> Path:
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, 300, 3), np.uint8)).save(path)
    return path


def _ogg(path: Path) -> Path:
    import soundfile

    soundfile.write(str(path), (0.2 * np.sin(np.arange(32000) / 5)).astype(np.float32), 16_000, format="OGG")
    return path


def _empty_wav(path: Path) -> Path:
    import soundfile

    soundfile.write(str(path), np.zeros(0, np.float32), 16_000)
    return path


# (file name, kind, maker, expected): "ok", "ok:<note>" or "error:<reason>" (a non-empty regex on the message)
CASES = [
    # images
    ("empty.png", "image", lambda p: (p.touch(), p)[1], "error:empty"),
    ("truncated.png", "image", lambda p: _cut(_noisy_png(p.with_name("full.png")), 0.4, p.name), "error:could not be decoded|not an image"),
    ("text.png", "image", _text, "error:not an image"),
    ("audio.png", "image", lambda p: write_audio(p.with_name("x.wav")).rename(p), "error:not an image"),
    ("bomb.png", "image", lambda p: (Image.new("1", (9000, 9000)).save(p), p)[1], "error:decompression bomb"),
    ("photo-8000x6000.jpg", "image", lambda p: (Image.new("RGB", (8000, 6000), "gray").save(p, quality=50), p)[1], "ok"),
    ("pixel-1x1.png", "image", lambda p: _png(p, size=(1, 1)), "ok"),
    ("cmyk.jpg", "image", lambda p: (Image.new("CMYK", (40, 40), (0, 200, 200, 0)).save(p), p)[1], "ok:CMYK"),
    ("deep-16bit.png", "image", lambda p: (Image.fromarray(np.full((30, 30), 40000, np.uint16)).save(p), p)[1], "ok:8 bits"),
    ("alpha.png", "image", lambda p: _png(p, "RGBA"), "ok:transparency"),
    ("animated.gif", "image", _gif, "ok:first of 2 frames"),
    ("exif-rotated.jpg", "image", _exif, "ok:EXIF"),
    ("grey.png", "image", lambda p: _png(p, "L"), "ok"),
    # videos
    ("empty.mp4", "video", lambda p: (p.touch(), p)[1], "error:empty"),
    ("truncated.mp4", "video", lambda p: _cut(write_video(p.with_name("whole.mp4"), seconds=3), 0.3, p.name), "error:can be decoded"),
    ("text.mp4", "video", _text, "error:not a video"),
    ("picture.mp4", "video", lambda p: _png(p.with_name("y.png")).rename(p), "error:not a video"),
    ("sound-only.mp4", "video", write_audio_only_container, "error:no video stream"),
    ("one-frame.mp4", "video", lambda p: write_video(p, seconds=0.1, fps=10), "ok:single frame"),
    ("uhd-4k.mp4", "video", lambda p: write_video(p, seconds=0.3, fps=10, size=(3840, 2160)), "ok:decoded at"),
    ("ten-minutes.mp4", "video", lambda p: write_video(p, seconds=600, fps=1, size=(64, 48)), "ok:frames sampled of 600"),
    ("clip.webm", "video", lambda p: write_video(p, codec="libvpx"), "ok"),
    ("clip.mov", "video", lambda p: write_video(p, codec="mpeg4"), "ok"),
    ("clip.mkv", "video", lambda p: write_video(p, codec="libx264"), "ok"),
    ("clip.avi", "video", lambda p: write_video(p, codec="mpeg4"), "ok"),
    # audio
    ("empty.wav", "audio", lambda p: (p.touch(), p)[1], "error:empty"),
    ("zero-length.wav", "audio", _empty_wav, "error:empty|zero"),
    ("truncated.wav", "audio", lambda p: _cut(write_audio(p.with_name("long.wav")), 0.004, p.name), "error:truncated"),
    ("text.wav", "audio", _text, "error:not audio"),
    ("image.wav", "audio", lambda p: _png(p.with_name("z.png")).rename(p), "error:not audio"),
    ("ten-minutes.wav", "audio", lambda p: write_audio(p, seconds=600, rate=16_000, channels=1), "ok:cut from 600.0 s"),
    ("tone.mp3", "audio", lambda p: write_audio_av(p, "mp3"), "ok:resampled"),
    ("tone.ogg", "audio", _ogg, "ok"),
    ("tone.flac", "audio", lambda p: write_audio(p, rate=48_000), "ok:resampled"),
    ("tone.m4a", "audio", lambda p: write_audio_av(p, "aac"), "ok:resampled"),
    ("soundtrack.mp4", "audio", write_audio_only_container, "ok"),
]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    folder = tmp_path_factory.mktemp("matrix")
    files = {}
    for name, kind, make, expected in CASES:
        (folder / name).parent.mkdir(exist_ok=True)
        files[name] = (kind, make(folder / name), expected)
    return files


def _media(kind: str, path: Path) -> dict:
    return {"images": (str(path),)} if kind == "image" else {kind: str(path)}


@pytest.fixture
def forward_calls(sides):
    """Counts forward passes of both models (an observer hook, nothing replaced)."""
    calls = []
    handles = [s.loaded.model.register_forward_hook(lambda *a: calls.append(1)) for s in sides.values()]
    yield calls
    for h in handles:
        h.remove()


def test_matrix_is_what_the_readme_says():
    """The README promises a number of generated files; every error case names a reason to find."""
    import re

    readme = (ROOT / "README.md").read_text()
    claimed = int(re.search(r"the tests generate (\d+)", readme).group(1))
    assert len(CASES) == claimed, f"README says {claimed} generated files, the matrix has {len(CASES)}"
    assert len({name for name, *_ in CASES}) == len(CASES), "file names are unique"
    for name, _, _, expected in CASES:
        kind, _, reason = expected.partition(":")
        assert kind in ("ok", "error") and (kind == "ok" or reason), f"{name}: an error case needs its reason"


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_through_the_engine(name, matrix, comparator, forward_calls):
    import re

    kind, path, expected = matrix[name]
    assert path.name == name
    if expected.startswith("error"):
        with pytest.raises(InputError) as caught:
            comparator.run(request("What is this?", TINY_RUN, **_media(kind, path)))
        message = str(caught.value)
        assert message.startswith(f"{kind} '{name}': "), message
        assert re.search(expected.split(":", 1)[1], message), message
        assert "\n" not in message and "Traceback" not in message
        assert forward_calls == [], "no model may run on bad input"
        return
    result = comparator.run(request("What is this?", TINY_RUN, **_media(kind, path)))
    gemma = result.results["gemma"]
    assert gemma.error is None and gemma.metrics, gemma.error
    assert getattr(gemma.metrics.input_tokens, kind) > 0, f"the {kind} reached Gemma"
    if ":" in expected:
        assert any(expected.split(":", 1)[1] in n for n in gemma.notes), gemma.notes


def test_through_the_command_line(matrix):
    """Invalid files exit 2 with one line naming them, before any model loads."""
    for name in ("text.png", "sound-only.mp4", "image.wav"):
        kind, path, _ = matrix[name]
        proc = subprocess.run(
            [sys.executable, "app.py", "compare", "--tiny", "--prompt", "hi", f"--{kind}", str(path)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and f"{kind} '{name}'" in lines[0], proc.stderr


def test_through_the_app_api(matrix, tmp_path_factory, replica_dirs):
    from gradio_client import Client

    from app_server import AppServer, call_compare

    srv = AppServer(log=tmp_path_factory.mktemp("api") / "app.log").wait_ready()
    try:
        client = Client(srv.url, verbose=False)
        for name, (kind, path, expected) in matrix.items():
            if name in ("photo-8000x6000.jpg", "ten-minutes.mp4", "ten-minutes.wav"):
                continue  # large uploads: covered through the engine above
            media = {"images": [path]} if kind == "image" else {kind: path}
            call = lambda: call_compare(client, "What is this?", max_new_tokens=2, **media)  # noqa: E731
            if expected.startswith("error"):
                with pytest.raises(Exception) as caught:
                    call()
                assert f"{kind} '{name}'" in str(caught.value), (name, str(caught.value)[:300])
                assert "Traceback" not in str(caught.value)
            else:
                raw = call()[-1]
                assert raw["results"]["gemma"]["error"] is None, (name, raw["results"]["gemma"]["error"])
        assert "Traceback" not in (srv.log_path.read_text()), "no traceback even in the server log"
    finally:
        srv.stop()


# --- hostile input: lone surrogates, huge seeds, crafted suites, paths in errors -----------------


def test_lone_surrogates_in_a_prompt_become_replacement_characters():
    from modalities.request import CompareRequest

    assert CompareRequest(prompt="a\ud800b", system="\udfff").prompt == "a\ufffdb"


@pytest.mark.parametrize("seed", [2**32, 2**63, -1])
def test_a_seed_out_of_range_is_refused_before_any_model_runs(seed):
    from modalities.errors import InputError
    from modalities.request import GenerationSettings, validate_settings

    with pytest.raises(InputError, match=f"^seed: {seed} is outside 0..4294967295$"):
        validate_settings(GenerationSettings(seed=seed))


@pytest.mark.parametrize(
    "row, reason",
    [
        ({"category": 7}, "category must be a str, not int"),
        ({"id": ["a"]}, "id must be a str, not list"),
        ({"images": "abc"}, "images must be a list of strings"),
        ({"expected": "four"}, "expected must be a int or float for a number task"),
        ({"images": ["/etc/hostname"]}, "media path 'hostname' must be relative"),  # paths shown by their last part
        ({"audio": "../../secret.wav"}, "media path 'secret.wav' must be relative"),
    ],
)
def test_a_suite_line_of_the_wrong_shape_is_named_with_its_reason(tmp_path, row, reason):
    import json

    from evaluation.suites import load_suite
    from modalities.errors import InputError

    good = {"id": "a", "category": "math", "prompt": "1+1?", "expected": 2, "score": "number"}
    suite = tmp_path / "mine.jsonl"
    suite.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "b"} | row) + "\n")
    with pytest.raises(InputError, match=f"^suite 'mine.jsonl': line 2: {re.escape(reason)}"):
        load_suite(suite)


def test_decoder_messages_name_no_server_path_and_stay_on_one_line(tmp_path):
    from modalities.errors import InputError

    message = str(InputError("video 'a\nb.mp4'", "cannot open /tmp/gradio/0a1b/clip.mp4 (src/video/video_reader.cc:151)"))
    assert message == "video 'a b.mp4': cannot open clip.mp4 (video_reader.cc:151)"
    bad = tmp_path / "deep" / "er" / "bad.png"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    from modalities.image import load_image
    from modalities.limits import DEFAULT_LIMITS

    with pytest.raises(InputError) as e:
        load_image(str(bad), DEFAULT_LIMITS)
    assert str(tmp_path) not in str(e.value) and "\n" not in str(e.value)


def test_a_record_folder_that_cannot_be_written_is_said_before_any_model_runs(tmp_path):
    proc = subprocess.run(
        [sys.executable, "app.py", "compare", "--tiny", "--prompt", "hi", "--record", "/dev/null/session"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1].startswith("error: record: folder:"), proc.stderr
    assert "loading" not in proc.stderr, "no model was loaded"


@pytest.mark.parametrize(
    "kind, make, message",
    [
        ("audio", lambda p: write_audio(p / "blip.wav", seconds=0.01, rate=16_000, channels=1),
         r"^audio 'blip.wav': 10\.0 ms long, shorter than Gemma 4's shortest audio \(40 ms, one audio token\)$"),
        ("images", lambda p: (Image.new("RGB", (1, 400)).save(p / "sliver.png"), p / "sliver.png")[1],
         r"^image 'sliver.png': 1x400: its long side is 400 times its short side; Qwen 3.5 takes less than 200$"),
    ],
)
def test_an_input_too_small_or_narrow_for_a_model_is_refused_before_it_runs(comparator, tmp_path, kind, make, message):
    """Below what a model's processor or encoder can take, an input would come back as an internal error."""
    path = str(make(tmp_path))
    with pytest.raises(InputError, match=message):
        comparator.run(request("hi", **({"audio": path} if kind == "audio" else {"images": (path,)})))


def test_an_input_a_loaded_model_refuses_is_still_bad_input_on_the_command_line(tmp_path):
    """A 10 ms WAV passes the file checks and is refused by Gemma 4's own limit once it is loaded:
    exit 2 with that one line, as for any other invalid input (never 'internal error', exit 1)."""
    blip = write_audio(tmp_path / "blip.wav", seconds=0.01, rate=16_000, channels=1)
    proc = subprocess.run(
        [sys.executable, "app.py", "compare", "--tiny", "--prompt", "hi", "--audio", str(blip)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2, proc.stderr[-1000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last == "error: audio 'blip.wav': 10.0 ms long, shorter than Gemma 4's shortest audio (40 ms, one audio token)", last
