"""Serving the app (or a recorded session's replay): the models, the visitor budgets, the queue
and the front door (ui.guard), from the parsed command line (app.py).

One comparison at a time, or --concurrency N with both models on servers; the comparator's turns
are sized the same (an evaluation from the page takes one per task).
"""

from __future__ import annotations


def _launch(
    demo, args, max_file_bytes: int | None = None, allowed_paths: list[str] | None = None, concurrency: int = 1,
    upload_bytes_per_hour: int | None = None, queue_size: int = 64,
) -> None:
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise SystemExit("--auth / COMPARE_AUTH must be USER:PASSWORD")
        auth = (user, password)
    from starlette.middleware import Middleware

    from ui.accessibility import CSS, JS
    from ui.guard import RequestGuard, local_hosts

    # One comparison at a time (or `concurrency` with both models on servers): the queue shows
    # everyone else their place. The guard answers first: a loopback bind takes only its
    # own Host (not with --share, whose tunnel names another), and no URL passes as file data.
    hosts = None if args.share else local_hosts(args.host, args.port)
    # An explicit size: left unset on ZeroGPU, Gradio makes it 1, and every event (Stop, the checks,
    # the pickers' refresh) is refused while one comparison waits.
    demo.queue(default_concurrency_limit=concurrency, max_size=queue_size).launch(
        server_name=args.host, server_port=args.port, share=args.share, show_error=True, auth=auth,
        app_kwargs={"middleware": [Middleware(RequestGuard, hosts=hosts, upload_bytes_per_hour=upload_bytes_per_hour,
                                              behind_proxy=args.behind_proxy)]},
        max_file_size=max_file_bytes,  # the input limit, enforced while the upload arrives
        css=CSS, js=JS, allowed_paths=allowed_paths,
    )


def run_replay(args) -> int:
    from cli import EXIT_BAD_INPUT, EXIT_OK, load_session_or_say
    from ui.replay import build_replay_demo

    session = load_session_or_say(args.replay)
    if session is None:
        return EXIT_BAD_INPUT
    from recording.session import MEDIA_DIR

    # The recorded inputs are shown from the session's own media folder, and from nowhere else.
    _launch(build_replay_demo(session), args, allowed_paths=[str(session.folder / MEDIA_DIR)])
    return EXIT_OK


def comparisons_at_once(args, say) -> int:
    """--concurrency where both models are on servers (which batch requests); 1 where either is
    loaded here, since a local model generates for one request at a time."""
    from models.families import SIDES

    if args.concurrency < 1:
        raise SystemExit("--concurrency must be 1 or more")
    if args.concurrency > 1 and not all(args.model_options.endpoints.get(k) for k in SIDES):
        say(f"--concurrency {args.concurrency} ignored: it needs both models on servers (--gemma-endpoint and "
            "--qwen-endpoint); local models answer one comparison at a time")
        return 1
    return args.concurrency


ZEROGPU_LOCKED = ("The models are fixed on this Space: on ZeroGPU they are placed when the server starts, before "
                  "any GPU is attached, so a visitor cannot switch them.")


def on_zerogpu(args, say) -> bool:
    """Prepare a ZeroGPU start (engine.gpu): `spaces` patches torch before any model is placed, the
    weights load on this thread (the emulated CUDA exists on it only), nothing runs on the GPU
    outside a GPU call, and the models stay as started. False where something asked cannot run there."""
    import os
    from dataclasses import replace

    if args.model_options.fast:
        say("error: --fast cannot run on ZeroGPU: torch.compile is not supported there (ahead-of-time "
            "compilation with spaces.aoti_* is not wired into this app). Start without --fast.")
        return False
    os.environ["HF_DEACTIVATE_ASYNC_LOAD"] = "1"  # transformers' loading threads would meet no CUDA
    import spaces  # noqa: F401  # patches torch: "cuda" is emulated on this thread until a GPU call

    args.model_options = replace(args.model_options, warm=False, device=args.model_options.device or "cuda")
    args.lock_models = True
    return True


def run_app(args) -> int:
    from cli import EXIT_BAD_INPUT, EXIT_OK, limits_or_say, say
    from engine import gpu
    from engine.sides import make_sides
    from engine.slots import ModelSlots
    from ui import build_demo

    if args.replay:
        return run_replay(args)
    if gpu.ON_ZEROGPU and not on_zerogpu(args, say):
        return EXIT_BAD_INPUT
    from engine.allowance import VisitorBudget
    from engine.turns import Turns
    from modalities.limits import from_env
    from preference.policy import VotePolicy

    limits = limits_or_say()
    if limits is None:
        return EXIT_BAD_INPUT
    try:
        budget = from_env(VisitorBudget)
    except ValueError as e:
        say(f"error: {e}")
        return EXIT_BAD_INPUT
    concurrency = comparisons_at_once(args, say)
    # The comparator's turns are the queue's size: an evaluation from the page takes one per task.
    slots = ModelSlots(
        args.model_options, make_sides(args.model_options, say),
        parallel=args.parallel, timeout_s=args.timeout, limits=limits, turns=Turns(concurrency),
    )
    if gpu.ON_ZEROGPU:
        try:
            gpu.install(slots.comparator, gpu.size_for(slots.comparator.sides))  # before the launch, as spaces needs
        except ValueError as e:
            say(f"error: {e}")
            return EXIT_BAD_INPUT
    policy = VotePolicy(min_tokens=args.vote_min_tokens, min_read_s=args.vote_min_read, max_votes=args.votes_per_hour)
    lock = ZEROGPU_LOCKED if gpu.ON_ZEROGPU else args.lock_models
    demo = build_demo(slots, tiny=args.tiny, record_dir=args.record, lock_models=lock, arena_dir=args.arena,
                      draft=args.draft, vote_policy=policy, behind_proxy=args.behind_proxy, budget=budget)
    _launch(demo, args, max_file_bytes=limits.max_file_bytes, concurrency=concurrency,
            upload_bytes_per_hour=budget.upload_bytes_per_hour, queue_size=budget.queue_size)
    return EXIT_OK
