"""learn and get_patterns: the learning loop over MCP, plus the doctor-patient prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ...learning import LearnResult
from ...service import RunbookService
from .errors import domain_errors

PROMPTS = Path(__file__).resolve().parents[3] / "prompts"
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
# learn adds statistics and may write a new runbook: not read-only, never destroys anything.
LEARNS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)


class PatternsResponse(BaseModel):
    incident_patterns: dict[str, dict[str, Any]]
    resolution_effectiveness: dict[str, dict[str, Any]]
    runbook_outcomes: dict[str, dict[str, Any]]
    total_incidents: int


def read_prompt(name: str) -> str:
    try:
        return (PROMPTS / f"{name}.md").read_text("utf-8")
    except FileNotFoundError:
        raise ToolError(f"prompt text {name}.md is missing from {PROMPTS}") from None


def register(server: MCPServer, service: RunbookService) -> None:
    @server.tool(title="Learn from an incident", annotations=LEARNS)
    @domain_errors
    def learn(
        incident_data: Annotated[dict[str, Any], Field(description=(
            "{type, diagnosis[], resolution[], success, duration ('5m'), optional symptoms[], service, "
            "namespace, runbook_used, steps_taken[], side_effects[], id}"))],
        context: Annotated[dict[str, Any] | None, Field(description="{namespace, pod_type, service, cluster}")] = None,
    ) -> LearnResult:
        """Record an incident's outcome (successful or failed). Updates pattern and resolution
        statistics, detects the recurring pattern it belongs to, credits the runbook used, and writes
        a dynamic runbook for new incident types and recurring patterns."""
        return service.learning.learn(incident_data, context)

    @server.tool(title="Learned patterns", annotations=READ_ONLY)
    @domain_errors
    def get_patterns() -> PatternsResponse:
        """The learned data: per pattern its frequency, average resolution time, success rate, common
        solutions and triggers; per resolution its success rate, average time and side effects."""
        return PatternsResponse(**service.learning.get_patterns())

    @server.prompt(title="Offer a runbook after a resolved case")
    def runbook_offer(
        variant: Literal["minimal", "standard", "detailed"] = "standard",
        case_title: str = "",
    ) -> str:
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
