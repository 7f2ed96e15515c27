"""WeasyPrint and CairoSVG in a child process with a time and a memory limit.

A thread cannot be stopped, so a PDF that takes minutes would hold a server thread (and a
CPU) for minutes whatever the request's time limit says. The child process is killed when
its time is up, and its memory is capped, so one export can never occupy a worker for
longer than the limit. The parent hands over HTML or SVG on stdin and reads the file from
stdout; the child imports neither Django nor the app.

Run as a script by `build` only: `python sandbox.py pdf BASE_URL STYLESHEET` or
`python sandbox.py png SCALE`.
"""

import logging
import resource
import subprocess
import sys
import threading
from pathlib import Path

logger = logging.getLogger(__name__)
MEMORY_EXIT = 3  # the child's exit code when it ran out of its memory


class BuildTimeout(Exception):
    """The child did not finish within its time limit and was killed."""


class BuildTooLarge(Exception):
    """The child ran out of the memory it may use."""


class BuildBusy(Exception):
    """Too many builds already run in this process."""


# At most this many children per server process at once: a burst of downloads queues
# instead of starting a child (and its memory) for each.
_SLOTS = threading.BoundedSemaphore(2)


def build(args: list[str], data: bytes, *, seconds: float, memory_mb: int) -> bytes:
    """Run this module as a child with `args`, `data` on stdin; its stdout.

    Raises BuildBusy when no slot frees within `seconds`, BuildTimeout when the child
    runs longer than `seconds`, BuildTooLarge when it exceeds `memory_mb`.
    """
    if not _SLOTS.acquire(timeout=seconds):
        raise BuildBusy
    try:
        # -I: the script's folder not on the path (chain/selectors.py would shadow the
        # standard library's), no PYTHON* variables, no user site-packages.
        script = str(Path(__file__).resolve())
        command = [sys.executable, "-I", script, str(memory_mb), *args]
        try:
            done = subprocess.run(command, input=data, capture_output=True, timeout=seconds)
        except subprocess.TimeoutExpired as error:  # subprocess.run has killed the child
            raise BuildTimeout from error
    finally:
        _SLOTS.release()
    # Under its memory limit Pango and Cairo often crash (SIGSEGV, SIGABRT) instead of
    # raising MemoryError: a child ended by a signal counts as out of memory too.
    if done.returncode == MEMORY_EXIT or done.returncode < 0:
        logger.warning(
            "%s build out of memory (%s MB, exit %s): %s",
            args[0],
            memory_mb,
            done.returncode,
            done.stderr.decode(errors="replace")[-2000:],
        )
        raise BuildTooLarge
    if done.returncode:
        raise RuntimeError(
            f"{args[0]} build failed ({done.returncode}): {done.stderr.decode(errors='replace')}"
        )
    return done.stdout


def _pdf(html: bytes, base_url: str, stylesheet: str) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    # The report needs nothing from the network; local files only, should a style want one.
    fetcher = URLFetcher(allowed_protocols={"file", "data"})
    document = HTML(string=html.decode(), base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[CSS(filename=stylesheet, url_fetcher=fetcher)])


def _png(svg: bytes, scale: str) -> bytes:
    import cairosvg

    return cairosvg.svg2png(bytestring=svg, scale=float(scale))


def main(argv: list[str]) -> int:
    memory_mb, kind, *args = argv
    limit = int(memory_mb) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    data = sys.stdin.buffer.read()
    try:
        out = _pdf(data, *args) if kind == "pdf" else _png(data, *args)
    except MemoryError:
        return MEMORY_EXIT
    sys.stdout.buffer.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
