#include "api/http_connection.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <sstream>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hera::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

constexpr char kServerName[] = "hera";
// How long an answered-then-closed connection drains what the client still sends.
constexpr absl::Duration kLingerAfterError = absl::Seconds(5);
constexpr absl::Duration kLingerAfterRefusal = absl::Seconds(1);
// A waiting stream is pulled again at least this often, whatever its source asked.
constexpr absl::Duration kLongestStreamWait = absl::Hours(1);
constexpr size_t kSinkBytes = 16 * 1024;

std::string ErrorJson(std::string_view code, std::string_view message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

std::chrono::steady_clock::duration ToSteady(absl::Duration d) {
  // Clamped so that now + d cannot overflow (an infinite Duration is "no deadline").
  return absl::ToChronoNanoseconds(std::clamp(d, absl::ZeroDuration(), absl::Hours(24 * 365)));
}

// What a request Beast refused to parse is told: 400 naming the fault, 431 for a header over
// the limit. A connection cut mid-request gets no answer (status 0).
struct ParseFault {
  int status = 0;
  std::string message;
};

ParseFault FaultOf(const boost::system::error_code& ec, const HttpServerOptions& options) {
  if (ec.category() != http::make_error_code(http::error::bad_method).category()) return {};
  switch (static_cast<http::error>(ec.value())) {
    case http::error::end_of_stream:
    case http::error::partial_message:
      return {};
    case http::error::header_limit:
      return {431, absl::StrCat("the request header is larger than ", options.max_header_bytes,
                                " bytes")};
    case http::error::bad_method:
      return {400, "the request method is malformed"};
    case http::error::bad_target:
      return {400, "the request target (URL) is malformed"};
    case http::error::bad_version:
      return {400, "the HTTP version is malformed (HTTP/1.0 and HTTP/1.1 are served)"};
    case http::error::bad_field:
      return {400, "a header field name is malformed"};
    case http::error::bad_value:
      return {400, "a header field value is malformed"};
    case http::error::bad_line_ending:
      return {400, "a line of the request does not end with CRLF"};
    case http::error::bad_obs_fold:
      return {400, "a header field is folded over lines (obsolete line folding)"};
    case http::error::bad_content_length:
      return {400,
              "the Content-Length header is invalid: not a decimal number, too large, or sent "
              "with Transfer-Encoding: chunked"};
    case http::error::multiple_content_length:
      return {400, "the request has more than one Content-Length"};
    case http::error::bad_transfer_encoding:
      return {400,
              "the Transfer-Encoding header is invalid or conflicts with Content-Length (send "
              "one of them)"};
    case http::error::bad_chunk:
      return {400, "a chunk of the chunked body is malformed (bad chunk size or framing)"};
    case http::error::bad_chunk_extension:
      return {400, "a chunk extension of the chunked body is malformed"};
    default:
      return {400, absl::StrCat("the request is malformed: ", ec.message())};
  }
}

std::string TooLargeMessage(const HttpServerOptions::BodyLimit& limit) {
  return !limit.too_large.empty()
             ? limit.too_large
             : absl::StrCat("the request body is larger than ", limit.bytes, " bytes");
}

// Runs `handler` on `req` from client `peer`, converted to the server-neutral HttpRequest.
HttpResponse Handle(const HttpHandler& handler, http::request<http::string_body>& req,
                    const std::string& peer) {
  HttpRequest r;
  r.peer = peer;
  r.method = std::string(req.method_string());
  const std::string_view target(req.target().data(), req.target().size());
  if (!ParseTarget(target, &r.path, &r.query)) {
    HttpResponse resp;
    resp.status = 400;
    resp.body = ErrorJson("INVALID_ARGUMENT", "the request URL has a bad %-escape");
    return resp;
  }
  for (const auto& field : req) {
    r.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  r.body = std::move(req.body());
  try {
    return handler(r);
  } catch (const std::exception& e) {
    // Handlers convert their errors; anything reaching here is a bug, reported as 500.
    spdlog::error("http {} {}: unexpected exception: {}", r.method, r.path, e.what());
    HttpResponse resp;
    resp.status = 500;
    resp.body = ErrorJson("INTERNAL", "internal error");
    return resp;
  }
}

}  // namespace

HttpConnection::HttpConnection(Socket socket, const Shared& shared, std::function<void()> gone)
    : gone_{std::move(gone)},
      shared_(shared),
      socket_(std::move(socket)),
      strand_(socket_.get_executor()),
      deadline_(strand_),
      stream_timer_(strand_) {
  ErrorCode ec;
  if (auto remote = socket_.remote_endpoint(ec); !ec) peer_ = remote.address().to_string();
}

void HttpConnection::Start() {
  net::post(strand_, [self = shared_from_this()] {
    ErrorCode ec;
    self->socket_.set_option(net::ip::tcp::no_delay(true), ec);
    self->ReadRequest();
  });
}

void HttpConnection::Refuse(int status, std::string code, std::string message) {
  net::post(strand_, [self = shared_from_this(), status, code = std::move(code),
                      message = std::move(message)] {
    self->AnswerAndClose(status, code, message, kLingerAfterRefusal);
  });
}

void HttpConnection::Close() {
  abandoned_.store(true);
  net::post(strand_, [self = shared_from_this()] { self->DoClose(); });
}

void HttpConnection::DoClose() {
  if (closed_) return;
  closed_ = true;
  abandoned_.store(true);
  ErrorCode ec;
  socket_.shutdown(Socket::shutdown_both, ec);
  socket_.close(ec);  // pending operations complete with operation_aborted
  deadline_.cancel();
  stream_timer_.cancel();
  // stream_ stays: a pull may be running on the pool. It goes with the connection.
}

// --- Deadlines -----------------------------------------------------------------------------

void HttpConnection::Arm(Phase phase, absl::Duration timeout) {
  phase_ = phase;
  timed_out_ = false;
  deadline_.expires_after(ToSteady(timeout));  // cancels the wait of a previous deadline
  deadline_.async_wait([self = shared_from_this()](ErrorCode ec) { self->OnDeadline(ec); });
}

void HttpConnection::Disarm() {
  phase_ = Phase::kNone;
  // A far expiry rather than cancel(): a wait that already fired but is still queued then sees
  // that its deadline moved and does nothing.
  deadline_.expires_at(std::chrono::steady_clock::time_point::max());
}

void HttpConnection::OnDeadline(ErrorCode ec) {
  if (ec == net::error::operation_aborted || closed_ || phase_ == Phase::kNone) return;
  if (deadline_.expiry() > std::chrono::steady_clock::now()) return;  // moved meanwhile
  if (phase_ == Phase::kWrite || phase_ == Phase::kLinger || phase_ == Phase::kIdle) {
    DoClose();
    return;
  }
  // A read: cancel it, and its handler answers 408 (or closes, if nothing came).
  timed_out_ = true;
  socket_.cancel(ec);
}

// --- Requests ------------------------------------------------------------------------------

void HttpConnection::ReadRequest() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<size_t>(
      shared_.options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  // The route, known once the header is in, decides the limit: no limit until then (Beast
  // would otherwise fail the header of a large upload before we could answer 413).
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  if (first_request_ || buffer_.size() > 0) {
    // The header deadline of a new connection counts from accept: a client that connects and
    // sends nothing goes as soon as one that sends too slowly.
    ReadHeader();
    return;
  }
  // Keep-alive: wait for the next request without reading, and without holding the buffer a
  // large request grew.
  buffer_.shrink_to_fit();
  Arm(Phase::kIdle, shared_.options.idle_timeout);
  socket_.async_wait(Socket::wait_read, [self = shared_from_this()](ErrorCode ec) {
    if (self->closed_) return;
    if (ec) {
      self->DoClose();
      return;
    }
    self->ReadHeader();
  });
}

void HttpConnection::ReadHeader() {
  Arm(Phase::kHeader, shared_.options.header_timeout);
  http::async_read_header(socket_, buffer_, *parser_,
                          [self = shared_from_this()](ErrorCode ec, size_t) {
                            self->OnHeader(ec);
                          });
}

void HttpConnection::OnHeader(ErrorCode ec) {
  if (closed_) return;
  if (ec) {
    OnReadError(ec);
    return;
  }
  first_request_ = false;
  const auto& req = parser_->get();
  version_ = req.version();
  // Beast reads a request whose Transfer-Encoding does not end in chunked as bodiless; the
  // bytes after the header would then be taken for the next request (request smuggling).
  if (req.count(http::field::transfer_encoding) > 0 && !parser_->chunked()) {
    AnswerAndClose(400, "INVALID_ARGUMENT",
                   "Transfer-Encoding must end with chunked (the only coding served)",
                   kLingerAfterError);
    return;
  }
  limit_ = BodyLimitFor();
  if (const auto length = parser_->content_length(); length && *length > limit_.bytes) {
    AnswerAndClose(413, "RESOURCE_EXHAUSTED", TooLargeMessage(limit_), kLingerAfterError);
    return;
  }
  parser_->body_limit(limit_.bytes);
  if (parser_->is_done()) {
    Dispatch();
    return;
  }
  if (absl::EqualsIgnoreCase(AsAbsl(std::string_view(req[http::field::expect])),
                             "100-continue")) {
    // curl -F waits for this (or a second) before it sends a large body.
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    Arm(Phase::kWrite, shared_.options.write_timeout);
    net::async_write(socket_, net::buffer(kContinue, sizeof kContinue - 1),
                     [self = shared_from_this()](ErrorCode ec, size_t) {
                       if (self->closed_) return;
                       if (ec) {
                         self->DoClose();
                         return;
                       }
                       self->ReadBody();
                     });
    return;
  }
  ReadBody();
}

void HttpConnection::ReadBody() {
  Arm(Phase::kBody, shared_.options.body_timeout);
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](ErrorCode ec, size_t) { self->OnBody(ec); });
}

void HttpConnection::OnBody(ErrorCode ec) {
  if (closed_) return;
  if (ec == http::error::body_limit) {  // a chunked body that outgrew the limit
    AnswerAndClose(413, "RESOURCE_EXHAUSTED", TooLargeMessage(limit_), kLingerAfterError);
    return;
  }
  if (ec) {
    OnReadError(ec);
    return;
  }
  Dispatch();
}

void HttpConnection::OnReadError(ErrorCode ec) {
  if (timed_out_) {
    // Silent since accept or since the last response: just close. Part of a request came:
    // say why it is dropped.
    const bool started = phase_ == Phase::kBody || parser_->got_some() || buffer_.size() > 0;
    if (!started) {
      DoClose();
      return;
    }
    const bool header = phase_ == Phase::kHeader;
    const absl::Duration limit =
        header ? shared_.options.header_timeout : shared_.options.body_timeout;
    AnswerAndClose(408, "DEADLINE_EXCEEDED",
                   absl::StrCat("the request ", header ? "header" : "body",
                                " did not arrive within ", absl::FormatDuration(limit)),
                   absl::ZeroDuration());
    return;
  }
  const ParseFault fault = FaultOf(ec, shared_.options);
  if (fault.status == 0) {
    DoClose();  // the client left, or the network failed
    return;
  }
  AnswerAndClose(fault.status, fault.status == 431 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT",
                 fault.message, kLingerAfterError);
}

HttpServerOptions::BodyLimit HttpConnection::BodyLimitFor() const {
  const auto& req = parser_->get();
  const std::string_view target(req.target().data(), req.target().size());
  const std::string key =
      absl::StrCat(AsAbsl(std::string_view(req.method_string().data(), req.method_string().size())),
                   " ", AsAbsl(target.substr(0, target.find('?'))));
  const auto& limits = shared_.options.body_limits;
  auto it = limits.find(key);
  return it == limits.end() ? HttpServerOptions::BodyLimit{shared_.options.max_body_bytes, ""}
                            : it->second;
}

void HttpConnection::Dispatch() {
  Disarm();
  keep_alive_ = parser_->get().keep_alive();
  auto req = std::make_shared<http::request<http::string_body>>(parser_->release());
  parser_.reset();
  shared_.pool->Post([self = shared_from_this(), req] {
    if (self->abandoned_.load()) return;
    HttpResponse resp = Handle(self->shared_.handler, *req, self->peer_);
    net::post(self->strand_, [self, resp = std::move(resp)]() mutable {
      self->Respond(std::move(resp));
    });
  });
}

void HttpConnection::Respond(HttpResponse resp) {
  if (closed_) return;
  if (resp.stream) {
    StartStream(std::move(resp));
    return;
  }
  res_.emplace(static_cast<http::status>(resp.status), version_);
  res_->set(http::field::server, kServerName);
  if (!resp.body.empty() || resp.status != 204) {
    res_->set(http::field::content_type, resp.content_type);
  }
  for (const auto& [k, v] : resp.headers) res_->set(k, v);
  res_->body() = std::move(resp.body);
  res_->keep_alive(keep_alive_);
  res_->prepare_payload();
  WriteResponse([this] {
    if (keep_alive_) {
      ReadRequest();
    } else {
      DoClose();
    }
  });
}

// --- Writes and closing --------------------------------------------------------------------

void HttpConnection::WriteResponse(std::function<void()> then) {
  Arm(Phase::kWrite, shared_.options.write_timeout);
  http::async_write(socket_, *res_,
                    [self = shared_from_this(), then = std::move(then)](ErrorCode ec, size_t) {
                      if (self->closed_) return;
                      self->Disarm();
                      self->res_.reset();
                      if (ec) {
                        self->DoClose();
                        return;
                      }
                      then();
                    });
}

void HttpConnection::AnswerAndClose(int status, const std::string& code,
                                    const std::string& message, absl::Duration linger) {
  if (closed_) return;
  res_.emplace(static_cast<http::status>(status), version_ == 10 ? 10 : 11);
  res_->set(http::field::server, kServerName);
  res_->set(http::field::content_type, "application/json");
  if (status == 503) res_->set(http::field::retry_after, "1");
  res_->body() = ErrorJson(code, message);
  res_->keep_alive(false);
  res_->prepare_payload();
  WriteResponse([this, linger] { Linger(linger); });
}

void HttpConnection::Linger(absl::Duration linger) {
  // The client may still be sending (a body, the rest of a header). Closing with unread data
  // makes the kernel answer with a reset, which can destroy the answer before the client reads
  // it: read and drop what comes for a moment first (a lingering close, as nginx does).
  ErrorCode ec;
  socket_.shutdown(Socket::shutdown_send, ec);
  if (ec || linger <= absl::ZeroDuration()) {
    DoClose();
    return;
  }
  sink_ = std::make_unique<char[]>(kSinkBytes);
  Arm(Phase::kLinger, linger);
  DrainUntilClosed();
}

void HttpConnection::DrainUntilClosed() {
  socket_.async_read_some(net::buffer(sink_.get(), kSinkBytes),
                          [self = shared_from_this()](ErrorCode ec, size_t) {
                            if (self->closed_) return;
                            if (ec) {
                              self->DoClose();  // the client closed too (or the linger ended)
                              return;
                            }
                            self->DrainUntilClosed();
                          });
}

// --- Streams -------------------------------------------------------------------------------

void HttpConnection::StartStream(HttpResponse resp) {
  stream_ = std::move(resp.stream);
  http::response<http::empty_body> head{static_cast<http::status>(resp.status), version_};
  head.set(http::field::server, kServerName);
  head.set(http::field::content_type, resp.content_type);
  head.set(http::field::cache_control, "no-cache");
  for (const auto& [k, v] : resp.headers) head.set(k, v);
  head.keep_alive(false);  // the body runs until the connection closes (or its length)
  std::ostringstream header;
  header << head.base();
  waker_ = [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      net::post(self->strand_, [self] { self->OnWake(); });
    }
  };
  WatchClient();
  stream_phase_ = StreamPhase::kWriting;
  WriteOut(header.str(), [this] { Pull(); });
}

void HttpConnection::WatchClient() {
  // A streaming client sends nothing more: the socket turning readable means it closed (or
  // sent something to ignore). Noticing at once frees the stream before its next write.
  socket_.async_wait(Socket::wait_read, [self = shared_from_this()](ErrorCode ec) {
    if (self->closed_ || ec) return;
    char probe[512];
    ErrorCode read_ec;
    self->socket_.non_blocking(true, read_ec);  // a spurious wake-up must not block the thread
    const size_t n = read_ec ? 0 : self->socket_.read_some(net::buffer(probe), read_ec);
    if ((read_ec && read_ec != net::error::would_block) || (!read_ec && n == 0)) {
      self->DoClose();
      return;
    }
    self->WatchClient();
  });
}

void HttpConnection::Pull() {
  if (closed_) return;
  stream_phase_ = StreamPhase::kPulling;
  woken_ = false;
  shared_.pool->Post([self = shared_from_this()] {
    if (self->abandoned_.load()) return;
    std::string bytes;
    StreamSource::Step step;
    try {
      step = self->stream_->Pull(self->waker_, &bytes);
    } catch (const std::exception& e) {
      // Sources convert their errors; anything reaching here is a bug: end the stream.
      spdlog::error("http stream: unexpected exception: {}", e.what());
      step = {StreamSource::Step::Then::kDone};
    }
    net::post(self->strand_, [self, step, bytes = std::move(bytes)]() mutable {
      self->OnPulled(step, std::move(bytes));
    });
  });
}

void HttpConnection::OnPulled(StreamSource::Step step, std::string bytes) {
  if (closed_) return;
  if (bytes.empty()) {
    AfterStreamWrite(step);
    return;
  }
  stream_phase_ = StreamPhase::kWriting;
  WriteOut(std::move(bytes), [this, step] { AfterStreamWrite(step); });
}

void HttpConnection::AfterStreamWrite(StreamSource::Step step) {
  using Then = StreamSource::Step::Then;
  if (step.then == Then::kDone) {
    DoClose();
    return;
  }
  if (step.then == Then::kMore || woken_) {
    Pull();
    return;
  }
  stream_phase_ = StreamPhase::kWaiting;
  stream_timer_.expires_after(ToSteady(std::min(step.wait_at_most, kLongestStreamWait)));
  stream_timer_.async_wait([self = shared_from_this()](ErrorCode ec) {
    if (ec == net::error::operation_aborted || self->closed_) return;
    if (self->stream_phase_ != StreamPhase::kWaiting) return;  // woken meanwhile
    if (self->stream_timer_.expiry() > std::chrono::steady_clock::now()) return;
    self->Pull();
  });
}

void HttpConnection::OnWake() {
  if (closed_ || !stream_) return;
  if (stream_phase_ == StreamPhase::kWaiting) {
    stream_timer_.cancel();
    Pull();
  } else {
    woken_ = true;  // pulling or writing: pull again right after
  }
}

void HttpConnection::WriteOut(std::string bytes, std::function<void()> then) {
  out_ = std::move(bytes);
  Arm(Phase::kWrite, shared_.options.write_timeout);
  net::async_write(socket_, net::buffer(out_),
                   [self = shared_from_this(), then = std::move(then)](ErrorCode ec, size_t) {
                     if (self->closed_) return;
                     self->Disarm();
                     if (ec) {
                       self->DoClose();
                       return;
                     }
                     then();
                   });
}

}  // namespace hera::api
