"""What real runbooks contain, read the way the executor reads it: placeholder styles, prompts
and output in code blocks, continuations, here-documents, filters, and the OpenShift corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from faultmaven_runbooks.executor import filters, jq
from faultmaven_runbooks.executor.commands import parse_step
from faultmaven_runbooks.executor.models import ExecuteParameters
from faultmaven_runbooks.executor.names import key_for
from faultmaven_runbooks.executor.operation import FilterError, Manual
from faultmaven_runbooks.executor.planner import analyse, select
from faultmaven_runbooks.executor.policy import Policy
from faultmaven_runbooks.executor.structure import align
from faultmaven_runbooks.library.markdown import parse_runbook
from faultmaven_runbooks.library.steps import block_commands
from faultmaven_runbooks.library.store import RunbookLibrary

OPENSHIFT = Path(__file__).parent / "fixtures" / "openshift-runbooks"


@pytest.mark.parametrize("written, key", [
    ("<namespace>", "namespace"), ("<my-namespace>", "namespace"), ("$NAMESPACE", "namespace"), ("NS", "namespace"),
    ("{{ $labels.namespace }}", "namespace"), ("<alert namespace label>", "namespace"),
    ("<value of namespace label from alert>", "namespace"), ("<pod name from previous step>", "pod_name"),
    ("<pod>", "pod_name"), ("$POD", "pod_name"), ("<my-pvc>", "pvc_name"), ("<node-name>", "node_name"),
    ("$NODE_NAME", "node_name"), ("<storage-class-name>", "storage_class"), ("<vm-name>", "vm_name"),
    ("$CDI_NAMESPACE", "cdi_namespace"), ("<virt-launcher-pod>", "virt_launcher_pod"), ("$KMP_NAME", "kmp_name"),
])
def test_every_placeholder_style_asks_for_a_clear_context_key(written, key):
    assert key_for(written) == key


@pytest.mark.parametrize("command", [
    "kubectl -n <namespace> get pod <pod name from previous step>",
    "kubectl -n $NAMESPACE get pod $POD",
    "kubectl -n ${NAMESPACE} get pod ${POD}",
    "kubectl -n \"$NAMESPACE\" get pod \"${POD}\"",
    "kubectl -n {namespace} get pod {pod_name}",
    "kubectl -n {{ $labels.namespace }} get pod {{ $labels.pod }}",
])
def test_each_style_fills_the_same_operation(command):
    parsed = parse_step(command, {"namespace": "production", "pod_name": "web-1"})
    assert parsed.classification == "read" and not parsed.missing, parsed.reason
    assert parsed.operation.describe() == "get pods/web-1 in production"


def test_code_blocks_keep_commands_and_drop_prompts_output_and_here_documents():
    block = ("$ kubectl get pods \\\n    -n production\nNAME    READY   STATUS\nweb-1   1/1     Running\n"
             "$ kubectl get svc\n# a comment\n")
    assert block_commands(block) == ["kubectl get pods -n production", "kubectl get svc", "# a comment"]
    plain = "kubectl get pods -l app=alertmanager\n\nNAMESPACE   NAME     READY\ndefault     am-0     1/2\nkubectl get ev\n"
    assert block_commands(plain) == ["kubectl get pods -l app=alertmanager", "kubectl get ev"]
    heredoc = "cat <<EOF | kubectl apply -f -\nkind: Pod\nmetadata:\n  name: x\nEOF\nkubectl get pods\n"
    assert block_commands(heredoc) == ["cat <<EOF | kubectl apply -f -", "kubectl get pods"]
    assert block_commands("user@host:~$ oc get co\nNAME   AVAILABLE\n") == ["oc get co"]


def test_step_numbers_are_the_same_for_the_library_and_the_executor():
    text = ("# T\n\n## Diagnosis\n\n```console\n$ kubectl get pods\nweb-1   1/1   Running   0   1d\n"
            "$ oc get co\n```\n\nRun `kubectl get nodes` now.\n\n```bash\nexport NS=\"$(kubectl get ns -o name)\"\n```\n")
    runbook = parse_runbook(text, "static/t.md").runbook
    assert [s.command for s in runbook.steps] == [
        "kubectl get pods", "oc get co", "kubectl get nodes", 'export NS="$(kubectl get ns -o name)"']
    assert [shape.command for shape in align(runbook).values()] == [s.command for s in runbook.steps]


@pytest.mark.parametrize("spec, text, out", [
    (["grep", "-i", "ERROR"], "a error\nb ok\nc Error\n", "a error\nc Error\n"),
    (["grep", "-v", "ok"], "a\nok\nb", "a\nb\n"),
    (["grep", "-E", "a|b"], "a\nc\nb\n", "a\nb\n"),
    (["grep", "a|b"], "a\na|b\n", "a|b\n"),  # basic regex: | is a character
    (["grep", "x\\|y"], "x\nz\ny\n", "x\ny\n"),  # ... and \| the operator (GNU)
    (["grep", "-w", "web"], "web-1\nweb\nwebby\n", "web-1\nweb\n"),
    (["grep", "-c", "a"], "a\nb\na\n", "2\n"),
    (["grep", "-C", "1", "x"], "1\n2\nx\n4\n5\n6\nx\n", "2\nx\n4\n--\n6\nx\n"),
    (["head", "-n", "2"], "1\n2\n3\n", "1\n2\n"), (["head", "-1"], "1\n2\n", "1\n"),
    (["tail", "-n", "1"], "1\n2\n3\n", "3\n"), (["tail", "-n", "+2"], "1\n2\n3\n", "2\n3\n"),
    (["wc", "-l"], "1\n2\n3\n", "3\n"), (["wc", "-l"], "", "0\n"),
    (["awk", "{print $2}"], "a b c\nd  e\n", "b\ne\n"),
    (["awk", "{print $1, $NF}"], "a b c\n", "a c\n"),
    (["awk", "-F/", "{print $2}"], "pod/web-1\n", "web-1\n"),
    (["awk", "NR>1 {print $1}"], "NAME X\nweb 1\n", "web\n"),
    (["awk", "/Run/ {print $1}"], "a Running\nb Pending\n", "a\n"),
    (["awk", '$2 == "x" {print $1}'], "a x\nb y\n", "a\n"),
    (["jq", "-r", ".items[].metadata.name"], '{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}',
     "a\nb\n"),
    (["jq", ".a"], '{"a":{"b":[1,2]}}', '{\n  "b": [\n    1,\n    2\n  ]\n}\n'),
    (["jq", "-c", '.[] | select(.t == "x" and .n > 1)'], '[{"t":"x","n":2},{"t":"x","n":1}]', '{"t":"x","n":2}\n'),
    (["jq", '.metadata.annotations."a.b/c"'], '{"metadata":{"annotations":{"a.b/c":"v"}}}', '"v"\n'),
    (["jq", ".items | length"], '{"items":[1,2,3]}', "3\n"),
])
def test_filters_print_what_the_tools_print(spec, text, out):
    from faultmaven_runbooks.executor.shellwords import lex

    stage = lex(" ".join(_quote(a) for a in spec)).commands[0]
    parsed = filters.parse(stage, lambda word, braces: "".join(p.value for p in word))
    assert filters.apply(parsed, text) == out


def _quote(arg: str) -> str:
    return "'" + arg + "'" if re.search(r"[\s|$\"{}<>]", arg) else arg


def test_a_pattern_that_backtracks_forever_ends_the_step_not_the_server():
    from faultmaven_runbooks.executor.shellwords import lex

    stage = lex("grep -E '(a|aa)+$'").commands[0]
    spec = filters.parse(stage, lambda word, braces: "".join(p.value for p in word))
    with pytest.raises(FilterError, match="catastrophic backtracking"):
        filters.apply(spec, ("a" * 40 + "!\n") * 50)


def test_jq_on_json_python_cannot_read_is_a_filter_error_not_a_crash():
    # A 5000-digit integer is valid JSON, but Python refuses to convert it (a plain ValueError,
    # which has no .msg/.pos): the step must fail with a reason, not raise AttributeError.
    with pytest.raises(FilterError, match="cannot be read as JSON"):
        jq.run(jq.parse_args([".a"]), '{"a": ' + "1" * 5000 + "}")


@pytest.mark.parametrize("program", ["env", "$ENV", "input_filename", 'import "x" as $x; $x', "[limit(9; repeat(1))]",
                                     '.a + "b"', "@sh", ".[] as $x | $x", 'if . then 1 else 2 end', "getpath([\"a\"])"])
def test_jq_beyond_field_selection_is_manual(program):
    with pytest.raises(Manual):
        jq.parse_args([program])


def test_the_openshift_corpus_runs_as_typed_operations_and_says_why_not_otherwise():
    library = RunbookLibrary(OPENSHIFT)
    policy, typed, other, reasons = Policy(), 0, 0, []
    for _, (_, runbook) in sorted(library.scan().items()):
        plan = analyse(runbook, {}, policy)
        default = select(analyse(runbook, {}, policy), ExecuteParameters(), runbook)
        assert not any(p.is_change for p in default.steps), runbook.id  # reads only, unless a change is named
        for p in plan.every.values():
            if p.classification in ("read", "change", "setup"):
                typed += 1
            else:
                other += 1
                reasons.append(p.parsed.reason)
    assert typed / (typed + other) >= 0.6
    about_the_command = re.compile(r"remote code|debug pod|editor|drain|node's journal|local files|cluster upgrade|"
                                   r"credential|current identity|cluster-admin")
    assert [r for r in reasons if not about_the_command.search(r)] == []


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(["kubectl ", "oc ", "get ", "pods ", "-n ", "$NS ", "${NS} ", "$(", ")", "`", "'", '"',
                           "| ", "grep ", "awk '{print $1}' ", "jq -r .a ", "-o jsonpath={.a} ", "<pod> ", "{pod_name} ",
                           "{{ $labels.x }} ", "export X=", "; ", "&& ", "\\", "-A ", "{", "}", "[?(@.a==1)]", "=",
                           "head -n ", "5 ", "tail ", "wc -l ", "adm ", "top ", "patch ", "-p '{\"a\":1}' "])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=12), st.text(max_size=6))
def test_any_line_gets_a_classification_and_never_an_exception(pieces, noise):
    parsed = parse_step("".join(pieces) + noise, {"namespace": "production", "pod_name": "web-1"})
    assert parsed.classification in ("read", "change", "setup", "manual", "refused")
    assert parsed.classification in ("read", "change") or parsed.operation is None or parsed.reason
