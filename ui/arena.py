"""The Arena tab: blind comparisons and votes (the Leaderboard tab, ui.leaderboard, counts them).

Blind: the two answers appear together, once both are done, as "Model A" and "Model B"
(preference.blind draws which is which, the run order and the seed); until the vote the page and
the API show only what `preference.blind.neutral` allows. The round
waiting for a vote lives in the session's `gr.State`, so a vote can only be for a comparison this
server ran in this session, and `VoteBook` takes one vote per comparison. After the vote the
names, checkpoints and the full comparison table are shown.
"""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from engine import gpu
from engine.allowance import VisitorBudget
from engine.gpu import GpuBudget
from engine.results import ComparisonResult, Status
from engine.slots import ModelSlots
from modalities.errors import InputError
from modalities.request import CompareRequest, GenerationSettings, number
from models.families import LABELS
from preference.blind import (POSITIONS, BlindRound, blind_settings, check_blind, draw_a_side, draw_order, neutral,
                              reveal)
from preference.policy import VotePolicy
from preference.votes import CHOICES, VoteBook, VoteRefused

from .uploads import file_paths
from .format import ATTACH, user_message
from .table import comparison_table
from .markup import plain, to_html
from .public import friendly_name, public_name, scrubber
from .session import CHECKS_QUEUE, MODELS_QUEUE, Checked, CheckedInputs, StopSwitches, client_address, visitor_id

INTRO = (
    "**Blind mode.** Both models answer the same input; which one is Model A, and which answers first, is drawn "
    "at random for every comparison, and both answers appear together once both are done. Read both, vote, and "
    "the names, checkpoints and timings are revealed.\n\n"
    "*What is kept:* when you vote, this server keeps the comparison — your prompt, your uploads, both answers and "
    "your vote, under an anonymous id of this browser session — in its arena folder, to count the Leaderboard. "
    "Comparisons you do not vote on are not kept."
)
WAITING = "◷ Both models are answering; the two answers appear together when both are done"
NEUTRAL_STATUS = {
    Status.PENDING: WAITING,
    Status.RUNNING: WAITING,
    Status.DONE: "✓ Done",
    Status.STOPPED: "■ Stopped by you",
    Status.ERROR: "⚠ Failed (the reason is shown with the names)",
    Status.SKIPPED: "Not run",
}
# How often the page hears that both are still answering: the same line for both columns, so
# nothing in it (or in when it comes) says which model is which.
WAITING_UPDATE_S = 1.0


def _messages(request: CompareRequest, answer: dict) -> list[dict]:
    """One column's chat before the vote: the visitor's turn, then thinking and answer, nothing else."""
    messages = [user_message(request)]
    if answer["status"] in (Status.RUNNING, Status.PENDING):
        return messages
    if answer["thinking"]:
        messages.append({"role": "assistant", "content": to_html(answer["thinking"]),
                         "metadata": {"title": "Thinking", "status": "done"}})
    if answer["text"]:
        messages.append({"role": "assistant", "content": to_html(answer["text"])})
    if "error" in answer:
        messages.append({"role": "assistant", "content": to_html(f"**Error:** {plain(answer['error'])}")})
    return messages


def reveal_columns(blind: BlindRound) -> dict[str, str]:
    """The comparison table's columns after the reveal: Model A (the left column) first."""
    return {blind.side(p): f"Model {p}: {LABELS[blind.side(p)]}" for p in POSITIONS}


def _named(side: dict) -> str:
    """A revealed side as a person reads it: its family always, then which checkpoint."""
    name = friendly_name(side["source"]) or ""
    return name if name.startswith(side["model"]) else f"{side['model']} · {name}"


def reveal_markdown(blind: BlindRound) -> str:
    shown = reveal(blind)
    lines = [
        f"- **Model {p}** was **{plain(_named(shown[p]))}** ({plain(public_name(shown[p]['source']))})"
        + (f" (revision `{shown[p]['revision'][:12]}`)" if shown[p]["revision"] else "")
        for p in POSITIONS
    ]
    head = f"**Your vote: {CHOICES[blind.vote]}.**" if blind.vote else (
        f"**No vote on this comparison** ({blind.refused})." if blind.refused else
        "**No vote on this comparison**: a vote needs both answers complete."
    )
    return "\n".join([head, *lines])


class ArenaTab:
    def __init__(self, slots: ModelSlots, arena_dir: str | Path, policy: VotePolicy = VotePolicy(),
                 behind_proxy: bool = False, budget: VisitorBudget = VisitorBudget()):
        self.slots = slots
        self.budget = budget
        self.gpu_budget = GpuBudget(cap_s=budget.gpu_seconds)
        self.book = VoteBook(arena_dir, policy)
        self.behind_proxy = behind_proxy
        self.switches = StopSwitches()
        self.checked = CheckedInputs(keep=budget.concurrent_checks)  # as many as may be decoded at once

    # --- layout -------------------------------------------------------------------------------

    def build(self) -> None:
        self.pending = gr.State(None)
        gr.Markdown(INTRO, elem_id="arena-intro")
        with gr.Row(elem_id="arena-composer"):
            self.prompt = gr.Textbox(
                label="Prompt", lines=1, max_lines=8, scale=4, elem_id="arena-prompt",
                placeholder="Ask both models, blind… (Enter sends, Shift+Enter for a new line)",
            )
            with gr.Column(scale=1, min_width=200):
                compare_btn = gr.Button("Compare blind", variant="primary", elem_id="arena-compare")
                stop_btn = gr.Button("Stop", variant="stop", elem_id="arena-stop", interactive=False)
        self.input_error = gr.Markdown(" ", elem_id="arena-input-error")
        with gr.Row():
            with gr.Column(scale=3), gr.Accordion(ATTACH, open=True, elem_id="arena-attach"), gr.Row():
                self.images = gr.File(label="Images", file_count="multiple", file_types=["image"], elem_id="arena-images")
                self.video = gr.Video(label="Video", sources=["upload"], elem_id="arena-video")
                # Taken only when both models hear (otherwise who answered to it would be plain).
                self.audio = gr.Audio(label="Audio (only if both models hear)", sources=["upload", "microphone"],
                                      type="filepath", elem_id="arena-audio")
            with gr.Column(scale=1):
                self.thinking = gr.Checkbox(label="Thinking mode", value=False, elem_id="arena-thinking")
                # No shorter than a vote needs: an answer cut below it could never be voted on.
                most = self.gpu_budget.slider_end(self.slots.comparator.sides)
                self.max_new_tokens = gr.Slider(max(1, self.book.policy.min_tokens), most,
                                                value=min(GenerationSettings().max_new_tokens, most), step=1,
                                                label="Max new tokens", elem_id="arena-max-new-tokens")
        self.statuses, self.chats = {}, {}
        with gr.Row(elem_id="arena-answers"):
            for p in POSITIONS:
                with gr.Column():
                    self.statuses[p] = gr.Markdown(" ", elem_id=f"model-{p.lower()}-status")
                    self.chats[p] = gr.Chatbot(label=f"Model {p} answer", height=380, elem_id=f"model-{p.lower()}-chat",
                                               buttons=["copy"], render_markdown=False)
        with gr.Row(elem_id="votes"):
            self.vote_buttons = [
                gr.Button(label, interactive=False, elem_id=f"vote-{choice.replace('_', '-').lower()}")
                for choice, label in CHOICES.items()
            ]
        self.reveal = gr.Markdown(" ", elem_id="arena-reveal")
        new_round = gr.Button("New round", variant="primary", visible=False, elem_id="arena-new-round")
        self.table = gr.Markdown(" ", elem_id="arena-table")
        with gr.Accordion("Raw result (JSON)", open=False):
            self.raw = gr.JSON(label="Before the vote: the answers only; after it: everything", elem_id="arena-raw")

        # --- wiring ---------------------------------------------------------------------------
        # The request's components by name: the blind_compare handler's parameters (and its API's) in this order.
        self.fields = {"prompt": self.prompt, "image_files": self.images, "video_file": self.video,
                       "audio_file": self.audio, "thinking": self.thinking, "max_new_tokens": self.max_new_tokens}
        # The raw result last, so an API caller finds it at the end of the returned values.
        outputs = [self.input_error, *self.chats.values(), *self.statuses.values(), self.reveal, self.table, self.raw,
                   self.pending]
        for trigger, api_name in ((compare_btn.click, "blind_compare"), (self.prompt.submit, False)):
            trigger(self.check, [*self.fields.values()], [self.input_error, stop_btn, *self.vote_buttons],
                    api_name=False, concurrency_id=CHECKS_QUEUE, concurrency_limit=self.budget.concurrent_checks
                    ).success(
                self.blind_compare, [*self.fields.values()], outputs, api_name=api_name,
                concurrency_id=MODELS_QUEUE,
            ).then(self.voting, self.pending, [stop_btn, *self.vote_buttons, new_round], api_name=False, queue=False)
        stop_btn.click(self.stop, None, None, concurrency_limit=None, api_name=False)
        # After a vote (or a round with nothing to vote on) "New round" takes the focus; it clears the
        # round and puts the focus back in the prompt.
        focus_new_round = "() => setTimeout(() => document.querySelector('#arena-new-round')?.focus(), 50)"
        cleared = [self.prompt, self.images, self.video, self.audio, *self.chats.values(), *self.statuses.values(),
                   self.reveal, self.table, self.raw, self.pending, new_round]
        new_round.click(
            lambda: ["", None, None, None, [], [], " ", " ", " ", " ", None, None, gr.update(visible=False)],
            None, cleared, api_name=False, queue=False,
        ).then(None, None, None, js="() => document.querySelector('#arena-prompt textarea')?.focus()")
        # Each button puts its choice in one hidden field and votes with it: one handler, and one
        # API endpoint whose `choice` is "A", "B", "tie" or "both_bad".
        choice_field = gr.Textbox(visible=False, label="choice")
        for n, (choice, button) in enumerate(zip(CHOICES, self.vote_buttons)):
            button.click(lambda c=choice: c, None, choice_field, api_name=False, queue=False).then(
                self.vote, [choice_field, self.pending], [*self.statuses.values(), self.reveal, self.table, self.raw,
                                                          self.pending],
                api_name="vote" if n == 0 else False, concurrency_limit=None,
            ).then(self.voting, self.pending, [stop_btn, *self.vote_buttons, new_round], api_name=False, queue=False
                   ).then(None, None, None, js=focus_new_round)

    # --- handlers -----------------------------------------------------------------------------

    @staticmethod
    def _request(named: dict) -> CompareRequest:
        # The default identical sampling for both with a fresh seed (recorded with the vote); only
        # the length and thinking are chosen here.
        return CompareRequest(
            prompt=named["prompt"] or "", images=file_paths(named["image_files"]), video=named["video_file"] or None,
            audio=named["audio_file"] or None,
            settings=blind_settings(number("max new tokens", named["max_new_tokens"], int), bool(named["thinking"])),
        )

    def check(self, req: gr.Request, *values) -> tuple:
        """Validate the round's inputs (both models must take every one); what passes is kept for it."""
        clicked_at = time.perf_counter()
        named = dict(zip(self.fields, values, strict=True))
        try:
            request = self._request(named)
            inputs = self.slots.comparator.check(request)
            check_blind(inputs, self.slots.comparator.sides)
        except InputError as e:
            raise gr.Error(str(e), title="Input not accepted", print_exception=False) from None
        self.checked.put(req.session_hash, Checked(named, request, inputs, clicked_at))
        return (" ", gr.update(interactive=True), *[gr.update(interactive=False)] * len(self.vote_buttons))

    def _render(self, state: ComparisonResult, a_side: str, waited_s: float | None = None) -> dict:
        shown = neutral(state, a_side)["answers"]
        out = {}
        for p in POSITIONS:
            out[self.chats[p]] = _messages(state.request, shown[p])
            status = NEUTRAL_STATUS[Status(shown[p]["status"])]
            waited = f" ({waited_s:.0f} s)" if waited_s is not None and not state.done else ""
            out[self.statuses[p]] = f"**Model {p}**: {status}{waited}"
        return out

    def blind_compare(self, prompt, image_files, video_file, audio_file, thinking, max_new_tokens,
                      req: gr.Request):
        named = dict(zip(self.fields, (prompt, image_files, video_file, audio_file, thinking, max_new_tokens),
                         strict=True))
        checked = self.checked.take(req.session_hash)
        checked = checked.of(named) if checked else None  # None: an API call (or dropped), validated here
        a_side, order = draw_a_side(), draw_order()
        stop = self.switches.arm(req.session_hash)
        try:
            request = checked.request if checked else self._request(named)
            inputs = checked.inputs if checked else self.slots.comparator.check(request)
            check_blind(inputs, self.slots.comparator.sides)  # again: a model may have been swapped since
            call = self.gpu_budget.call(self.slots.comparator, request, inputs, stop, order=order,
                                        clicked_at=checked and checked.clicked_at)
            stream = gpu.stream(self.slots.comparator, call)
            started = sent = time.monotonic()
            state = next(stream)
            public = scrubber(self.slots, state.environment).view  # what the reveal names: no server folders
            yield self._render(state, a_side, 0.0) | {self.reveal: " ", self.table: " ", self.raw: None,
                                                      self.input_error: " ", self.pending: None}
            for state in stream:  # the same line for both columns, once a second, whatever happens inside
                if (now := time.monotonic()) - sent >= WAITING_UPDATE_S:
                    yield self._render(state, a_side, now - started)
                    sent = now
        except InputError as e:
            raise gr.Error(str(e), title="Input not accepted", print_exception=False) from None
        finally:
            self.switches.disarm(req.session_hash)
        blind = BlindRound(state, a_side)
        final = self._render(state, a_side) | {self.raw: neutral(state, a_side, blind.id), self.pending: blind}
        if not blind.votable:  # nothing to vote on, so nothing to keep hidden
            final[self.reveal] = reveal_markdown(blind)
            final[self.table] = comparison_table(state, reveal_columns(blind))
        yield public(final)

    def voting(self, blind: BlindRound | None) -> list:
        """Stop off; the vote buttons on only while this session's last comparison waits for its vote,
        "New round" once it has been revealed."""
        open_ = blind is not None and blind.vote is None and blind.refused is None and blind.votable
        return [gr.update(interactive=False), *[gr.update(interactive=open_)] * len(self.vote_buttons),
                gr.update(visible=blind is not None and not open_)]

    def stop(self, req: gr.Request) -> None:
        self.switches.stop(req.session_hash)

    def vote(self, choice: str, blind: BlindRound | None, req: gr.Request) -> dict:
        if blind is None:
            raise gr.Error("Nothing to vote on yet: run a blind comparison first.", print_exception=False)
        try:
            self.book.cast(blind, choice, visitor=visitor_id(req.session_hash),
                           address=client_address(req, self.behind_proxy))
        except VoteRefused as e:
            if blind.refused is None:  # not yet: the same round can still take a vote
                raise gr.Error(str(e), title="Vote not taken", print_exception=False) from None
            gr.Warning(str(e))
        revealed = reveal(blind)
        out = {
            self.statuses[p]: f"**Model {p} was {plain(_named(revealed[p]))}**"
            for p in POSITIONS
        }
        public = scrubber(self.slots, blind.result.environment).view
        return public(out | {self.reveal: reveal_markdown(blind),
                             self.table: comparison_table(blind.result, reveal_columns(blind)), self.raw: revealed}) | {
            self.pending: blind}
