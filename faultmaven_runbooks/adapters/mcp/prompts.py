"""Prompts: offering a runbook after a resolved case, writing one, and working through one.

Prompt arguments arrive as strings. Their allowed values live in CHOICES, which the protocol
layer uses both to refuse a wrong value with -32602 (naming the allowed ones) and to complete it.
"""

from __future__ import annotations

from importlib import resources

from mcp.server import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from ...errors import RunbookError
from ...service import RunbookService

# Package data (faultmaven_runbooks/prompts/*.md), found through the package, so an installed
# wheel serves them as a source checkout does.
PROMPTS = resources.files("faultmaven_runbooks") / "prompts"
VARIANTS = ("minimal", "standard", "detailed")
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {"runbook_offer": {"variant": VARIANTS}}


def read_prompt(name: str) -> str:
    try:
        return (PROMPTS / f"{name}.md").read_text("utf-8")
    except FileNotFoundError:
        raise MCPError(INTERNAL_ERROR, f"prompt text {name}.md is missing from the installed package") from None


def register(server: MCPServer, service: RunbookService, surface) -> None:
    if surface.offers("search"):
        @server.prompt(title="Work through a runbook")
        def use_runbook(runbook_id: str, section: str = "") -> str:
            """Walk through a runbook (or one section) step by step, running its commands safely."""
            try:
                page = service.get_runbook(runbook_id, section=section or None)
            except RunbookError as exc:
                raise MCPError(INVALID_PARAMS, str(exc),
                               data={"argument": "section" if section else "runbook_id"}) from None
            more = f"\n\n(Page 1 of {page.pages}: read the rest with get_runbook.)" if page.pages > 1 else ""
            return (f"Help me work through the runbook {page.title!r} (id {page.id}). Follow it step by step: "
                    "for each step say what it checks or changes, run its commands with the `execute` tool "
                    "(reads run, changes are dry-run first and need a person's approval), and tell me what the "
                    f"output means before moving on.\n\n{page.content}{more}")

    if not (surface.offers("learning", writes=True) or surface.offers("authoring", writes=True)):
        return

    @server.prompt(title="Offer a runbook after a resolved case")
    def runbook_offer(variant: str = "standard", case_title: str = "") -> str:
        """Doctor-patient guidance for offering, once, to turn the resolved case into a runbook."""
        text = read_prompt(f"runbook_offer_{variant}")
        return text.replace("{case_title}", case_title.strip() or "this issue")

    @server.prompt(title="Write a runbook from a resolved case")
    def runbook_writing(case_summary: str = "") -> str:
        """Instructions for writing the runbook in the five-part structure."""
        text = read_prompt("runbook_writing")
        if case_summary.strip():
            text += "\n\n## The resolved case\n\n" + case_summary.strip()[:20_000]
        return text
