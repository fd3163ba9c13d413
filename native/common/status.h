// Status: the error value every fallible Pyrometer function returns instead of
// throwing (decoders, storage, network). Cheap when ok: no allocation.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace pyrometer::common {

class Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kInvalidArgument,  // malformed input: bad protobuf/JSON, bad traceparent (HTTP 400)
    kTooLarge,         // input over a configured limit (HTTP 413)
    kUnavailable,      // temporarily refused: full queue, memory bound (HTTP 429/503)
    kCorruption,       // stored data failed a CRC or structural check
    kIOError,          // the operating system refused a read/write/fsync
    kNotFound,
    kInternal,
  };

  Status() = default;
  static Status ok_status() { return Status(); }
  static Status invalid_argument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status too_large(std::string msg) { return {Code::kTooLarge, std::move(msg)}; }
  static Status unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status io_error(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status not_found(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace pyrometer::common
