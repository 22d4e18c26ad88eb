from faultmaven_runbooks.library.markdown import parse_runbook, split_front_matter
from tests.conftest import FIXTURES

LIB = FIXTURES / "library"


def parse(rel: str):
    return parse_runbook((LIB / rel).read_bytes(), rel)


def test_front_matter_sections_and_steps():
    result = parse("static/compute/pod-crashloop.md")
    rb = result.runbook
    assert result.warnings == []
    assert (rb.id, rb.title, rb.type, rb.severity) == ("pod-crashloop", "Pod stuck in CrashLoopBackOff", "static", "high")
    assert rb.alerts == ["KubePodCrashLooping"]
    assert ["Diagnosis Steps", "2. Validation"] in [s.path for s in rb.sections]
    commands = [s.command for s in rb.steps]
    assert "kubectl -n {namespace} logs {pod_name} --previous --tail=100" in commands
    # inline code that is a command counts as a step too, prose inline code does not
    assert "kubectl -n {namespace} rollout status deployment/{deployment}" in commands
    assert "Back-off restarting failed container" not in commands
    logs = next(s for s in rb.steps if "logs" in s.command)
    assert logs.description == "Logs of the crashed container"
    assert logs.section == "Diagnosis Steps > 2. Validation"
    assert logs.placeholders == ["namespace", "pod_name"]


def test_hugo_toml_front_matter_is_read():
    rb = parse("imported/HugoStyle.md").runbook
    assert rb.title == "Kube Job Failed"
    assert rb.aliases == ["KubeJobFailed"]
    assert rb.id == "hugostyle"


def test_no_front_matter_uses_first_heading_and_path():
    rb = parse("imported/no-front-matter.md").runbook
    assert rb.title == "Ingress returning 502 Bad Gateway"
    assert rb.id == "no-front-matter"
    assert rb.type == "static" and rb.severity == "medium"


def test_broken_yaml_is_indexed_with_a_warning():
    result = parse("imported/broken-yaml.md")
    assert result.runbook is not None
    assert result.runbook.title == "Broken front matter runbook"
    assert len(result.warnings) == 1 and "front matter is not valid" in result.warnings[0]


def test_non_utf8_bytes_are_replaced_with_a_warning():
    result = parse("imported/latin1.md")
    assert result.runbook is not None and "service latency" in result.runbook.title
    assert any("UTF-8" in w for w in result.warnings)


def test_stub_is_skipped_with_one_warning():
    result = parse("imported/_index.md")
    assert result.runbook is None
    assert len(result.warnings) == 1


def test_unclosed_front_matter_is_plain_markdown():
    meta, body, warnings = split_front_matter("---\ntitle: x\n# Heading\ntext")
    assert meta == {} and "# Heading" in body and warnings


def test_type_defaults_from_folder():
    text = b"# A template\n\nFill in the incident details here for the team."
    assert parse_runbook(text, "static/templates/t.md").runbook.type == "template"
    assert parse_runbook(text, "dynamic/incidents/i.md").runbook.type == "dynamic"
    assert parse_runbook(text, "anything/else.md").runbook.type == "static"


def test_severity_aliases():
    text = "---\nseverity: Warning\n---\n# T\n\nSome runbook body text goes here."
    assert parse_runbook(text, "x.md").runbook.severity == "medium"


def test_setext_heading_underline_is_not_section_text():
    rb = parse_runbook("Title here\n=====\n\nBody text long enough here.\n\nSub\n---\nmore text", "x.md").runbook
    assert [(s.path, s.text) for s in rb.sections] == [([], "Body text long enough here."), (["Sub"], "more text")]


def test_very_long_title_still_chunks():
    from faultmaven_runbooks.search.text import MAX_CHUNK_CHARS, chunk_runbook

    title = "T" * 5000
    rb = parse_runbook(f"---\ntitle: {title}\n---\n# {title}\n\n## {'H' * 3000}\n\n" + "word " * 800, "x.md").runbook
    chunks = chunk_runbook(rb)
    assert len(chunks) > 2 and all(len(c.text) <= MAX_CHUNK_CHARS + len(title) for c in chunks[1:])


def test_clash_fallback_ids_never_collide():
    from faultmaven_runbooks.library.store import unique_ids

    ids = unique_ids({"a/x.md": "x", "b/x.md": "x", "a-x.md": "a-x", "_.md": "runbook"})
    assert len(set(ids.values())) == 4
    assert ids["a-x.md"] == "a-x" and ids["a/x.md"] == "a-x-2" and ids["b/x.md"] == "b-x"
