// Sample pprof profiles for tests, fuzz seeds and the interop tool: a rich one
// that sets every field (two sample types, labels, inlined lines, mappings).
#pragma once

#include "common/pprof_model.h"

namespace pyrometer::common::pprof::testing {

inline Profile rich_profile() {
  Profile p;
  p.string_table = {"",
                    "samples",
                    "count",
                    "cpu",
                    "nanoseconds",
                    "handle_request",
                    "app/views.py",
                    "query_db",
                    "app/db.py",
                    "/usr/bin/python3.11",
                    "build-id-1",
                    "thread",
                    "MainThread",
                    "bytes",
                    "pyrometer profile",
                    "GC.*",
                    "main.*",
                    "span_id",
                    "1f2e3d4c5b6a7980"};
  p.sample_type = {{1, 2}, {3, 4}};
  p.period_type = {3, 4};
  p.period = 10'000'000;
  p.time_nanos = 1'700'000'000'000'000'000;
  p.duration_nanos = 10'000'000'000;
  p.drop_frames = 15;
  p.keep_frames = 16;
  p.comment = {14, 0};
  p.default_sample_type = 3;
  Mapping m;
  m.id = 1;
  m.memory_start = 0x400000;
  m.memory_limit = 0x800000;
  m.file_offset = 0x1000;
  m.filename = 9;
  m.build_id = 10;
  m.has_functions = true;
  m.has_filenames = true;
  m.has_line_numbers = true;
  m.has_inline_frames = false;
  p.mapping.push_back(m);
  p.function.push_back({1, 5, 5, 6, 10});
  p.function.push_back({2, 7, 0, 8, 3});
  Location leaf;
  leaf.id = 1;
  leaf.mapping_id = 1;
  leaf.address = 0x401234;
  leaf.line = {{2, 12, 4}, {1, 40, 0}};  // query_db inlined into handle_request
  leaf.is_folded = true;
  p.location.push_back(leaf);
  Location root;
  root.id = 2;
  root.line = {{1, 22, 0}};
  p.location.push_back(root);
  Sample s;
  s.location_id = {1, 2};
  s.value = {3, 30'000'000};
  s.label.push_back({11, 12, 0, 0});
  s.label.push_back({13, 0, 4096, 13});
  p.sample.push_back(s);
  Sample s2;
  s2.location_id = {2};
  s2.value = {1, -5};
  s2.label.push_back({17, 18, 0, 0});
  p.sample.push_back(s2);
  return p;
}

}  // namespace pyrometer::common::pprof::testing
