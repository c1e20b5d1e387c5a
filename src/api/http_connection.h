#pragma once
// One connection of HttpServer, served without a thread of its own: each step (wait for a
// request, read its header, read its body, write, wait for a stream's source) is an
// asynchronous operation on the connection's strand, under a deadline. A complete request goes
// to the HandlerPool; its response comes back to the strand. At most one request is handled
// and one write is in flight at a time. Internal to the server.
//
// Lifetime: shared. Pending operations, queued handler tasks and the server's Stop() hold it;
// stream wakers only observe it (weak). It is destroyed once nothing is pending.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "absl/time/time.h"
#include "api/handler_pool.h"
#include "api/http_server.h"
#include "api/http_types.h"

namespace hera::api {

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  // What every connection of one server shares; outlives them all.
  struct Shared {
    HttpServerOptions options;
    HttpHandler handler;
    HandlerPool* pool = nullptr;
  };
  using Socket = boost::asio::ip::tcp::socket;

  // Serves `socket`, whose executor must be a strand of its own. `gone` runs once, when the
  // connection is destroyed and its socket closed.
  HttpConnection(Socket socket, const Shared& shared, std::function<void()> gone);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Serves requests until the client leaves, a deadline passes or Close() is called.
  void Start();
  // Answers `status` with the error body {"error":{"code","message"}} instead of serving, then
  // closes: a connection refused at accept.
  void Refuse(int status, std::string code, std::string message);
  // Closes from any thread: a stream ends; a handler already running finishes, unanswered.
  void Close();

 private:
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  using ErrorCode = boost::system::error_code;
  // What the deadline timer bounds, i.e. what to do when it fires.
  enum class Phase { kNone, kIdle, kHeader, kBody, kWrite, kLinger };
  // Where a streamed response is.
  enum class StreamPhase { kNone, kPulling, kWriting, kWaiting };

  // Runs its function once, when destroyed. Declared first among the members, so it runs after
  // the socket and timers are gone and the server may then drop the io_context.
  struct OnDestroy {
    std::function<void()> f;
    ~OnDestroy() {
      if (f) f();
    }
  };

  // Reading a request: the keep-alive wait, the header, the checks on it, the body.
  void ReadRequest();
  void ReadHeader();
  void OnHeader(ErrorCode ec);
  void ReadBody();
  void OnBody(ErrorCode ec);
  void OnReadError(ErrorCode ec);
  // Hands the complete request to the pool; its response comes back through Respond().
  void Dispatch();
  void Respond(HttpResponse resp);

  // Writes res_ under the write deadline, then calls `then` (on failure closes instead).
  void WriteResponse(std::function<void()> then);
  // Answers with an error and closes, draining what the client still sends for `linger` so
  // the answer is not lost to a reset.
  void AnswerAndClose(int status, const std::string& code, const std::string& message,
                      absl::Duration linger);
  void Linger(absl::Duration linger);
  void DrainUntilClosed();

  // Streams: header, then pull / write / wait until the source is done.
  void StartStream(HttpResponse resp);
  void Pull();
  void OnPulled(StreamSource::Step step, std::string bytes);
  void AfterStreamWrite(StreamSource::Step step);
  void OnWake();
  void WatchClient();
  void WriteOut(std::string bytes, std::function<void()> then);

  void Arm(Phase phase, absl::Duration timeout);
  void Disarm();
  void OnDeadline(ErrorCode ec);
  void DoClose();
  // The body limit of the request's route (options.body_limits, else max_body_bytes).
  HttpServerOptions::BodyLimit BodyLimitFor() const;

  OnDestroy gone_;
  const Shared& shared_;
  Socket socket_;
  std::string peer_;  // the client's address, for HttpRequest::peer (login throttling)
  const boost::asio::any_io_executor strand_;  // socket_'s, copied for posts from other threads
  boost::asio::steady_timer deadline_;
  boost::asio::steady_timer stream_timer_;  // a waiting stream's longest wait
  // Set (and read by the pool) once the connection is closing, so queued work is skipped.
  std::atomic<bool> abandoned_{false};

  // The rest belongs to the strand (and Pull's pool task reads stream_, set before it).
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::optional<Response> res_;
  std::string out_;  // stream bytes being written
  std::unique_ptr<char[]> sink_;  // drained bytes land here while lingering
  HttpServerOptions::BodyLimit limit_;
  unsigned version_ = 11;  // of the request being answered
  bool keep_alive_ = false;
  bool first_request_ = true;
  bool closed_ = false;
  bool timed_out_ = false;  // the deadline of phase_ passed; the operation was cancelled
  Phase phase_ = Phase::kNone;
  std::shared_ptr<StreamSource> stream_;
  StreamWaker waker_;
  StreamPhase stream_phase_ = StreamPhase::kNone;
  bool woken_ = false;  // a wake came while pulling or writing: pull again at once
};

}  // namespace hera::api
