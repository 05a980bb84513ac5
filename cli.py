"""The one-shot commands: `compare`, `eval`, `tiny`, `export`, `clip` and `leaderboard`, and how their results are printed.

Each takes the parsed arguments (see app.py) and returns the exit status: 0 when it worked,
2 on invalid input (one line on stderr, no model loaded), 1 when no model could run.
"""

from __future__ import annotations

import json
import sys

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _print_text(result) -> None:
    for key in result.order:
        r = result.results[key]
        print(f"=== {key}: {r.source} [{r.status}]")
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
            ttft = f"{m.ttft_s:.3f}s" if m.ttft_s is not None else "n/a"
            print(
                f"  ttft {ttft}  decode {decode}  total {m.total_s:.2f}s  "
                f"out {m.output_tokens} (thinking {m.thinking_tokens})  in {m.input_tokens.total}"
            )
        if m and m.drafting:
            print(f"  {m.drafting.summary()}")
        if r.generation:
            print(f"  sampling: {r.generation.summary()}")
            for line in r.generation.not_applied:
                print(f"  not applied: {line}")
        print()


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def limits_or_say():
    """The input limits, with the COMPARE_* environment applied; None after one error line."""
    from modalities.limits import limits_from_env

    try:
        return limits_from_env()
    except ValueError as e:
        say(f"error: {e}")
        return None


def run_compare(args) -> int:
    from engine.comparator import Comparator
    from engine.sides import make_sides
    from modalities.errors import InputError
    from modalities.request import CompareRequest, GenerationSettings, validate_request

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
            sampling=args.sampling,
            draft=args.model_options.draft,
        ),
    )
    limits = limits_or_say()
    if limits is None:
        return EXIT_BAD_INPUT
    try:
        inputs = validate_request(request, limits)  # bad input exits before any model is loaded
    except InputError as e:
        say(f"error: {e}")
        return EXIT_BAD_INPUT
    recorder = None
    if args.record:  # a folder that cannot be written is said now, before any model runs
        from recording.session import Recorder

        try:
            recorder = Recorder(args.record)
        except OSError as e:
            say(f"error: record: {InputError('folder', e.strerror or str(e)).args[0]}")
            return EXIT_BAD_INPUT
    comparator = Comparator(make_sides(args.model_options, say), parallel=args.parallel, timeout_s=args.timeout, limits=limits)
    try:
        result = comparator.run(request, inputs=inputs)  # the media were decoded once, above
    except InputError as e:  # what a loaded model's own limits refuse (too short, too small) is still bad input
        say(f"error: {e}")
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_text(result)
    status = EXIT_OK if any(r.error is None for r in result.results.values()) else EXIT_INTERNAL
    if recorder:
        try:
            recorder.record(result)
        except OSError as e:
            say(f"error: record: this comparison was not recorded ({e.strerror or e})")
            status = EXIT_INTERNAL
    return status


def run_eval(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from engine.comparator import Comparator
    from engine.sides import make_sides
    from evaluation.report import write_report
    from evaluation import runner
    from evaluation.suites import load_suite
    from modalities.errors import InputError
    from models.tiny import TINY_NOTICE

    limits = limits_or_say()
    if limits is None:
        return EXIT_BAD_INPUT
    try:
        tasks = [t for path in args.suites for t in load_suite(path)[: args.limit]]
    except InputError as e:
        say(f"error: {e}")
        return EXIT_BAD_INPUT
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.thinking]
    out = Path(args.out)
    done = runner.finished(out)
    try:
        runner.check_sampling(done, args.sampling)
    except InputError as e:
        say(f"error: {e}")
        return EXIT_BAD_INPUT
    already = len(done)
    comparator = Comparator(make_sides(args.model_options, say), parallel=args.parallel, timeout_s=args.timeout, limits=limits)
    total = len(tasks) * len(modes)
    with tqdm(total=total, initial=min(already, total), desc="tasks", unit="task", file=sys.stderr) as bar:
        for row in runner.run_eval(
            tasks, comparator, out, modes, args.allow_code_execution, args.max_new_tokens, args.sampling,
            draft=args.model_options.draft,
        ):
            bar.update(1)
            bar.set_postfix_str(row.task)
    notes = [f"sampling: {args.sampling} (each run's results hold the values each model ran with)"]
    if any(t.score == "code" for t in tasks) and not args.allow_code_execution:
        notes.append("code tasks were not scored: run with --allow-code-execution to execute the models' code")
    if any(s.backend and s.backend.is_replica for s in comparator.sides.values()):
        notes.append(TINY_NOTICE)
    for kind, path in write_report(out, notes).items():
        print(f"{kind}: {path}")
    print(f"raw: {out / runner.RESULTS_FILE}")
    return EXIT_OK


def run_tiny(args) -> int:
    """Build every replica (one per real template shape) and print their folders."""
    from models.tiny import build

    for folder in build(directory=args.dir).values():
        print(folder)
    return EXIT_OK


def load_session_or_say(path: str):
    """The recorded session at `path` with its problems warned about, or None after one error line."""
    from recording.session import SessionError, load_session

    try:
        session = load_session(path)
    except SessionError as e:
        say(f"error: {e}")
        return None
    for problem in session.problems:
        say(f"warning: {problem}")
    return session


def run_export(args) -> int:
    from pathlib import Path

    from recording.export import export

    session = load_session_or_say(args.path)
    if session is None:
        return EXIT_BAD_INPUT
    print(export(session, args.format, Path(args.out) if args.out else None))
    return EXIT_OK


def run_clip(args) -> int:
    """`clip SESSION`: one recorded comparison as an MP4 or GIF; prints the file and how long it took."""
    import time
    from pathlib import Path

    from recording.clip import SIZES, render_clip
    from recording.clip_timeline import ClipError

    session = load_session_or_say(args.path)
    if session is None:
        return EXIT_BAD_INPUT
    if not 1 <= args.entry <= len(session.entries):
        say(f"error: entry {args.entry}: the session holds {len(session.entries)} comparison(s), numbered from 1")
        return EXIT_BAD_INPUT
    start = time.perf_counter()
    try:
        out = render_clip(session.entries[args.entry - 1], Path(args.out), SIZES[args.size], args.speed,
                          media_root=session.folder)
    except ClipError as e:
        say(f"error: {e}")
        return EXIT_BAD_INPUT
    print(out)
    say(f"rendered in {time.perf_counter() - start:.1f} s")
    return EXIT_OK


def run_leaderboard(args) -> int:
    """`leaderboard DIR`: the arena's votes counted, printed (or written to --out) as html, md or json."""
    from pathlib import Path

    from preference.leaderboard import leaderboard, to_json, to_markdown
    from preference.leaderboard_page import to_html
    from preference.votes import read_votes

    try:
        votes, dropped = read_votes(args.dir)
    except FileNotFoundError as e:
        say(f"error: {e}")
        return EXIT_BAD_INPUT
    board = leaderboard(votes, dropped, include_replicas=args.include_replicas)
    text = {"json": to_json, "md": to_markdown, "html": to_html}[
        args.format
    ](board)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(args.out)
    else:
        sys.stdout.write(text)
    return EXIT_OK
