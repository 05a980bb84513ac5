"""The model pickers: a matched pair or one model per family, from the operator's list.

The models are shared by every page (one set of slots per server): a pick loads in the
background while the current model keeps answering, and each open page reads what is loaded
as it opens and again every MODELS_REFRESH_S, so no page claims a model another visitor
replaced. A pick loads a model for everyone, so each visitor has a few an hour
(VisitorBudget.model_picks_per_hour), and a matched pair is offered only where the operator
offers both of its checkpoints.
"""

from __future__ import annotations

import os

import gradio as gr

from engine.allowance import Allowance, VisitorBudget, clients
from engine.slots import LoadFailed, ModelSlots, SourceRefused
from models.families import LABELS, SIDES
from models.registry import PRESETS

from .format import model_info_markdown
from .markup import plain
from .public import friendly_name, public_name, scrubber
from .session import client_address, visitor_id

# How often an open page re-reads which models are loaded (COMPARE_MODELS_REFRESH_S).
MODELS_REFRESH_S = float(os.environ.get("COMPARE_MODELS_REFRESH_S", 5))


class ModelPickers:
    def __init__(self, slots: ModelSlots, lock_models: bool | str = False, budget: VisitorBudget = VisitorBudget(),
                 behind_proxy: bool = False):
        self.slots = slots
        self.lock_models = lock_models
        self.budget, self.behind_proxy = budget, behind_proxy
        self.picks = Allowance(budget.model_picks_per_hour)
        # Only the pairs whose two checkpoints the operator offers.
        self.presets = [p for p in PRESETS.values() if all(getattr(p, k) in slots.offered(k) for k in SIDES)]
        # What a visitor picks from, and sends back, is each checkpoint's public name (ui.public),
        # made unique; the server maps it back. No folder of the server reaches a page.
        self.names: dict[str, dict[str, str]] = {}  # side -> public name -> source
        for key in SIDES:
            self.names[key] = {}
            for source in slots.offered(key):
                name, n = public_name(source), 1
                while name in self.names[key]:
                    n += 1
                    name = f"{public_name(source)} ({n})"
                self.names[key][name] = source

    def _choices(self, key: str) -> list[tuple[str, str]]:
        """Each offered checkpoint as a person reads it ("Gemma 4 E4B"), sending back its public name."""
        friendly = {name: friendly_name(source) for name, source in self.names[key].items()}
        clashes = {f for f in friendly.values() if list(friendly.values()).count(f) > 1}
        return [(name if label in clashes else label, name) for name, label in friendly.items()]

    def _name(self, key: str, source: str | None) -> str | None:
        return next((name for name, s in self.names[key].items() if s == source), public_name(source))

    def _info(self, key: str) -> str:
        return scrubber(self.slots).text(model_info_markdown(self.slots.side(key)))

    def build(self) -> None:
        # A section of its own, folded on a phone (ui.accessibility.JS) so the answers come sooner.
        with gr.Accordion("Models", open=True, elem_id="models"):
            with gr.Row():
                self.preset = gr.Dropdown(
                    choices=[(f"{p.name}: {p.note}", p.name) for p in self.presets],
                    value=None, label="Matched pair", scale=1, interactive=not self.lock_models,
                    visible=bool(self.presets),
                )
                self.pickers, self.infos = {}, {}
                for key in SIDES:
                    with gr.Column(scale=2):
                        self.pickers[key] = gr.Dropdown(
                            choices=self._choices(key),
                            value=self._name(key, self.slots.source(key)),
                            label=f"{LABELS[key]} model",
                            interactive=not self.lock_models,
                        )
                        self.infos[key] = gr.Markdown(self._info(key), elem_id=f"{key}-info")
            if isinstance(self.lock_models, str):  # why a visitor cannot switch them here
                gr.Markdown(plain(self.lock_models), elem_id="models-locked")

    def wire(self) -> None:
        # `.input`, not `.change`: a picker set by the page itself (a preset, the refresh below) loads nothing.
        pickers = list(self.pickers.values())
        if not self.lock_models:
            picked = self.preset.input(self.pick_preset, self.preset, pickers, api_name=False)
            for key in SIDES:
                picked = picked.then(self.loader(key), self.pickers[key], self.infos[key], api_name=False)
                self.pickers[key].input(self.loader(key), self.pickers[key], self.infos[key], api_name=f"load_{key}")
        # The models are shared by every page: each open page shows what is loaded, from its first
        # paint (the layout was built when the server started) and every few seconds after.
        gr.on([gr.context.Context.root_block.load], self.loaded_now, None, [*pickers, *self.infos.values()],
              api_name=False, show_progress="hidden", queue=False)
        gr.Timer(MODELS_REFRESH_S).tick(
            self.loaded_now, None, [*pickers, *self.infos.values()], api_name=False, concurrency_limit=None,
            show_progress="hidden",
        )

    def pick_preset(self, name) -> dict:
        if name not in {p.name for p in self.presets}:  # none (the picker left untouched), or not offered
            return {picker: gr.skip() for picker in self.pickers.values()}
        chosen = PRESETS[name]
        return {self.pickers[key]: self._name(key, getattr(chosen, key)) for key in SIDES}

    def loaded_now(self) -> dict:
        """Each slot's model as it is now (another visitor may have switched it)."""
        return {self.pickers[k]: self._name(k, self.slots.source(k)) for k in SIDES} | {
            self.infos[k]: self._info(k) for k in SIDES
        }

    def loader(self, key: str):
        """The handler that loads what a visitor picks for side `key`."""

        def load(name, req: gr.Request, progress=gr.Progress()):
            source = self.names[key].get(name)
            if not name or source == self.slots.source(key):
                return self._info(key)
            if source is None:
                raise gr.Error(f"not one of the models this server offers for {key}", title="Model not offered",
                               print_exception=False)
            if not self.picks.take(clients(visitor_id(req.session_hash), client_address(req, self.behind_proxy))):
                raise gr.Error(f"Not loaded: each visitor may switch models {self.budget.model_picks_per_hour} times an "
                               "hour (each switch loads a model for everyone here). Try later.",
                               title="Model not loaded", print_exception=False)
            progress(0.1, desc=f"Loading {name}")
            public = scrubber(self.slots).text
            try:
                self.slots.load(key, source)
            except SourceRefused as e:
                raise gr.Error(public(str(e)), title="Model not offered", print_exception=False) from None
            except LoadFailed as e:
                raise gr.Error(public(str(e)), title="Model not loaded", print_exception=False) from None
            progress(1.0)
            return self._info(key)

        return load
