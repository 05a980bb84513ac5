"""The layout holds: imports point one way (app/ui → engine → models → modalities) and modules stay readable."""

from __future__ import annotations

import ast

from conftest import ROOT

# A package may import from its own layer's neighbours below it, never from a layer above or beside.
LAYERS = {"modalities": 0, "documents": 1, "models": 1, "engine": 2, "recording": 3, "evaluation": 3, "preference": 3, "ui": 4, "cli": 5, "serve": 6, "app": 7}
MAX_LINES = 300


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if (len(rel.parts) > 1 and rel.parts[0] in LAYERS) or (len(rel.parts) == 1 and rel.stem in LAYERS):
            yield rel, path.read_text(encoding="utf-8")


def test_imports_point_one_way():
    wrong = []
    for rel, source in _modules():
        own = rel.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                other = name.split(".")[0]
                if other in LAYERS and other != own and LAYERS[other] >= LAYERS[own]:
                    wrong.append(f"{rel} imports {name}")
    assert wrong == [], wrong


def test_no_module_is_too_long_to_read_in_one_sitting():
    long = [f"{rel}: {len(source.splitlines())} lines" for rel, source in _modules() if len(source.splitlines()) > MAX_LINES]
    assert long == [], long
