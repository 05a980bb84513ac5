"""The Compare tab's generation settings: one accordion, with the engine's own defaults and bounds."""

from __future__ import annotations

import gradio as gr

from modalities.request import IDENTICAL, MAX_SEED, RECOMMENDED, GenerationSettings


def settings_panel(most_tokens: int, draft_allowed: bool) -> dict:
    """The settings' components by name, laid out in an accordion. `most_tokens` is the longest
    answer the slider offers (on ZeroGPU, where one GPU call's time ends); the drafter checkbox
    shows only where the operator allows drafting (--draft: a drafter is one more model in memory)."""
    d = GenerationSettings()
    with gr.Accordion("Settings", open=False):
        sampling = gr.Radio(
            [("Identical for both", IDENTICAL), ("Each family's recommended", RECOMMENDED)],
            value=IDENTICAL, label="Sampling", elem_id="sampling",
            info="Identical: the temperature and top-p below for both, nothing else. "
            "Recommended: each model card's own settings; the two sliders are not used.",
        )
        return {
            "sampling": sampling,
            "system": gr.Textbox(label="System prompt", lines=2),
            "max_new_tokens": gr.Slider(1, most_tokens, value=min(d.max_new_tokens, most_tokens), step=1,
                                        label="Max new tokens", elem_id="max-new-tokens"),
            "temperature": gr.Slider(0.0, 2.0, value=d.temperature, step=0.05, label="Temperature (0 = greedy)"),
            "top_p": gr.Slider(0.05, 1.0, value=d.top_p, step=0.01, label="Top-p"),
            "seed": gr.Number(value=d.seed, precision=0, minimum=0, maximum=MAX_SEED, label="Seed"),
            "draft": gr.Checkbox(
                label="Draft with each family's own drafter", value=draft_allowed, elem_id="draft", visible=draft_allowed,
                info="Speculative decoding where the model's stack runs one (Gemma 4's assistant here); "
                "the table says what each drafted and how much was accepted.",
            ),
        }
