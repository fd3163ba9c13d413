// Tests for RouteTable: stable ids per name, names resolve back, bounded size.
#include "agent/route_table.h"

#include <gtest/gtest.h>

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
  for (size_t i = 0; i < kMaxRoutes + 10; ++i) intern_route("/r/" + std::to_string(i));
  EXPECT_GT(routes_overflow(), 0u);
  EXPECT_EQ(intern_route("/never-seen-before"), 0u);
  EXPECT_NE(intern_route("/users/{id}"), 0u);  // known names still resolve
}

}  // namespace
}  // namespace pyrometer::agent
