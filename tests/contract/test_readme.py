"""The README's tables name every workflow action with its body fields, and every inbound event type of every
source: a new action, field or event type fails here until it is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app.services.inbound import EVENT_TYPES
from app.workflows.engine import payload_schema
from app.workflows.registry import WORKFLOWS
from app.workflows.task import TASK

README = Path(__file__).resolve().parents[2] / "README.md"
ALL_WORKFLOWS = {**WORKFLOWS, TASK.name: TASK}  # the task workflow whether or not the registry lists it yet
CELL = re.compile(r"(?<!\\)\|")
NAME = re.compile(r"`([^`]+)`")


def _tables() -> list[tuple[str, list[dict[str, str]]]]:
    """Each Markdown table as (header line, rows keyed by column heading)."""
    lines = README.read_text(encoding="utf-8").splitlines()
    tables = []
    for i, line in enumerate(lines[:-1]):
        if line.startswith("|") and lines[i + 1].startswith("|---"):
            heads = [cell.strip() for cell in CELL.split(line.strip().strip("|"))]
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(
                    dict(zip(heads, (cell.strip() for cell in CELL.split(row.strip().strip("|"))), strict=False))
                )
            tables.append((line, rows))
    return tables


def _fields(model: Any) -> dict[str, list[str]]:
    """The action's body fields besides `remark`, each with the values it is limited to (enums, literals)."""
    schema = payload_schema(model)
    found: dict[str, list[str]] = {}
    for name, prop in schema.get("properties", {}).items():
        values: list[str] = []
        for branch in prop.get("anyOf", [prop]):
            if "$ref" in branch:
                branch = schema["$defs"][branch["$ref"].rsplit("/", 1)[1]]
            values += [str(v) for v in branch.get("enum", [])]
        found[name] = values
    found.pop("remark", None)
    return found


def test_every_workflow_action_is_in_the_readme_with_its_body():
    documented: dict[tuple[str, str], tuple[str, str]] = {}
    for header, rows in _tables():
        if "action" not in header or "workflows" not in header:
            continue
        body_column = next(c for c in rows[0] if c.startswith("body"))
        for row in rows:
            for workflow in NAME.findall(row["workflows"]):
                documented[(workflow, NAME.findall(row["action"])[0])] = (row[body_column], body_column)
    missing, fields_missing = [], []
    for workflow in ALL_WORKFLOWS.values():
        for transition in workflow.transitions:
            key = (workflow.name, transition.action)
            if key not in documented:
                missing.append(key)
                continue
            body, heading = documented[key]
            said = NAME.findall(body)
            for name, values in _fields(transition.payload).items():
                if name in NAME.findall(heading):
                    continue  # a field every action of the table takes, named in its heading
                if name not in said or any(f'"{value}"' not in said for value in values):
                    fields_missing.append((*key, name))

    assert missing == []
    assert fields_missing == []


def test_every_inbound_event_type_is_in_the_readme():
    documented = set()
    for header, rows in _tables():
        if "source" not in header or "`type`" not in header:
            continue
        for row in rows:
            documented |= {(s, t) for s in NAME.findall(row["source"]) for t in NAME.findall(row["`type`"])}
    expected = {(source.value, type_) for source, types in EVENT_TYPES.items() for type_ in types}

    assert expected - documented == set()
