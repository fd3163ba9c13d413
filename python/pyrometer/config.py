"""The one place Pyrometer reads its configuration: env vars, OTel fallbacks, pyrometer.toml.

Precedence per setting: PYROMETER_* env var, then the OTel standard env var, then pyrometer.toml,
then the default. Bad values give one warning on the `pyrometer` logger and are ignored; loading
never raises. Nothing is read at import time. docs/configuration.md documents every variable.
"""

from __future__ import annotations

import os
import sys
from dataclasses import MISSING, dataclass, field, fields

from pyrometer import _config_values as v

# typing is only for type checkers: it costs milliseconds at every interpreter start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping

    _Parser = Callable[[Any], Any]

DEFAULT_ENDPOINT = "http://127.0.0.1:8321"


@dataclass(frozen=True)
class Config:
    """Effective configuration. `sources[field]` says where each value came from."""

    enabled: bool = True
    service_name: str = "python"
    environment: str | None = None
    resource_attributes: dict[str, str] = field(default_factory=dict)
    endpoint: str = DEFAULT_ENDPOINT
    traces_endpoint: str = DEFAULT_ENDPOINT + "/v1/traces"
    metrics_endpoint: str = DEFAULT_ENDPOINT + "/v1/metrics"
    logs_endpoint: str = DEFAULT_ENDPOINT + "/v1/logs"
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    # Request body compression; default gzip, or none when every endpoint is on this machine.
    compression: str = "none"
    token: str | None = field(default=None, repr=False)
    sampler: str = "parentbased_always_on"
    sampler_arg: float = 1.0
    propagators: tuple[str, ...] = ("tracecontext", "baggage")
    export_interval: float = 5.0
    metrics_interval: float = 10.0
    flush_timeout: float = 2.0
    max_queue_spans: int = 20000
    capture_sql_values: bool = False
    capture_locals: bool = True
    log_export_level: str = "WARNING"
    disabled_integrations: tuple[str, ...] = ()
    tail_keep: bool = True
    debug: bool = False
    config_file: str | None = None
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def log_export_levelno(self) -> int:
        return v.log_level_number(self.log_export_level)

    def resource(self) -> dict[str, str]:
        """OTLP resource attributes: OTEL_RESOURCE_ATTRIBUTES plus service and environment."""
        attrs = dict(self.resource_attributes)
        attrs["service.name"] = self.service_name
        if self.environment:
            attrs["deployment.environment.name"] = self.environment
        return attrs

    def export_headers(self) -> dict[str, str]:
        """Headers for every export request; PYROMETER_TOKEN becomes `Authorization: Bearer`."""
        headers = dict(self.headers)
        if self.token and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = "Bearer " + self.token
        return headers


# field -> (env vars in precedence order, each with its parser; TOML value parser or None)
_SPECS: dict[str, tuple[tuple[tuple[str, _Parser], ...], _Parser | None]] = {
    "enabled": (
        (("PYROMETER_ENABLED", v.parse_bool), ("OTEL_SDK_DISABLED", lambda s: not v.parse_bool(s))),
        v.parse_bool,
    ),
    "service_name": (
        (("PYROMETER_SERVICE", v.parse_str), ("OTEL_SERVICE_NAME", v.parse_str)),
        v.parse_str,
    ),
    "environment": ((("PYROMETER_ENVIRONMENT", v.parse_str),), v.parse_str),
    "resource_attributes": (
        (("OTEL_RESOURCE_ATTRIBUTES", v.parse_key_values),),
        v.parse_key_values,
    ),
    "endpoint": ((("OTEL_EXPORTER_OTLP_ENDPOINT", v.parse_url),), v.parse_url),
    "traces_endpoint": ((("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", v.parse_url),), v.parse_url),
    "metrics_endpoint": ((("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", v.parse_url),), v.parse_url),
    "logs_endpoint": ((("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", v.parse_url),), v.parse_url),
    "headers": ((("OTEL_EXPORTER_OTLP_HEADERS", v.parse_key_values),), v.parse_key_values),
    "compression": (
        (("OTEL_EXPORTER_OTLP_COMPRESSION", v.parse_compression),),
        v.parse_compression,
    ),
    "token": ((("PYROMETER_TOKEN", v.parse_str),), v.parse_str),
    "sampler": ((("OTEL_TRACES_SAMPLER", v.parse_sampler),), v.parse_sampler),
    "sampler_arg": ((("OTEL_TRACES_SAMPLER_ARG", v.parse_ratio),), v.parse_ratio),
    "propagators": ((("OTEL_PROPAGATORS", v.parse_propagators),), v.parse_propagators),
    "export_interval": ((("PYROMETER_EXPORT_INTERVAL", v.parse_duration),), v.parse_duration),
    "metrics_interval": ((("PYROMETER_METRICS_INTERVAL", v.parse_duration),), v.parse_duration),
    "flush_timeout": ((("PYROMETER_FLUSH_TIMEOUT", v.parse_duration),), v.parse_duration),
    "max_queue_spans": (
        (("PYROMETER_MAX_QUEUE_SPANS", v.parse_positive_int),),
        v.parse_positive_int,
    ),
    "capture_sql_values": ((("PYROMETER_CAPTURE_SQL_VALUES", v.parse_bool),), v.parse_bool),
    "capture_locals": ((("PYROMETER_CAPTURE_LOCALS", v.parse_bool),), v.parse_bool),
    "log_export_level": ((("PYROMETER_LOG_EXPORT_LEVEL", v.parse_log_level),), v.parse_log_level),
    "disabled_integrations": (
        (("PYROMETER_DISABLED_INTEGRATIONS", v.parse_list),),
        v.parse_list,
    ),
    "tail_keep": ((("PYROMETER_TAIL_KEEP", v.parse_bool),), v.parse_bool),
    "debug": ((("PYROMETER_DEBUG", v.parse_bool),), v.parse_bool),
}
_SIGNAL_PATHS = {
    "traces_endpoint": "/v1/traces",
    "metrics_endpoint": "/v1/metrics",
    "logs_endpoint": "/v1/logs",
}


def env_vars() -> dict[str, str]:
    """Every environment variable Pyrometer reads, mapped to the Config field it sets."""
    names = {name: f for f, (envs, _) in _SPECS.items() for name, _ in envs}
    names["PYROMETER_CONFIG"] = "config_file"
    return names


def default_service_name(argv: list[str] | None = None) -> str:
    """Service name from a command line: `python -m celery` → celery, `python app.py` → app,
    `/venv/bin/gunicorn` → gunicorn, `python -c ...` → python."""
    if argv is None:
        argv = list(getattr(sys, "orig_argv", None) or [sys.executable] + sys.argv)
    if not argv:
        return "python"
    exe = os.path.basename(argv[0])
    if not exe.startswith("python"):
        return _strip_py(exe) or "python"
    args = iter(argv[1:])
    for arg in args:
        if arg == "-m":
            return next(args, "python") or "python"
        if arg in ("-c", "-"):
            return "python"
        if arg in ("-W", "-X", "--check-hash-based-pycs"):
            next(args, None)
        elif not arg.startswith("-"):
            return _strip_py(os.path.basename(arg)) or "python"
    return "python"


def _strip_py(name: str) -> str:
    return name[:-3] if name.endswith(".py") else name


def load(env: Mapping[str, str] | None = None, toml_path: str | None = None) -> Config:
    """Reads the effective configuration. Never raises; bad values are warned about and skipped.

    `env` defaults to os.environ; `toml_path` defaults to PYROMETER_CONFIG, then ./pyrometer.toml.
    """
    from pyrometer import _config_toml

    env = os.environ if env is None else env
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        from pyrometer._logging import get_logger

        get_logger().warning("%s", message)

    toml_values, toml_file, toml_source = _config_toml.read(env, toml_path, warn)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    rejected: list[tuple[str, str, str]] = []  # (field, "VAR='value'", reason)
    for name, (envs, toml_parser) in _SPECS.items():
        for var, parser in envs:
            raw = env.get(var)
            if raw is None or not raw.strip():  # OTel: an empty variable counts as unset
                continue
            try:
                values[name], sources[name] = parser(raw), "env " + var
                break
            except ValueError as exc:
                rejected.append((name, f"{var}={raw!r}", str(exc)))
        if name in sources or name not in toml_values:
            continue
        try:
            values[name], sources[name] = toml_parser(toml_values[name]), toml_source
        except (ValueError, TypeError) as exc:
            rejected.append((name, f"{name} = {toml_values[name]!r} in {toml_file}", str(exc)))
    _fill_derived(values, sources, env)
    for name, what, reason in rejected:
        used = values[name] if name in values else _default(name)
        origin = sources.get(name, "default")
        shown = "***" if name in ("token", "headers") else repr(used)
        warn(f"pyrometer: invalid {what} ({reason}); using {shown} from {origin}")
    for f in fields(Config):
        if f.name in _SPECS and f.name not in sources:
            sources[f.name] = "default"
    values["config_file"] = toml_file
    if toml_path:
        sources["config_file"] = "argument"
    elif env.get("PYROMETER_CONFIG", "").strip():
        sources["config_file"] = "env PYROMETER_CONFIG"
    else:
        sources["config_file"] = "default (./pyrometer.toml)" if toml_file else "default"
    return Config(**values, sources=sources, warnings=tuple(warnings))


def _default(name: str) -> Any:
    f = next(f for f in fields(Config) if f.name == name)
    return f.default_factory() if f.default_factory is not MISSING else f.default


def _fill_derived(values: dict[str, Any], sources: dict[str, str], env: Mapping[str, str]) -> None:
    """Values whose default depends on others: service name, environment, per-signal URLs."""
    attrs = values.get("resource_attributes", {})
    if "service_name" not in values:
        if attrs.get("service.name"):
            values["service_name"] = attrs["service.name"]
            sources["service_name"] = sources["resource_attributes"] + " (service.name)"
        else:
            run_default = env.get("PYROMETER_DEFAULT_SERVICE", "").strip()
            values["service_name"] = run_default or default_service_name()
            sources["service_name"] = "default (command name)"
    env_attr = attrs.get("deployment.environment.name") or attrs.get("deployment.environment")
    if "environment" not in values and env_attr:
        values["environment"] = env_attr
        sources["environment"] = sources["resource_attributes"] + " (deployment.environment)"
    base = values.get("endpoint", DEFAULT_ENDPOINT).rstrip("/")
    values["endpoint"] = base
    for name, path in _SIGNAL_PATHS.items():
        if name not in values:
            values[name] = base + path
            sources[name] = "derived from endpoint"
    if "compression" not in values:
        # gzip costs the exporter more CPU than it saves when the collector is local (the
        # bytes never leave the machine); over a network it shrinks OTLP protobuf several times.
        local = all(v.is_loopback_url(values[name]) for name in _SIGNAL_PATHS)
        values["compression"] = "none" if local else "gzip"
        sources["compression"] = "derived from endpoint"


_current: Config | None = None


def current() -> Config:
    """The process-wide configuration, loaded (and warned about) once on first use."""
    global _current
    if _current is None:
        _current = load()
    return _current
