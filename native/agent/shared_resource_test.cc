// SharedResource: typed per-worker attributes override configured ones,
// service.instance.id is settable, snapshots taken earlier do not change.
#include "agent/shared_resource.h"

#include <gtest/gtest.h>

#include <map>

namespace pyrometer::agent {
namespace {

std::map<std::string, otlp::AnyValue> resource_of(const ExportResource& r) {
  otlp::Resource out;
  build_resource(r, &out);
  std::map<std::string, otlp::AnyValue> m;
  for (const auto& kv : out.attributes) {
    EXPECT_EQ(m.count(std::string(kv.key)), 0u) << "duplicate " << kv.key;
    m[std::string(kv.key)] = kv.value;
  }
  return m;
}

TEST(SharedResourceTest, UpdatesAreTypedOverrideConfiguredKeysAndLeaveOldSnapshots) {
  ExportResource init{
      "shop", {{"deployment.environment.name", "prod"}, {"process.pid", "1"}}, "parent-id"};
  SharedResource r(init);
  std::shared_ptr<const ExportResource> before = r.get();
  r.update({{"process.pid", int64_t{4242}},
            {"gunicorn.worker.age", int64_t{2}},
            {"service.name", std::string("ignored")},
            {"service.instance.id", std::string("worker-2")}});
  r.update({{"gunicorn.worker.age", int64_t{3}}});

  auto now = resource_of(*r.get());
  EXPECT_EQ(now["service.name"].string_value, "shop");
  EXPECT_EQ(now["service.instance.id"].string_value, "worker-2");
  EXPECT_EQ(now["process.pid"].type, otlp::AnyValue::Type::kInt);
  EXPECT_EQ(now["process.pid"].int_value, 4242);
  EXPECT_EQ(now["gunicorn.worker.age"].int_value, 3);
  EXPECT_EQ(now["deployment.environment.name"].string_value, "prod");

  auto old = resource_of(*before);
  EXPECT_EQ(old["service.instance.id"].string_value, "parent-id");
  EXPECT_EQ(old["process.pid"].string_value, "1");
  EXPECT_EQ(old.count("gunicorn.worker.age"), 0u);

  r.set_instance_id("child-id");
  EXPECT_EQ(r.get()->instance_id, "child-id");
  EXPECT_EQ(r.get()->typed_attributes.size(), 2u);  // kept across a new instance id
}

}  // namespace
}  // namespace pyrometer::agent
