"""The base of every request model, and turning a refused request into a domain error."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InvalidInput
from ..paging import DEFAULT_LIMIT, MAX_LIMIT

R = TypeVar("R", bound="Request")

Cursor = Annotated[str | None, Field(max_length=500, description="next_cursor of the previous page.")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]


def _lean(schema: dict[str, Any]) -> None:
    # Field titles repeat the names; the MCP tools/list carries these schemas on every turn.
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)


class Request(BaseModel):
    """A use case's input: unknown fields are refused (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=_lean)

    @classmethod
    def of(cls: type[R], value: R | dict[str, Any]) -> R:
        """The request itself, or one validated from a dict; refused input is an InvalidInput
        that names each field, as every adapter reports it."""
        if isinstance(value, cls):
            return value
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            raise InvalidInput(describe(exc.errors(include_url=False), cls)) from None


class PageRequest(Request):
    """One page of a list: pass the previous page's next_cursor to continue."""

    cursor: Cursor = None
    limit: Limit = DEFAULT_LIMIT


def problems(errors: list[Any], model: type[BaseModel] | None = None) -> list[dict[str, str]]:
    """Each refused field and what to fix, as {"field": "a.b", "problem": "..."}, from pydantic's
    error list."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        field = ".".join(loc) or "(body)"
        problem = _problem(loc[-1] if loc else "", err, _bounds(model, loc))
        if loc and problem.startswith(loc[-1] + " "):
            problem = field + problem[len(loc[-1]):]  # the whole path, e.g. alerts.1.status
        out.append({"field": field, "problem": problem})
    return out


def _bounds(model: type[BaseModel] | None, loc: list[str]) -> tuple[Any, Any]:
    """The lower and upper bound of a top-level number field, to say both in one message."""
    field = model.model_fields.get(loc[0]) if model is not None and len(loc) == 1 else None
    low = high = None
    for rule in field.metadata if field else ():
        low = getattr(rule, "ge", None) if getattr(rule, "ge", None) is not None else low
        high = getattr(rule, "le", None) if getattr(rule, "le", None) is not None else high
    return low, high


def _problem(name: str, err: dict[str, Any], bounds: tuple[Any, Any]) -> str:
    """Pydantic's message, said the way the rest of the project says it: what to send instead."""
    kind, ctx, given = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return f"{name} is empty"
    if kind == "string_too_long" and isinstance(given, str):
        return f"{name} is {len(given)} characters; keep it under {ctx.get('max_length')}"
    if kind == "literal_error":
        return f"{name} must be one of {ctx.get('expected')}, got {given!r}"
    if kind in ("greater_than_equal", "less_than_equal") and None not in bounds:
        return f"{name} must be between {bounds[0]} and {bounds[1]}, got {given!r}"
    if kind == "value_error":
        return str(ctx.get("error") or err["msg"])
    if kind == "extra_forbidden":
        return f"{name} is not a field of this request; remove it"
    return err["msg"]


def describe(errors: list[Any], model: type[BaseModel] | None = None) -> str:
    """One line naming every refused field (the first five)."""
    parts = [p["problem"] if p["problem"].startswith(p["field"]) else f"{p['field']}: {p['problem']}"
             for p in problems(errors, model)[:5]]
    return "invalid request: " + "; ".join(parts)
