"""The model pickers: a matched pair or one model per family, from the operator's list.

The models are shared by every page (one set of slots per server): a pick loads in the
background while the current model keeps answering, and each open page re-reads every
MODELS_REFRESH_S what is loaded, so no page claims a model another visitor replaced.
"""

from __future__ import annotations

import gradio as gr

from engine.slots import LoadFailed, ModelSlots, SourceRefused
from models.families import LABELS, SIDES
from models.registry import PRESETS

from .format import model_info_markdown

MODELS_REFRESH_S = 5  # how often an open page re-reads which models are loaded


class ModelPickers:
    def __init__(self, slots: ModelSlots, lock_models: bool = False):
        self.slots = slots
        self.lock_models = lock_models

    def build(self) -> None:
        with gr.Row():
            self.preset = gr.Dropdown(
                choices=[(f"{p.name}: {p.note}", p.name) for p in PRESETS.values()],
                value=None, label="Matched pair", scale=1, interactive=not self.lock_models,
            )
            self.pickers, self.infos = {}, {}
            for key in SIDES:
                with gr.Column(scale=2):
                    current = self.slots.source(key)
                    self.pickers[key] = gr.Dropdown(
                        choices=self.slots.offered(key),
                        value=current,
                        label=f"{LABELS[key]} model",
                        interactive=not self.lock_models,
                    )
                    self.infos[key] = gr.Markdown(model_info_markdown(self.slots.side(key)), elem_id=f"{key}-info")

    def wire(self) -> None:
        # `.input`, not `.change`: a picker set by the page itself (a preset, the refresh below) loads nothing.
        pickers = list(self.pickers.values())
        if not self.lock_models:
            picked = self.preset.input(self.pick_preset, self.preset, pickers, api_name=False)
            for key in SIDES:
                picked = picked.then(self.loader(key), self.pickers[key], self.infos[key], api_name=False)
                self.pickers[key].input(self.loader(key), self.pickers[key], self.infos[key], api_name=f"load_{key}")
        # The models are shared by every page: each open page shows what is loaded now.
        gr.Timer(MODELS_REFRESH_S).tick(
            self.loaded_now, None, [*pickers, *self.infos.values()], api_name=False, concurrency_limit=None,
            show_progress="hidden",
        )

    def pick_preset(self, name) -> dict:
        if not name:
            return {}
        chosen = PRESETS[name]
        return {self.pickers[key]: getattr(chosen, key) for key in SIDES}

    def loaded_now(self) -> dict:
        """Each slot's model as it is now (another visitor may have switched it)."""
        return {self.pickers[k]: self.slots.source(k) for k in SIDES} | {
            self.infos[k]: model_info_markdown(self.slots.side(k)) for k in SIDES
        }

    def loader(self, key: str):
        """The handler that loads what a visitor picks for side `key`."""

        def load(source, progress=gr.Progress()):
            if not source:
                return model_info_markdown(self.slots.side(key))
            progress(0.1, desc=f"Loading {source}")
            try:
                side = self.slots.load(key, source)
            except SourceRefused as e:
                raise gr.Error(str(e), title="Model not offered", print_exception=False) from None
            except LoadFailed as e:
                raise gr.Error(str(e), title="Model not loaded", print_exception=False) from None
            progress(1.0)
            return model_info_markdown(side)

        return load
