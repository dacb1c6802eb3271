"""The shape of a rule file (`quality/rules/<raw_table>.yml`), checked by pydantic.

One file per raw table declares which fields the rules read out of `_record` and the rules
themselves. Keeping fields separate from rules means a rule never repeats a JSON path, and
the flattened table that DuckDB and Great Expectations evaluate has one column per field.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RULES_DIR = Path(__file__).with_name("rules")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Severity = Literal["error", "warn"]
# How a field's text becomes a comparable value (see compile.typed_value).
FieldType = Literal["text", "number", "ms", "date", "datetime", "iso", "list", "bool"]
# Columns every raw row has; rules may use them like fields.
META_COLUMNS = ("_record_id", "_batch_id", "_cursor")


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="JSONPath into `_record`, e.g. `$.partner_id[0]`.")
    type: FieldType = "text"

    @field_validator("path")
    @classmethod
    def _json_path(cls, value: str) -> str:
        if not value.startswith("$") or "'" in value:
            raise ValueError(f"JSON path must start with '$' and contain no quotes: {value!r}")
        return value


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    severity: Severity = "error"
    description: str = ""

    @field_validator("name")
    @classmethod
    def _snake(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"rule names are snake_case: {value!r}")
        return value

    def fields_used(self) -> list[str]:
        raise NotImplementedError


class Required(_Rule):
    """Every listed field is present and not empty."""

    check: Literal["required"]
    fields: list[str] = Field(min_length=1)

    def fields_used(self) -> list[str]:
        return list(self.fields)


class RequiredAny(_Rule):
    """At least one of the listed fields is present and not empty."""

    check: Literal["required_any"]
    fields: list[str] = Field(min_length=2)

    def fields_used(self) -> list[str]:
        return list(self.fields)


class Unique(_Rule):
    """No two current records share these values (all but the survivor fail)."""

    check: Literal["unique"]
    columns: list[str] = Field(min_length=1)

    def fields_used(self) -> list[str]:
        return [c for c in self.columns if c not in META_COLUMNS]


class UniqueVersion(_Rule):
    """The current version of a source id is unambiguous: no two rows with the same id and
    cursor carry different content (exact repeats are `no_repeats`, and harmless)."""

    check: Literal["unique_version"]

    def fields_used(self) -> list[str]:
        return []


class NoRepeats(_Rule):
    """The source served this version once: repeats are reported (the current state keeps one)."""

    check: Literal["no_repeats"]

    def fields_used(self) -> list[str]:
        return []


class AcceptedValues(_Rule):
    check: Literal["accepted_values"]
    field: str
    values: list[str] = Field(min_length=1)

    def fields_used(self) -> list[str]:
        return [self.field]


class Range(_Rule):
    """A numeric field lies in [min, max]; text that is not a number fails too."""

    check: Literal["range"]
    field: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError(f"range rule {self.name} needs min or max")
        return self

    def fields_used(self) -> list[str]:
        return [self.field]


class Pattern(_Rule):
    check: Literal["pattern"]
    field: str
    regex: str

    def fields_used(self) -> list[str]:
        return [self.field]


class Ordered(_Rule):
    """`later` is not before `earlier` (both typed as times); missing values are not judged."""

    check: Literal["ordered"]
    earlier: str
    later: str

    def fields_used(self) -> list[str]:
        return [self.earlier, self.later]


class Reference(_Rule):
    """The field names a current, existing record of another raw table (list fields: every element)."""

    check: Literal["reference"]
    field: str
    to: str = Field(description="raw table referenced")
    to_field: str = "_record_id"
    many: bool = False

    def fields_used(self) -> list[str]:
        return [self.field]


class Expression(_Rule):
    """Escape hatch: a DuckDB SQL predicate over the flattened fields that is true for good rows."""

    check: Literal["expression"]
    sql: str
    reason: str
    uses: list[str] = Field(default_factory=list)

    def fields_used(self) -> list[str]:
        return list(self.uses)


Rule = Annotated[
    Required | RequiredAny | Unique | UniqueVersion | NoRepeats | AcceptedValues | Range | Pattern | Ordered | Reference | Expression,
    Field(discriminator="check"),
]


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stream: str
    source: Literal["crm", "marketing", "erp", "file"]
    description: str = ""
    # The stream as a whole blocks (asset check fails) when more than this share of its
    # current rows fail an error rule; below it, the bad rows are just quarantined.
    max_error_percent: float = Field(default=5.0, ge=0, le=100)
    # ...and at least this many rows fail (or the whole table, when it is smaller), so one bad
    # row among a small table's first few does not stop the pipeline.
    block_min_rows: int = Field(default=10, ge=1)
    fields: dict[str, FieldSpec]
    rules: list[Rule]

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        for name in self.fields:
            if not _NAME.match(name):
                raise ValueError(f"{self.stream}: field names are snake_case: {name!r}")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"{self.stream}: duplicate rule name {rule.name}")
            seen.add(rule.name)
            unknown = [f for f in rule.fields_used() if f not in self.fields]
            if unknown:
                raise ValueError(f"{self.stream}.{rule.name}: undeclared fields {unknown}")
        return self

    def rule(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)


def load_ruleset(path: Path) -> RuleSet:
    """Parse and validate one rule file; the error names the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        ruleset = RuleSet.model_validate(data)
    except Exception as exc:
        raise ValueError(f"invalid rule file {path}: {exc}") from exc
    if ruleset.stream != path.stem:
        raise ValueError(f"{path}: stream {ruleset.stream!r} must match the file name")
    return ruleset


@cache
def load_rulesets(rules_dir: Path = RULES_DIR) -> dict[str, RuleSet]:
    """Every rule file, keyed by raw table name."""
    sets = [load_ruleset(p) for p in sorted(rules_dir.glob("*.yml"))]
    return {s.stream: s for s in sets}
