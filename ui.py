"""The Gradio app: one input, two live answers, timing side by side.

`build_demo` wires components to handlers and has no side effects; the handlers call the engine
(models.slots / models.comparison) and the pure formatting functions below turn its results into
what the components show. Per-browser state (each model's conversation) lives in `gr.State`;
the only shared objects are the model slots and the per-session stop switches, both owned by
the demo built here.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from modalities.errors import InputError
from modalities.request import CompareRequest, GenerationSettings
from models.comparison import SIDES
from models.families import LABELS
from models.registry import PRESETS
from models.results import ComparisonResult, ModelResult
from models.slots import ModelSlots, choices
from models.tiny import TINY_NOTICE
from recording.session import Recorder
from ui_evaluate import evaluate_tab

SAMPLES = Path(__file__).resolve().parent / "samples"
TITLES = LABELS

try:  # On a ZeroGPU Space the generation must run inside spaces.GPU; elsewhere this is a no-op.
    import spaces

    gpu = spaces.GPU(duration=180)
except ImportError:

    def gpu(fn):
        return fn


# --- per-session state --------------------------------------------------------------------


@dataclass
class Conversation:
    """One browser session's two conversations: engine turns and what each chat shows."""

    turns: dict[str, list] = field(default_factory=lambda: {k: [] for k in SIDES})
    shown: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in SIDES})


class StopSwitches:
    """Each session's current stop signal, so Stop ends only that session's comparison."""

    def __init__(self):
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def arm(self, session: str) -> threading.Event:
        with self._lock:
            self._events[session] = event = threading.Event()
            return event

    def stop(self, session: str) -> None:
        with self._lock:
            if session in self._events:
                self._events[session].set()

    def disarm(self, session: str) -> None:
        with self._lock:
            self._events.pop(session, None)


class RecorderHolder:
    """The app's recorder, made at the first recorded comparison when no folder was given."""

    def __init__(self, folder: str | Path | None):
        self._folder = folder
        self.current = Recorder(folder) if folder else None
        self._lock = threading.Lock()

    def get(self) -> Recorder:
        with self._lock:
            if self.current is None:
                stamp = time.strftime("%Y%m%d-%H%M%S")
                self.current = Recorder(Path("recordings") / f"session-{stamp}")
            return self.current


# --- formatting: engine results to what components show (pure functions) --------------


def _fmt(value, unit: str = "", digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def user_message(request: CompareRequest) -> dict:
    media = [Path(p).name for p in (*request.images, request.video, request.audio) if p]
    text = request.prompt or "(no text)"
    return {"role": "user", "content": text + (f"\n\n*Attached: {', '.join(media)}*" if media else "")}


def assistant_messages(result: ModelResult) -> list[dict]:
    messages = []
    if result.thinking:
        done = result.status != "running"
        messages.append(
            {
                "role": "assistant",
                "content": result.thinking,
                "metadata": {"title": "Thinking", "status": "done" if done else "pending"},
            }
        )
    if result.text or (result.status in ("running", "pending") and not result.error):
        messages.append({"role": "assistant", "content": result.text or "…"})
    if result.error:
        messages.append({"role": "assistant", "content": f"**Error:** {result.error}"})
    elif result.status == "skipped":
        messages.append({"role": "assistant", "content": "(not run: it takes none of the inputs)"})
    return messages


def details_markdown(result: ModelResult) -> str:
    """The metrics table and every note, skipped input and error of one side."""
    lines = []
    for skipped in result.skipped_inputs:
        lines.append(f"- **{skipped}**")
    for note in result.notes:
        lines.append(f"- {note}")
    m = result.metrics
    if m:
        tokens_in = ", ".join(f"{k} {v}" for k, v in m.input_tokens.items() if v)
        lines += [
            "",
            "| metric | value |",
            "|---|---|",
            f"| time to first token | {_fmt(m.ttft_s, ' s', 3)} |",
            f"| time to first answer token | {_fmt(m.ttft_answer_s, ' s', 3)} |",
            f"| decode speed | {_fmt(m.decode_tok_s, ' tok/s', 1)} |",
            f"| total (incl. preprocessing {_fmt(m.preprocess_s, ' s', 2)}) | {_fmt(m.total_s, ' s')} |",
            f"| output tokens (thinking) | {m.output_tokens} ({m.thinking_tokens}) |",
            f"| input tokens | {tokens_in} |",
            f"| device, dtype, peak memory | {m.device}, {m.dtype}, {_fmt(m.peak_memory_mb, ' MiB', 0)} |",
        ]
        if m.contended:
            lines.append("\n*Both models ran at once: these timings are contended.*")
    elif result.status == "running":
        lines.append(f"\n*Generating… {len(result.token_times)} tokens*")
    return "\n".join(lines) or " "


def timing_rows(result: ComparisonResult) -> list[dict]:
    """Rows for the timing chart: seconds per metric per model."""
    rows = []
    for key in SIDES:
        m = result.results[key].metrics
        if not m:
            continue
        for label, value in (("first token", m.ttft_s), ("first answer token", m.ttft_answer_s), ("total", m.total_s)):
            if value is not None:
                rows.append({"bar": f"{label} · {TITLES[key]}", "seconds": round(value, 4), "model": TITLES[key]})
    return rows


def model_info_markdown(side) -> str:
    if side.backend is None:
        return f"**not loaded** — {side.load_error}"
    if side.loaded is None:  # served remotely
        accepts = " / ".join(side.backend.capabilities.modalities)
        return f"`{side.backend.source}` · remote server · accepts {accepts} · timings include the network"
    loaded, caps = side.loaded, side.loaded.capabilities
    replica = " · **offline replica (random weights)**" if loaded.is_replica else ""
    size = f"{loaded.footprint_mb / 1024:.1f} GiB" if loaded.footprint_mb >= 1024 else f"{loaded.footprint_mb:.1f} MiB"
    return (
        f"`{loaded.source}` · {size} on {loaded.device} ({loaded.dtype})"
        f" · accepts {' / '.join(caps.modalities)}{replica}"
    )


def answer_columns(height: int = 420) -> tuple[dict, dict]:
    """Gemma 4 left, Qwen 3.5 right: each a chat and, under it, its metrics and notes."""
    chats, details = {}, {}
    with gr.Row():
        for key in SIDES:
            with gr.Column():
                chats[key] = gr.Chatbot(label=TITLES[key], height=height, elem_id=f"{key}-chat")
                details[key] = gr.Markdown(" ", elem_id=f"{key}-details")
    return chats, details


# --- the demo -----------------------------------------------------------------------------


def _settings_from(max_new_tokens, temperature, top_p, seed, thinking) -> GenerationSettings:
    return GenerationSettings(
        max_new_tokens=int(max_new_tokens),
        temperature=float(temperature),
        top_p=float(top_p),
        seed=int(seed),
        thinking=bool(thinking),
    )


def _file_paths(files) -> tuple[str, ...]:
    if not files:
        return ()
    return tuple(str(getattr(f, "name", f)) for f in (files if isinstance(files, list) else [files]))


def _examples() -> list[list]:
    examples = json.loads((SAMPLES / "examples.json").read_text())
    root = SAMPLES.parent
    rows = []
    for e in examples:
        rows.append(
            [
                e["prompt"],
                [str(root / p) for p in e.get("images", [])] or None,
                str(root / e["video"]) if e.get("video") else None,
                str(root / e["audio"]) if e.get("audio") else None,
                bool(e.get("thinking", False)),
            ]
        )
    return rows


def build_demo(
    slots: ModelSlots,
    extra_sources: dict[str, list[str]] | None = None,
    tiny: bool = False,
    record_dir: str | Path | None = None,
    lock_models: bool = False,
) -> gr.Blocks:
    """The app's Blocks. Loads nothing: the caller fills `slots` before or after.

    Recording writes to `record_dir`, or when switched on without one, to a new folder under
    ./recordings created at the first recorded comparison. `lock_models` shows the models but
    lets no visitor switch them (the slots are shared by every session).
    """
    extra_sources = extra_sources or {k: [] for k in SIDES}
    switches = StopSwitches()
    recorders = RecorderHolder(record_dir)

    with gr.Blocks(title="Gemma 4 vs Qwen 3.5") as demo:
        gr.Markdown("# Gemma 4 vs Qwen 3.5\nOne input, two models, honest timing side by side.")
        if tiny:
            gr.Markdown(f"**{TINY_NOTICE}** Started with `--tiny`: timings are real, answers are not.", elem_id="tiny-banner")
        with gr.Tab("Compare"):
            session = gr.State(Conversation())

            with gr.Row():
                preset = gr.Dropdown(
                    choices=[(f"{p.name}: {p.note}", p.name) for p in PRESETS.values()],
                    value=None,
                    label="Matched pair",
                    scale=1,
                    interactive=not lock_models,
                )
                pickers, infos = {}, {}
                for key in SIDES:
                    with gr.Column(scale=2):
                        pickers[key] = gr.Dropdown(
                            choices=choices(key, extra_sources.get(key, [])),
                            value=slots.source(key),
                            allow_custom_value=True,
                            label=f"{TITLES[key]} model (hub id or local folder)",
                            interactive=not lock_models,
                        )
                        infos[key] = gr.Markdown(model_info_markdown(slots.sides[key]), elem_id=f"{key}-info")

            with gr.Row():
                with gr.Column(scale=3):
                    prompt = gr.Textbox(label="Prompt", lines=3, placeholder="Ask both models…", elem_id="prompt")
                    with gr.Row():
                        images = gr.File(label="Images", file_count="multiple", file_types=["image"], elem_id="images")
                        video = gr.Video(label="Video", sources=["upload"], elem_id="video")
                        audio = gr.Audio(label="Audio", sources=["upload", "microphone"], type="filepath", elem_id="audio")
                with gr.Column(scale=1):
                    with gr.Accordion("Settings (both models alike)", open=False):
                        system = gr.Textbox(label="System prompt", lines=2)
                        max_new_tokens = gr.Slider(1, 4096, value=512, step=1, label="Max new tokens")
                        temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label="Temperature (0 = greedy)")
                        top_p = gr.Slider(0.05, 1.0, value=0.95, step=0.01, label="Top-p")
                        seed = gr.Number(value=0, precision=0, label="Seed")
                    thinking = gr.Checkbox(label="Thinking mode", value=False)
                    compare_btn = gr.Button("Compare", variant="primary", elem_id="compare")
                    with gr.Row():
                        stop_btn = gr.Button("Stop", variant="stop", elem_id="stop")
                        clear_btn = gr.Button("Clear", elem_id="clear")

            chats, details = answer_columns()
            chart = gr.BarPlot(
                value=None, x="bar", y="seconds", color="model", label="Timing (seconds, lower is better)", x_title=" ",
                elem_id="timing-chart",
            )
            with gr.Accordion("Raw result (JSON)", open=False):
                raw = gr.JSON(label="Same object as `python app.py compare --json`", elem_id="raw")
            with gr.Accordion("Recording", open=False):
                with gr.Row():
                    record = gr.Checkbox(value=record_dir is not None, label="Record every comparison", elem_id="record")
                    zip_btn = gr.Button("Download the session (.zip)", elem_id="zip")
                zip_file = gr.File(label="Session archive", interactive=False, elem_id="zip-file")

            gr.Examples(_examples(), inputs=[prompt, images, video, audio, thinking], label="Examples")

            # --- handlers ---------------------------------------------------------------------

            def render(state: ComparisonResult, convo: Conversation, user: dict) -> dict:
                out = {}
                for key in SIDES:
                    r = state.results[key]
                    out[chats[key]] = [*convo.shown[key], user, *assistant_messages(r)]
                    out[details[key]] = details_markdown(r)
                return out

            @gpu
            def compare(prompt_text, image_files, video_file, audio_file, system_text, n, temp, p, s, think, convo, recording, req: gr.Request):
                request = CompareRequest(
                    prompt=prompt_text or "",
                    images=_file_paths(image_files),
                    video=video_file or None,
                    audio=audio_file or None,
                    system=system_text or "",
                    settings=_settings_from(n, temp, p, s, think),
                )
                stop = switches.arm(req.session_hash)
                user = user_message(request)
                try:
                    stream = slots.comparator.stream(request, stop_event=stop, histories=convo.turns)
                    state = next(stream)  # validation happens here: bad input raises before any model runs
                    yield render(state, convo, user)
                    for state in stream:
                        yield render(state, convo, user)
                except InputError as e:
                    raise gr.Error(str(e), title="Input not accepted", print_exception=False) from None
                finally:
                    switches.disarm(req.session_hash)
                if recording:
                    recorders.get().record(state)  # durable before the comparison is reported done
                final = render(state, convo, user)
                for key in SIDES:  # this exchange becomes part of each model's own conversation
                    if key in state.turns:
                        convo.turns[key].append(state.turns[key])
                    convo.shown[key] = final[chats[key]]
                final[chart] = _frame(timing_rows(state))
                final[raw] = state.to_dict()
                final[session] = convo
                yield final

            outputs = [*chats.values(), *details.values(), chart, raw, session]
            compare_inputs = [prompt, images, video, audio, system, max_new_tokens, temperature, top_p, seed, thinking, session, record]
            compare_btn.click(compare, compare_inputs, outputs, api_name="compare")
            prompt.submit(compare, compare_inputs, outputs, api_name=False)

            def stop_all(req: gr.Request):
                switches.stop(req.session_hash)

            stop_btn.click(stop_all, None, None, queue=False, api_name=False)

            def clear():
                empty = {c: [] for c in chats.values()} | {d: " " for d in details.values()}
                return empty | {
                    prompt: "", images: None, video: None, audio: None, chart: None, raw: None, session: Conversation()
                }

            clear_btn.click(clear, None, [*outputs, prompt, images, video, audio], api_name=False)

            def session_zip():
                if recorders.current is None:
                    raise gr.Error("Nothing recorded yet: switch recording on and run a comparison.")
                return str(recorders.current.archive())

            zip_btn.click(session_zip, None, zip_file, api_name="session_zip")

            def pick_preset(name):
                if not name:
                    return {}
                chosen = PRESETS[name]
                return {pickers["gemma"]: chosen.gemma, pickers["qwen"]: chosen.qwen}

            preset.change(pick_preset, preset, list(pickers.values()), api_name=False)

            for key in SIDES if not lock_models else ():

                def load(source, progress=gr.Progress(), key=key):
                    if not source:
                        return model_info_markdown(slots.sides[key])
                    progress(0.1, desc=f"Loading {source}")
                    side = slots.load(key, source)
                    progress(1.0)
                    return model_info_markdown(side)

                pickers[key].change(load, pickers[key], infos[key], api_name=f"load_{key}")
        with gr.Tab("Evaluate"):
            evaluate_tab(slots)  # ui_evaluate

    return demo


def _frame(rows: list[dict]):
    import pandas as pd

    return pd.DataFrame(rows, columns=["bar", "seconds", "model"]) if rows else None

