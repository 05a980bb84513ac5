"""axe-core in a real Chromium: no serious or critical violation on the Compare, Evaluate, Arena, Leaderboard and
Replay pages, before and after a comparison. axe-core comes from npm (`.ci/run` installs it)."""

from __future__ import annotations

import shutil

import pytest

from app_server import AppServer
from conftest import ROOT, request

AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or not AXE.exists(), reason="needs Debian's chromium and axe-core from npm (installed by .ci/run)"
)


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))"
    )
    return found


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser.new_page(viewport={"width": 1400, "height": 900})
        browser.close()


def test_every_tab_passes_axe(page, tmp_path, replica_dirs):
    from playwright.sync_api import expect

    srv = AppServer(log=tmp_path / "app.log").wait_ready()
    try:
        page.goto(srv.url)
        page.wait_for_selector("#compare")
        page.wait_for_timeout(1000)
        assert serious_violations(page) == [], "Compare page, fresh"
        # Each answer log is announced by its model's name, not as Gradio's "chatbot conversation".
        for key, name in (("gemma", "Gemma 4 answer"), ("qwen", "Qwen 3.5 answer")):
            expect(page.locator(f"#{key}-chat [role='log']")).to_have_attribute("aria-label", name)
        # Tabbing onto a model picker leaves it closed; the arrow keys open it.
        picker = page.get_by_label("Gemma 4 model")
        for _ in range(40):
            page.keyboard.press("Tab")
            if picker.evaluate("el => el === document.activeElement"):
                break
        else:
            pytest.fail("Tab never reached the Gemma 4 model picker")
        page.wait_for_timeout(300)
        assert page.locator("ul.option-list").count() == 0, "the picker opened on focus"
        page.keyboard.press("ArrowDown")
        expect(page.locator("ul.option-list")).to_have_count(1)
        page.keyboard.press("Escape")
        # Text only: with a file in it, Gradio's file box nests its upload zone in an "upload more"
        # button (axe: nested-interactive), which no CSS or attribute here can undo.
        page.locator("#prompt textarea").fill("What is shown? Think it through.")
        page.locator("#compare").click()
        for key in ("gemma", "qwen"):
            expect(page.locator(f"#{key}-status")).to_contain_text("Done", timeout=120_000)
        page.wait_for_timeout(500)
        assert serious_violations(page) == [], "Compare page, after a comparison"
        # With an image, an audio file and a video loaded: Gradio's own players (their times'
        # contrast, the speed button's name) and the file box's "upload more" button (a control in
        # a control, named by an untranslated key), which still adds a file by mouse and by keyboard.
        page.locator("#images input[type=file]").set_input_files(str(ROOT / "samples" / "chart.png"))
        more = page.get_by_role("button", name="Add more files")
        for press in (more.click, lambda: (more.focus(), page.keyboard.press("Enter"))):
            with page.expect_file_chooser() as chooser:
                press()
            chooser.value.set_files(str(ROOT / "samples" / "chart.png"))
        expect(page.locator("#images tbody tr")).to_have_count(3, timeout=30_000)
        page.locator("#audio input[type=file]").set_input_files(str(ROOT / "samples" / "question.wav"))
        page.locator("#video input[type=file]").set_input_files(str(ROOT / "samples" / "crossing.mp4"))
        page.wait_for_selector("#audio button.playback", timeout=30_000)
        page.wait_for_selector("#video video", state="attached", timeout=30_000)
        page.wait_for_timeout(500)
        assert serious_violations(page) == [], "Compare page, with images, audio and video loaded"
        # A turn's images are thumbnails in the answer columns, named after their files. (The
        # columns still say "Done" from the turn before until this one's first update: wait for it.)
        page.locator("#prompt textarea").fill("Describe what is attached.")
        page.locator("#compare").click()
        for key in ("gemma", "qwen"):
            expect(page.locator(f"#{key}-chat")).to_contain_text("Describe what is attached.", timeout=120_000)
            expect(page.locator(f"#{key}-status")).to_contain_text("Done", timeout=120_000)
            expect(page.locator(f"#{key}-chat img[alt='chart.png']")).to_have_count(3)
        page.wait_for_timeout(500)
        assert serious_violations(page) == [], "Compare page, with a turn's thumbnails"
        page.get_by_role("tab", name="Evaluate").click()
        page.wait_for_timeout(500)
        assert serious_violations(page) == [], "Evaluate tab"
        page.get_by_role("tab", name="Arena (blind)").click()
        page.locator("#arena-prompt textarea").fill("Which is better?")
        page.locator("#arena-compare").click()
        expect(page.locator("#vote-tie")).to_be_enabled(timeout=120_000)
        assert serious_violations(page) == [], "Arena tab, waiting for a vote"
        page.locator("#vote-tie").click()
        expect(page.locator("#arena-reveal")).to_contain_text("Your vote", timeout=30_000)
        page.get_by_role("tab", name="Leaderboard").click()  # counted as it opens (replicas' votes included)
        expect(page.locator("#leaderboard")).to_contain_text("Position bias", timeout=30_000)
        assert serious_violations(page) == [], "Leaderboard tab"
    finally:
        srv.stop()


def test_replay_page_passes_axe(page, tmp_path, sides):
    from engine.comparator import Comparator
    from modalities.request import GenerationSettings
    from recording.session import Recorder

    result = Comparator(sides).run(request("Hi", GenerationSettings(max_new_tokens=4, temperature=0.0)))
    Recorder(tmp_path / "session").record(result)
    srv = AppServer("--replay", str(tmp_path / "session"), tiny=False, log=tmp_path / "app.log").wait_ready()
    try:
        page.goto(srv.url)
        page.wait_for_selector("#play")
        page.wait_for_timeout(1000)
        assert serious_violations(page) == [], "Replay page"
        page.locator("#play").click()
        page.wait_for_timeout(3000)
        assert serious_violations(page) == [], "Replay page, played"
    finally:
        srv.stop()
