"""The app in a real headless Chromium: upload, compare, and see both columns fill."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from app_server import AppServer
from conftest import ROOT, SAMPLES
from models.tiny.tokenizer import words

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
SCREENSHOT, PHONE_SCREENSHOT = ROOT / "docs" / "screenshot.png", ROOT / "docs" / "screenshot-phone.png"
WORDS = set(words())


@pytest.fixture(scope="module")
def server(tmp_path_factory, replica_dirs):
    srv = AppServer(log=tmp_path_factory.mktemp("app") / "app.log").wait_ready()
    yield srv
    srv.stop()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        yield page
        browser.close()


def test_image_and_audio_comparison_in_the_browser(server, page, tmp_path):
    from playwright.sync_api import expect

    page.goto(server.url)
    expect(page.locator("#tiny-banner")).to_contain_text("random weights")
    page.locator("#prompt textarea").fill("What is shown, and what is asked?")
    page.locator("#images input[type=file]").set_input_files(str(SAMPLES / "chart.png"))
    page.locator("#audio input[type=file]").set_input_files(str(SAMPLES / "question.wav"))
    page.locator("#compare").click()

    gemma, qwen = page.locator("#gemma-details"), page.locator("#qwen-details")
    table = page.locator("#comparison-table")
    expect(table).to_contain_text("time to first token", timeout=120_000)
    expect(table.locator("th")).to_contain_text(["metric", "Gemma 4", "Qwen 3.5"])
    expect(qwen).to_contain_text("audio 'question.wav' not sent: Qwen 3.5 has no audio input")
    expect(gemma).not_to_contain_text("not sent")
    for key in ("gemma", "qwen"):
        chat = page.locator(f"#{key}-chat")
        expect(chat).to_contain_text("What is shown, and what is asked?")
        assert chat.locator(".bot, [data-testid='bot']").count() >= 1, f"{key} column has no answer"
        # The replicas' noise reads as words (their vocabulary's), not as bytes that do not decode.
        said = " ".join(chat.locator("[data-testid='bot']").all_inner_texts()).replace(".", " ").replace(",", " ").split()
        readable = [w for w in said if w in WORDS]
        assert said and len(readable) >= 0.9 * len(said), f"{key} answer is not words: {said}"
        # The turn shows its image as a thumbnail, drawn (loaded from this server) and small; its
        # name is in the text beside it ("Attached: chart.png"), so Gradio's empty alt leaves it decorative.
        thumbnail = chat.locator("img[src$='/chart.png']")
        expect(thumbnail).to_have_count(1)
        page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=thumbnail.element_handle(), timeout=30_000)
        assert thumbnail.bounding_box()["height"] <= 160, "the image is shown full size, not as a thumbnail"
    for chart in ("#first-token-chart", "#tokens-chart"):
        expect(page.locator(chart)).to_be_visible()
    page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOT"):  # refreshes the README's screenshot
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert (tmp_path / "app.png").stat().st_size > 10_000
    # A follow-up attaches nothing: turn 1 keeps its thumbnail, turn 2 shows none.
    page.locator("#prompt textarea").fill("And then?")
    page.locator("#prompt textarea").press("Enter")
    for key in ("gemma", "qwen"):
        expect(page.locator(f"#{key}-chat")).to_contain_text("And then?", timeout=60_000)
        expect(page.locator(f"#{key}-status")).to_contain_text("Done in", timeout=120_000)
        expect(page.locator(f"#{key}-chat img[src$='/chart.png']")).to_have_count(1)


def test_bad_upload_shows_a_message_and_runs_nothing(server, page, tmp_path):
    from playwright.sync_api import expect

    fake = tmp_path / "fake.png"
    fake.write_text("this is not an image\n" * 20)
    page.goto(server.url)
    page.locator("#prompt textarea").fill("hi")
    page.locator("#images input[type=file]").set_input_files(str(fake))
    expect(page.locator("#upload-error")).to_contain_text("Not accepted", timeout=60_000)  # said on arrival
    expect(page.locator("#upload-error")).to_contain_text("image 'fake.png'")
    page.locator("#compare").click()
    expect(page.locator(".toast-body").get_by_text("image 'fake.png'").first).to_be_visible(timeout=60_000)
    # The check refused it: Stop was never enabled, no model was called, no table was drawn.
    expect(page.locator("#stop")).to_be_disabled()
    for key in ("gemma", "qwen"):
        expect(page.locator(f"#{key}-status")).to_have_text("")
        expect(page.locator(f"#{key}-chat")).not_to_contain_text("hi")
    expect(page.locator("#comparison-table")).not_to_contain_text("time to first token")


def test_video_example_plays_and_runs(server, page):
    """The sample video previews in the browser (H.264), and one click on its example runs it on both models."""
    from playwright.sync_api import expect

    page.goto(server.url)
    page.locator("#video input[type=file]").set_input_files(str(SAMPLES / "crossing.mp4"))
    expect(page.locator("#video video")).to_have_count(1, timeout=30_000)
    page.wait_for_function("document.querySelector('#video video').readyState >= 1", timeout=30_000)
    assert page.get_by_text("Video not playable").count() == 0, "the browser could not play the sample video"
    page.locator("#examples").get_by_text("Count in a video · video").click()  # no Compare: the click runs it
    for key in ("gemma", "qwen"):
        expect(page.locator(f"#{key}-details")).to_contain_text("frames sampled", timeout=120_000)
        expect(page.locator(f"#{key}-chat")).to_contain_text("How many")
    expect(page.locator("#video video")).to_have_count(0)  # sent: the attachment is cleared


def test_a_crafted_answer_loads_nothing_and_draws_no_form(page, tmp_path, replica_dirs):
    """A server's answer (and a visitor's prompt) full of elements that would fetch or take input, and
    every known way past a guess at Markdown's code regions (tests/hostile_markdown.py), viewed in
    Chromium in Compare, in the Arena before the vote, and in Replay: nothing fetched, nothing built."""
    from playwright.sync_api import expect

    from fake_openai import FakeOpenAI
    from hostile_markdown import BUILT, corpus

    fake = FakeOpenAI("")
    fake.answer = corpus(f"{fake.url}/leak")
    session = tmp_path / "session"
    srv = AppServer(
        "--gemma-endpoint", f"{fake.url}/v1", "--gemma", fake.model, "--gemma-accepts", "image",
        "--record", str(session), log=tmp_path / "app.log",
    ).wait_ready()
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))

    def nothing_built(where):
        expect(where).to_contain_text("end.", timeout=60_000)
        expect(where).to_contain_text("<img src=")  # shown as typed...
        expect(where).to_contain_text("<form action=")
        assert where.locator(BUILT).count() == 0, where.locator(BUILT).first.evaluate("e => e.outerHTML")  # ...never built
        assert where.locator("code", has_text="<b>code</b>").count() >= 1, "code keeps its text"

    try:
        page.goto(srv.url)
        page.locator("#prompt textarea").fill(fake.answer)
        page.locator("#compare").click()
        nothing_built(page.locator("#gemma-chat"))
        expect(page.locator("#qwen-chat")).to_contain_text("end.")  # the prompt, in the other column
        assert page.locator("#answers").locator(BUILT).count() == 0
        page.get_by_role("tab", name="Arena (blind)").click()
        page.locator("#arena-prompt textarea").fill("Anything")
        page.locator("#arena-compare").click()
        expect(page.locator("#vote-a")).to_be_enabled(timeout=120_000)
        nothing_built(page.locator("#arena-answers"))
    finally:
        srv.stop()
    replay = AppServer("--replay", str(session), tiny=False, log=tmp_path / "replay.log").wait_ready()
    try:
        page.goto(replay.url)
        page.locator("#play").click()
        nothing_built(page.locator("#answers"))
    finally:
        replay.stop()
        fake.close()
    page.wait_for_timeout(500)  # time for any fetch the page would make
    assert [u for u in fetched if "/leak" in u] == [] and [p for p in fake.requests if p.startswith("/leak")] == []


def test_a_visitors_session_says_what_happened_in_each_column(server, page, tmp_path):
    """One visitor's path: Enter sends, a follow-up, a bad upload, an example, Clear; no console
    error from any of it."""
    from playwright.sync_api import expect

    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url)
    prompt = page.locator("#prompt textarea")
    expect(prompt).to_have_attribute("placeholder", "Ask both models… (Enter sends, Shift+Enter for a new line)")
    prompt.fill("First question")
    prompt.press("Shift+Enter")  # a new line, not a comparison
    prompt.type("second line")
    expect(prompt).to_have_value("First question\nsecond line")
    expect(page.locator("#gemma-status")).to_have_text(" ")
    page.locator("#images input[type=file]").set_input_files(str(SAMPLES / "chart.png"))
    page.locator("#audio input[type=file]").set_input_files(str(SAMPLES / "question.wav"))
    prompt.press("Enter")  # sends
    for key in ("gemma", "qwen"):
        expect(page.locator(f"#{key}-status")).to_contain_text("Done in", timeout=120_000)
    expect(page.locator("#turn")).to_contain_text("Turn 1")
    # Sent: the prompt and the attachments are cleared, as a chat clears them.
    expect(prompt).to_have_value("")
    expect(page.locator("#images")).not_to_contain_text("chart.png")
    expect(page.locator("#audio audio")).to_have_count(0)
    # The audio Qwen was not sent is struck out in Qwen's own column, not in Gemma's.
    expect(page.locator("#qwen-chat s", has_text="question.wav")).to_have_count(1)
    expect(page.locator("#qwen-chat")).to_contain_text("(not sent)")
    expect(page.locator("#gemma-chat s")).to_have_count(0)

    # A follow-up continues: the turn and its context are said.
    prompt.fill("And then?")
    prompt.press("Enter")
    expect(page.locator("#turn")).to_contain_text("Turn 2", timeout=60_000)
    expect(page.locator("#turn")).to_contain_text("1 earlier exchange")
    for key in ("gemma", "qwen"):
        expect(page.locator(f"#{key}-status")).to_contain_text("Done in", timeout=120_000)
    expect(page.locator("#gemma-chat").get_by_text("Attached:")).to_have_count(1)  # turn 2 sent none again

    # A bad upload is named beside the uploads as soon as it arrives; the answers already shown stay.
    fake = tmp_path / "fake.png"
    fake.write_text("not an image\n" * 20)
    page.locator("#images input[type=file]").set_input_files(str(fake))
    expect(page.locator("#upload-error")).to_contain_text("image 'fake.png'", timeout=30_000)
    page.locator("#compare").click()
    page.wait_for_timeout(1000)
    expect(page.locator("#comparison-table")).to_contain_text("time to first token")
    expect(page.locator("#gemma-chat")).to_contain_text("First question")

    # One click on an example runs it as a new conversation: turn 1, with its own inputs only.
    page.locator("#examples").get_by_text("Text only, with thinking · text · thinking").click()
    for key in ("gemma", "qwen"):  # both: a comparison still running would redraw both chats after a clear
        expect(page.locator(f"#{key}-chat")).to_contain_text("A train leaves at 14:05", timeout=60_000)
        expect(page.locator(f"#{key}-status")).to_contain_text("Done in", timeout=120_000)
    expect(page.locator("#upload-error")).not_to_contain_text("fake.png")
    expect(page.locator("#turn")).to_contain_text("Turn 1")
    expect(page.locator("#gemma-chat")).not_to_contain_text("First question")
    expect(page.locator("#gemma-chat s")).to_have_count(0)

    # A chat's own trash icon starts a new conversation for both: the next turn is turn 1 again.
    page.locator("#qwen-chat button[aria-label='Clear']").click()
    expect(page.locator("#gemma-chat")).not_to_contain_text("A train leaves")
    expect(page.locator("#turn")).to_contain_text("Turn 1")
    prompt.fill("Fresh start")
    prompt.press("Enter")
    for key in ("gemma", "qwen"):
        expect(page.locator(f"#{key}-status")).to_contain_text("Done in", timeout=120_000)
    expect(page.locator("#turn")).to_contain_text("Turn 1")
    expect(page.locator("#qwen-chat")).not_to_contain_text("A train leaves")

    page.locator("#clear").click()
    expect(prompt).to_have_value("")
    expect(page.locator("#comparison-table")).not_to_contain_text("time to first token")
    page.wait_for_timeout(1000)
    assert errors == [], errors


def test_evaluate_can_be_cancelled_and_a_row_opens_in_full(server, page):
    from playwright.sync_api import expect

    page.goto(server.url)
    page.get_by_role("tab", name="Evaluate").click()
    page.locator("#eval-rows").wait_for()
    expect(page.locator("#eval-cancel")).to_be_disabled()  # nothing runs yet
    expect(page.locator("#eval-suite input")).to_have_value(re.compile(r"^Routing — .* \(20 tasks\)$"))
    expect(page.locator("#eval-rows")).to_contain_text("Gemma 4 time (seconds)")
    page.get_by_label("Tasks (at most)").first.fill("50")
    page.locator("#evaluate").click()
    # "N/M tasks" with N > 0 (the queue's own "1/1" overlay must not count as a finished task).
    expect(page.locator("#eval-summary")).to_contain_text(re.compile(r"[1-9]\d*/\d+ tasks"), timeout=120_000)
    page.locator("#eval-cancel").click()
    expect(page.locator("#eval-summary")).to_contain_text("Cancelled after", timeout=60_000)
    done, total = map(int, re.search(r"Cancelled after (\d+) of (\d+)", page.locator("#eval-summary").inner_text()).groups())
    assert 1 <= done < total, f"cancelled after {done} of {total}"
    expect(page.locator("#eval-cancel")).to_be_disabled()  # and nothing runs any more
    page.locator("#eval-rows").get_by_test_id("cell-0-0").click()
    detail = page.locator("#eval-detail")
    expect(detail).to_contain_text("Prompt:", timeout=30_000)
    expect(detail).to_contain_text("Expected:")
    expect(detail).to_contain_text("Gemma 4:")
    expect(detail).to_contain_text("Qwen 3.5:")


def test_stop_is_seen_in_the_page_at_once(page, tmp_path, replica_dirs):
    """A slow server's answer is stopped mid-stream: the column says so, the other never ran."""
    import time

    from playwright.sync_api import expect

    from fake_openai import FakeOpenAI

    fake = FakeOpenAI("word " * 400, seconds_per_chunk=0.1)  # about 5 s of streaming
    srv = AppServer("--gemma-endpoint", f"{fake.url}/v1", "--gemma", fake.model, log=tmp_path / "app.log").wait_ready()
    try:
        page.goto(srv.url)
        expect(page.locator("#stop")).to_be_disabled()  # nothing runs yet
        page.locator("#prompt textarea").fill("Write at length.")
        page.locator("#compare").click()
        # Sequential order alternates: whichever runs first, wait for Gemma (the slow one) to stream.
        expect(page.locator("#gemma-status")).to_contain_text("Generating", timeout=60_000)
        expect(page.locator("#gemma-chat")).to_contain_text("word", timeout=30_000)
        clicked = time.monotonic()
        page.locator("#stop").click()
        expect(page.locator("#gemma-status")).to_contain_text("Stopped by you", timeout=15_000)
        stopped_after = time.monotonic() - clicked
        expect(page.locator("#gemma-details")).to_contain_text("Stopped by you")
        assert stopped_after < 5, f"Stop took {stopped_after:.1f} s to show"
        expect(page.locator("#stop")).to_be_disabled(timeout=30_000)  # and nothing runs any more
    finally:
        srv.stop()
        fake.close()


def test_a_comparison_that_waits_says_how_many_are_ahead(page, tmp_path, replica_dirs):
    """While one visitor's comparison holds the models (a slow served Gemma), another's Compare says
    it is queued behind one comparison, in the app's words, and runs once the first is stopped."""
    from playwright.sync_api import expect

    from fake_openai import FakeOpenAI

    # Slow enough that the first comparison still holds the models however long the second page's
    # check takes (it is stopped, so the pace costs nothing).
    fake = FakeOpenAI("word " * 400, seconds_per_chunk=0.5)
    srv = AppServer("--gemma-endpoint", f"{fake.url}/v1", "--gemma", fake.model, log=tmp_path / "app.log").wait_ready()
    try:
        first, second = page, page.context.browser.new_page()
        for visitor in (first, second):
            visitor.goto(srv.url)
        first.locator("#prompt textarea").fill("Write at length.")
        first.locator("#compare").click()
        expect(first.locator("#gemma-chat")).to_contain_text("word", timeout=60_000)
        second.locator("#prompt textarea").fill("And mine?")
        second.locator("#compare").click()
        for key in ("gemma", "qwen"):
            # contain, not equal: the element also holds Gradio's own queue overlay, drawn transparent
            expect(second.locator(f"#{key}-status")).to_contain_text("◷ Queued: 1 comparison ahead of yours",
                                                                      timeout=30_000)
        first.locator("#stop").click()
        for key in ("gemma", "qwen"):
            expect(second.locator(f"#{key}-chat")).to_contain_text("And mine?", timeout=60_000)
        second.locator("#stop").click()  # the slow Gemma need not finish
        expect(second.locator("#stop")).to_be_disabled(timeout=30_000)
    finally:
        srv.stop()
        fake.close()


def test_a_replayed_comparison_draws_both_charts_in_each_models_colour(page, tmp_path, sides):
    """The charts start empty when a replay begins and fill when it ends: every mark still gets its
    model's colour (a chart first drawn empty once kept no colours at all)."""
    from playwright.sync_api import expect

    from conftest import request
    from engine.comparator import Comparator
    from modalities.request import GenerationSettings
    from recording.session import Recorder
    from ui.charts import COLOURS

    result = Comparator(sides).run(request("Hi", GenerationSettings(max_new_tokens=12, temperature=0.0)))
    Recorder(tmp_path / "session").record(result)
    srv = AppServer("--replay", str(tmp_path / "session"), tiny=False, log=tmp_path / "app.log").wait_ready()
    try:
        page.goto(srv.url)
        page.locator("#play").click()
        expect(page.locator("#comparison-table")).to_contain_text("time to first token", timeout=60_000)
        for chart, mark, attribute in (("#first-token-chart", "g.mark-rect path", "fill"),
                                       ("#tokens-chart", "g.mark-line path", "stroke")):
            expect(page.locator(f"{chart} {mark}")).not_to_have_count(0, timeout=30_000)
            colours = page.eval_on_selector_all(f"{chart} {mark}", f"els => els.map(e => e.getAttribute('{attribute}'))")
            assert set(colours) == set(COLOURS.values()), (chart, colours)
    finally:
        srv.stop()


def test_stop_works_on_the_first_comparison_of_a_fresh_page(tmp_path):
    """Twenty freshly opened pages, each one's first comparison: Stop is enabled while a column generates,
    and pressing it ends the comparison (a slow served Gemma keeps it generating)."""
    from playwright.sync_api import expect, sync_playwright

    from fake_openai import FakeOpenAI

    fake = FakeOpenAI("word " * 400, seconds_per_chunk=0.05)
    srv = AppServer("--gemma-endpoint", f"{fake.url}/v1", "--gemma", fake.model, log=tmp_path / "app.log").wait_ready()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for _ in range(20):
                page = browser.new_page(viewport={"width": 1400, "height": 1500})
                page.goto(srv.url)
                page.locator("#prompt textarea").fill("Write at length.")
                page.locator("#compare").click()
                expect(page.locator("#gemma-chat")).to_contain_text("word", timeout=60_000)
                expect(page.locator("#stop")).to_be_enabled()
                page.locator("#stop").click()
                expect(page.locator("#gemma-status")).to_contain_text("Stopped by you", timeout=30_000)
                expect(page.locator("#stop")).to_be_disabled(timeout=30_000)
                page.close()
            browser.close()
    finally:
        srv.stop()
        fake.close()


def test_on_a_phone_compare_is_near_the_top_and_the_answers_one_swipe_apart(server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        # A tap while the attachments are folding opens them, and no later step of the folding
        # shuts them again (one did, when the tap came before the fold's next check). The page's
        # timers are held from the start, so the tap lands before that check however fast it is.
        page.clock.install()
        page.goto(server.url)
        page.clock.pause_at(page.evaluate("Date.now()") + 1)
        page.wait_for_selector("#attach > button.label-wrap:not(.open)", state="attached")
        page.get_by_role("button", name="Attach an image, a video or audio").tap()
        page.clock.resume()
        page.wait_for_selector("#attach > button.label-wrap[data-folded]", state="attached")
        expect(page.locator("#images")).to_be_visible()
        page.get_by_role("button", name="Attach an image, a video or audio").tap()
        compare = page.locator("#compare")
        expect(compare).to_be_visible()
        top = compare.bounding_box()["y"]
        assert top < 844, f"Compare is {top:.0f} px down, below the first screen"
        gemma, qwen = (page.locator(f"#{k}-chat").bounding_box() for k in ("gemma", "qwen"))
        assert abs(gemma["y"] - qwen["y"]) < 5, "the answers sit side by side, not stacked"
        assert qwen["x"] < 390, "the second answer's edge is in view, one swipe away"
        clipped = page.eval_on_selector("#examples", "e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'visible'")
        assert not clipped, "the examples table is clipped instead of scrolling"
        chips = page.locator("#examples").get_by_text("Read a chart · image")
        assert chips.bounding_box()["y"] < 844, "the examples are not on the first screen"
        # The model pickers and the attachments start folded under their titles: the answers are
        # within two screens (three upload boxes and the pickers put them at 2,080 px).
        expect(page.locator("#images")).to_be_hidden()
        expect(page.locator("#gemma-info")).to_be_hidden()
        assert page.locator("#gemma-chat").bounding_box()["y"] < 2 * 844, "the answers are far below the composer"
        page.get_by_role("button", name="Attach an image, a video or audio").tap()
        expect(page.locator("#images")).to_be_visible()
        page.get_by_role("button", name="Models").tap()
        expect(page.locator("#gemma-info")).to_be_visible()
        # Tapping Compare brings the answers into view (they start below the composer).
        assert page.locator("#gemma-status").bounding_box()["y"] > 844
        page.locator("#prompt textarea").fill("Hello")
        compare.tap()
        page.wait_for_function("(() => { const r = document.querySelector('#gemma-status').getBoundingClientRect();"
                               " return r.top >= 0 && r.top < innerHeight / 2; })()", timeout=60_000)
        for key in ("gemma", "qwen"):
            expect(page.locator(f"#{key}-status")).to_contain_text("Done in", timeout=120_000)
        if os.environ.get("UPDATE_SCREENSHOT"):  # refreshes the README's phone screenshot
            page.wait_for_timeout(1000)
            page.screenshot(path=str(PHONE_SCREENSHOT))
        # An example chip, tapped from the top of the page, runs and brings its answers into view.
        page.evaluate("window.scrollTo(0, 0)")
        page.locator("#examples").get_by_text("Text only, with thinking · text · thinking").tap()
        page.wait_for_function("(() => { const r = document.querySelector('#gemma-status').getBoundingClientRect();"
                               " return r.top >= 0 && r.top < innerHeight / 2; })()", timeout=60_000)
        for key in ("gemma", "qwen"):
            expect(page.locator(f"#{key}-chat")).to_contain_text("A train leaves at 14:05", timeout=60_000)
            expect(page.locator(f"#{key}-status")).to_contain_text("Done in", timeout=120_000)
        # The Arena's two answers too: side by side, the vote buttons right under them.
        page.get_by_role("tab", name="Arena (blind)").click()
        # Its attachments folded too (waited for: the tab's panel is drawn after the click).
        page.wait_for_selector("#arena-attach > button.label-wrap[data-folded]", state="attached")
        expect(page.locator("#arena-images")).to_be_hidden()
        a, b = (page.locator(f"#model-{p}-chat").bounding_box() for p in "ab")
        assert abs(a["y"] - b["y"]) < 5 and b["x"] < 390, "the Arena's answers are stacked"
        assert page.locator("#vote-a").bounding_box()["y"] < a["y"] + a["height"] + 200, "the votes are far below"
        assert page.locator("#vote-a").bounding_box()["y"] < 2 * 844, "the votes are more than two screens down"
        browser.close()


def test_every_open_page_sees_a_model_another_visitor_loaded(page, tmp_path, replica_dirs):
    """Visitor B switches the shared Gemma; visitor A's open page shows it without a reload."""
    import shutil

    from gradio_client import Client
    from playwright.sync_api import expect

    copy = shutil.copytree(replica_dirs[0], tmp_path / "gemma-other")
    srv = AppServer("--gemma-offer", str(copy), log=tmp_path / "app.log").wait_ready()
    try:
        page.goto(srv.url)
        expect(page.locator("#gemma-info")).to_contain_text(replica_dirs[0].name)
        # The pickers name each model as a person reads it; its id stays in the line under it.
        expect(page.get_by_label("Gemma 4 model")).to_have_value("Gemma 4 E2B/E4B · offline replica")
        expect(page.get_by_label("Qwen 3.5 model")).to_have_value("Qwen 3.5 4B+ · offline replica")
        Client(srv.url, verbose=False).predict(copy.name, api_name="/load_gemma")  # visitor B
        expect(page.locator("#gemma-info")).to_contain_text(copy.name, timeout=20_000)
        expect(page.get_by_label("Gemma 4 model")).to_have_value(copy.name)
        assert str(tmp_path) not in page.content() and str(replica_dirs[0].parent) not in page.content(), (
            "a server folder reached the page")
    finally:
        srv.stop()


def test_a_fresh_page_shows_the_loaded_models_from_its_first_paint(page, tmp_path, replica_dirs):
    """The layout was built at start, with the models of then; a page opened after a switch shows
    the switch from the first paint (the periodic re-read is an hour away on this server)."""
    import shutil

    from gradio_client import Client
    from playwright.sync_api import expect

    copy = shutil.copytree(replica_dirs[0], tmp_path / "gemma-other")
    srv = AppServer("--gemma-offer", str(copy), log=tmp_path / "app.log",
                    env={"COMPARE_MODELS_REFRESH_S": "3600"}).wait_ready()
    try:
        Client(srv.url, verbose=False).predict(copy.name, api_name="/load_gemma")
        page.goto(srv.url)
        expect(page.locator("#gemma-info")).to_contain_text(copy.name, timeout=20_000)
        expect(page.get_by_label("Gemma 4 model")).to_have_value(copy.name)
    finally:
        srv.stop()


def test_the_blind_page_names_the_models_only_after_the_vote(server, page):
    from playwright.sync_api import expect

    page.goto(server.url)
    page.get_by_role("tab", name="Arena (blind)").click()
    arena = page.locator("#arena-answers")
    page.locator("#arena-prompt textarea").fill("Which is better?")
    page.locator("#arena-prompt textarea").press("Enter")
    expect(page.locator("#vote-a")).to_be_enabled(timeout=120_000)
    expect(page.locator("#model-a-status")).to_contain_text("Model A")
    # No family and no checkpoint (the replicas' folders are named after their family), in any case,
    # anywhere in the two columns, the votes or the reveal.
    for name in ("gemma", "qwen"):
        for where in (arena, page.locator("#votes"), page.locator("#arena-reveal"), page.locator("#arena-table")):
            expect(where).not_to_contain_text(re.compile(name, re.I))
    page.locator("#vote-both-bad").click()
    expect(page.locator("#arena-reveal")).to_contain_text("Your vote: Both are bad", timeout=30_000)
    for name in ("Gemma 4", "Qwen 3.5"):
        expect(arena).to_contain_text(name)
        expect(page.locator("#arena-table")).to_contain_text(name)
    expect(page.locator("#vote-a")).to_be_disabled()
    # The reveal's table in the page's order: Model A, the left column, first.
    expect(page.locator("#arena-table th").nth(1)).to_contain_text("Model A:")
    expect(page.locator("#arena-intro")).to_contain_text("your prompt, your uploads, both answers and your vote")
    # "New round" takes the focus after the vote; Enter on it clears the round and returns to the prompt.
    expect(page.locator("#arena-new-round")).to_be_focused(timeout=10_000)
    page.keyboard.press("Enter")
    expect(page.locator("#arena-prompt textarea")).to_be_focused(timeout=10_000)
    expect(page.locator("#arena-prompt textarea")).to_have_value("")
    expect(page.locator("#arena-reveal")).not_to_contain_text("Your vote")
    # The leaderboard is counted when its tab opens: on a server of replicas, their votes, under the banner.
    page.get_by_role("tab", name="Leaderboard").click()
    expect(page.locator("#leaderboard")).to_contain_text("offline replicas", timeout=30_000)
    expect(page.locator("#leaderboard")).to_contain_text("Ratings controlled for length and Markdown")
    expect(page.locator("#leaderboard th").first).to_have_text("rank")
