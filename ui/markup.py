"""Text that a model, a file or a visitor produced, made safe to show: one place, a real parser.

Two ways, and nothing else in the app renders such text:

- `to_html(markdown)`: a whole message (an answer, thinking, a prompt) as HTML, rendered by a
  CommonMark parser (markdown-it-py, which Gradio itself depends on) with raw HTML off, so every
  `<` the text holds ends up as `&lt;`, and images off, so `![…](url)` is a plain link and nothing
  is fetched. The result goes only to components that do not parse it again (the chats run with
  `render_markdown=False`): a regular expression that guesses where code starts cannot be fooled,
  because there is none.
- `plain(value)`: a short value (a file or model name, a note, an error) as literal text inside
  Markdown the app writes itself (documents.markdown.esc: one line, HTML-escaped, punctuation
  backslashed), so it can add no element, link, image, heading or table cell.
"""

from __future__ import annotations

from functools import lru_cache

from documents.markdown import esc as plain  # noqa: F401  (re-exported: the one name the UI uses)


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    # CommonMark, plus GFM's tables and strikethrough (models write both); no raw HTML, no images,
    # no typographer or linkify (nothing is turned into a link that the text did not write as one).
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("image")


def to_html(markdown: str) -> str:
    """`markdown` rendered to HTML that holds no element the text wrote itself and fetches nothing."""
    return _parser().render(markdown or "")
