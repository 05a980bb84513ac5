"""Text built to make a viewer's browser fetch something or build an element, for the rendering tests.

Each piece puts an element that would fetch `leak`/<name> where a hand-made guess at Markdown's
code regions would pass it through raw: the three bypasses found in the field, and CommonMark's
own specification examples for code spans and fences with such an element beside them.
"""

from __future__ import annotations


def corpus(leak: str) -> str:
    def img(name: str) -> str:
        return f"<img src='{leak}/{name}'>"

    pieces = [
        # The three bypasses: an escaped backtick, a code span across a blank line, a longer closing fence.
        f"\\`{img('escaped-backtick')}`",
        f"`a\n\n{img('blank-line')}`",
        f"```\nfence\n````\n{img('longer-closing-fence')}\n```",
        f"````\nfence\n```\n{img('shorter-closing-fence')}\n````",
        # CommonMark's code span and fence examples, each with an element beside it.
        f"`` foo ` bar `` {img('spec-double')}",
        f"`foo\\`bar` {img('spec-backslash')}",
        f"*foo`*` {img('spec-emphasis')}",
        f"[not a `link](/foo`) {img('spec-link')}",
        f"`<a href=\"`\">` {img('spec-attribute')}",
        f"```foo`` {img('spec-unbalanced')}",
        f"`foo {img('spec-unclosed')}",
        f"~~~\naaa\n```\n~~~\n{img('spec-tilde')}",
        f"``\nfoo\n``\n{img('spec-short-fence')}",
        f"   ```\n   aaa\n    aaa\n  aaa\n   ```\n{img('spec-indented-fence')}",
        # Plain attempts: a Markdown image, raw elements, a style that fetches, a form.
        f"![x]({leak}/markdown-image)",
        f"<svg><image href='{leak}/svg'/></svg> <video src='{leak}/video'></video> <audio src='{leak}/audio'></audio>",
        f"<div style=\"background:url({leak}/css)\">styled</div>",
        f"<form action='{leak}/form'><input name=password placeholder=Password></form>",
        "and `<b>code</b>` end.",
    ]
    return "\n\n".join(pieces)


# What a page may show of the corpus: no element that fetches or takes input.
BUILT = "img, form, input, image, video, audio, iframe, object, embed, [style*='leak'], [src*='leak']"
