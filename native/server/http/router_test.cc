// Router tests: exact and parametric routes, 404/405, bearer auth, handler
// exceptions, and the Request helpers (headers, media type, query params).
#include "server/http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace pyrometer::server::http {
namespace {

Request make(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  return r;
}

void add_routes(Router& router) {
  router.add("GET", "/healthz", [](const Request&, Response* res) { res->body = "ok"; });
  router.add("POST", "/v1/traces", [](const Request&, Response* res) { res->body = "traces"; });
  router.add("GET", "/api/v1/traces/{id}",
             [](const Request& rq, Response* res) { res->body = "trace " + rq.path_param; });
  router.add("GET", "/api/v1/traces/search",
             [](const Request&, Response* res) { res->body = "search"; });
  router.add("GET", "/boom", [](const Request&, Response*) { throw std::runtime_error("bang"); });
}

TEST(Router, ExactRoute) {
  Router router;
  add_routes(router);
  Request rq = make("GET", "/healthz");
  Response res;
  router.dispatch(rq, &res);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "ok");
}

TEST(Router, ParametricRouteCapturesOneSegment) {
  Router router;
  add_routes(router);
  Request rq = make("GET", "/api/v1/traces/abc123?x=1");
  Response res;
  router.dispatch(rq, &res);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "trace abc123");
  EXPECT_EQ(rq.path_param, "abc123");

  Request nested = make("GET", "/api/v1/traces/abc/def");
  Response res2;
  router.dispatch(nested, &res2);
  EXPECT_EQ(res2.status, 404);

  Request empty = make("GET", "/api/v1/traces/");
  Response res3;
  router.dispatch(empty, &res3);
  EXPECT_EQ(res3.status, 404);
}

TEST(Router, ExactRouteWinsOverParametric) {
  Router router;
  add_routes(router);
  Request rq = make("GET", "/api/v1/traces/search");
  Response res;
  router.dispatch(rq, &res);
  EXPECT_EQ(res.body, "search");
}

TEST(Router, UnknownPathIs404) {
  Router router;
  add_routes(router);
  Request rq = make("GET", "/nope");
  Response res;
  router.dispatch(rq, &res);
  EXPECT_EQ(res.status, 404);
  EXPECT_NE(res.body.find("/nope"), std::string::npos);
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router;
  add_routes(router);
  Request rq = make("GET", "/v1/traces");
  Response res;
  router.dispatch(rq, &res);
  EXPECT_EQ(res.status, 405);
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].first, "Allow");
  EXPECT_EQ(res.headers[0].second, "POST");
}

TEST(Router, HandlerExceptionBecomesCounted500) {
  Router router;
  add_routes(router);
  Request rq = make("GET", "/boom");
  Response res;
  router.dispatch(rq, &res);
  EXPECT_EQ(res.status, 500);
  EXPECT_NE(res.body.find("bang"), std::string::npos);
  EXPECT_EQ(router.handler_exceptions(), 1u);
}

TEST(Router, CustomErrorFormatter) {
  Router router;
  add_routes(router);
  router.set_error_formatter([](const Request&, int status, std::string_view msg, Response* r) {
    r->set(status, "application/json", "{\"e\":\"" + std::string(msg) + "\"}");
  });
  Request rq = make("GET", "/x");
  Response res;
  router.dispatch(rq, &res);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.content_type, "application/json");
}

TEST(Router, BearerTokenRequiredExceptExemptPaths) {
  Router router;
  add_routes(router);
  router.set_bearer_token("s3cret", {"/healthz"});
  {
    Request rq = make("POST", "/v1/traces");
    Response res;
    router.dispatch(rq, &res);
    EXPECT_EQ(res.status, 401);
  }
  {
    Request rq = make("POST", "/v1/traces");
    rq.headers.emplace_back("authorization", "Bearer wrong!");
    Response res;
    router.dispatch(rq, &res);
    EXPECT_EQ(res.status, 401);
  }
  {
    Request rq = make("POST", "/v1/traces");
    rq.headers.emplace_back("authorization", "bearer s3cret");
    Response res;
    router.dispatch(rq, &res);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "traces");
  }
  {
    Request rq = make("GET", "/healthz");
    Response res;
    router.dispatch(rq, &res);
    EXPECT_EQ(res.status, 200);
  }
  {
    // Unknown paths are not revealed to unauthenticated clients.
    Request rq = make("GET", "/secret-path");
    Response res;
    router.dispatch(rq, &res);
    EXPECT_EQ(res.status, 401);
  }
}

TEST(ConstantTimeEqual, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abd", "abc"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(RequestHelpers, HeaderAndMediaType) {
  Request rq;
  rq.headers.emplace_back("content-type", " Application/JSON ; charset=utf-8");
  EXPECT_EQ(rq.media_type(), "application/json");
  EXPECT_EQ(rq.header("content-type"), " Application/JSON ; charset=utf-8");
  EXPECT_EQ(rq.header("accept"), "");
}

TEST(RequestHelpers, QueryParamsArePercentDecoded) {
  Request rq = make("POST", "/v1/profiles?service=my%20svc&route=%2Fusers%2F%7Bid%7D&flag&x=a+b");
  bool found = false;
  EXPECT_EQ(rq.query_param("service", &found), "my svc");
  EXPECT_TRUE(found);
  EXPECT_EQ(rq.query_param("route"), "/users/{id}");
  EXPECT_EQ(rq.query_param("flag", &found), "");
  EXPECT_TRUE(found);
  EXPECT_EQ(rq.query_param("x"), "a b");
  EXPECT_EQ(rq.query_param("missing", &found), "");
  EXPECT_FALSE(found);
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
}

}  // namespace
}  // namespace pyrometer::server::http
