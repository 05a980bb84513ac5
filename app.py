"""Gemma 4 vs Qwen 3.5: one input, two models, honest timing side by side.

    python app.py [--tiny] [--host H] [--port P] [--share]      serve the web app
    python app.py compare --tiny --prompt "What is shown?" --image samples/chart.png --json
    python app.py tiny [DIR]
    python app.py export SESSION --format html|md|json
    python app.py --replay SESSION                                serve a recording, no models
    python app.py leaderboard ARENA_DIR --format html|md|json      what the arena's votes say
    python app.py clip SESSION [--entry N] --out FILE.mp4|FILE.gif  a recorded comparison as a video

This module parses the command line and starts the command asked for: `serve` serves the app
(or a replay), `cli` runs the one-shot commands. It wires nothing (engine.sides makes the models
from `ModelOptions`) and holds no model or media logic. Importing it parses nothing and loads
nothing.
"""

from __future__ import annotations

import argparse
import os
import sys


def _model_args(parser: argparse.ArgumentParser, defaults: bool = True) -> None:
    """The model options, on the root parser (with their defaults) and on each command (without:
    there an option left out must not overwrite the one given before the command)."""
    from models.families import SIDES
    from models.registry import DEFAULT_PRESET, PRESETS
    from models.remote import API_KEY_ENV

    # Each has an environment variable too, for hosts that start `python app.py` with no arguments (Spaces).
    env = os.environ.get
    if not defaults:
        parser = _Suppressed(parser)
    parser.add_argument(
        "--tiny", action="store_true", default=env("COMPARE_TINY", "") not in ("", "0"),
        help="use the offline random-weight replicas (COMPARE_TINY=1)",
    )
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default=env("COMPARE_PRESET", DEFAULT_PRESET), help="matched pair (COMPARE_PRESET)"
    )
    parser.add_argument("--gemma", metavar="ID_OR_PATH", default=env("COMPARE_GEMMA"), help="Gemma 4 hub id or folder (COMPARE_GEMMA)")
    parser.add_argument("--qwen", metavar="ID_OR_PATH", default=env("COMPARE_QWEN"), help="Qwen 3.5 hub id or folder (COMPARE_QWEN)")
    parser.add_argument("--device", help="cuda, cuda:1 or cpu (default: cuda if there is one)")
    parser.add_argument("--parallel", action="store_true", help="run both models at once (timings contended)")
    parser.add_argument("--timeout", type=float, default=600, metavar="S", help="per-side generation time limit")
    parser.add_argument(
        "--fast", action="store_true",
        help="static cache + compiled decoding (CUDA graphs on a GPU); compiles while the model loads",
    )
    parser.add_argument(
        "--draft", action="store_true", default=env("COMPARE_DRAFT", "") not in ("", "0"),
        help="each family drafts with its own drafter where the stack runs one (Gemma 4's assistant locally; "
        "a server: whatever it was started with); results report acceptance (COMPARE_DRAFT=1)",
    )
    for key in SIDES:
        parser.add_argument(
            f"--{key}-endpoint", metavar="URL",
            help=f"stream {key} from an OpenAI-compatible server (e.g. http://host:8000/v1); --{key} names the model",
        )
        parser.add_argument(
            f"--{key}-offer", metavar="LIST", type=lambda v: tuple(m.strip() for m in v.split(",") if m.strip()),
            default=tuple(m.strip() for m in env(f"COMPARE_{key.upper()}_OFFER", "").split(",") if m.strip()),
            help=f"more {key} models (hub ids or folders) the app's picker offers besides the presets "
            f"(COMPARE_{key.upper()}_OFFER); visitors can load nothing else",
        )
        parser.add_argument(
            f"--{key}-accepts", metavar="LIST", type=lambda v: [m.strip() for m in v.split(",") if m.strip()],
            help="what the served model takes besides text, e.g. image,video,audio (default: found or assumed)",
        )
    parser.add_argument(
        "--offer-presets", action="store_true", default=env("COMPARE_OFFER_PRESETS", "") not in ("", "0"),
        help="visitors may also pick the matched pairs' checkpoints (COMPARE_OFFER_PRESETS=1); each loads for "
        "every visitor, so offer them only where they can load (on the hub or in the cache) and fit",
    )
    parser.add_argument(
        "--api-key-env", default=API_KEY_ENV, metavar="NAME",
        help="environment variable holding the servers' API key (never printed or recorded)",
    )


def _sampling_arg(parser, help: str | None = None) -> None:
    from modalities.request import IDENTICAL, SAMPLING_MODES

    parser.add_argument(
        "--sampling", choices=SAMPLING_MODES, default=IDENTICAL,
        help=help or "identical (default): both models get exactly --temperature and --top-p, every other filter "
        "off, nothing taken from either checkpoint; recommended: each family's published settings",
    )


class _Suppressed:
    """A parser whose add_argument leaves the attribute unset unless the option is given."""

    def __init__(self, parser: argparse.ArgumentParser):
        self._parser = parser

    def add_argument(self, *args, **kwargs):
        return self._parser.add_argument(*args, **{**kwargs, "default": argparse.SUPPRESS})


def model_options(args):
    """What the arguments say about the models (engine.sides makes them)."""
    from engine.sides import ModelOptions
    from models.families import SIDES

    return ModelOptions(
        tiny=args.tiny,
        preset=args.preset,
        sources={k: getattr(args, k) for k in SIDES},
        endpoints={k: getattr(args, f"{k}_endpoint") for k in SIDES},
        accepts={k: getattr(args, f"{k}_accepts") for k in SIDES},
        api_key_env=args.api_key_env,
        device=args.device,
        fast=args.fast,
        draft=args.draft,
        offered={k: getattr(args, f"{k}_offer") for k in SIDES},
        offer_presets=args.offer_presets,
    )


def build_parser() -> argparse.ArgumentParser:
    from modalities.request import GenerationSettings

    defaults = GenerationSettings()
    parser = argparse.ArgumentParser(prog="app.py", description=__doc__.split("\n\n")[0])
    _model_args(parser)
    # Hosts such as Hugging Face Spaces say where to listen through Gradio's own variables.
    parser.add_argument(
        "--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="address to serve on"
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    parser.add_argument("--share", action="store_true", help="also serve through a public Gradio link")
    parser.add_argument(
        "--auth", metavar="USER:PASSWORD", default=os.environ.get("COMPARE_AUTH"),
        help="put a login in front of the app (or set COMPARE_AUTH)",
    )
    parser.add_argument("--record", metavar="PATH", help="record every comparison into this session folder")
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("COMPARE_CONCURRENCY", 1)), metavar="N",
        help="with both models on servers, run up to N comparisons at once (the servers batch them; "
        "their timings are marked contended). Local models answer one comparison at a time (COMPARE_CONCURRENCY)",
    )
    # On a Space (which sets SPACE_ID) the models are locked unless COMPARE_LOCK_MODELS=0 says otherwise.
    lock = os.environ.get("COMPARE_LOCK_MODELS", "1" if os.environ.get("SPACE_ID") else "")
    parser.add_argument(
        "--lock-models", action="store_true", default=lock not in ("", "0"),
        help="visitors cannot switch the models, shared by every session "
        "(COMPARE_LOCK_MODELS=1; the default on a Hugging Face Space)",
    )
    parser.add_argument(
        "--arena", metavar="DIR", default=os.environ.get("COMPARE_ARENA", "arena"),
        help="where blind-mode votes are kept, one line each in DIR/votes.jsonl (COMPARE_ARENA; default: arena/)",
    )
    from preference.policy import VotePolicy

    policy = VotePolicy()
    parser.add_argument(
        "--vote-min-tokens", type=int, metavar="N", default=int(os.environ.get("COMPARE_VOTE_MIN_TOKENS", policy.min_tokens)),
        help=f"a vote needs both answers at least N tokens long (COMPARE_VOTE_MIN_TOKENS; default {policy.min_tokens})",
    )
    parser.add_argument(
        "--vote-min-read", type=float, metavar="S", default=float(os.environ.get("COMPARE_VOTE_MIN_READ_S", policy.min_read_s)),
        help=f"a vote is taken S seconds after both answers finished, not sooner (COMPARE_VOTE_MIN_READ_S; default "
        f"{policy.min_read_s:g})",
    )
    parser.add_argument(
        "--votes-per-hour", type=int, metavar="N", default=int(os.environ.get("COMPARE_VOTES_PER_HOUR", policy.max_votes)),
        help=f"votes counted per visitor (address, and session) in any hour; the rest are refused and counted as "
        f"dropped (COMPARE_VOTES_PER_HOUR; default {policy.max_votes})",
    )
    parser.add_argument(
        "--behind-proxy", action="store_true",
        default=os.environ.get("COMPARE_BEHIND_PROXY", "1" if os.environ.get("SPACE_ID") else "") not in ("", "0"),
        help="the app is served through a proxy that appends the visitor's address to X-Forwarded-For: the vote "
        "limits read it there (COMPARE_BEHIND_PROXY=1; the default on a Hugging Face Space)",
    )
    parser.add_argument("--replay", metavar="PATH", help="serve a recorded session for replay (no models load)")
    commands = parser.add_subparsers(dest="command")

    compare = commands.add_parser("compare", help="run one comparison and print both answers")
    _model_args(compare, defaults=False)
    compare.add_argument("--prompt", default="", help="the question or instruction")
    compare.add_argument("--image", action="append", default=[], metavar="PATH", help="an image (repeatable)")
    compare.add_argument("--video", metavar="PATH")
    compare.add_argument("--audio", metavar="PATH")
    compare.add_argument("--system", default="", help="system prompt")
    compare.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens)
    compare.add_argument("--temperature", type=float, default=defaults.temperature, help="0 = greedy")
    compare.add_argument("--top-p", type=float, default=defaults.top_p)
    compare.add_argument("--seed", type=int, default=defaults.seed)
    compare.add_argument("--thinking", action="store_true", help="switch on both families' thinking mode")
    _sampling_arg(compare)
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.add_argument(
        "--record", metavar="PATH", default=argparse.SUPPRESS, help="append this comparison to a session folder"
    )

    export = commands.add_parser("export", help="write a report of a recorded session")
    export.add_argument("path", help="the session folder")
    export.add_argument("--format", choices=["html", "md", "json"], default="html")
    export.add_argument("--out", help="output file (default: PATH/report.FORMAT)")

    evaluate = commands.add_parser("eval", help="run suites of tasks with known answers through both models")
    _model_args(evaluate, defaults=False)
    evaluate.add_argument("suites", nargs="+", metavar="SUITE", help="JSONL suite files (see samples/suites/)")
    evaluate.add_argument("--thinking", choices=["on", "off", "both"], default="off")
    _sampling_arg(evaluate, "identical: both greedy; recommended: each family samples with its published settings")
    evaluate.add_argument("--limit", type=int, help="at most N tasks per suite")
    evaluate.add_argument("--out", default="eval-results", help="output folder; a run there is resumed")
    evaluate.add_argument("--max-new-tokens", type=int, default=1024)
    evaluate.add_argument(
        "--allow-code-execution", action="store_true",
        help="run the models' code against the suites' unit tests (each in its own limited subprocess)",
    )

    clip = commands.add_parser("clip", help="a recorded comparison as a video clip (MP4 or GIF) for talks and posts")
    clip.add_argument("path", metavar="SESSION", help="the session folder")
    clip.add_argument("--entry", type=int, default=1, metavar="N", help="which comparison (1 = the first; default 1)")
    clip.add_argument("--speed", type=float, default=1.0, metavar="X", help="play the race X times as fast")
    clip.add_argument("--size", choices=["1280x720", "1920x1080", "1080x1920"], default="1280x720",
                      help="1080x1920 is vertical, for phones")
    clip.add_argument("--out", required=True, metavar="FILE", help="FILE.mp4 (H.264) or FILE.gif")

    board = commands.add_parser("leaderboard", help="count an arena folder's votes: ratings, pairs, breakdowns, position bias")
    board.add_argument("dir", metavar="ARENA_DIR", help="the folder the app kept its votes in (--arena)")
    board.add_argument("--format", choices=["html", "md", "json"], default="md")
    board.add_argument("--out", help="write to this file (default: print)")
    board.add_argument(
        "--include-replicas", action="store_true", help="count votes cast on the offline replicas (left out by default)"
    )

    tiny = commands.add_parser("tiny", help="build the offline replicas, one per real chat-template shape, and print their folders")
    tiny.add_argument("dir", nargs="?", help="where to build them (default: the cache folder)")
    return parser


def main(argv: list[str] | None = None) -> int:
    import cli
    import serve

    args = build_parser().parse_args(argv)
    if args.command in (None, "compare", "eval"):  # the commands that load models (None: the app)
        args.model_options = model_options(args)
    commands = {"compare": cli.run_compare, "tiny": cli.run_tiny, "export": cli.run_export, "eval": cli.run_eval,
                "leaderboard": cli.run_leaderboard, "clip": cli.run_clip}
    return commands.get(args.command, serve.run_app)(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # an internal error: one line, exit 1 (set GQ_DEBUG=1 for the traceback)
        if os.environ.get("GQ_DEBUG"):
            raise
        print(f"internal error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
