"""Property: any arguments to any tool get a result or a ToolError, and the server keeps serving."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from faultmaven_runbooks.adapters.mcp.server import build_server

pytestmark = pytest.mark.long

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def test_random_arguments_never_break_the_server(service):
    server = build_server(service)

    async def schemas():
        async with Client(server) as client:
            return {t.name: t.input_schema for t in (await client.list_tools()).tools}

    tools = anyio.run(schemas)
    # Plausible-looking values are mixed in so calls get past the schema into the service.
    plausible = st.sampled_from(["pod-crashloop", "KubePodCrashLooping", "static", "critical", "../../etc/passwd", ""])

    @st.composite
    def calls(draw):
        name = draw(st.sampled_from(sorted(tools)))
        props = list(tools[name].get("properties", {}))
        keys = draw(st.lists(st.sampled_from(props) if props else st.nothing(), unique=True, max_size=len(props)))
        args = {k: draw(json_values | plausible) for k in keys}
        if draw(st.booleans()):
            args[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
        return name, args

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(calls())
    def check(call):
        name, args = call

        async def run():
            async with Client(server) as client:
                result = await client.call_tool(name, args)
                if result.is_error:
                    text = result.content[0].text
                    # A bare "Error executing tool X" would mean an unexpected exception escaped.
                    assert text.strip() != f"Error executing tool {name}", (name, args)
                alive = await client.call_tool("search", {"query": "OOMKilled"})
                assert not alive.is_error

        anyio.run(run)

    check()
