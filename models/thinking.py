"""Sorting generated ids into thinking and answer, and decoding each as it grows.

Each family marks its thinking with its own tokens (models.families): Gemma 4's
`<|channel>thought … <channel|>`, Qwen 3.5's `<think> … </think>`. The ids are sorted by those
token ids, never by searching decoded text, except for a server that streams only text
(`MarkerSplitter`).
"""

from __future__ import annotations

from .backend import ANSWER, CONTROL, THINKING
from .families import Family
from .loading import LoadedModel


class _IncrementalText:
    """Decoded text of a growing id list, at a cost per token that does not grow with the text.

    As transformers' TextStreamer: ids since the last newline are decoded together (so
    multi-byte characters and tokenizer spacing come out right) and folded into the fixed
    text at each newline. Text ending in an incomplete character waits for the next id.
    """

    def __init__(self, tokenizer):
        self._tok = tokenizer
        self.ids: list[int] = []
        self._fixed = ""
        self._pending_from = 0
        self._text = ""

    def append(self, token_id: int) -> None:
        self.ids.append(token_id)

    def text(self) -> str:
        if len(self.ids) > self._pending_from:
            pending = self._tok.decode(self.ids[self._pending_from :], skip_special_tokens=True)
            if not pending.endswith("\ufffd"):
                self._text = self._fixed + pending
                if pending.endswith("\n"):
                    self._fixed, self._pending_from = self._text, len(self.ids)
        return self._text

    def final(self) -> str:
        return self._tok.decode(self.ids, skip_special_tokens=True)


class ThinkingSplitter:
    """Sorts generated ids into thinking and answer by the family's marker tokens."""

    def __init__(self, loaded: LoadedModel, starts_in_thinking: bool):
        tok = loaded.processor.tokenizer
        self._label = loaded.family.thinking_label
        self._special = set(tok.all_special_ids)
        unk = getattr(tok, "unk_token_id", None)
        start, end = tok.convert_tokens_to_ids([loaded.family.think_start, loaded.family.think_end])
        self._start = start if start != unk else None
        self._end = end if end != unk else None
        self.in_thinking = starts_in_thinking
        self._thinking = _IncrementalText(tok)
        self._answer = _IncrementalText(tok)

    def add(self, token_id: int) -> str:
        """Take one id; say which part of the output it is (THINKING, ANSWER or CONTROL)."""
        if token_id == self._end and not self.in_thinking:
            # A close with nothing open (the large Gemma template closes an empty thought in the
            # prompt itself): a control token of the answer, not thinking.
            self._answer.append(token_id)
            return CONTROL
        if token_id in (self._start, self._end):
            self.in_thinking = token_id == self._start
            return THINKING
        if self.in_thinking:
            self._thinking.append(token_id)
            return THINKING
        self._answer.append(token_id)
        return CONTROL if token_id in self._special else ANSWER

    def _clean_thinking(self, text: str) -> str:
        text = text.lstrip()
        if self._label and text.startswith(self._label):
            text = text[len(self._label) :].lstrip()
        return text

    def texts(self, final: bool = False) -> tuple[str, str]:
        """(answer, thinking) so far; `final` decodes each in one piece, exactly."""
        if final:
            return self._answer.final().strip(), self._clean_thinking(self._thinking.final()).strip()
        return self._answer.text().lstrip(), self._clean_thinking(self._thinking.text())


class MarkerSplitter:
    """Splits streamed text into thinking and answer by the family's markers (when the server does not)."""

    def __init__(self, family: Family):
        self.family = family
        self.raw = ""

    def add(self, text: str) -> None:
        self.raw += text

    def split(self) -> tuple[str, str]:
        start, end = self.family.think_start, self.family.think_end
        raw = self.raw
        if end in raw and start not in raw.split(end, 1)[0]:
            # Templates that open the think block in the prompt stream only its end marker.
            thinking, answer = raw.split(end, 1)
            return answer.strip(), thinking.strip()
        if start not in raw:
            return raw.lstrip(), ""
        before, rest = raw.split(start, 1)
        thinking, _, after = rest.partition(end)
        thinking = thinking.strip()
        if self.family.thinking_label and thinking.startswith(self.family.thinking_label):
            thinking = thinking[len(self.family.thinking_label) :].lstrip()
        return (before + after).strip(), thinking
