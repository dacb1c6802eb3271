"""The quality gate: rules per raw table in DuckDB, quarantine, Great Expectations Data Docs, identity map."""

from quality.identity import build_identity_map
from quality.run import QualityReport, run_quality, validate_stream, validate_streams
from quality.validate import RuleResult, StreamResult

__all__ = [
    "QualityReport",
    "RuleResult",
    "StreamResult",
    "build_identity_map",
    "run_quality",
    "validate_stream",
    "validate_streams",
]
