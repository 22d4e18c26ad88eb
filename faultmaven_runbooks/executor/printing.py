"""What `kubectl get` prints for objects already read: tables, `-o name|json|yaml|wide`,
`-o jsonpath=`, `jsonpath-as-json=`, `custom-columns=`, `--no-headers` and `--sort-by`.

Byte for byte where a runbook pipes the text on (`| grep`, `| awk '{print $1}'`, `| wc -l`):
tables go through Go's tabwriter rules (minimum width 6, padding 3), JSON is indented by four
spaces with sorted keys, every line ends with a newline, jsonpath output does not.
Objects are cleaned first (Secret and ConfigMap values, secret env values), whatever format
is asked for, so no template can pull a credential out of them.
"""

from __future__ import annotations

import yaml

from . import jsonpath
from .gofmt import go_json, go_text
from .operation import FilterError
from .redact import clean_object

FORMATS = ("wide", "yaml", "json", "name")
TEMPLATE_FORMATS = ("jsonpath", "jsonpath-as-json", "custom-columns")


class OutputError(FilterError):
    """The output option cannot be used (the message says what to write instead)."""


def check_output(output: str) -> None:
    """Validate an -o value when the step is planned, so a bad template is found before a run."""
    fmt, _, arg = output.partition("=")
    if output in FORMATS:
        return
    if fmt in ("jsonpath", "jsonpath-as-json") and arg:
        jsonpath.parse(arg)
        return
    if fmt == "custom-columns" and arg:
        columns(arg)
        return
    if fmt in ("jsonpath-file", "custom-columns-file", "template-file"):
        raise OutputError(f"-o {fmt} reads a local file; paste the template into the step")
    raise OutputError(f"output format {output[:40]!r} is not supported; use -o yaml, json, wide, name, "
                      "jsonpath=..., jsonpath-as-json=... or custom-columns=...")


def columns(spec: str) -> list[tuple[str, list]]:
    out = []
    for part in spec.split(","):
        header, sep, expr = part.partition(":")
        if not sep or not expr:
            raise OutputError(f"custom-columns entry {part[:40]!r} is not HEADER:.field.path")
        out.append((header, jsonpath.parse(jsonpath.relaxed(expr))))
    return out


def tabulate(rows: list[list[str]]) -> str:
    """Go's text/tabwriter as kubectl sets it up: cells padded to max(6, widest + 3); the last
    cell of a line is never padded."""
    widths: list[int] = []
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            if i >= len(widths):
                widths.append(6)
            widths[i] = max(widths[i], len(cell) + 3)
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + row[-1:]
        lines.append("".join(cells))
    return "".join(line + "\n" for line in lines)


def _custom_columns(spec: str, items: list[dict], no_headers: bool) -> str:
    cols = columns(spec)
    rows = [] if no_headers else [[h for h, _ in cols]]
    for item in items:
        row = []
        for _, template in cols:
            values = [v for group in jsonpath.find(template, item) for v in group]
            row.append(",".join(go_text(v) for v in values) if values else "<none>")
        rows.append(row)
    return tabulate(rows) if rows else ""


def _sort(items: list[dict], sort_by: str) -> list[dict]:
    template = jsonpath.parse(jsonpath.relaxed(sort_by))

    def key(item):
        values = [v for group in jsonpath.find(template, item) for v in group]
        value = values[0] if values else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (1, value, "")
        return (0 if value is None else 2, 0, go_text(value) if value is not None else "")

    return sorted(items, key=key)


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    # Like Go's YAML: multi-line text as a block, and double quotes where a bare word would read
    # as something else ("true", "1", a timestamp).
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    resolved = dumper.resolve(yaml.ScalarNode, value, (True, False))
    style = '"' if resolved != "tag:yaml.org,2002:str" or value == "" else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(obj: object) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=1 << 20)


def as_list(items: list[dict]) -> dict:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def name_of(item: dict, kind: str, group: str) -> str:
    """`pod/web-1`, `deployment.apps/web`: what `-o name` prints."""
    word = kind.lower() + (f".{group}" if group else "")
    return f"{word}/{(item.get('metadata') or {}).get('name', '')}"


def render(items: list[dict], *, single: bool, output: str | None, kind: str, group: str, table,
           no_headers: bool = False, sort_by: str | None = None) -> str:
    """The text kubectl prints. `table(items, wide, no_headers)` draws the human-readable table."""
    items = [clean_object(i, kind) for i in items]
    if sort_by and not single:
        items = _sort(items, sort_by)
    data = items[0] if single and items else as_list(items)
    fmt, _, arg = (output or "").partition("=")
    if output == "json":
        return go_json(data, indent=True) + "\n"
    if output == "yaml":
        return to_yaml(data)
    if output == "name":
        return "".join(name_of(i, kind, group) + "\n" for i in items)
    if fmt in ("jsonpath", "jsonpath-as-json"):
        return jsonpath.render(arg, data, as_json=fmt == "jsonpath-as-json")
    if fmt == "custom-columns":
        return _custom_columns(arg, items, no_headers)
    return table(items, output == "wide", no_headers)
