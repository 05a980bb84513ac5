"""One self-contained HTML page: inline style, no script, nothing fetched from anywhere.

Every report (recorded sessions, evaluations) is built with `page`; callers escape what they
put in the body with `esc`, and images go in as data URLs or inline SVG.
"""

from __future__ import annotations

import html

BASE_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    ".pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}img{max-width:100%}"
)


def esc(value) -> str:
    """Any value as HTML text: quotes included, so it is safe in attributes too."""
    return html.escape(str(value), quote=True)


def page(title: str, body: str, css: str = "") -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
        f"<style>{BASE_CSS}{css}</style></head><body>{body}</body></html>"
    )


def svg(fig) -> str:
    """A matplotlib figure as inline SVG (no XML prolog or doctype), the figure closed."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
