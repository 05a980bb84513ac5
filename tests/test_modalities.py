"""Each input kind: awkward-but-valid files are converted with a note, bad ones give one InputError naming them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import write_audio, write_audio_only_container, write_video
from modalities.audio import SAMPLE_RATE, load_audio
from modalities.errors import InputError
from modalities.image import load_image
from modalities.limits import Limits
from modalities.request import CompareRequest, GenerationSettings, validate_request
from modalities.video import decode_frames, load_video

# --- images -------------------------------------------------------------------------------


def test_exif_rotated_image_is_made_upright(tmp_path):
    path = tmp_path / "rotated.jpg"
    im = Image.new("RGB", (40, 20), "red")
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    im.save(path, exif=exif)
    loaded = load_image(path)
    assert loaded.image.size == (20, 40), "EXIF orientation 6 should swap width and height"
    assert any("EXIF" in n for n in loaded.notes)


@pytest.mark.parametrize(
    "mode, note",
    [("RGBA", "transparency"), ("CMYK", "CMYK"), ("I;16", "bit-depth"), ("L", None), ("P", None)],
)
def test_image_modes_become_8bit_rgb(tmp_path, mode, note):
    path = tmp_path / ("img.tif" if mode in ("CMYK", "I;16") else "img.png")
    if mode == "I;16":
        Image.fromarray(np.full((10, 10), 60000, np.uint16)).save(path)
    else:
        Image.new(mode, (10, 10)).save(path)
    loaded = load_image(path)
    assert loaded.image.mode == "RGB"
    if note:
        assert any(note in n for n in loaded.notes), loaded.notes
    if mode == "I;16":
        assert loaded.image.getpixel((0, 0))[0] > 200, "16-bit bright pixels must stay bright at 8 bits"


def test_animated_gif_gives_first_frame(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "green", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    loaded = load_image(path)
    assert loaded.image.getpixel((0, 0))[0] > 200, "first (red) frame expected"
    assert any("first of 3 frames" in n for n in loaded.notes)


# Broken and hostile image files (empty, text, truncated, a decompression bomb, audio named .png)
# are in the one matrix of bad inputs, tests/test_bad_inputs.py.


def test_missing_file():
    with pytest.raises(InputError, match="image 'nope.png': file not found"):
        load_image("/nonexistent/nope.png")


# --- video --------------------------------------------------------------------------------


def test_video_metadata_and_frames(tmp_path):
    video = load_video(write_video(tmp_path / "v.mp4", seconds=2, fps=10))
    assert (video.total_frames, video.fps, video.width, video.height) == (20, 10.0, 160, 120)
    frames = decode_frames(video, [0, 10, 19])
    assert frames.shape == (3, 120, 160, 3) and frames.dtype == np.uint8


def test_sampled_frames_are_the_frames_at_those_indices(tmp_path):
    """The parallel decode (shares of the indices, one reader each, seeking only past a keyframe) gives,
    for indices in any order, repeated, across keyframes and with B-frames decoded out of order, exactly
    the frames at those positions of a straight decode of the whole video (decord's, which validated it).
    decord's own seeking failed this: 20 of these frames came back two frames late (the B-frames)."""
    import decord

    from modalities import video as video_module

    video = load_video(write_video(tmp_path / "v.mp4", seconds=8, fps=10, gop=20, b_frames=2))
    indices = list(np.linspace(0, video.total_frames - 1, 32).astype(int))[::-1][:16] + list(range(0, 80, 5))
    indices += [19, 20, 21, 40, 40, 79, 0]
    assert video_module.MAX_READERS > 1 and len(set(indices)) >= 2 * video_module.MIN_FRAMES_PER_READER
    straight = decord.VideoReader(str(video.path), ctx=decord.cpu(0), width=video.decode_width,
                                  height=video.decode_height)
    every = straight.get_batch(list(range(len(straight)))).asnumpy()
    assert np.array_equal(decode_frames(video, indices), every[indices]), "frames differ or come out of order"


def test_downscaled_frames_are_decords_within_rounding(tmp_path):
    import decord

    video = load_video(write_video(tmp_path / "big.mp4", seconds=2, fps=5, size=(1920, 1080), gop=4))
    one = decord.VideoReader(str(video.path), ctx=decord.cpu(0), width=video.decode_width, height=video.decode_height)
    diff = np.abs(decode_frames(video, [0, 3, 9]).astype(int) - one.get_batch([0, 3, 9]).asnumpy().astype(int))
    assert diff.mean() < 0.1, diff.mean()


def test_a_video_that_no_longer_decodes_is_named_without_path_or_errno(tmp_path):
    video = load_video(write_video(tmp_path / "v.mp4", seconds=2, fps=10))
    video.path.write_bytes(b"\x00" * 4096)  # replaced after it was validated
    with pytest.raises(InputError, match="video 'v.mp4': frames could not be decoded") as caught:
        decode_frames(video, [0, 10])
    assert "/" not in str(caught.value) and "Errno" not in str(caught.value), caught.value


def test_large_video_is_decoded_downscaled(tmp_path):
    video = load_video(write_video(tmp_path / "big.mp4", seconds=0.5, fps=4, size=(1920, 1080)))
    assert max(video.decode_width, video.decode_height) <= Limits().max_decode_side
    assert decode_frames(video, [0]).shape[1:3] == (video.decode_height, video.decode_width)
    assert any("decoded at" in n for n in video.notes)


def test_video_without_video_stream(tmp_path):
    path = write_audio_only_container(tmp_path / "sound_only.mp4")
    with pytest.raises(InputError, match="video 'sound_only.mp4'"):
        load_video(path)


@pytest.mark.parametrize("content", [b"", b"this is text with a video extension\n" * 20])
def test_bad_video_files(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match="video 'bad.mp4'"):
        load_video(path)


def test_truncated_video(tmp_path):
    full = write_video(tmp_path / "full.mp4", seconds=3)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    with pytest.raises(InputError, match="video 'cut.mp4'"):
        load_video(cut)


def test_video_over_duration_limit(tmp_path):
    path = write_video(tmp_path / "long.mp4", seconds=3, fps=5)
    with pytest.raises(InputError, match="over the limit of 2 s"):
        load_video(path, Limits(max_video_seconds=2))


# --- audio --------------------------------------------------------------------------------


def test_audio_is_resampled_to_16k_mono(tmp_path):
    audio = load_audio(write_audio(tmp_path / "stereo.wav", seconds=1.5, rate=44_100, channels=2))
    assert audio.waveform.ndim == 1 and audio.waveform.dtype == np.float32
    assert abs(len(audio.waveform) - 1.5 * SAMPLE_RATE) <= 2
    assert any("resampled from 44100 Hz" in n for n in audio.notes)


def test_zero_length_audio(tmp_path):
    import soundfile

    path = tmp_path / "silence.wav"
    soundfile.write(str(path), np.zeros(0, np.float32), 16_000)
    with pytest.raises(InputError, match="audio 'silence.wav'.*(empty|zero)"):
        load_audio(path)


def test_image_given_as_audio(tmp_path):
    path = tmp_path / "picture.wav"
    Image.new("RGB", (50, 50)).save(path, format="PNG")
    with pytest.raises(InputError, match="audio 'picture.wav'"):
        load_audio(path)


# --- whole requests -----------------------------------------------------------------------


def test_request_needs_a_prompt_or_media():
    with pytest.raises(InputError, match="prompt"):
        validate_request(CompareRequest(prompt="   "))


@pytest.mark.parametrize(
    "settings, name",
    [
        (GenerationSettings(max_new_tokens=0), "max new tokens"),
        (GenerationSettings(temperature=-1), "temperature"),
        (GenerationSettings(top_p=0), "top-p"),
    ],
)
def test_bad_settings_are_named(settings, name):
    with pytest.raises(InputError, match=name):
        validate_request(CompareRequest(prompt="hi", settings=settings))


def test_first_bad_file_stops_validation(tmp_path, media):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(InputError, match="audio 'broken.wav'"):
        validate_request(CompareRequest(prompt="hi", images=(str(media["image"]),), audio=str(bad)))


def test_a_video_with_keyframes_too_far_apart_is_refused_before_decoding(tmp_path):
    """One keyframe in 30 s: checking the file would decode all of it, and so would each sampled
    frame; refused from the packets alone, with how to fix it."""
    from modalities.limits import Limits

    sparse = write_video(tmp_path / "sparse.mp4", seconds=30, fps=10, gop=1000)
    with pytest.raises(InputError, match=r"sparse.mp4': a keyframe only every 30 s \(at most 20 s apart"):
        load_video(sparse)
    assert load_video(sparse, Limits(max_keyframe_interval_s=60)).total_frames == 300
    assert load_video(write_video(tmp_path / "dense.mp4", seconds=30, fps=10, gop=50)).total_frames == 300
