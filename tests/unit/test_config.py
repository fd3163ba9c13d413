"""pyrometer.config: precedence env > OTel env > pyrometer.toml > default, and bad values.

Every invalid value must give exactly one warning naming the variable and the value, never raise,
and leave the default in place.
"""

from __future__ import annotations

import logging

import pytest

from pyrometer import config
from pyrometer.config import Config, load


def test_defaults_and_sources(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load(env={})
    assert cfg.enabled is True
    assert cfg.endpoint == "http://127.0.0.1:8321"
    assert cfg.traces_endpoint == "http://127.0.0.1:8321/v1/traces"
    assert cfg.sampler == "parentbased_always_on"
    assert cfg.propagators == ("tracecontext", "baggage")
    assert (cfg.export_interval, cfg.metrics_interval, cfg.flush_timeout) == (5.0, 10.0, 2.0)
    assert cfg.max_queue_spans == 20000
    assert cfg.capture_sql_values is False and cfg.capture_locals is True
    assert cfg.log_export_level == "WARNING" and cfg.log_export_levelno == logging.WARNING
    assert cfg.tail_keep is True and cfg.config_file is None and cfg.warnings == ()
    assert cfg.sources["export_interval"] == "default"
    assert cfg.sources["traces_endpoint"] == "derived from endpoint"
    assert cfg.sources["service_name"] == "default (command name)"


def test_pyrometer_var_beats_otel_var():
    cfg = load(env={"PYROMETER_SERVICE": "billing", "OTEL_SERVICE_NAME": "other"})
    assert cfg.service_name == "billing"
    assert cfg.sources["service_name"] == "env PYROMETER_SERVICE"
    cfg = load(env={"OTEL_SERVICE_NAME": "other"})
    assert (cfg.service_name, cfg.sources["service_name"]) == ("other", "env OTEL_SERVICE_NAME")


def test_service_from_resource_attributes_and_command_default():
    cfg = load(env={"OTEL_RESOURCE_ATTRIBUTES": "service.name=api,team=core%2Cpay"})
    assert cfg.service_name == "api"
    assert cfg.resource_attributes == {"service.name": "api", "team": "core,pay"}
    cfg = load(env={"PYROMETER_DEFAULT_SERVICE": "gunicorn"})
    assert cfg.service_name == "gunicorn"


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["/usr/bin/python3", "-m", "celery", "worker"], "celery"),
        (["/venv/bin/python", "-X", "dev", "manage.py", "runserver"], "manage"),
        (["/venv/bin/gunicorn", "app:app"], "gunicorn"),
        (["python3.11", "-c", "print(1)"], "python"),
        ([], "python"),
    ],
)
def test_default_service_name(argv, name):
    assert config.default_service_name(argv) == name


def test_environment_resource_and_headers():
    cfg = load(
        env={
            "PYROMETER_ENVIRONMENT": "staging",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-team=a%20b,Other=1",
            "PYROMETER_TOKEN": "s3cret",
            "PYROMETER_SERVICE": "svc",
        }
    )
    assert cfg.resource() == {"service.name": "svc", "deployment.environment.name": "staging"}
    assert cfg.headers == {"x-team": "a b", "Other": "1"}
    assert cfg.export_headers()["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in repr(cfg)


def test_endpoints_base_and_per_signal():
    cfg = load(
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://logs:9/custom",
        }
    )
    assert cfg.endpoint == "http://collector:4318"
    assert cfg.traces_endpoint == "http://collector:4318/v1/traces"
    assert cfg.metrics_endpoint == "http://collector:4318/v1/metrics"
    assert cfg.logs_endpoint == "http://logs:9/custom"
    assert cfg.sources["logs_endpoint"] == "env OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
    assert cfg.compression == "gzip"  # a remote collector: bodies are gzipped


@pytest.mark.parametrize(
    ("env", "compression"),
    [
        ({}, "none"),  # the local pyrometer serve: gzip would only cost CPU
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318"}, "none"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://[::1]:4318"}, "none"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "https://u:p@127.0.0.2:443/x"}, "none"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://10.0.0.5:4318/v1/traces"}, "gzip"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.example.com"}, "gzip"),
        ({"OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP"}, "gzip"),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
            },
            "none",
        ),
    ],
)
def test_compression_default_depends_on_where_the_collector_is(env, compression):
    cfg = load(env=env)
    assert cfg.compression == compression
    explicit = "OTEL_EXPORTER_OTLP_COMPRESSION" in env
    assert cfg.sources["compression"] == (
        "env OTEL_EXPORTER_OTLP_COMPRESSION" if explicit else "derived from endpoint"
    )


@pytest.mark.parametrize(
    ("text", "seconds"), [("500ms", 0.5), ("5s", 5.0), ("2m", 120.0), ("7", 7.0), ("1.5", 1.5)]
)
def test_durations(text, seconds):
    assert load(env={"PYROMETER_EXPORT_INTERVAL": text}).export_interval == seconds


def test_enabled_and_otel_sdk_disabled():
    assert load(env={"PYROMETER_ENABLED": "false"}).enabled is False
    assert load(env={"OTEL_SDK_DISABLED": "true"}).enabled is False
    cfg = load(env={"OTEL_SDK_DISABLED": "true", "PYROMETER_ENABLED": "1"})
    assert cfg.enabled is True and cfg.sources["enabled"] == "env PYROMETER_ENABLED"


def test_lists_samplers_and_misc():
    cfg = load(
        env={
            "PYROMETER_DISABLED_INTEGRATIONS": " Flask, redis,,",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.25",
            "OTEL_PROPAGATORS": "none",
            "PYROMETER_LOG_EXPORT_LEVEL": "error",
            "PYROMETER_MAX_QUEUE_SPANS": "500",
            "PYROMETER_CAPTURE_SQL_VALUES": "yes",
        }
    )
    assert cfg.disabled_integrations == ("flask", "redis")
    assert (cfg.sampler, cfg.sampler_arg) == ("parentbased_traceidratio", 0.25)
    assert cfg.propagators == ()
    assert cfg.log_export_level == "ERROR"
    assert cfg.max_queue_spans == 500 and cfg.capture_sql_values is True


def test_empty_variable_counts_as_unset():
    cfg = load(env={"PYROMETER_SERVICE": "  ", "OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": ""})
    assert cfg.service_name == "x" and cfg.warnings == ()


BAD_VALUES = [
    ("PYROMETER_ENABLED", "maybe", "enabled"),
    ("OTEL_SDK_DISABLED", "perhaps", "enabled"),
    ("OTEL_RESOURCE_ATTRIBUTES", "novalue", "resource_attributes"),
    ("OTEL_RESOURCE_ATTRIBUTES", "k=%zz", "resource_attributes"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", "endpoint"),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x", "traces_endpoint"),
    ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "x", "metrics_endpoint"),
    ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://", "logs_endpoint"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=b,c", "headers"),
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli", "compression"),
    ("OTEL_TRACES_SAMPLER", "sometimes", "sampler"),
    ("OTEL_TRACES_SAMPLER_ARG", "1.5", "sampler_arg"),
    ("OTEL_PROPAGATORS", "b3", "propagators"),
    ("PYROMETER_EXPORT_INTERVAL", "soon", "export_interval"),
    ("PYROMETER_METRICS_INTERVAL", "-1s", "metrics_interval"),
    ("PYROMETER_FLUSH_TIMEOUT", "0", "flush_timeout"),
    ("PYROMETER_MAX_QUEUE_SPANS", "many", "max_queue_spans"),
    ("PYROMETER_MAX_QUEUE_SPANS", "-5", "max_queue_spans"),
    ("PYROMETER_CAPTURE_SQL_VALUES", "sure", "capture_sql_values"),
    ("PYROMETER_CAPTURE_LOCALS", "2", "capture_locals"),
    ("PYROMETER_LOG_EXPORT_LEVEL", "LOUD", "log_export_level"),
    ("PYROMETER_TAIL_KEEP", "nope", "tail_keep"),
    ("PYROMETER_DEBUG", "verbose", "debug"),
]


@pytest.mark.parametrize(("var", "value", "field"), BAD_VALUES)
def test_invalid_value_warns_once_and_uses_default(var, value, field, caplog):
    with caplog.at_level(logging.WARNING, logger="pyrometer"):
        cfg = load(env={var: value})
    default = getattr(load(env={}), field)
    assert getattr(cfg, field) == default
    assert cfg.sources[field] in ("default", "derived from endpoint")
    records = [r for r in caplog.records if r.name == "pyrometer"]
    assert len(records) == 1 and len(cfg.warnings) == 1
    message = records[0].getMessage()
    assert var in message and repr(value) in message and message == cfg.warnings[0]


def test_toml_file_between_env_and_default(tmp_path, monkeypatch):
    path = tmp_path / "pyrometer.toml"
    path.write_text(
        'service_name = "from-toml"\nexport_interval = "250ms"\ncapture_locals = false\n'
        'disabled_integrations = ["Django"]\nresource_attributes = { team = "core" }\n'
    )
    monkeypatch.chdir(tmp_path)
    cfg = load(env={"PYROMETER_SERVICE": "from-env"})
    assert cfg.service_name == "from-env"
    assert cfg.export_interval == 0.25 and cfg.capture_locals is False
    assert cfg.disabled_integrations == ("django",)
    assert cfg.resource_attributes == {"team": "core"}
    assert cfg.sources["export_interval"] == f"pyrometer.toml ({path})"
    assert cfg.config_file == str(path)
    assert cfg.sources["config_file"] == "default (./pyrometer.toml)"


def test_toml_bad_values_unknown_keys_and_syntax(tmp_path, caplog):
    good = tmp_path / "a.toml"
    good.write_text('export_interval = "never"\nbogus = 1\n')
    with caplog.at_level(logging.WARNING, logger="pyrometer"):
        cfg = load(env={"PYROMETER_CONFIG": str(good)})
    assert cfg.export_interval == 5.0 and cfg.sources["config_file"] == "env PYROMETER_CONFIG"
    assert len(cfg.warnings) == 2
    assert any("'never'" in w and "export_interval" in w for w in cfg.warnings)
    assert any("'bogus'" in w for w in cfg.warnings)
    broken = tmp_path / "b.toml"
    broken.write_text("service_name = \n")
    cfg = load(env={}, toml_path=str(broken))
    assert cfg.config_file is None and len(cfg.warnings) == 1 and str(broken) in cfg.warnings[0]
    cfg = load(env={"PYROMETER_CONFIG": str(tmp_path / "missing.toml")})
    assert len(cfg.warnings) == 1 and "missing.toml" in cfg.warnings[0]


def test_config_is_frozen_and_lists_its_variables():
    cfg = load(env={})
    with pytest.raises(AttributeError):
        cfg.enabled = False  # type: ignore[misc]
    assert isinstance(cfg, Config)
    assert set(config.env_vars()) >= {"PYROMETER_ENABLED", "OTEL_SERVICE_NAME", "PYROMETER_CONFIG"}


def test_every_variable_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    missing = [name for name in config.env_vars() if f"`{name}`" not in doc]
    assert missing == []
