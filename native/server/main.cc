// pyrometer-server entry point: parses flags, opens the store, serves HTTP
// until SIGTERM/SIGINT, then drains requests and closes the store (exit 0).
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server/alert/alert_manager.h"
#include "server/alert/alert_metrics.h"
#include "server/alert/alert_routes.h"
#include "server/http/http_server.h"
#include "server/http/router.h"
#include "server/ingest/ingest_metrics.h"
#include "server/server_options.h"
#include "server/server_routes.h"
#include "server/store/embedded/embedded_store.h"

namespace {

constexpr const char* kVersion = "0.1.0";

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "pyrometer-server: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pyrometer::server;  // NOLINT: entry point

  ServerOptions opts;
  pyrometer::common::Status st = parse_server_options(argc, argv, &opts);
  if (!st.ok()) return fail(2, st.message() + " (see --help)");
  if (opts.help) {
    std::fputs(server_usage().c_str(), stdout);
    return 0;
  }
  if (opts.version) {
    std::printf("pyrometer-server %s\n", kVersion);
    return 0;
  }
  if (opts.storage != "embedded") {
    return fail(2, "--storage " + opts.storage +
                       ": ClickHouse storage is not supported yet; use --storage embedded");
  }
  if (!opts.webhook_ca_file.empty()) {
    st = alert::check_ca_file(opts.webhook_ca_file);
    if (!st.ok()) return fail(2, "--webhook-ca-file: " + st.message());
  }
  const char* token_env = std::getenv("PYROMETER_TOKEN");
  std::string token = token_env != nullptr ? token_env : "";
  if (!is_loopback_host(opts.host) && token.empty()) {
    return fail(2, "refusing to listen on non-loopback address " + opts.host +
                       " without a token: set PYROMETER_TOKEN (clients then send "
                       "\"Authorization: Bearer <token>\"), or listen on 127.0.0.1");
  }

  // Block the shutdown signals in every thread (threads inherit the mask);
  // the main thread collects them with sigwait() below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill us

  std::error_code ec;
  std::filesystem::create_directories(opts.data_dir, ec);
  if (ec) return fail(1, "cannot create data directory " + opts.data_dir + ": " + ec.message());

  store::StoreOptions store_opts;
  store_opts.data_dir = opts.data_dir;
  store_opts.retention = opts.retention;
  store_opts.max_disk_bytes = opts.max_disk_bytes;
  store_opts.max_memory_bytes = opts.max_memory_bytes;
  store_opts.fsync_interval = opts.fsync_interval;
  std::unique_ptr<store::Store> store;
  st = store::EmbeddedStore::open(store_opts, &store);
  if (!st.ok()) return fail(1, "cannot open store in " + opts.data_dir + ": " + st.to_string());

  ingest::IngestMetrics metrics;
  http::Router router;
  std::unique_ptr<http::HttpServer> server;
  std::unique_ptr<alert::AlertManager> alerts;
  ingest::ExtraCounters extra;
  extra.handler_exceptions = [&router] { return router.handler_exceptions(); };
  extra.protocol_errors = [&server] { return server ? server->protocol_errors() : 0; };
  extra.render_more = [&alerts](std::string* out) {
    if (alerts) alert::render_alert_metrics(*alerts, out);
  };
  add_server_routes(&router, store.get(), &metrics, opts.max_body_bytes, extra);
  alert::AlertOptions alert_opts{opts.alert_interval, opts.alert_webhook, opts.webhook_ca_file,
                                 opts.default_alert_rules};
  alerts = std::make_unique<alert::AlertManager>(store.get(), alert_opts);
  if (!opts.rules_file.empty()) {
    std::string text;
    std::FILE* f = std::fopen(opts.rules_file.c_str(), "rb");
    if (f == nullptr) {
      store->close();
      return fail(2, "--rules " + opts.rules_file + ": " + std::strerror(errno));
    }
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    std::fclose(f);
    std::vector<alert::Rule> rules;
    st = alert::parse_rules_file(text, &rules);
    std::string id;
    for (auto& r : rules) {
      if (st.ok()) st = alerts->put_rule(std::move(r), &id);
    }
    if (!st.ok()) {
      store->close();
      return fail(2, "--rules " + opts.rules_file + ": " + st.message());
    }
  }
  alert::add_alert_routes(&router, alerts.get());
  if (!token.empty()) router.set_bearer_token(token, {"/healthz"});

  http::HttpOptions http_opts;
  http_opts.host = opts.host;
  http_opts.port = opts.port;
  http_opts.io_threads = opts.threads;
  http_opts.max_body_bytes = opts.max_body_bytes;
  http_opts.on_response = [&metrics](const http::Request& rq, const http::Response& res,
                                     double seconds, size_t bytes_in) {
    metrics.observe_request(rq.method, rq.path, res.status, seconds, bytes_in);
  };
  st = http::HttpServer::start(http_opts, &router, &server);
  if (!st.ok()) {
    store->close();
    return fail(1, st.message());
  }
  std::string shown_host =
      opts.host.find(':') != std::string::npos ? "[" + opts.host + "]" : opts.host;
  alerts->start();
  std::printf("pyrometer-server listening on http://%s:%u (data: %s)\n", shown_host.c_str(),
              static_cast<unsigned>(server->port()), opts.data_dir.c_str());
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  std::fprintf(stderr, "pyrometer-server: %s received, draining requests\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
  server->shutdown();
  alerts->stop();
  st = store->close();
  if (!st.ok()) return fail(1, "closing store: " + st.to_string());
  std::fprintf(stderr, "pyrometer-server: stopped\n");
  return 0;
}
