"""Gemma 4 vs Qwen 3.5: one input, two models, honest timing side by side.

    python app.py [--tiny] [--host H] [--port P] [--share]      serve the web app
    python app.py compare --tiny --prompt "What is shown?" --image samples/chart.png --json
    python app.py tiny [DIR]
    python app.py export SESSION --format html|md|json
    python app.py --replay SESSION                                serve a recording, no models

This module parses the command line and formats what the engine (models/, modalities/)
returns; it holds no model or media logic. Importing it parses nothing and loads nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _model_args(parser: argparse.ArgumentParser) -> None:
    from models.registry import DEFAULT_PRESET, PRESETS

    # Each has an environment variable too, for hosts that start `python app.py` with no arguments (Spaces).
    env = os.environ.get
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
    for key in ("gemma", "qwen"):
        parser.add_argument(
            f"--{key}-endpoint", metavar="URL",
            help=f"stream {key} from an OpenAI-compatible server (e.g. http://host:8000/v1); --{key} names the model",
        )
        parser.add_argument(
            f"--{key}-accepts", metavar="LIST", type=lambda v: [m.strip() for m in v.split(",") if m.strip()],
            help="what the served model takes besides text, e.g. image,video,audio (default: found or assumed)",
        )
    parser.add_argument(
        "--api-key-env", default="OPENAI_API_KEY", metavar="NAME",
        help="environment variable holding the servers' API key (never printed or recorded)",
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
        "--lock-models", action="store_true", default=os.environ.get("COMPARE_LOCK_MODELS", "") not in ("", "0"),
        help="visitors cannot switch the models, shared by every session (COMPARE_LOCK_MODELS=1)",
    )
    parser.add_argument("--replay", metavar="PATH", help="serve a recorded session for replay (no models load)")
    commands = parser.add_subparsers(dest="command")

    compare = commands.add_parser("compare", help="run one comparison and print both answers")
    _model_args(compare)
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
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.add_argument("--record", metavar="PATH", help="append this comparison to a session folder")

    export = commands.add_parser("export", help="write a report of a recorded session")
    export.add_argument("path", help="the session folder")
    export.add_argument("--format", choices=["html", "md", "json"], default="html")
    export.add_argument("--out", help="output file (default: PATH/report.FORMAT)")

    evaluate = commands.add_parser("eval", help="run suites of tasks with known answers through both models")
    _model_args(evaluate)
    evaluate.add_argument("suites", nargs="+", metavar="SUITE", help="JSONL suite files (see samples/suites/)")
    evaluate.add_argument("--thinking", choices=["on", "off", "both"], default="off")
    evaluate.add_argument("--limit", type=int, help="at most N tasks per suite")
    evaluate.add_argument("--out", default="eval-results", help="output folder; a run there is resumed")
    evaluate.add_argument("--max-new-tokens", type=int, default=1024)
    evaluate.add_argument(
        "--allow-code-execution", action="store_true",
        help="run the models' code against the suites' unit tests (each in its own limited subprocess)",
    )

    tiny = commands.add_parser("tiny", help="build the offline replicas and print their two folders")
    tiny.add_argument("dir", nargs="?", help="where to build them (default: the cache folder)")
    return parser


def _print_text(result) -> None:
    for key in result.order:
        r = result.results[key]
        print(f"=== {key}: {r.model} [{r.status}]")
        for note in r.notes:
            print(f"  note: {note}")
        for skipped in r.skipped_inputs:
            print(f"  skipped: {skipped}")
        if r.error:
            print(f"  error: {r.error}")
        if r.thinking:
            print(f"--- thinking\n{r.thinking}\n--- answer")
        print(r.text)
        m = r.metrics
        if m:
            decode = f"{m.decode_tok_s:.1f} tok/s" if m.decode_tok_s else "n/a"
            print(
                f"  ttft {m.ttft_s:.3f}s  decode {decode}  total {m.total_s:.2f}s  "
                f"out {m.output_tokens} (thinking {m.thinking_tokens})  in {m.input_tokens}"
            )
        print()


def run_compare(args) -> int:
    from modalities.errors import InputError
    from modalities.limits import limits_from_env
    from modalities.request import CompareRequest, GenerationSettings, validate_request
    from models.comparison import Comparator

    request = CompareRequest(
        prompt=args.prompt,
        images=tuple(args.image),
        video=args.video,
        audio=args.audio,
        system=args.system,
        settings=GenerationSettings(
            max_new_tokens=args.max_new_tokens,
            temperature=args.temperature,
            top_p=args.top_p,
            seed=args.seed,
            thinking=args.thinking,
        ),
    )
    limits = limits_from_env()
    try:
        inputs = validate_request(request, limits)  # bad input exits before any model is loaded
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sides = make_sides(args)
    comparator = Comparator(sides, parallel=args.parallel, timeout_s=args.timeout, limits=limits)
    try:
        result = comparator.run(request, inputs=inputs)  # the media were decoded once, above
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.record:
        from recording.session import Recorder

        Recorder(args.record).record(result)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_text(result)
    return EXIT_OK if any(r.error is None for r in result.results.values()) else EXIT_INTERNAL


def run_eval_command(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from evaluation.report import write_report
    from evaluation.runner import finished, run_eval
    from evaluation.suites import load_suite
    from modalities.errors import InputError
    from models.comparison import Comparator
    from models.tiny import TINY_NOTICE

    try:
        tasks = [t for path in args.suites for t in load_suite(path)[: args.limit]]
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.thinking]
    out = Path(args.out)
    already = len(finished(out))
    comparator = Comparator(make_sides(args), parallel=args.parallel, timeout_s=args.timeout)
    total = len(tasks) * len(modes)
    with tqdm(total=total, initial=min(already, total), desc="tasks", unit="task", file=sys.stderr) as bar:
        for row in run_eval(tasks, comparator, out, modes, args.allow_code_execution, args.max_new_tokens):
            bar.update(1)
            bar.set_postfix_str(f"{row['task']}")
    notes = []
    if any(t.score == "code" for t in tasks) and not args.allow_code_execution:
        notes.append("code tasks were not scored: run with --allow-code-execution to execute the models' code")
    if any(s.backend and s.backend.is_replica for s in comparator.sides.values()):
        notes.append(TINY_NOTICE)
    for kind, path in write_report(out, notes).items():
        print(f"{kind}: {path}")
    print(f"raw: {out / 'results.jsonl'}")
    return EXIT_OK


def make_sides(args) -> dict:
    """Each side from its server where an endpoint is given, else loaded here."""
    from models.comparison import SIDES, load_side, resolve_sources
    from models.remote import remote_side

    local = {k: None if getattr(args, f"{k}_endpoint") else getattr(args, k) for k in SIDES}
    sources = resolve_sources(local["gemma"], local["qwen"], args.tiny, args.preset)
    sides = {}
    for key in SIDES:
        endpoint = getattr(args, f"{key}_endpoint")
        if endpoint:
            sides[key] = remote_side(key, endpoint, getattr(args, key), getattr(args, f"{key}_accepts"), args.api_key_env)
        else:
            print(f"loading {key}: {sources[key]}", file=sys.stderr, flush=True)
            sides[key] = load_side(key, sources[key], args.device, args.fast)
        if sides[key].load_error:
            print(f"  {key} not available: {sides[key].load_error}", file=sys.stderr, flush=True)
    return sides


def run_tiny(args) -> int:
    from models.tiny import build_replicas

    for folder in build_replicas(args.dir):
        print(folder)
    return EXIT_OK


def _load_session(path: str):
    """The recorded session at `path` with its problems warned about, or None after one error line."""
    from recording.session import SessionError, load_session

    try:
        session = load_session(path)
    except SessionError as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    for problem in session.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return session


def run_export(args) -> int:
    from pathlib import Path

    from recording.export import export

    session = _load_session(args.path)
    if session is None:
        return EXIT_BAD_INPUT
    print(export(session, args.format, Path(args.out) if args.out else None))
    return EXIT_OK


def _launch(demo, args) -> None:
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise SystemExit("--auth / COMPARE_AUTH must be USER:PASSWORD")
        auth = (user, password)
    # One comparison at a time: each model generates for one request at once, and the queue
    # shows everyone else their place. Gradio's CORS and host checks stay at their defaults.
    demo.queue(default_concurrency_limit=1).launch(
        server_name=args.host, server_port=args.port, share=args.share, show_error=True, auth=auth
    )


def run_replay(args) -> int:
    from ui_replay import build_replay_demo

    session = _load_session(args.replay)
    if session is None:
        return EXIT_BAD_INPUT
    _launch(build_replay_demo(session), args)
    return EXIT_OK


def run_app(args) -> int:
    from models.comparison import SIDES
    from models.slots import ModelSlots
    from ui import build_demo

    if args.replay:
        return run_replay(args)

    slots = ModelSlots(device=args.device, parallel=args.parallel, timeout_s=args.timeout, fast=args.fast)
    slots.sides.update(make_sides(args))
    extra = {k: [s] for k in SIDES if (s := slots.source(k))}
    demo = build_demo(slots, extra_sources=extra, tiny=args.tiny, record_dir=args.record, lock_models=args.lock_models)
    _launch(demo, args)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "compare":
        return run_compare(args)
    if args.command == "tiny":
        return run_tiny(args)
    if args.command == "export":
        return run_export(args)
    if args.command == "eval":
        return run_eval_command(args)
    return run_app(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # an internal error: one line, exit 1 (set GQ_DEBUG=1 for the traceback)
        if os.environ.get("GQ_DEBUG"):
            raise
        print(f"internal error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)

