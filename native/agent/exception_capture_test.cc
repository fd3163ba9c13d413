// Tests for exception capture rules: in-app classification of frame files and
// how a captured exception marks a span (event, frames, status).
#include "agent/exception_capture.h"

#include <gtest/gtest.h>

namespace pyrometer::agent {
namespace {

TEST(InAppRulesTest, LibrariesStdlibAndFrozenAreNotInApp) {
  InAppRules rules({"/usr/lib/python3.11/", "/opt/app/venv/lib/python3.11/site-packages"});
  EXPECT_TRUE(rules.is_in_app("/srv/app/views.py"));
  EXPECT_TRUE(rules.is_in_app("<string>"));
  EXPECT_FALSE(rules.is_in_app("/usr/lib/python3.11/json/decoder.py"));
  EXPECT_FALSE(rules.is_in_app("/home/u/.local/lib/python3.11/site-packages/flask/app.py"));
  EXPECT_FALSE(rules.is_in_app("/usr/lib/python3/dist-packages/requests/api.py"));
  EXPECT_FALSE(rules.is_in_app("<frozen importlib._bootstrap>"));
  EXPECT_FALSE(rules.is_in_app(""));
  // A prefix must match a whole directory name.
  EXPECT_TRUE(rules.is_in_app("/usr/lib/python3.11-local/app.py"));
}

TEST(ApplyExceptionTest, AddsEventFramesAndErrorStatus) {
  SpanRecord span;
  CapturedException exc;
  exc.type = "ValueError";
  exc.message = "bad";
  exc.stacktrace = "Traceback ...";
  exc.frames = {{"/srv/app.py", 3, "handler", true}};
  exc.escaped = true;
  ASSERT_TRUE(apply_exception(span, std::move(exc), 123));
  ASSERT_EQ(span.events.size(), 1u);
  EXPECT_EQ(span.events[0].name, "exception");
  EXPECT_EQ(span.events[0].time_unix_nano, 123u);
  EXPECT_EQ(span.events[0].attributes[0].key, "exception.type");
  EXPECT_EQ(std::get<std::string>(span.events[0].attributes[0].value), "ValueError");
  EXPECT_EQ(span.status_code, common::otlp::StatusCode::kError);
  EXPECT_EQ(span.status_message, "ValueError: bad");
  ASSERT_EQ(span.exception_stack.size(), 1u);
  EXPECT_EQ(span.exception_stack[0].function, "handler");
}

}  // namespace
}  // namespace pyrometer::agent
