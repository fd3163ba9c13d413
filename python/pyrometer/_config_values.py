"""Value parsers for pyrometer.config: each turns an env string or a TOML value into a typed value.

Every parser raises ValueError with a short reason on bad input; config.py turns that into one
warning naming the variable and falls back to the default. Only builtins are used, so loading the
configuration at interpreter start imports nothing beyond what the agent needs.
"""

from __future__ import annotations

# typing is only for type checkers: it costs milliseconds at every interpreter start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_DURATION_UNITS = (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0))
_LOG_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50}

SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
PROPAGATORS = ("tracecontext", "baggage")
COMPRESSIONS = ("gzip", "none")


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true/false (also 1/0, yes/no, on/off)")


def parse_duration(value: Any) -> float:
    """Seconds from `500ms`, `5s`, `2m`, `1h` or a plain number of seconds; must be > 0."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 500ms, 5s, 2m")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        factor = 1.0
        for suffix, unit in _DURATION_UNITS:
            if text.endswith(suffix) and not (suffix == "s" and text.endswith("ms")):
                text, factor = text[: -len(suffix)].strip(), unit
                break
        try:
            seconds = float(text) * factor
        except ValueError:
            raise ValueError("expected a duration such as 500ms, 5s, 2m") from None
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError("duration must be positive and finite")
    return seconds


def parse_positive_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a positive integer")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValueError("expected a positive integer") from None
    if number <= 0:
        raise ValueError("expected a positive integer")
    return number


def parse_ratio(value: Any) -> float:
    try:
        ratio = float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number between 0 and 1") from None
    if not 0.0 <= ratio <= 1.0:
        raise ValueError("expected a number between 0 and 1")
    return ratio


def parse_str(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def parse_sampler(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in SAMPLERS:
        raise ValueError("expected one of " + ", ".join(SAMPLERS))
    return text


def parse_compression(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in COMPRESSIONS:
        raise ValueError("expected gzip or none")
    return text


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    rest = url.partition("://")[2]
    host = rest.split("/", 1)[0].rpartition("@")[2]
    if host.startswith("["):
        host = host[1 : host.find("]")]
    else:
        host = host.partition(":")[0]
    host = host.lower()
    if host in ("localhost", "::1"):
        return True
    parts = host.split(".")
    return (
        len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)
    )


def parse_url(value: Any) -> str:
    text = str(value).strip()
    lower = text.lower()
    if not (lower.startswith("http://") or lower.startswith("https://")) or len(text) <= 8:
        raise ValueError("expected an http:// or https:// URL")
    return text


def parse_log_level(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        names = {v: k for k, v in _LOG_LEVELS.items() if k != "WARN"}
        if value in names:
            return names[value]
        raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    text = str(value).strip().upper()
    if text not in _LOG_LEVELS:
        raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return "WARNING" if text == "WARN" else text


def log_level_number(name: str) -> int:
    return _LOG_LEVELS[name]


def parse_list(value: Any) -> tuple[str, ...]:
    """A comma-separated string or a TOML array; items stripped and lower-cased, empties dropped."""
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(dict.fromkeys(str(i).strip().lower() for i in items if str(i).strip()))


def parse_propagators(value: Any) -> tuple[str, ...]:
    items = parse_list(value)
    if items == ("none",):
        return ()
    unknown = [i for i in items if i not in PROPAGATORS]
    if unknown or not items:
        raise ValueError("supported propagators are tracecontext, baggage (or none)")
    return items


def percent_decode(text: str) -> str:
    """Decodes %XX escapes as UTF-8 (W3C baggage / OTel env format); a stray % is an error."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        if raw[i] == 0x25:  # '%'
            digits = raw[i + 1 : i + 3]
            if len(digits) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in digits):
                raise ValueError("bad percent-escape")
            out.append(int(digits, 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", errors="strict")


def parse_key_values(value: Any) -> dict[str, str]:
    """`k=v,k2=v2` with percent-decoding (OTEL_RESOURCE_ATTRIBUTES, headers) or a TOML table."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    result: dict[str, str] = {}
    for item in str(value).split(","):
        if not item.strip():
            continue
        key, sep, val = item.partition("=")
        key = percent_decode(key.strip())
        if not sep or not key:
            raise ValueError(f"entry {item.strip()!r} is not key=value")
        result[key] = percent_decode(val.strip())
    return result
