"""One Dagster asset per source stream (generated from the declarative stream table)."""


import dagster as dg

from extractors.connector import ConfigurationError, QuotaExhausted
from extractors.extract import ExtractionError, extract_stream
from extractors.streams import STREAMS, Stream
from orchestration.resources import SourcesResource, WarehouseResource

EXTRACT_RETRY = dg.RetryPolicy(max_retries=2, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class ExtractRunConfig(dg.Config):
    full_refresh: bool = False


def _op_name(stream: Stream) -> str:
    """Dagster names an asset's op after its key path joined by `__`."""
    return f"raw__{stream.table}"


def raw_asset(stream: Stream) -> dg.AssetsDefinition:
    what = stream.object_name or stream.endpoint
    mode = f"incremental on `{stream.cursor_field}`" if stream.incremental else "full snapshot each run"

    @dg.asset(
        key=["raw", stream.table],
        group_name=f"raw_{stream.source}",
        kinds={"duckdb", "python"},
        description=f"{stream.source} `{what}` landed append-only in raw.{stream.table} ({mode}).",
        retry_policy=EXTRACT_RETRY,
        pool="warehouse",
    )
    def _asset(
        context: dg.AssetExecutionContext,
        config: ExtractRunConfig,
        warehouse: WarehouseResource,
        sources: SourcesResource,
    ) -> dg.MaterializeResult:
        try:
            result = extract_stream(
                stream.table, sources.extract_config(), warehouse.ensure_dir(), full_refresh=config.full_refresh
            )
        except ExtractionError as exc:
            if isinstance(exc.cause, (ConfigurationError, QuotaExhausted)):
                # Bad credentials or a spent daily quota: a retry cannot help, so say so once.
                raise dg.Failure(str(exc), allow_retries=False) from exc
            raise
        if result.drift:
            context.log.warning(f"schema drift on {stream.table}: {result.drift}")
        return dg.MaterializeResult(
            metadata={
                "rows_read": result.rows_read,
                "rows_landed": result.rows_landed,
                "pages": result.pages,
                "requests": result.requests,
                "cursor_before": result.cursor_before or "",
                "cursor_after": result.cursor_after or "",
                "seconds": round(result.seconds, 3),
                "full_refresh": result.full_refresh,
                "schema_drift": dg.MetadataValue.json(result.drift or {}),
                "batch_ids": dg.MetadataValue.json(result.batch_ids),
            }
        )

    return _asset


RAW_ASSETS = [raw_asset(s) for s in STREAMS.values()]
RAW_ASSET_OP_NAMES = [_op_name(s) for s in STREAMS.values()]
