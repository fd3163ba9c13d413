"""Regenerates the fuzz seed corpora in corpus/<fuzzer>/ (committed as binary files).

Seeds: our rich samples (otlp_tool encode-sample) and small payloads from the official
OpenTelemetry Python SDK encoders. Usage: python make_seed_corpus.py PATH/TO/otlp_tool
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

CORPUS = Path(__file__).resolve().parent / "corpus"


def write(fuzzer: str, payload: bytes) -> None:
    d = CORPUS / fuzzer
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(payload).hexdigest()[:16]).write_bytes(payload)


def sdk_traces() -> bytes:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("seed")
    with tracer.start_as_current_span("GET /", attributes={"http.route": "/", "n": [1, 2]}) as s:
        s.add_event("e", {"k": 1.5})
        with tracer.start_as_current_span("db", attributes={"db.system": "sqlite"}):
            pass
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans()).SerializeToString()


def sdk_metrics() -> bytes:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        views=[View(instrument_name="exp", aggregation=ExponentialBucketHistogramAggregation())],
    )
    meter = provider.get_meter("seed")
    meter.create_counter("c").add(2, {"a": "b"})
    meter.create_histogram("h").record(0.3)
    for v in (0.1, 4.0, 9.0):
        meter.create_histogram("exp").record(v)
    data = reader.get_metrics_data()
    provider.shutdown()
    return encode_metrics(data).SerializeToString()


def sdk_logs() -> bytes:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("seed")
    logger.emit(body={"k": [1, "x"]}, event_name="pyrometer.insight")
    logger.emit(body="hello", attributes={"x": True})
    provider.shutdown()
    return encode_logs(exporter.get_finished_logs()).SerializeToString()


def main() -> None:
    tool = sys.argv[1]

    def sample(kind: str) -> bytes:
        return subprocess.run([tool, "encode-sample", kind], capture_output=True, check=True).stdout

    for kind, sdk in (("traces", sdk_traces), ("metrics", sdk_metrics), ("logs", sdk_logs)):
        write(f"otlp_{kind}_fuzzer", sample(kind))
        write(f"otlp_{kind}_fuzzer", sdk())
    profile = sample("pprof")
    write("pprof_fuzzer", profile)
    write("gunzip_fuzzer", gzip.compress(profile))
    write("gunzip_fuzzer", gzip.compress(b"hello ") + gzip.compress(b"world"))
    write("gunzip_fuzzer", gzip.compress(sdk_traces(), compresslevel=1))


if __name__ == "__main__":
    main()
