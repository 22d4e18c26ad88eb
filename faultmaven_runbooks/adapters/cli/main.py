"""Command line: serve / index / search, plus the feature areas' own commands."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from ...api.search import SearchRequest
from ...memory import freeze_start_up_objects, limit_malloc_arenas, pause_collector
from ...settings import Settings
from . import approvers, audit, backups, executions
from .args import add_paths

log = logging.getLogger("faultmaven_runbooks")


def read_settings(args: argparse.Namespace) -> Settings:
    """The one read of the environment (and .env), with this command's flags applied on top."""
    settings = Settings().with_paths(getattr(args, "library", None), getattr(args, "data", None))
    bind = {k: v for k, v in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None)))
            if v is not None}
    return settings.replace(**bind) if bind else settings


def make_service(args: argparse.Namespace):
    from ...service import RunbookService

    return RunbookService(args.settings)


def cmd_serve(args: argparse.Namespace) -> int:
    pause_collector()  # until serving starts: see memory.freeze_start_up_objects
    from ..mcp.server import build_server, parse_toolsets
    from ..mcp.transport import serve_stdio

    try:
        toolsets = parse_toolsets(args.toolsets)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ..metrics import Metrics

    service = make_service(args)
    metrics = Metrics()
    server = build_server(service, toolsets=toolsets, read_only=args.read_only, metrics=metrics)
    # The model, index and state store load in the background: the handshake never waits for them.
    service.warm_up()
    service.open_state()
    try:
        if args.transport == "stdio":
            log.info("serving library %s over stdio", service.library.root)
            import anyio

            freeze_start_up_objects()
            anyio.run(serve_stdio, server)
            return 0
        from ..http.app import run_http

        run_http(service, server, args.settings, transport=args.transport, metrics=metrics, read_only=args.read_only)
        return 0
    finally:
        _leave(service)


def _leave(service) -> None:
    """The client hung up (stdin closed, or the HTTP server was stopped). If background work is
    still loading the model, indexing or opening the state, normal interpreter shutdown would
    finalize while a thread sits in native code (ONNX Runtime, Chroma, a compile child's pipes)
    and abort the process ("terminate called without an active exception", "FATAL: exception not
    rethrown", SIGABRT): the indexer outlives the warm-up on a large library. Save what the server
    holds and end the process at once instead; a model compile under way finishes in its own process."""
    if not service.busy():
        service.close()  # buffered retrieval counts saved, the state store let go
        return
    log.info("client gone during warm-up: exiting without waiting for it")
    try:
        service.close()
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def cmd_index(args: argparse.Namespace) -> int:
    service = make_service(args)
    shown = {"last": -1}

    def progress(done: int, total: int, path: str) -> None:
        percent = done * 100 // max(total, 1)
        if percent != shown["last"]:
            shown["last"] = percent
            print(f"\rembedding {done}/{total} chunks ({percent}%) {path[:60]:<60}", end="", file=sys.stderr,
                  flush=True)

    report = service.reindex(progress=progress)
    if report.chunks:
        print(file=sys.stderr)
    print(
        f"indexed {report.indexed} runbooks ({report.chunks} chunks), {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.skipped} skipped in {report.seconds:.2f}s"
        + (" (index rebuilt for a new embedding model)" if report.rebuilt else ""),
        file=sys.stderr,
    )
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    service = make_service(args)
    result = service.search(SearchRequest(query=args.query, type=args.type, severity=args.severity, limit=args.limit))
    print(json.dumps(result.model_dump(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faultmaven-runbooks", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level (to stderr)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "streamable-http", "sse"], default="stdio")
    serve.add_argument("--host", default=None, help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="HTTP port (default 8080)")
    serve.add_argument("--read-only", action="store_true",
                       help="search and reads only: no writes, and execute plans and dry-runs but never applies")
    serve.add_argument("--toolsets", default=None, metavar="LIST",
                       help="comma-separated tool groups to offer: search,execute,learning,authoring,alerts "
                       "(default all)")
    add_paths(serve)
    serve.set_defaults(func=cmd_serve)

    index = sub.add_parser("index", help="index new and changed runbooks (incremental)")
    add_paths(index)
    index.set_defaults(func=cmd_index)

    search = sub.add_parser("search", help="search the library and print JSON")
    search.add_argument("query")
    search.add_argument("--type")
    search.add_argument("--severity")
    search.add_argument("--limit", type=int, default=5)
    add_paths(search)
    search.set_defaults(func=cmd_search)

    # Feature areas add their own subcommands: approve / plan / executions, approvers, audit, backup / restore.
    for area in (executions, approvers, audit, backups):
        area.add_cli(sub, make_service)
    return parser


def main(argv: list[str] | None = None) -> int:
    limit_malloc_arenas()
    args = build_parser().parse_args(argv)
    args.settings = read_settings(args)
    # stdout belongs to the MCP protocol on stdio: every log line goes to stderr. -v is debug for
    # this program only: libraries at debug (markdown-it alone writes ~68,000 lines per index pass)
    # would bury it.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.verbose:
        logging.getLogger("faultmaven_runbooks").setLevel(logging.DEBUG)
    for noisy in ("httpx", "chromadb", "sentence_transformers", "uvicorn.access", "markdown_it", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from ...errors import RunbookError

    try:
        return args.func(args) or 0
    except RunbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
