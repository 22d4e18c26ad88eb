"""Plans follow the runbook: sections and roles, alternatives as options, mentions are not steps,
the default plan reads, changes only when named, rollbacks never with their change."""

from __future__ import annotations

import pytest

from faultmaven_runbooks.errors import InvalidInput
from faultmaven_runbooks.executor.models import ExecuteParameters
from faultmaven_runbooks.executor.planner import analyse, select
from faultmaven_runbooks.executor.policy import Policy
from faultmaven_runbooks.library.markdown import parse_runbook

RUNBOOK = """---
id: web-crash
---
# Web crash

## Symptoms
`kubectl get pods` shows `OOMKilled` and restarts climb.

## Diagnosis
Check the pod:
`kubectl -n {namespace} describe pod {pod_name}`

1. Read its logs:
   ```bash
   kubectl -n {namespace} logs {pod_name} --previous
   ```
2. Check the workload:
   ```bash
   kubectl -n {namespace} get deployment {deployment}
   ```

## Solution

### Immediate Fix
If a new revision caused it, roll back:
```bash
kubectl -n {namespace} rollout undo deployment/{deployment}
kubectl -n {namespace} rollout status deployment/{deployment}
```
If it is memory, raise the limit:
```bash
kubectl -n {namespace} set resources deployment/{deployment} --limits=memory={memory_limit}
```
- **Or restart the pod**:
  ```bash
  kubectl -n {namespace} delete pod {pod_name}
  ```

### Verification
```bash
kubectl -n {namespace} get pods -l {label_selector}
```

### Rollback
Undo the resource change with `kubectl -n {namespace} rollout undo deployment/{deployment}` if pods go Pending.
"""
CTX = {"namespace": "prod", "pod_name": "web-1", "deployment": "web", "memory_limit": "1Gi", "label_selector": "app=web"}


@pytest.fixture
def runbook():
    return parse_runbook(RUNBOOK, "static/web-crash.md").runbook


def _plan(runbook, **params):
    return select(analyse(runbook, CTX, Policy()), ExecuteParameters(**params), runbook)


def test_steps_carry_section_role_and_alternative(runbook):
    plan = analyse(runbook, CTX, Policy())
    by_cmd = {}
    for p in plan.every.values():
        by_cmd.setdefault(p.parsed.command, p)  # the first step with that command
    assert "kubectl get pods" not in by_cmd  # inline code inside a sentence is a mention, not a step
    undo = by_cmd["kubectl -n prod rollout undo deployment/web"]
    assert (undo.role, undo.shape.section) == ("mitigate", "Solution > Immediate Fix")
    assert by_cmd["kubectl -n prod rollout status deployment/web"].role == "verify"
    assert by_cmd["kubectl -n prod logs web-1 --previous"].role == "diagnose"
    assert by_cmd["kubectl -n prod get pods -l app=web"].role == "verify"
    labels = [(o.id, o.label) for o in plan.options]
    assert labels == [("A", "If a new revision caused it, roll back:"), ("B", "If it is memory, raise the limit:"),
                      ("C", "Or restart the pod:")]
    assert plan.options[0].steps == [undo.number, undo.number + 1]  # the change with its own check
    rollback = plan.rollbacks[0]  # inline, but led by "with": an instruction, and a rollback step
    assert plan.every[rollback.step].role == "rollback"
    assert set(rollback.rollback_of) == {undo.number, by_cmd[
        "kubectl -n prod set resources deployment/web --limits=memory=1Gi"].number}


def test_default_plan_is_the_reads(runbook):
    plan = _plan(runbook)
    assert plan.steps and all(not p.is_change for p in plan.steps)
    assert {p.role for p in plan.steps} == {"diagnose", "verify"}
    commands = [p.parsed.command for p in plan.steps]
    assert len(commands) == len(set(commands))
    offered, _ = plan.offered()
    assert [o.id for o in offered] == ["A", "B", "C"]


def test_a_named_option_plans_its_steps_only(runbook):
    plan = _plan(runbook, option="b")
    assert [p.parsed.command for p in plan.steps] == ["kubectl -n prod set resources deployment/web --limits=memory=1Gi"]
    offered, rollbacks = plan.offered()
    assert [o.id for o in offered] == ["A", "C"] and rollbacks  # the rollback is offered, not planned


def test_alternatives_are_never_planned_together(runbook):
    plan = analyse(runbook, CTX, Policy())
    a, b = plan.options[0].steps[0], plan.options[1].steps[0]
    with pytest.raises(InvalidInput, match="alternatives are never planned together"):
        _plan(runbook, steps=[a, b])
    with pytest.raises(InvalidInput, match="holds alternatives"):
        _plan(runbook, section="Immediate Fix")


def test_a_rollback_is_never_planned_with_its_change(runbook):
    plan = analyse(runbook, CTX, Policy())
    rollback = plan.rollbacks[0]
    with pytest.raises(InvalidInput, match="never planned with the change it undoes"):
        _plan(runbook, steps=[rollback.rollback_of[0], rollback.step])
    alone = _plan(runbook, section="Rollback")
    assert [p.number for p in alone.steps] == [rollback.step]


def test_a_mention_cannot_be_named(runbook):
    with pytest.raises(InvalidInput, match="mentioned inside a sentence"):
        _plan(runbook, steps=[1])


@pytest.mark.parametrize("line, step", [
    ("`kubectl get pods` shows OOMKilled", False),
    ("Symptom: `kubectl get pods` shows OOMKilled", False),
    ("Read `kubectl describe pod x` output for the events", False),
    ("Run `kubectl get pods -n x` to list them.", True),
    ("`kubectl -n x rollout undo deployment/y` if pods go Pending.", True),
    ("Check it:\n`kubectl get pod x`", True),
    ("`kubectl get pod x`.", True),
])
def test_inline_code_is_a_step_only_when_it_is_an_instruction(line, step):
    rb = parse_runbook(f"# T\n\n## Diagnosis\n{line}\n", "t.md").runbook
    plan = analyse(rb, {}, Policy())
    assert bool(plan.every) is step


def test_bullets_with_commands_are_separate_options():
    text = ("# T\n\n## Mitigation\n- Restart it:\n  ```bash\n  kubectl -n a rollout restart deployment/x\n  ```\n"
            "- Scale it:\n  ```bash\n  kubectl -n a scale deployment/x --replicas=3\n  ```\n"
            "1. Cordon:\n   ```bash\n   kubectl cordon n1\n   ```\n2. Then uncordon:\n   ```bash\n   kubectl uncordon n1\n   ```\n")
    plan = analyse(parse_runbook(text, "t.md").runbook, {}, Policy())
    assert [len(o.steps) for o in plan.options] == [1, 1, 2]  # an ordered list is one procedure
