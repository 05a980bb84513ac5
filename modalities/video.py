"""Video: probe with decord, then decode only the frames a model's processor asks for, with PyAV.

`load_video` validates a file (opens it, decodes its first and last frames, checks the
duration) and keeps only its metadata. Each model then picks its own frame indices with its
processor's `sample_frames` (the frame budget follows each family's processor) and
`decode_frames` decodes just those, downscaled at decode time, with their timestamps.
Nothing here depends on torchcodec or a system FFmpeg (PyAV's wheels carry their own).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .files import check_file, describe
from .limits import DEFAULT_LIMITS, Limits

# decord (validation only) is not safe to share between threads: each validation opens its own
# reader, and opening is serialised because decord's demuxer setup is not thread-safe either.
_OPEN_LOCK = threading.Lock()


@dataclass
class VideoInput:
    path: Path
    total_frames: int
    fps: float
    width: int
    height: int
    decode_width: int
    decode_height: int
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.total_frames / self.fps

    @property
    def name(self) -> str:
        return describe("video", self.path)


def _decode_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    # Even sizes: some codecs' scalers refuse odd ones.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _open(path: Path):
    import decord

    decord.logging.set_level(decord.logging.QUIET)  # FFmpeg's own log lines would reach stderr
    with _OPEN_LOCK, _quiet_stderr():
        return decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=2)


# Sampled frames lie a keyframe interval or more apart, so each costs a seek and a run of
# decoding from its keyframe: independent work, shared out to several single-threaded readers,
# each taking a contiguous share of the indices (on 2 cores, 3-4 readers beat one reader with
# decoder threads). The readers are PyAV's, not decord's: decord's seek cost about 23 ms of CPU
# even onto a keyframe (it decodes from an earlier one), so 32 frames of a 60 s 720p video took
# 1.2-1.4 CPU-seconds with decord and 0.7 with PyAV (benchmarks/harness.py; decord still
# validates the file in `load_video`).
MAX_READERS = min(4, 2 * (os.cpu_count() or 1))
MIN_FRAMES_PER_READER = 8


@contextlib.contextmanager
def _quiet_stderr():
    """decord's C++ layer logs open errors straight to fd 2; the InputError already says why."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _decord_reason(e: Exception) -> str:
    """decord's messages carry a log prefix and the full path; keep the FFmpeg reason alone."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    if "stream" in text.lower() and "video" in text.lower():
        return "no video stream"
    if text.startswith("Error reading"):
        return "not a video file that can be decoded (no readable container or stream)"
    if "ERROR" in text and ", " in text:
        text = text.rsplit(", ", 1)[1]
    return f"not a video that can be decoded ({text.strip()[:160]})"


def load_video(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> VideoInput:
    """Open and check one video file; raise InputError naming it if it cannot be used."""
    import decord

    p = check_file("video", path, limits)
    name = describe("video", p)
    try:
        reader = _open(p)
        total = len(reader)
        if total < 1:
            raise InputError(name, "the video has no frames")
        fps = float(reader.get_avg_fps())
        if not fps > 0:
            raise InputError(name, "the video has no frame rate")
        height, width = reader[0].shape[:2]
        _check_keyframes(p, name, fps, limits)  # before any frame far from the start is decoded
        if total > 1:
            reader[total - 1]  # a truncated stream fails on its last frame
    except InputError:
        raise
    except (decord.DECORDError, RuntimeError, IndexError, ValueError) as e:
        raise InputError(name, _decord_reason(e)) from None
    video = VideoInput(p, total, fps, width, height, *_decode_size(width, height, limits.max_decode_side))
    if total > limits.max_video_frames:
        raise InputError(name, f"{total} frames, over the limit of {limits.max_video_frames}")
    if video.duration_s > limits.max_video_seconds:
        raise InputError(
            name, f"{video.duration_s:.0f} s long, over the limit of {limits.max_video_seconds:.0f} s"
        )
    if (video.decode_width, video.decode_height) != (width, height):
        video.notes.append(f"{width}x{height} frames decoded at {video.decode_width}x{video.decode_height}")
    if total == 1:
        video.notes.append("the video has a single frame")
    return video


def _check_keyframes(path: Path, name: str, fps: float, limits: Limits) -> None:
    """InputError when keyframes lie further apart than Limits.max_keyframe_interval_s (read from the
    packets alone: nothing is decoded)."""
    try:
        frames, keys = _timeline(path)
    except Exception:  # a container PyAV cannot demux: decord's own checks name the problem
        return
    if not frames:
        return
    position = {pts: n for n, pts in enumerate(frames)}
    starts = sorted({position[k] for k in keys if k in position} | {0})  # frame 0 decodes from the start
    longest = max(b - a for a, b in zip(starts, [*starts[1:], len(frames)]))
    if longest / fps > limits.max_keyframe_interval_s:
        raise InputError(
            name, f"a keyframe only every {longest / fps:.0f} s (at most {limits.max_keyframe_interval_s:.0f} s "
            "apart are taken: every frame is decoded from the one before it); re-encode it with keyframes more "
            "often, e.g. ffmpeg -i IN -g 60 OUT.mp4",
        )


def _timeline(path: Path) -> tuple[list[int], list[int]]:
    """Every frame's timestamp in presentation order, and the keyframes' ones, from the packets alone
    (no decoding): frame n of the video is the n-th timestamp, as decord counts frames."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, keys = [], []
        for packet in container.demux(stream):
            if packet.pts is None or packet.size == 0:
                continue
            frames.append(packet.pts)
            if packet.is_keyframe:
                keys.append(packet.pts)
    return sorted(frames), sorted(keys)


def _decode_share(path: Path, wanted: list[int], keys: list[int], size: tuple[int, int], threads: bool) -> list:
    """The frames with timestamps `wanted` (ascending), seeking only where a keyframe lies between the
    last frame decoded and the next one wanted (seeking there skips decoding what lies before it)."""
    import bisect

    import av

    width, height = size
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if threads else "NONE"
        frames, last = None, None
        for pts in wanted:
            key = keys[bisect.bisect_right(keys, pts) - 1] if keys and keys[0] <= pts else None
            if frames is None or last is None or pts <= last or (key is not None and key > last):
                container.seek(key if key is not None else pts, stream=stream, backward=True, any_frame=False)
                frames = container.decode(stream)
            for frame in frames:
                last = frame.pts
                if frame.pts is not None and frame.pts >= pts:
                    break
            else:
                raise ValueError("the stream ended before a sampled frame")
            # Scaled and converted in one step, bilinear: the frames decord gave (within rounding).
            out.append(frame.reformat(width, height, format="rgb24", interpolation="BILINEAR").to_ndarray())
    return out


def decode_frames(video: VideoInput, indices: np.ndarray | list[int]) -> np.ndarray:
    """The frames at `indices` as a (n, height, width, 3) uint8 array."""
    import av

    try:
        timeline, keys = _timeline(video.path)
        if not timeline:
            raise ValueError("no video packets")
        last = min(video.total_frames, len(timeline)) - 1
        indices = [min(max(int(i), 0), last) for i in indices]
        unique = sorted(set(indices))
        readers = max(1, min(MAX_READERS, len(unique) // MIN_FRAMES_PER_READER))
        shares = [[timeline[i] for i in share] for share in np.array_split(unique, readers) if len(share)]
        size = (video.decode_width, video.decode_height)
        if len(shares) == 1:
            decoded = _decode_share(video.path, shares[0], keys, size, threads=True)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(shares), thread_name_prefix="decode-frames") as pool:
                parts = pool.map(lambda share: _decode_share(video.path, share, keys, size, threads=False), shares)
                decoded = [frame for part in parts for frame in part]
    except (av.FFmpegError, ValueError, IndexError) as e:
        # FFmpeg's reason alone: its str() adds an error number and the file's path.
        reason = e.strerror if isinstance(e, av.FFmpegError) else str(e)
        raise InputError(video.name, f"frames could not be decoded ({str(reason)[:160]})") from None
    by_index = dict(zip(unique, decoded))
    return np.stack([by_index[i] for i in indices])
