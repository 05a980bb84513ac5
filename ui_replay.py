"""Replay mode: browse a recorded session and play comparisons back at their recorded pace.

Nothing is loaded onto any device here: everything shown comes from the recording, and every
comparison is labelled as a recording with its date, GPU and model ids.
"""

from __future__ import annotations

import gradio as gr

from models.comparison import SIDES
from models.results import result_from_dict
from recording.replay import frames, label
from recording.session import Session
from ui import answer_columns, assistant_messages, details_markdown


def _choice(i: int, entry: dict) -> tuple[str, int]:
    prompt = entry["request"].get("prompt") or "(no text)"
    return f"{i + 1}. {prompt[:60]} — {entry.get('recorded_at', '')}", i


def build_replay_demo(session: Session) -> gr.Blocks:
    entries = session.entries
    with gr.Blocks(title="Replay — Gemma 4 vs Qwen 3.5") as demo:
        gr.Markdown(
            "# Gemma 4 vs Qwen 3.5 — replay\n**This is a recording.** Nothing runs live: answers and "
            "timings are played back as they were recorded.",
            elem_id="replay-banner",
        )
        if session.problems:
            gr.Markdown("\n".join(f"- {p}" for p in session.problems), elem_id="replay-problems")
        with gr.Row():
            pick = gr.Dropdown([_choice(i, e) for i, e in enumerate(entries)], value=0 if entries else None,
                               label=f"Recorded comparisons ({len(entries)})", scale=3)
            speed = gr.Slider(0.25, 10, value=1, step=0.25, label="Speed (×)", scale=1)
            play = gr.Button("Play", variant="primary", elem_id="play", scale=1)
        about = gr.Markdown(elem_id="replay-label")
        chats, details = answer_columns(height=380)

        def replay(index, pace):
            if index is None or not entries:
                raise gr.Error("This session has no comparisons to replay.")
            entry = entries[int(index)]
            request = entry["request"]
            user = {"role": "user", "content": request.get("prompt") or "(no text)"}
            results = {k: result_from_dict(entry["results"][k]) for k in SIDES if k in entry["results"]}
            heading = f"**{label(entry)}**"
            yield {about: heading, **{details[k]: " " for k in SIDES}}
            for frame in frames(entry, float(pace)):
                out = {about: heading}
                for key, r in results.items():
                    text, thinking, finished = frame[key]
                    shown = type(r)(side=key, model=r.model, text=text, thinking=thinking,
                                    status="done" if finished else "running", error=r.error if finished else None)
                    out[chats[key]] = [user, *assistant_messages(shown)]
                    if finished:
                        out[details[key]] = details_markdown(r)
                yield out

        play.click(replay, [pick, speed], [about, *chats.values(), *details.values()], api_name="replay")
    return demo
