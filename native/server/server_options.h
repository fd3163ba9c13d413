// ServerOptions: pyrometer-server's command-line flags, parsed and validated
// up front so a bad value fails at start with a message naming the flag.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace pyrometer::server {

struct ServerOptions {
  std::string data_dir;  // --data (default $XDG_DATA_HOME/pyrometer or ~/.local/share/pyrometer)
  std::string host = "127.0.0.1";  // --listen HOST:PORT
  uint16_t port = 8321;
  std::string storage = "embedded";                // --storage
  std::chrono::seconds retention{7 * 24 * 3600};   // --retention
  uint64_t max_disk_bytes = 10'000'000'000ULL;     // --max-disk
  uint64_t max_memory_bytes = 1'000'000'000ULL;    // --max-memory
  uint64_t max_body_bytes = uint64_t{64} << 20;    // --max-body
  std::chrono::microseconds fsync_interval{5000};  // --fsync-interval
  int threads = 0;                                 // --threads (0: one per core)
  bool help = false;                               // --help
  bool version = false;                            // --version
  // Alerts: --rules FILE (YAML/JSON), --alert-interval, --alert-webhook URL
  // (for rules that name none), --no-default-alert-rules, --webhook-ca-file.
  std::string rules_file;
  std::chrono::milliseconds alert_interval{15000};
  std::string alert_webhook;
  std::string webhook_ca_file;  // --webhook-ca-file PATH (PEM, checked at start)
  bool default_alert_rules = true;
};

// Parses argv ("--flag value" or "--flag=value"). On a bad or unknown flag
// returns invalid_argument with one line naming it; *out is then unspecified.
// Does not touch the filesystem or network. Reentrant.
common::Status parse_server_options(int argc, const char* const* argv, ServerOptions* out);

// The --help text.
std::string server_usage();

// Durations: an integer with unit ns|us|ms|s|m|h|d|w ("7d", "5ms").
bool parse_duration(const std::string& text, std::chrono::nanoseconds* out);
// Sizes: an integer with optional unit B|KB|MB|GB|TB (powers of 1000) or
// KiB|MiB|GiB|TiB (powers of 1024), case-insensitive ("10GB", "64MiB").
bool parse_size(const std::string& text, uint64_t* out);

// True for "localhost", 127.0.0.0/8 and ::1: addresses only this machine can
// reach, where no token is required.
bool is_loopback_host(const std::string& host);

}  // namespace pyrometer::server
