"""The replicas' chat templates: one per real template shape, reproducing the real renderings exactly.

Gemma 4 publishes two templates, edge (E2B, E4B) and large (12B, 26B-A4B, 31B); Qwen 3.5 two,
small (0.8B, 2B) and 4B-and-larger. These are this project's own Jinja, checked character for
character against prompts rendered by the real ones (tests/test_fidelity.py, with
the real renderings kept in tests/data/chat-prompts.json):

- Gemma: `<|turn>role ... <turn|>`; thinking on puts `<|think|>\\n` at the top of the system
  turn; text is trimmed; the large template ends a thinking-off generation prompt with an empty
  thought channel, `<|channel>thought\\n<channel|>`, so the model answers at once.
- Qwen: ChatML; the generation prompt opens a think block (`<think>\\n`) or holds an empty one
  (`<think>\\n\\n</think>\\n\\n`). Left unset, `enable_thinking` is off on the small template
  and on for the larger one. An audio part raises, as the real template does.

All output is written as string literals inside tags, so transformers' Jinja settings
(trim_blocks, lstrip_blocks) cannot change a character of it.
"""

from __future__ import annotations

_GEMMA_CONTENT = """
{%- macro content(c) -%}
  {%- if c is string -%}{{- c | trim -}}
  {%- else -%}{%- for p in c -%}
    {%- if p.type == 'image' -%}{{- '<|image|>' -}}
    {%- elif p.type == 'video' -%}{{- '<|video|>' -}}
    {%- elif p.type == 'audio' -%}{{- '<|audio|>' -}}
    {%- elif p.type == 'text' -%}{{- p.text | trim -}}
    {%- endif -%}
  {%- endfor -%}{%- endif -%}
{%- endmacro -%}
"""

_GEMMA_TURNS = """
{{- bos_token -}}
{%- set sys = messages[0] if messages and messages[0].role == 'system' else none -%}
{%- if enable_thinking or sys -%}
  {{- '<|turn>system\\n' -}}
  {%- if enable_thinking -%}{{- '<|think|>\\n' -}}{%- endif -%}
  {%- if sys -%}{{- content(sys.content) -}}{%- endif -%}
  {{- '<turn|>\\n' -}}
{%- endif -%}
{%- for m in messages if m.role != 'system' -%}
  {{- '<|turn>' + ('model' if m.role == 'assistant' else 'user') + '\\n' -}}
  {{- content(m.content) -}}
  {{- '<turn|>\\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
  {{- '<|turn>model\\n' -}}
"""

_GEMMA_EMPTY_THOUGHT = """
  {%- if not enable_thinking -%}{{- '<|channel>thought\\n<channel|>' -}}{%- endif -%}
"""

GEMMA_EDGE = _GEMMA_CONTENT + _GEMMA_TURNS + "{%- endif -%}"
GEMMA_LARGE = _GEMMA_CONTENT + _GEMMA_TURNS + _GEMMA_EMPTY_THOUGHT + "{%- endif -%}"

_QWEN_TURNS = """
{%- for m in messages -%}
  {{- '<|im_start|>' + m.role + '\\n' -}}
  {%- if m.content is string -%}{{- m.content -}}
  {%- else -%}{%- for p in m.content -%}
    {%- if p.type == 'image' -%}{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}
    {%- elif p.type == 'video' -%}{{- '<|vision_start|><|video_pad|><|vision_end|>' -}}
    {%- elif p.type == 'text' -%}{{- p.text -}}
    {%- else -%}{{- raise_exception('Unexpected item type in content.') -}}
    {%- endif -%}
  {%- endfor -%}{%- endif -%}
  {{- '<|im_end|>\\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
  {{- '<|im_start|>assistant\\n' -}}
"""
_QWEN_OPEN, _QWEN_CLOSED = "{{- '<think>\\n' -}}", "{{- '<think>\\n\\n</think>\\n\\n' -}}"

# Small (0.8B, 2B): thinks only when asked. 4B and larger: thinks unless told not to.
QWEN_SMALL = (
    _QWEN_TURNS + "{%- if enable_thinking is defined and enable_thinking -%}" + _QWEN_OPEN
    + "{%- else -%}" + _QWEN_CLOSED + "{%- endif -%}{%- endif -%}"
)
QWEN = (
    _QWEN_TURNS + "{%- if enable_thinking is defined and enable_thinking is false -%}" + _QWEN_CLOSED
    + "{%- else -%}" + _QWEN_OPEN + "{%- endif -%}{%- endif -%}"
)
