"""Replay mode: browse a recorded session and play comparisons back at their recorded pace.

Nothing is loaded onto any device here: everything shown comes from the recording, and every
comparison is labelled as a recording with its date, GPU and model ids. A comparison can be
downloaded as a video (recording.clip), and shared as a link (`?entry=N`) that opens it.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import replace
from pathlib import Path

import gradio as gr

from engine.results import Status
from models.families import SIDES
from recording.clip import SIZES, render_clip
from recording.clip_timeline import ClipError
from recording.replay import frames, label
from recording.session import Recorded, Session

from .views import answer_columns, chart_values, comparison_views, empty_charts
from .markup import plain
from .public import Scrubber, friendly_name
from .format import assistant_messages, details_markdown, status_line, user_message
from .table import comparison_table


def _choice(i: int, entry: Recorded) -> tuple[str, int]:
    prompt = entry.result.request.prompt or "(no text)"
    return f"{i + 1}. {prompt[:60]} — {entry.recorded_at}", i


# Clips made from replays, one per comparison and size, reused by every viewer who asks.
CLIPS = Path(tempfile.gettempdir()) / "gemma-qwen-clips"


def build_replay_demo(session: Session) -> gr.Blocks:
    entries = session.entries
    session_key = hashlib.sha256(str(session.folder.resolve()).encode()).hexdigest()[:12]
    # The recording names the operator's folders and servers; a replay's viewers see public names.
    recorded = [entry.result.environment for entry in entries]
    public = Scrubber(
        [m.get("source") for env in recorded for m in (env.get("models") or {}).values() if isinstance(m, dict)]
        + [r.source for entry in entries for r in entry.result.results.values()],
        [m.get("endpoint") for env in recorded for m in (env.get("models") or {}).values() if isinstance(m, dict)],
    ).view
    from . import DELETE_CACHE

    with gr.Blocks(title="Replay — Gemma 4 vs Qwen 3.5", analytics_enabled=False, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(
            "# Gemma 4 vs Qwen 3.5 — replay\n**This is a recording.** Nothing runs live: answers and "
            "timings are played back as they were recorded.",
            elem_id="replay-banner",
        )
        if session.problems:
            gr.Markdown("\n".join(f"- {plain(p)}" for p in session.problems), elem_id="replay-problems")
        with gr.Row():
            pick = gr.Dropdown([_choice(i, e) for i, e in enumerate(entries)], value=0 if entries else None,
                               label=f"Recorded comparisons ({len(entries)})", scale=3)
            speed = gr.Slider(0.25, 10, value=1, step=0.25, label="Speed (×)", scale=1)
            play = gr.Button("Play", variant="primary", elem_id="play", scale=1)
        with gr.Row():
            clip_size = gr.Dropdown(list(SIZES), value="1280x720", label="Video size", scale=1, elem_id="clip-size")
            clip_btn = gr.Button("Download as video", elem_id="clip", scale=1)
            share_btn = gr.Button("Link to this comparison", elem_id="share", scale=1)
        with gr.Row():
            clip_file = gr.File(label="Video (MP4)", interactive=False, elem_id="clip-file", scale=1)
            # Made in the viewer's own browser from the page's address: nothing is uploaded anywhere.
            link = gr.Textbox(label="Link (opens this comparison)", interactive=False, buttons=["copy"], elem_id="share-link",
                              scale=1)
        about = gr.Markdown(elem_id="replay-label")
        with gr.Accordion("Inputs of this comparison", open=True):
            with gr.Row():
                shown_images = gr.Gallery(label="Images", interactive=False, height=160, elem_id="replay-images")
                shown_video = gr.Video(label="Video", interactive=False, height=160, elem_id="replay-video")
                shown_audio = gr.Audio(label="Audio", interactive=False, elem_id="replay-audio")
        chats, details, statuses = answer_columns(height=380)
        table, first_chart, curve_chart = comparison_views()

        def attachments(entry) -> dict:
            """The recorded input files, from the session's media folder (missing ones are in the problems)."""
            files = {"image": [], "video": None, "audio": None}
            for item in entry.media:
                path = session.media_path(item)
                if not path.exists():
                    continue
                if item.kind == "image":
                    files["image"].append((str(path), item.name))
                elif item.kind in files:
                    files[item.kind] = str(path)
            return {shown_images: files["image"] or None, shown_video: files["video"], shown_audio: files["audio"]}

        def replay(index, pace):
            if index is None or not entries:
                raise gr.Error("This session has no comparisons to replay.")
            for out in played(entries[int(index)], float(pace)):
                yield public(out)

        def played(entry, pace):
            results = {k: r for k, r in entry.result.results.items() if k in SIDES}
            heading = f"**{plain(label(entry, friendly_name))}**"
            first, curve = empty_charts()  # filled when the replay ends
            yield {about: heading, table: " ", first_chart: first, curve_chart: curve, **attachments(entry),
                   **{details[k]: " " for k in SIDES}}
            for frame in frames(entry.result, pace):
                out = {about: heading}
                for key, r in results.items():
                    text, thinking, finished = frame[key]
                    # The recorded result as it stood at this moment: text so far, still running.
                    shown = r if finished else replace(r, text=text, thinking=thinking, status=Status.RUNNING, error=None)
                    out[chats[key]] = [user_message(entry.result.request, r), *assistant_messages(shown)]
                    out[statuses[key]] = "▶ Replaying" if not finished else status_line(r)
                    if finished:
                        out[details[key]] = details_markdown(r)
                yield out
            out[table] = comparison_table(entry.result)  # with the last frame, so it holds everything
            out[first_chart], out[curve_chart] = chart_values(entry.result)
            yield out | attachments(entry)

        def opened(index, request: gr.Request):
            """A link with ?entry=N opens that comparison, finished, ready to play again."""
            wanted = (request.query_params.get("entry") or "") if request else ""
            if not wanted.isdigit() or not 1 <= int(wanted) <= len(entries):
                return {pick: gr.skip()}
            entry = entries[int(wanted) - 1]
            *_, last = played(entry, 1000.0)  # the finished comparison, drawn at once
            return public(last | {pick: int(wanted) - 1})

        def clip(index, size, progress=gr.Progress()):
            """The selected comparison as an MP4, made in the background with a progress bar; kept for
            the next viewer who asks for the same one."""
            if index is None or not entries:
                raise gr.Error("This session has no comparisons to make a video of.")
            CLIPS.mkdir(mode=0o700, exist_ok=True)
            out = CLIPS / f"{session_key}-{int(index) + 1}-{size}.mp4"
            if not out.exists():
                progress(0, desc="Rendering the video")
                try:
                    render_clip(entries[int(index)], out, SIZES[size], media_root=session.folder,
                                progress=lambda f: progress(f, desc="Rendering the video"))
                except ClipError as e:
                    raise gr.Error(str(e), title="No video", print_exception=False) from None
            return str(out)

        clip_btn.click(clip, [pick, clip_size], clip_file, api_name="clip", concurrency_id="clips", concurrency_limit=1)
        share_btn.click(None, pick, link, api_name=False, js=(
            "(i) => { const u = new URL(window.location.href); u.search = '?entry=' + (Number(i) + 1); u.hash = ''; "
            "return u.href; }"))
        demo.load(opened, pick, [pick, about, *chats.values(), *details.values(), *statuses.values(), table, first_chart,
                                 curve_chart, shown_images, shown_video, shown_audio], api_name=False)

        # Playing only sleeps between updates: any number of viewers play at once, none waits.
        play.click(
            replay, [pick, speed],
            [about, *chats.values(), *details.values(), *statuses.values(), table, first_chart, curve_chart,
             shown_images, shown_video, shown_audio],
            api_name="replay",
            concurrency_limit=None,
        )
    return demo
