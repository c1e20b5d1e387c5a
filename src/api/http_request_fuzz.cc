// libFuzzer target for the HTTP framing and the request decoders before any route: Beast's
// request parser with the server's limits (64 KiB of header, 2 MiB of body), then the target
// (ParseTarget) and a multipart/form-data body (MultipartBoundary, ParseMultipart), as an
// upload is decoded. Invariants, each aborting when broken: nothing reads outside the input
// (ASan), a multipart part's bytes lie inside the body, an error has a message.
//
// With -DHERA_FUZZ=ON this is the http_request_fuzz executable, run from the seeds in
// tests/fuzz/corpus/http_request (whole requests as a client sends them).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/http_types.h"
#include "api/multipart.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "http request fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  http::request_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(2 * 1024 * 1024);
  parser.eager(true);
  beast::error_code ec;
  // Fed in two pieces, as a request arrives over TCP: the split point comes from the input.
  const size_t split = size == 0 ? 0 : data[0] % (size + 1);
  size_t used = parser.put(boost::asio::buffer(input.data(), split), ec);
  if (ec == http::error::need_more) ec = {};
  // A parser that is done takes nothing more (Beast asserts): the rest would be the next
  // request on a keep-alive connection.
  if (!ec && !parser.is_done()) {
    used += parser.put(boost::asio::buffer(input.data() + used, size - used), ec);
  }
  if (ec && ec != http::error::need_more && ec.message().empty()) Fail("an error without a message");
  if (!parser.is_done()) return 0;

  const auto& req = parser.get();
  std::string path;
  std::map<std::string, std::string> query;
  (void)hera::api::ParseTarget(std::string_view(req.target().data(), req.target().size()), &path,
                               &query);
  const auto type = req[http::field::content_type];
  auto boundary = hera::api::MultipartBoundary(std::string_view(type.data(), type.size()));
  if (!boundary.ok()) {
    if (boundary.status().message().empty()) Fail("a boundary error without a message");
    return 0;
  }
  const std::string& body = req.body();
  auto parts = hera::api::ParseMultipart(body, *boundary);
  if (!parts.ok()) {
    if (parts.status().message().empty()) Fail("a multipart error without a message");
    return 0;
  }
  for (const auto& part : *parts) {
    if (part.data.data() < body.data() ||
        part.data.data() + part.data.size() > body.data() + body.size()) {
      Fail("a part's bytes lie outside the body");
    }
  }
  return 0;
}
