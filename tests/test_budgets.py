"""What one visitor may take of the shared server: input checks at once, decoded image sizes, the
images a conversation carries, and the drafter."""

from __future__ import annotations

import pytest
from PIL import Image

from modalities.image import ImageInput, load_image
from modalities.limits import Limits


def test_input_checks_wait_in_a_small_queue_of_their_own():
    """Every event that decodes uploads is bounded (each can decode 8 images of 64 MP)."""
    from engine.allowance import VisitorBudget
    from engine.sides import ModelOptions
    from engine.slots import ModelSlots
    from ui import build_demo

    demo = build_demo(ModelSlots(ModelOptions()), arena_dir="unused", budget=VisitorBudget(concurrent_checks=2))
    checks = [fn for fn in demo.fns.values() if fn.name in ("check", "check_upload")]
    assert len(checks) >= 6, [fn.name for fn in checks]  # Compare: button, Enter, 3 uploads; Arena: button, Enter
    assert {(fn.concurrency_id, fn.concurrency_limit) for fn in checks} == {("checks", 2)}


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_an_image_larger_than_any_model_takes_is_decoded_smaller(tmp_path, kind):
    path = tmp_path / f"big.{kind.lower()}"
    Image.new("RGB", (6000, 6000), (200, 30, 30)).save(path, kind)
    limits = Limits(max_image_decode_pixels=10_000_000)
    image = load_image(path, limits)
    assert image.image.size == (3000, 3000), image.image.size
    assert image.image.getpixel((10, 10))[0] > 150, "the picture survived"
    assert "6000x6000 decoded at 3000x3000: larger than either model takes" in image.notes
    small = load_image(path, Limits(max_image_decode_pixels=40_000_000))
    assert small.image.size == (6000, 6000) and not small.notes


def test_a_conversation_carries_a_bounded_number_of_images(tmp_path):
    """Each follow-up decodes every earlier image again: past the cap, the oldest are left out, and
    the turn line says how many."""
    from models.backend import Turn
    from modalities.routing import RoutedInputs
    from ui.format import turn_line
    from ui.session import Conversation

    def turn(n: int) -> Turn:
        images = [ImageInput(tmp_path / f"t{n}-{i}.png", None) for i in range(4)]
        return Turn(RoutedInputs(prompt=f"turn {n}", system="", images=images), f"answer {n}")

    convo = Conversation()
    convo.turns = {"gemma": [turn(n) for n in range(5)], "qwen": [turn(n) for n in range(2)]}
    kept, left_out = convo.histories(max_images=10)
    gemma = kept["gemma"]
    assert [len(t.inputs.images) for t in gemma] == [0, 0, 2, 4, 4] and left_out == 10
    assert [len(t.inputs.images) for t in kept["qwen"]] == [4, 4], "under the cap: untouched"
    assert [t.answer for t in gemma] == [f"answer {n}" for n in range(5)], "every exchange is still there"
    assert len(convo.turns["gemma"][0].inputs.images) == 4, "the conversation itself is not changed"
    assert "The 10 oldest images of this conversation are left out" in turn_line(5, left_out)


def test_gradio_cleans_its_cache_of_visitors_files():
    """Uploads and served files (zips, videos) older than an hour are removed every half hour."""
    from engine.sides import ModelOptions
    from engine.slots import ModelSlots
    from ui import build_demo

    assert build_demo(ModelSlots(ModelOptions()), arena_dir="unused").delete_cache == (1800, 3600)
