// The envelope the three OTLP export requests share, decoded and encoded once
// here; each signal supplies only its item codec (Span, Metric, LogRecord).
//
//   Export<Signal>ServiceRequest { repeated Resource<Signal> = 1; }
//   Resource<Signal> { Resource resource = 1; repeated Scope<Signal> = 2; string schema_url = 3; }
//   Scope<Signal>    { InstrumentationScope scope = 1; repeated <Item> = 2; string schema_url = 3;
//   }
//
// Field numbers per opentelemetry-proto v1 (docs/format/otlp-subset.md).
#pragma once

#include <protozero/pbf_reader.hpp>
#include <protozero/pbf_writer.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/otlp_codec.h"
#include "common/otlp_common_codec.h"

namespace pyrometer::common::otlp::detail {

// Where a signal keeps its lists, and their protobuf names (used in error paths
// such as "resource_spans[0].scope_spans[0].spans[3].trace_id: ...").
template <typename Request, typename ResourceT, typename ScopeT, typename ItemT>
struct Envelope {
  const char* request_name;
  std::vector<ResourceT> Request::*resources;
  const char* resources_name;
  std::vector<ScopeT> ResourceT::*scopes;
  const char* scopes_name;
  std::vector<ItemT> ScopeT::*items;
  const char* items_name;
};

// `decode_item(pbf_reader, proto::DecodePath&, ItemT*)` decodes one item and
// reports errors through the path, like every decoder in this library.
template <typename Request, typename ResourceT, typename ScopeT, typename ItemT,
          typename DecodeItem>
Status decode_envelope(std::string_view data, const Envelope<Request, ResourceT, ScopeT, ItemT>& e,
                       DecodeItem decode_item, Request* out) {
  auto decode_scope_list = [&](protozero::pbf_reader r, proto::DecodePath& p, ScopeT* s) {
    (s->*e.items).reserve(proto::count_field(r, 2));
    while (proto::next_field(r, p)) {
      switch (r.tag()) {
        case 1:
          decode_singular(r, p, "scope", &s->scope, decode_scope);
          break;
        case 2:
          decode_repeated(r, p, e.items_name, &(s->*e.items), decode_item);
          break;
        case 3:
          s->schema_url = proto::read_bytes(r, p, "schema_url");
          break;
        default:
          r.skip();
      }
    }
  };
  auto decode_resource_list = [&](protozero::pbf_reader r, proto::DecodePath& p, ResourceT* res) {
    while (proto::next_field(r, p)) {
      switch (r.tag()) {
        case 1:
          decode_singular(r, p, "resource", &res->resource, decode_resource);
          break;
        case 2:
          decode_repeated(r, p, e.scopes_name, &(res->*e.scopes), decode_scope_list);
          break;
        case 3:
          res->schema_url = proto::read_bytes(r, p, "schema_url");
          break;
        default:
          r.skip();
      }
    }
  };
  return proto::decode_status(
      data, e.request_name, kMaxNesting, [&](protozero::pbf_reader& r, proto::DecodePath& p) {
        while (proto::next_field(r, p)) {
          if (r.tag() == 1) {
            decode_repeated(r, p, e.resources_name, &(out->*e.resources), decode_resource_list);
          } else {
            r.skip();
          }
        }
      });
}

// `encode_item(pbf_writer&, const Writer&, const ItemT&)` writes one item's
// fields. Fields are written in field-number order, as the reference
// serializers do, so our bytes equal theirs for the same message.
template <typename Request, typename ResourceT, typename ScopeT, typename ItemT,
          typename EncodeItem>
void encode_envelope(const Request& req, const Envelope<Request, ResourceT, ScopeT, ItemT>& e,
                     EncodeItem encode_item, std::string* out) {
  const Writer w{out};
  protozero::pbf_writer root(*out);
  for (const ResourceT& res : req.*e.resources) {
    write_message(root, w, 1, /*keep_empty=*/true, [&](protozero::pbf_writer& rw) {
      encode_resource(rw, w, 1, res.resource);
      for (const ScopeT& s : res.*e.scopes) {
        write_message(rw, w, 2, /*keep_empty=*/true, [&](protozero::pbf_writer& sw) {
          encode_scope(sw, w, 1, s.scope);
          for (const ItemT& item : s.*e.items) {
            write_message(sw, w, 2, /*keep_empty=*/true,
                          [&](protozero::pbf_writer& iw) { encode_item(iw, w, item); });
          }
          put_string(sw, 3, s.schema_url);
        });
      }
      put_string(rw, 3, res.schema_url);
    });
  }
}

}  // namespace pyrometer::common::otlp::detail
