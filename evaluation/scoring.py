"""Scoring an answer against a task's expected answer: labels, numbers, accepted answers, and code.

Code is run only when the caller allows it (--allow-code-execution), each solution walled off
in its own subprocess by evaluation.sandbox: its own folder, a clean environment, no network,
CPU, memory, file-size and process limits, no way to read this process's environment, and its
whole process tree killed when it ends. Its output is captured, never passed to stdout.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from . import sandbox

CODE_TIMEOUT_S = sandbox.CPU_S
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


@dataclass
class Score:
    correct: bool | None  # None: not scored (code execution not allowed)
    detail: str = ""


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[*_`\"'“”‘’.,:;!?()\[\]{}]", " ", text)
    return " ".join(text.split())


def score_label(answer: str, expected: str, labels: list[str]) -> Score:
    """Exactly one of the labels must appear in the answer (underscores and spaces alike)."""
    said = normalise(answer).replace(" ", "_")
    found = [label for label in labels if normalise(label).replace(" ", "_") in said]
    # A label that is part of another (e.g. "account" in "account_manager") does not count twice.
    found = [f for f in found if not any(f != g and f in g for g in found)]
    if len(found) != 1:
        return Score(False, f"labels found: {found or 'none'}")
    return Score(found[0] == expected, f"answered {found[0]}")


def parse_number(text: str) -> float | None:
    """The last number in the text: '1,200 litres' -> 1200, '$38.00' -> 38."""
    matches = NUMBER.findall(text.replace("\u2212", "-"))
    if not matches:
        return None
    raw = matches[-1].replace(",", "")
    try:
        return float(raw)
    except ValueError:
        return None


def score_number(answer: str, expected: float) -> Score:
    value = parse_number(answer)
    if value is None:
        return Score(False, "no number in the answer")
    return Score(abs(value - float(expected)) <= 1e-6 * max(1.0, abs(float(expected))), f"answered {value:g}")


def score_accepted(answer: str, accepted: list[str]) -> Score:
    said = normalise(answer)
    for option in accepted:
        option = normalise(str(option))
        # Whole words for Latin scripts; substring for scripts without spaces (Chinese).
        if option.isascii() and re.search(rf"(?<!\w){re.escape(option)}(?!\w)", said) or not option.isascii() and option in said:
            return Score(True, f"matched {option}")
    return Score(False, "no accepted answer found")


def extract_code(answer: str) -> str:
    blocks = re.findall(r"```(?:python|py)?\s*\n(.*?)```", answer, flags=re.S)
    return blocks[-1] if blocks else answer



def score_code(answer: str, tests: str, allow_execution: bool) -> Score:
    if not allow_execution:
        return Score(None, "code execution not allowed (--allow-code-execution)")
    program = extract_code(answer) + "\n\n" + tests + "\n"
    with tempfile.TemporaryDirectory(prefix="eval-code-") as folder:
        script = Path(folder) / "solution.py"
        script.write_text(program)
        try:
            proc = sandbox.run(script, timeout_s=CODE_TIMEOUT_S + 5)  # walled off: see evaluation.sandbox
        except sandbox.IsolationRefused as e:
            return Score(None, str(e))
        if proc is None:
            return Score(False, f"timed out after {CODE_TIMEOUT_S + 5} s")
    if proc.returncode == 0:
        return Score(True, "tests passed")
    last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    return Score(False, last[:200])


def score(task, answer: str, allow_code: bool) -> Score:
    if task.score == "label":
        return score_label(answer, task.expected, task.labels)
    if task.score == "number":
        return score_number(answer, task.expected)
    if task.score == "accepted":
        accepted = task.expected if isinstance(task.expected, list) else [task.expected]
        return score_accepted(answer, accepted)
    if task.score == "code":
        return score_code(answer, task.expected, allow_code)
    raise ValueError(f"unknown scorer {task.score!r}")
