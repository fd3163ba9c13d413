// Flag parsing for pyrometer-server: sizes, durations, HOST:PORT, defaults
// that follow the XDG base-directory convention.
#include "server/server_options.h"

#include <arpa/inet.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace pyrometer::server {

using common::Status;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits "123unit" into the number and the unit; false if no digits.
bool split_number(const std::string& text, uint64_t* number, std::string* unit) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 18) return false;
  *number = std::strtoull(text.substr(0, i).c_str(), nullptr, 10);
  std::string rest = text.substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.erase(rest.begin());
  *unit = lower(rest);
  return true;
}

std::string default_data_dir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/pyrometer";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && home[0] != '\0' ? home : ".") + "/.local/share/pyrometer";
}

Status bad(const std::string& flag, const std::string& value, const std::string& expected) {
  return Status::invalid_argument("invalid value \"" + value + "\" for " + flag + ": expected " +
                                  expected);
}

Status parse_listen(const std::string& value, ServerOptions* out) {
  std::string host;
  std::string port;
  if (!value.empty() && value.front() == '[') {  // [::1]:8321
    size_t close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      return bad("--listen", value, "HOST:PORT, e.g. 127.0.0.1:8321 or [::1]:8321");
    }
    host = value.substr(1, close - 1);
    port = value.substr(close + 2);
  } else {
    size_t colon = value.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return bad("--listen", value, "HOST:PORT, e.g. 127.0.0.1:8321");
    }
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return bad("--listen", value, "HOST:PORT; write IPv6 addresses as [ADDR]:PORT");
    }
  }
  uint64_t p = 0;
  std::string unit;
  if (!split_number(port, &p, &unit) || !unit.empty() || p > 65535 || host.empty()) {
    return bad("--listen", value, "HOST:PORT with PORT in 0..65535");
  }
  out->host = host;
  out->port = static_cast<uint16_t>(p);
  return {};
}

}  // namespace

bool parse_duration(const std::string& text, std::chrono::nanoseconds* out) {
  uint64_t n = 0;
  std::string unit;
  if (!split_number(text, &n, &unit)) return false;
  uint64_t scale;
  if (unit == "ns") {
    scale = 1;
  } else if (unit == "us") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1000'000;
  } else if (unit == "s") {
    scale = 1000'000'000ULL;
  } else if (unit == "m") {
    scale = 60ULL * 1000'000'000ULL;
  } else if (unit == "h") {
    scale = 3600ULL * 1000'000'000ULL;
  } else if (unit == "d") {
    scale = 86400ULL * 1000'000'000ULL;
  } else if (unit == "w") {
    scale = 7 * 86400ULL * 1000'000'000ULL;
  } else {
    return false;
  }
  if (n > static_cast<uint64_t>(INT64_MAX) / scale) return false;
  *out = std::chrono::nanoseconds(static_cast<int64_t>(n * scale));
  return true;
}

bool parse_size(const std::string& text, uint64_t* out) {
  uint64_t n = 0;
  std::string unit;
  if (!split_number(text, &n, &unit)) return false;
  uint64_t scale;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "kb" || unit == "k") {
    scale = 1000;
  } else if (unit == "mb" || unit == "m") {
    scale = 1000'000;
  } else if (unit == "gb" || unit == "g") {
    scale = 1000'000'000ULL;
  } else if (unit == "tb" || unit == "t") {
    scale = 1000'000'000'000ULL;
  } else if (unit == "kib") {
    scale = 1ULL << 10;
  } else if (unit == "mib") {
    scale = 1ULL << 20;
  } else if (unit == "gib") {
    scale = 1ULL << 30;
  } else if (unit == "tib") {
    scale = 1ULL << 40;
  } else {
    return false;
  }
  if (n > UINT64_MAX / scale) return false;
  *out = n * scale;
  return true;
}

bool is_loopback_host(const std::string& host) {
  if (lower(host) == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    static const in6_addr kLoopback = IN6ADDR_LOOPBACK_INIT;
    return std::memcmp(&v6, &kLoopback, sizeof(v6)) == 0;
  }
  return false;
}

Status parse_server_options(int argc, const char* const* argv, ServerOptions* out) {
  *out = ServerOptions();
  out->data_dir = default_data_dir();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out->help = true;
      continue;
    }
    if (arg == "--version") {
      out->version = true;
      continue;
    }
    if (arg == "--no-default-alert-rules") {
      out->default_alert_rules = false;
      continue;
    }
    if (arg.rfind("--", 0) != 0)
      return Status::invalid_argument("unexpected argument \"" + arg + "\"");
    std::string flag = arg;
    std::string value;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else {
      static const char* kWithValue[] = {
          "--data",           "--listen",        "--storage",        "--retention", "--max-disk",
          "--max-memory",     "--max-body",      "--fsync-interval", "--threads",   "--rules",
          "--alert-interval", "--alert-webhook", "--webhook-ca-file"};
      bool takes_value = false;
      for (const char* f : kWithValue) takes_value |= flag == f;
      if (!takes_value) return Status::invalid_argument("unknown flag " + flag + " (see --help)");
      if (i + 1 >= argc) return Status::invalid_argument(flag + " needs a value");
      value = argv[++i];
    }
    std::chrono::nanoseconds d{};
    uint64_t n = 0;
    if (flag == "--data") {
      if (value.empty()) return bad(flag, value, "a directory");
      out->data_dir = value;
    } else if (flag == "--listen") {
      Status st = parse_listen(value, out);
      if (!st.ok()) return st;
    } else if (flag == "--storage") {
      if (value != "embedded" && value.rfind("clickhouse://", 0) != 0) {
        return bad(flag, value, "embedded or clickhouse://HOST:PORT/DB");
      }
      out->storage = value;
    } else if (flag == "--retention") {
      if (!parse_duration(value, &d) || d < std::chrono::hours(1)) {
        return bad(flag, value, "a duration of at least 1h, e.g. 7d, 48h");
      }
      out->retention = std::chrono::duration_cast<std::chrono::seconds>(d);
    } else if (flag == "--fsync-interval") {
      if (!parse_duration(value, &d) || d > std::chrono::seconds(10)) {
        return bad(flag, value, "a duration up to 10s, e.g. 5ms, 0ms");
      }
      out->fsync_interval = std::chrono::duration_cast<std::chrono::microseconds>(d);
    } else if (flag == "--max-disk" || flag == "--max-memory" || flag == "--max-body") {
      if (!parse_size(value, &n) || n < 1024) {
        return bad(flag, value, "a size of at least 1KiB, e.g. 10GB, 512MiB");
      }
      if (flag == "--max-disk") out->max_disk_bytes = n;
      if (flag == "--max-memory") out->max_memory_bytes = n;
      if (flag == "--max-body") out->max_body_bytes = n;
    } else if (flag == "--threads") {
      std::string unit;
      if (!split_number(value, &n, &unit) || !unit.empty() || n < 1 || n > 256) {
        return bad(flag, value, "an integer from 1 to 256");
      }
      out->threads = static_cast<int>(n);
    } else if (flag == "--rules") {
      if (value.empty()) return bad(flag, value, "a rules file (YAML or JSON)");
      out->rules_file = value;
    } else if (flag == "--alert-interval") {
      if (!parse_duration(value, &d) || d < std::chrono::milliseconds(100) ||
          d > std::chrono::hours(1)) {
        return bad(flag, value, "a duration from 100ms to 1h, e.g. 15s");
      }
      out->alert_interval = std::chrono::duration_cast<std::chrono::milliseconds>(d);
    } else if (flag == "--alert-webhook") {
      if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0) {
        return bad(flag, value, "an http:// or https:// URL");
      }
      out->alert_webhook = value;
    } else if (flag == "--webhook-ca-file") {
      if (value.empty()) return bad(flag, value, "a PEM file of CA certificates");
      out->webhook_ca_file = value;
    } else {
      return Status::invalid_argument("unknown flag " + flag + " (see --help)");
    }
  }
  return {};
}

std::string server_usage() {
  return R"(usage: pyrometer-server [flags]

Receives OTLP traces, metrics and logs (protobuf or JSON) and pprof profiles
over HTTP and keeps them on local disk.

  --data DIR             data directory (default ~/.local/share/pyrometer)
  --listen HOST:PORT     address to serve on (default 127.0.0.1:8321); any
                         non-loopback address requires PYROMETER_TOKEN
  --storage embedded     storage backend (clickhouse:// is not supported yet)
  --retention 7d         delete data older than this
  --max-disk 10GB        delete the oldest data past this disk budget
  --max-memory 1GB       memory bound for buffered data; past it ingest answers 503
  --max-body 64MiB       largest request body, before and after gunzip (413 past it)
  --fsync-interval 5ms   WAL group-commit window
  --threads N            HTTP I/O threads (default: one per core)
  --rules FILE           alert rules to load at start (YAML or JSON; docs/openapi.yaml)
  --alert-interval 15s   how often alert rules are evaluated
  --alert-webhook URL    webhook (http:// or https://) for rules that name none
  --webhook-ca-file PATH PEM CA certificates trusted for https webhooks, in
                         addition to the system trust store (private CAs)
  --no-default-alert-rules  do not install the default alert rules
  --help, --version

Environment:
  PYROMETER_TOKEN        when set, every request except /healthz needs
                         "Authorization: Bearer <token>"
)";
}

}  // namespace pyrometer::server
