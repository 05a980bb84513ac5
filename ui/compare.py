"""The Compare tab: the composer, two live answer columns, the comparison table and charts, recording.

`CompareTab.build` lays the components out and wires them; each handler is a method that calls
the engine (the slots' Comparator) and turns its results into component updates with the pure
functions of ui.format. Per-browser state (each model's conversation) lives in `gr.State`; the
only shared objects are the model slots, the stop switches and the recorder, owned here.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import gradio as gr

from engine import gpu
from engine.allowance import VisitorBudget
from engine.gpu import GpuBudget
from engine.results import ComparisonResult, Status
from engine.slots import ModelSlots
from modalities.errors import InputError
from modalities.request import IDENTICAL, CompareRequest, GenerationSettings, number
from models.families import LABELS, SIDES

from recording.session import Recorder, RecordingFailed

from .examples import examples_labels, examples_rows
from .format import (ATTACH, CHECKING, assistant_messages, details_markdown, queued_line, status_line, still_there, turn_line,
                     user_message)
from .markup import plain
from .pickers import ModelPickers
from .public import scrubber
from .session import (CHECKS_QUEUE, MODELS_QUEUE, Checked, CheckedInputs, Conversation, StopSwitches, models_ahead,
                      visitor_id)
from .settings import settings_panel
from .table import comparison_table
from .uploads import file_paths
from .views import answer_columns, chart_values, comparison_views, empty_charts

log = logging.getLogger(__name__)
SHOW_ANSWERS_ON_A_PHONE = """() => { if (matchMedia('(max-width: 640px)').matches)
  document.querySelector('#answers')?.scrollIntoView({behavior: 'smooth', block: 'start'}); }"""


class CompareTab:
    def __init__(self, slots: ModelSlots, record_dir: str | Path | None = None, lock_models: bool | str = False,
                 draft: bool = False, budget: VisitorBudget = VisitorBudget(), behind_proxy: bool = False):
        self.slots = slots
        self.budget, self.behind_proxy = budget, behind_proxy
        self.gpu_budget = GpuBudget(cap_s=budget.gpu_seconds)
        self.draft_default = draft  # the operator's --draft
        self.lock_models = lock_models
        self.switches = StopSwitches()
        self.checked = CheckedInputs(keep=budget.concurrent_checks)  # as many as may be decoded at once
        # Recording is the operator's choice (--record), never a request's: every comparison then.
        self.recorder = Recorder(record_dir) if record_dir else None

    # --- layout -------------------------------------------------------------------------------

    def build(self) -> None:
        self.session = gr.State(Conversation())
        self.pickers = ModelPickers(self.slots, self.lock_models, self.budget, self.behind_proxy)
        self.pickers.build()
        # The attachments are made first and placed below (render): the example chips under the
        # prompt fill them.
        self.images = gr.File(label="Images", file_count="multiple", file_types=["image"], elem_id="images",
                              render=False)
        self.video = gr.Video(label="Video", sources=["upload"], elem_id="video", render=False)
        self.audio = gr.Audio(label="Audio", sources=["upload", "microphone"], type="filepath", elem_id="audio",
                              render=False)
        self.thinking = gr.Checkbox(label="Thinking mode", value=False, render=False)
        # The composer and its buttons first, so on a phone Compare is right under the prompt.
        with gr.Row(elem_id="composer"):
            # One line that grows: Enter sends, Shift+Enter starts a new line (Gradio's rule for lines=1).
            self.prompt = gr.Textbox(
                label="Prompt", lines=1, max_lines=8, elem_id="prompt", scale=4,
                placeholder="Ask both models… (Enter sends, Shift+Enter for a new line)",
            )
            with gr.Column(scale=1, min_width=200):
                compare_btn = gr.Button("Compare", variant="primary", elem_id="compare")
                with gr.Row():
                    # Enabled only while this page's comparison runs.
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="stop", interactive=False)
                    clear_btn = gr.Button("Clear", elem_id="clear")
        self.input_error = gr.Markdown(" ", elem_id="input-error")
        # Examples as named chips right under the prompt: a click fills the composer and runs it, as turn 1.
        examples = gr.Examples(
            examples_rows(), inputs=[self.prompt, self.images, self.video, self.audio, self.thinking], label="Examples",
            example_labels=examples_labels(), elem_id="examples",
        )
        with gr.Row():
            with gr.Column(scale=3):
                # Folded on a phone (ui.accessibility.JS): one "Attach" title instead of three boxes.
                with gr.Accordion(ATTACH, open=True, elem_id="attach"), gr.Row(elem_id="uploads"):
                    for attachment in (self.images, self.video, self.audio):
                        attachment.render()
                # A file's problem is said here when it is uploaded, before anything runs.
                self.upload_error = gr.Markdown(" ", elem_id="upload-error")
            with gr.Column(scale=1):
                self.thinking.render()
                s = settings_panel(self.gpu_budget.slider_end(self.slots.comparator.sides), self.draft_default)
                self.sampling, self.system, self.max_new_tokens = s["sampling"], s["system"], s["max_new_tokens"]
                self.temperature, self.top_p, self.seed, self.draft = s["temperature"], s["top_p"], s["seed"], s["draft"]
        self.turn = gr.Markdown(turn_line(0), elem_id="turn")
        self.chats, self.details, self.statuses = answer_columns()
        self.table, self.first_chart, self.curve_chart = comparison_views()
        with gr.Accordion("Raw result (JSON)", open=False):
            self.raw = gr.JSON(label="Same object as `python app.py compare --json`", elem_id="raw")
        if self.recorder:
            with gr.Accordion("Recording", open=False):
                gr.Markdown(
                    "This server records every comparison (its operator started it with `--record`). "
                    "The download holds your own comparisons of this page visit, with their inputs.",
                    elem_id="recording-note",
                )
                zip_btn = gr.Button("Download your comparisons (.zip)", elem_id="zip")
                zip_file = gr.File(label="Your comparisons", interactive=False, elem_id="zip-file")

        # --- wiring ---------------------------------------------------------------------------
        # The raw result stays the last value an API caller gets; the composer's fields before it
        # (a sent prompt and its attachments are cleared, as a chat does).
        outputs = [*self.chats.values(), *self.details.values(), *self.statuses.values(), self.input_error,
                   self.turn, self.table, self.first_chart, self.curve_chart, self.prompt, self.images, self.video,
                   self.audio, self.raw, self.session]
        # The request's components by name: the compare handler's parameters (and so its API's) in this order.
        self.fields = {
            "prompt": self.prompt, "image_files": self.images, "video_file": self.video, "audio_file": self.audio,
            "system": self.system, "max_new_tokens": self.max_new_tokens, "temperature": self.temperature,
            "top_p": self.top_p, "seed": self.seed, "thinking": self.thinking, "sampling": self.sampling,
            "draft": self.draft,
        }
        # The inputs are checked first, in an event of their own: a bad one is said beside the
        # composer and leaves every earlier answer on the page; the comparison runs only if they pass,
        # with what the check decoded. Passing the check also enables Stop; Stop is disabled again
        # however the comparison ends.
        # Each column says what happens from the click on, in the app's own words ("Checking the
        # inputs…", then waiting for its turn), instead of Gradio's timers and loading borders.
        statuses = [*self.statuses.values()]
        # A click on an example fills the composer (Gradio's own event), starts a new conversation
        # and runs: chained, so the run reads the example's values.
        example = examples.load_input_event.then(self.new_conversation, None, [*outputs, self.upload_error],
                                                 api_name=False, queue=False, show_progress="hidden")
        for trigger, api_name in ((compare_btn.click, "compare"), (self.prompt.submit, False), (example.then, False)):
            check = trigger(lambda: [CHECKING] * len(statuses), None, statuses, api_name=False, queue=False,
                            show_progress="hidden").then(
                self.check, [*self.fields.values()], [self.input_error, stop_btn, *statuses],
                api_name=False, concurrency_id=CHECKS_QUEUE, concurrency_limit=self.budget.concurrent_checks,
                show_progress="hidden")
            check.failure(lambda: [" "] * len(statuses), None, statuses, api_name=False, queue=False,
                          show_progress="hidden")
            # On a phone the answers are far below the composer: a passing check brings them into view.
            check.success(None, None, None, js=SHOW_ANSWERS_ON_A_PHONE, api_name=False, queue=False)
            check.success(
                self.compare, [*self.fields.values(), self.session], outputs, api_name=api_name,
                concurrency_id=MODELS_QUEUE, show_progress="hidden",
            ).then(lambda: gr.update(interactive=False), None, stop_btn, api_name=False, queue=False)
        uploads = [self.images, self.video, self.audio]
        for upload in uploads:
            upload.change(self.check_upload, uploads, self.upload_error, api_name=False, concurrency_id=CHECKS_QUEUE,
                          concurrency_limit=self.budget.concurrent_checks,
                          show_progress="hidden")
        # Queued (so it knows its session) but never waiting: Stop acts at once.
        stop_btn.click(self.stop, None, None, concurrency_limit=None, api_name=False)
        clear_btn.click(self.clear, None, [*outputs, self.upload_error, *(f for f in self.fields.values() if f not in outputs)],
                        api_name=False)
        # A chat's own clear (its trash icon) starts a new conversation for both models: clearing
        # one model's history alone would give the two different contexts for the next turn.
        for chat in self.chats.values():
            chat.clear(self.new_conversation, None, [*outputs, self.upload_error], api_name=False)
        if self.recorder:
            zip_btn.click(self.session_zip, None, zip_file, api_name="session_zip")
        self.pickers.wire()

    # --- handlers -----------------------------------------------------------------------------

    def _render(self, state: ComparisonResult, convo: Conversation, images_left_out: int = 0) -> dict:
        out = {self.turn: turn_line(convo.earlier(), images_left_out)}
        running = next((LABELS[k] for k in state.order if state.results[k].status == Status.RUNNING), None)
        for key in SIDES:
            r = state.results[key]
            user = user_message(state.request, r, thumbnails=True)
            out[self.chats[key]] = [*still_there(convo.shown[key]), user, *assistant_messages(r)]
            out[self.details[key]] = details_markdown(r)
            out[self.statuses[key]] = status_line(r, waiting_for=running if running != LABELS[key] else None)
        return out

    def check(self, req: gr.Request, *values) -> tuple:
        """Validate the request alone (no model runs); a bad input is one message, shown beside the composer.
        What passes is kept for the comparison (`CheckedInputs`)."""
        clicked_at = time.perf_counter()
        named = dict(zip(self.fields, values, strict=True))
        try:
            request = self._request(named)
            inputs = self.slots.comparator.check(request)
        except InputError as e:
            raise gr.Error(str(e), title="Input not accepted", print_exception=False) from None
        self.checked.put(req.session_hash, Checked(named, request, inputs, clicked_at))
        return (" ", gr.update(interactive=True), *[queued_line(models_ahead(req))] * len(self.statuses))

    def check_upload(self, image_files, video_file, audio_file) -> str:
        """The uploaded files alone, checked as a comparison would check them, as soon as they arrive."""
        request = CompareRequest("", images=file_paths(image_files), video=video_file or None, audio=audio_file or None)
        if not (request.images or request.video or request.audio):
            return " "
        try:
            self.slots.comparator.check(request)
        except InputError as e:
            return f"⚠ **Not accepted:** {plain(str(e))}"
        return " "

    def _request(self, named: dict) -> CompareRequest:
        """The request the page's values (by component name, `self.fields`) describe."""
        return CompareRequest(
            prompt=named["prompt"] or "",
            images=file_paths(named["image_files"]),
            video=named["video_file"] or None,
            audio=named["audio_file"] or None,
            system=named["system"] or "",
            settings=GenerationSettings(
                max_new_tokens=number("max new tokens", named["max_new_tokens"], int),
                temperature=number("temperature", named["temperature"]), top_p=number("top-p", named["top_p"]),
                seed=number("seed", named["seed"], int), thinking=bool(named["thinking"]),
                sampling=named["sampling"] or IDENTICAL,
                draft=bool(named["draft"]) and self.draft_default,  # drafting is the operator's to allow (--draft)
            ),
        )

    def compare(self, prompt, image_files, video_file, audio_file, system, max_new_tokens, temperature, top_p, seed,
                thinking, sampling, draft, convo: Conversation, req: gr.Request):
        named = dict(zip(self.fields, (prompt, image_files, video_file, audio_file, system, max_new_tokens,
                                       temperature, top_p, seed, thinking, sampling, draft), strict=True))
        checked = self.checked.take(req.session_hash)
        checked = checked.of(named) if checked else None  # None: an API call (or dropped), validated here
        stop = self.switches.arm(req.session_hash)
        histories, left_out = convo.histories(self.budget.images_per_conversation)
        comparator = self.slots.comparator
        try:
            request = checked.request if checked else self._request(named)
            inputs = comparator.check(request, checked and checked.inputs)  # bad input raises here, before any model
            call = self.gpu_budget.call(comparator, request, inputs, stop, histories=histories,
                                        order=comparator.next_order(), clicked_at=checked and checked.clicked_at)
            stream = gpu.stream(comparator, call)
            state = next(stream)
            public = scrubber(self.slots, state.environment).view  # no server folder, host or port reaches a visitor
            sent = {self.input_error: " ", self.prompt: "", self.images: None, self.video: None, self.audio: None}
            yield public(self._render(state, convo, left_out) | sent)
            for state in stream:
                yield public(self._render(state, convo, left_out))
        except InputError as e:  # the page checked first (check); an API caller gets the error itself
            raise gr.Error(str(e), title="Input not accepted", print_exception=False) from None
        finally:
            self.switches.disarm(req.session_hash)
        if self.recorder:  # durable before the comparison is reported done
            try:
                self.recorder.record(state, visitor=visitor_id(req.session_hash))
            except RecordingFailed as e:  # the answers are still shown; the operator's log has the cause
                log.error("%s (%s)", e, e.__cause__)
                gr.Warning(f"{e}: these answers are shown but not recorded.")
        final = self._render(state, convo, left_out)
        for key in SIDES:  # this exchange becomes part of each model's own conversation
            if key in state.turns:
                convo.turns[key].append(state.turns[key])
            convo.shown[key] = final[self.chats[key]]
        final[self.table] = comparison_table(state)
        final[self.first_chart], final[self.curve_chart] = chart_values(state)
        final[self.raw] = state.to_dict()
        final[self.session] = convo
        yield public(final)

    def stop(self, req: gr.Request) -> None:
        self.switches.stop(req.session_hash)

    def new_conversation(self) -> dict:
        """Empty answers and a fresh conversation (the inputs are left as they are)."""
        empty = {c: [] for c in self.chats.values()} | {d: " " for d in (*self.details.values(), *self.statuses.values())}
        first, curve = empty_charts()
        return empty | {
            self.turn: turn_line(0), self.table: " ", self.first_chart: first, self.curve_chart: curve,
            self.raw: None, self.session: Conversation(), self.input_error: " ", self.upload_error: " ",
        }

    def clear(self) -> dict:
        """Everything back as on a fresh page: answers, conversation, inputs and settings."""
        defaults = GenerationSettings()
        return self.new_conversation() | {
            self.prompt: "", self.images: None, self.video: None, self.audio: None, self.system: "",
            self.max_new_tokens: defaults.max_new_tokens, self.temperature: defaults.temperature,
            self.top_p: defaults.top_p, self.seed: defaults.seed, self.thinking: defaults.thinking,
            self.sampling: defaults.sampling, self.draft: self.draft_default,
        }

    def session_zip(self, req: gr.Request) -> str:
        archive = self.recorder.archive(visitor_id(req.session_hash))
        if archive is None:
            raise gr.Error("Nothing recorded from this page yet: run a comparison first.", print_exception=False)
        return str(archive)
