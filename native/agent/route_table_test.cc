// Tests for RouteTable: stable ids per name, names resolve back, bounded size.
#include "agent/route_table.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace pyrometer::agent {
namespace {

TEST(RouteTableTest, SameNameSameIdAndResolves) {
  const uint32_t a = intern_route("/users/{id}");
  const uint32_t b = intern_route("/orders");
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(intern_route("/users/{id}"), a);
  EXPECT_EQ(route_name(a), "/users/{id}");
  EXPECT_EQ(route_name(0), "");
  EXPECT_EQ(intern_route(""), 0u);
}

TEST(RouteTableTest, FullTableMapsToUnknownAndCounts) {
  const uint32_t known = intern_route("/users/{id}");  // each test may run alone (ctest)
  for (size_t i = 0; i < kMaxRoutes + 10; ++i) intern_route("/r/" + std::to_string(i));
  EXPECT_GT(routes_overflow(), 0u);
  EXPECT_EQ(intern_route("/never-seen-before"), 0u);
  EXPECT_EQ(intern_route("/users/{id}"), known);  // known names still resolve
  EXPECT_NE(known, 0u);
}

TEST(RouteTableTest, ForkedChildKeepsNamesAndCanIntern) {
  // (A name the table surely holds, even if an earlier test filled it.)
  const uint32_t parent_id = intern_route("/users/{id}");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const bool ok = parent_id != 0 && route_name(parent_id) == "/users/{id}" &&
                    intern_route("/users/{id}") == parent_id;
    intern_route("/in-child");  // must not deadlock on a lock inherited held
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace pyrometer::agent
