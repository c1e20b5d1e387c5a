// HttpServer against real sockets on 127.0.0.1 (issue 14, defect 5: slow clients must not lock
// everyone out; malformed requests get a clear status; streams hold no thread).
#include "api/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/http_errors.h"
#include "common/fd_limit.h"
#include "common/strings.h"

namespace hera::api {
namespace {

// A raw HTTP/1.1 client: the tests need to send what no library would (a header byte by
// byte, broken framing) and to see exactly what the server does with the connection.
class Client {
 public:
  // Connects to 127.0.0.1:`port`, from `from` (another loopback address) if given.
  explicit Client(int port, const char* from = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (from != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) Fail();
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Fail();
  }
  ~Client() { Fail(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool ok() const { return fd_ >= 0; }
  bool Send(std::string_view bytes) {
    while (ok() && !bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return ok();
  }
  // Reads what arrives within `timeout` into the buffer; false once the server closed (or the
  // connection failed) and nothing more can come.
  bool ReadSome(absl::Duration timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (!ok() || ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) {
      return ok();
    }
    char buf[64 * 1024];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      Fail();
      return false;
    }
    got_.append(buf, static_cast<size_t>(n));
    return true;
  }
  // Reads until `bytes` are in (true) or `timeout` passes or the connection ends (false).
  bool ReadUntil(std::string_view bytes, absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time until = absl::Now() + timeout;
    while (!absl::StrContains(got_, AsAbsl(bytes))) {
      if (absl::Now() >= until || !ReadSome(until - absl::Now())) {
        return absl::StrContains(got_, AsAbsl(bytes));
      }
    }
    return true;
  }
  // Whether the server closes the connection within `timeout` (what it sent lands in got()).
  bool ClosedWithin(absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    while (absl::Now() < until) {
      if (!ReadSome(until - absl::Now())) return true;
    }
    return false;
  }

  struct Response {
    int status = 0;  // 0: no (complete) response
    std::string head;
    std::string body;
    nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
  };
  // Reads one response with a Content-Length body.
  Response ReadResponse(absl::Duration timeout = absl::Seconds(20)) {
    Response r;
    if (!ReadUntil("\r\n\r\n", timeout)) return r;
    const size_t end = got_.find("\r\n\r\n") + 4;
    r.head = got_.substr(0, end);
    size_t length = 0;
    const std::string lower = absl::AsciiStrToLower(r.head);
    if (const size_t at = lower.find("content-length: "); at != std::string::npos) {
      (void)absl::SimpleAtoi(lower.substr(at + 16, lower.find("\r\n", at) - at - 16), &length);
    }
    const absl::Time until = absl::Now() + timeout;
    while (got_.size() < end + length && absl::Now() < until && ReadSome(until - absl::Now())) {
    }
    if (got_.size() < end + length) return r;
    r.body = got_.substr(end, length);
    got_.erase(0, end + length);
    (void)absl::SimpleAtoi(r.head.substr(9, 3), &r.status);
    return r;
  }
  const std::string& got() const { return got_; }
  // Forgets what was read up to the end of `marker`.
  void DropThrough(std::string_view marker) {
    const size_t at = got_.find(marker);
    if (at != std::string::npos) got_.erase(0, at + marker.size());
  }

 private:
  void Fail() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
  std::string got_;
};

std::string Get(std::string_view path) {
  return absl::StrCat("GET ", AsAbsl(path), " HTTP/1.1\r\nHost: hera\r\n\r\n");
}

// A stream the test feeds by hand: each Pull takes what was fed; with nothing fed it waits
// until the test wakes it (or `wait_at_most`).
class FedSource final : public StreamSource {
 public:
  struct State {
    std::mutex mu;
    std::deque<std::string> chunks;
    bool done = false;
    StreamWaker waker;
    int pulls = 0;
    bool destroyed = false;
    absl::Duration wait_at_most = absl::InfiniteDuration();
    bool endless = false;  // every pull gives 64 KiB at once (a fast producer)

    void Feed(std::string chunk, bool last = false) {
      StreamWaker wake;
      {
        std::lock_guard lock(mu);
        if (!chunk.empty()) chunks.push_back(std::move(chunk));
        done = done || last;
        wake = waker;
      }
      if (wake) wake();
    }
    int Pulls() {
      std::lock_guard lock(mu);
      return pulls;
    }
    bool Destroyed() {
      std::lock_guard lock(mu);
      return destroyed;
    }
  };
  explicit FedSource(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~FedSource() override {
    std::lock_guard lock(state_->mu);
    state_->destroyed = true;
    state_->waker = nullptr;
  }
  Step Pull(const StreamWaker& wake, std::string* out) override {
    std::lock_guard lock(state_->mu);
    ++state_->pulls;
    if (state_->endless) {
      out->assign(64 * 1024, 'x');
      return {Step::Then::kMore};
    }
    if (!state_->chunks.empty()) {
      out->append(state_->chunks.front());
      state_->chunks.pop_front();
      return {Step::Then::kMore};
    }
    if (state_->done) return {Step::Then::kDone};
    state_->waker = wake;
    return {Step::Then::kWait, state_->wait_at_most};
  }

 private:
  std::shared_ptr<State> state_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { RaiseOpenFileLimit(); }  // hundreds of sockets, both ends

  void Start(HttpServerOptions options = {}) {
    options.bind_address = "127.0.0.1";
    options.port = 0;
    auto server = HttpServer::Listen(options, [this](HttpRequest& req) { return Serve(req); });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    server_->Start();
  }
  void TearDown() override {
    {
      std::lock_guard lock(mu_);
      released_ = true;
      changed_.notify_all();
    }
    if (server_) server_->Stop();
  }
  int port() const { return server_->port(); }

  HttpResponse Serve(HttpRequest& req) {
    if (req.path == "/healthz") return JsonResponse(200, {{"status", "ok"}});
    if (req.path == "/echo") return JsonResponse(200, {{"body", req.body}});
    if (req.path == "/stream") {
      HttpResponse resp;
      resp.content_type = "text/plain";
      resp.stream = std::make_shared<FedSource>(feed_);
      return resp;
    }
    if (req.path == "/block") {  // holds a handler thread until released
      std::unique_lock lock(mu_);
      ++running_;
      max_running_ = std::max(max_running_, running_);
      changed_.notify_all();
      changed_.wait(lock, [this] { return released_; });
      --running_;
      return JsonResponse(200, {{"blocked", true}});
    }
    return JsonResponse(404, {{"error", {{"code", "NOT_FOUND"}, {"message", req.path}}}});
  }

  // A fresh client's GET /healthz.
  int Healthz(const char* from = nullptr) {
    Client c(port(), from);
    if (!c.Send(Get("/healthz"))) return 0;
    return c.ReadResponse().status;
  }

  std::unique_ptr<HttpServer> server_;
  std::shared_ptr<FedSource::State> feed_ = std::make_shared<FedSource::State>();
  std::mutex mu_;
  std::condition_variable changed_;
  int running_ = 0, max_running_ = 0;  // guarded by mu_
  bool released_ = false;              // guarded by mu_
};

TEST_F(HttpServerTest, Issue14SlowClientsDoNotLockOthersOut) {
  HttpServerOptions options;
  options.max_connections_per_address = 100000;  // all from 127.0.0.1: test the global cost
  options.header_timeout = absl::Seconds(120);    // they stay for the whole test
  Start(options);
  // 600 connections (more than the old server's 512 slots): half silent, half sending a
  // header a byte at a time.
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 600; ++i) {
    slow.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(slow.back()->ok()) << i;
  }
  const std::string header = Get("/healthz");
  for (size_t round = 0; round < 5; ++round) {
    for (size_t i = 0; i < slow.size(); i += 2) {
      ASSERT_TRUE(slow[i]->Send(header.substr(round, 1))) << i;
    }
    EXPECT_EQ(Healthz(), 200) << "round " << round;
  }
  // A keep-alive client is served request after request meanwhile.
  Client normal(port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(normal.Send(Get("/healthz")));
    const auto r = normal.ReadResponse();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.Json()["status"], "ok");
  }
}

TEST_F(HttpServerTest, Issue14MalformedRequestsGetAClearStatusThenClose) {
  Start();
  struct Case {
    std::string name;
    std::string request;
    int status;
    std::string says;  // part of the message
  };
  const std::string big(70 * 1024, 'a');
  const std::vector<Case> cases = {
      {"Content-Length then Transfer-Encoding",
       "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n",
       400, "Transfer-Encoding"},
      {"Transfer-Encoding then Content-Length",
       "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
       "0\r\n\r\n",
       400, "Content-Length"},
      {"two Content-Lengths",
       "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
       400, "more than one Content-Length"},
      {"negative Content-Length", "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
       400, "Content-Length"},
      {"bad chunk size",
       "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
       400, "chunk"},
      {"Transfer-Encoding without chunked",
       "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
       400, "chunked"},
      {"bad method", "G(T /healthz HTTP/1.1\r\nHost: h\r\n\r\n", 400, "method"},
      {"bad version", "GET /healthz HTTP/x.1\r\nHost: h\r\n\r\n", 400, "version"},
      {"bad field name", "GET /healthz HTTP/1.1\r\nHo st: h\r\n\r\n", 400, "field"},
      {"70 KB header", absl::StrCat("GET /healthz HTTP/1.1\r\nX-Big: ", big, "\r\n\r\n"), 431,
       "larger than 65536 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Client client(port());
    ASSERT_TRUE(client.Send(c.request));
    const auto r = client.ReadResponse();
    EXPECT_EQ(r.status, c.status) << client.got();
    const nlohmann::json body = r.Json();
    ASSERT_TRUE(body.contains("error")) << r.body;
    EXPECT_EQ(body["error"]["code"], c.status == 400 ? "INVALID_ARGUMENT" : "RESOURCE_EXHAUSTED");
    EXPECT_TRUE(absl::StrContains(body["error"]["message"].get<std::string>(), c.says))
        << body.dump();
    EXPECT_TRUE(absl::StrContains(absl::AsciiStrToLower(r.head), "connection: close"));
    EXPECT_TRUE(client.ClosedWithin(absl::Seconds(30)));
  }
  EXPECT_EQ(Healthz(), 200);
}

TEST_F(HttpServerTest, BodiesOverTheLimitStillGet413) {
  HttpServerOptions options;
  options.max_body_bytes = 10;
  Start(options);
  Client client(port());
  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"));
  const auto r = client.ReadResponse();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.Json()["error"]["message"], "the request body is larger than 10 bytes");
  // Within the limit, with 100-continue and keep-alive: answered, then the next request too.
  Client ok(port());
  ASSERT_TRUE(ok.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(ok.ReadUntil("100 Continue\r\n\r\n"));
  ASSERT_TRUE(ok.Send("hello"));
  ok.DropThrough("100 Continue\r\n\r\n");
  const auto echoed = ok.ReadResponse();
  EXPECT_EQ(echoed.status, 200);
  EXPECT_EQ(echoed.Json()["body"], "hello");
  ASSERT_TRUE(ok.Send(Get("/healthz")));
  EXPECT_EQ(ok.ReadResponse().status, 200);
}

TEST_F(HttpServerTest, Issue14PerAddressCapAnswers503AndOthersAreStillServed) {
  HttpServerOptions options;
  options.max_connections_per_address = 3;
  Start(options);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<Client>(port()));
  // Each held connection is served (and counted) before the next one comes.
  for (auto& c : held) {
    ASSERT_TRUE(c->Send(Get("/healthz")));
    ASSERT_EQ(c->ReadResponse().status, 200);
  }
  Client over(port());
  ASSERT_TRUE(over.Send(Get("/healthz")));
  const auto r = over.ReadResponse();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Json()["error"]["code"], "UNAVAILABLE");
  EXPECT_TRUE(absl::StrContains(r.Json()["error"]["message"].get<std::string>(),
                                "client address (127.0.0.1) has 3 connections open"))
      << r.body;
  EXPECT_TRUE(over.ClosedWithin(absl::Seconds(30)));
  // Another address is answered meanwhile.
  EXPECT_EQ(Healthz("127.0.0.2"), 200);
  // Once one of the three goes, 127.0.0.1 is served again.
  held.pop_back();
  int status = 0;
  for (const absl::Time until = absl::Now() + absl::Seconds(20);
       status != 200 && absl::Now() < until;) {
    status = Healthz();
    if (status != 200) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpServerTest, Issue14GlobalCapAnswers503) {
  HttpServerOptions options;
  options.max_connections = 2;
  Start(options);
  Client a(port()), b(port());
  ASSERT_TRUE(a.Send(Get("/healthz")));
  ASSERT_EQ(a.ReadResponse().status, 200);
  ASSERT_TRUE(b.Send(Get("/healthz")));
  ASSERT_EQ(b.ReadResponse().status, 200);
  Client over(port());
  ASSERT_TRUE(over.Send(Get("/healthz")));
  const auto r = over.ReadResponse();
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(absl::StrContains(r.Json()["error"]["message"].get<std::string>(),
                                "the server has 2 connections open"))
      << r.body;
}

TEST_F(HttpServerTest, Issue14HeaderDeadlineClosesTricklingAndSilentConnections) {
  HttpServerOptions options;
  options.header_timeout = absl::Seconds(1);
  Start(options);
  Client silent(port());
  Client trickler(port());
  const std::string header = Get("/healthz");
  bool closed = false;
  const absl::Time start = absl::Now();
  // A byte every 100 ms: the header would take 3 s, past the 1 s deadline.
  for (size_t i = 0; i < header.size() - 1 && !closed; ++i) {
    closed = !trickler.Send(header.substr(i, 1)) || trickler.ClosedWithin(absl::Milliseconds(100));
  }
  closed = closed || trickler.ClosedWithin(absl::Seconds(30));
  EXPECT_TRUE(closed);
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  // It had started a request, so it is told why.
  EXPECT_TRUE(absl::StrContains(trickler.got(), "408")) << trickler.got();
  EXPECT_TRUE(absl::StrContains(trickler.got(), "DEADLINE_EXCEEDED")) << trickler.got();
  // The silent one goes too, without an answer.
  EXPECT_TRUE(silent.ClosedWithin(absl::Seconds(30)));
  EXPECT_EQ(silent.got(), "");
  EXPECT_EQ(Healthz(), 200);
}

TEST_F(HttpServerTest, Issue14StreamIsWokenByItsSourceAndEndsWhenDone) {
  Start();
  Client c(port());
  ASSERT_TRUE(c.Send(Get("/stream")));
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n"));
  EXPECT_TRUE(absl::StartsWith(c.got(), "HTTP/1.1 200")) << c.got();
  // Nothing fed: the source waits, and nothing is pulled again until it is woken.
  for (const absl::Time until = absl::Now() + absl::Seconds(20);
       feed_->Pulls() < 1 && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_FALSE(c.ReadUntil("one", absl::Milliseconds(200)));
  const int pulls_while_waiting = feed_->Pulls();
  EXPECT_EQ(pulls_while_waiting, 1);
  feed_->Feed("one\n");
  EXPECT_TRUE(c.ReadUntil("one\n"));
  feed_->Feed("two\n");
  EXPECT_TRUE(c.ReadUntil("two\n"));
  feed_->Feed("three\n", /*last=*/true);
  EXPECT_TRUE(c.ReadUntil("three\n"));
  EXPECT_TRUE(c.ClosedWithin(absl::Seconds(20)));
  for (const absl::Time until = absl::Now() + absl::Seconds(20);
       !feed_->Destroyed() && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(feed_->Destroyed());
}

TEST_F(HttpServerTest, Issue14AWaitingStreamIsPulledAgainAfterItsLongestWait) {
  Start();
  feed_->wait_at_most = absl::Milliseconds(50);
  Client c(port());
  ASSERT_TRUE(c.Send(Get("/stream")));
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n"));
  for (const absl::Time until = absl::Now() + absl::Seconds(20);
       feed_->Pulls() < 4 && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(feed_->Pulls(), 4) << "a keepalive-like source is asked again without a wake";
}

TEST_F(HttpServerTest, Issue14SlowReaderHoldsBackTheSourceAndIsClosedAfterTheWriteTimeout) {
  HttpServerOptions options;
  options.write_timeout = absl::Seconds(2);
  Start(options);
  feed_->endless = true;
  Client c(port());
  ASSERT_TRUE(c.Send(Get("/stream")));
  // The client reads nothing: once the socket buffers are full, the server stops pulling
  // (one write in flight, nothing queued behind it).
  int before = -1, after = feed_->Pulls();
  for (const absl::Time until = absl::Now() + absl::Seconds(20);
       before != after && absl::Now() < until;) {
    before = after;
    absl::SleepFor(absl::Milliseconds(300));
    after = feed_->Pulls();
  }
  EXPECT_EQ(before, after) << "still pulling although the client reads nothing";
  // Bounded by the kernel's socket buffers (a few MiB on loopback), not by the stream.
  EXPECT_LT(after, 1000);
  // And after write_timeout without progress, the connection goes and the source with it.
  for (const absl::Time until = absl::Now() + absl::Seconds(30);
       !feed_->Destroyed() && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(feed_->Destroyed());
}

TEST_F(HttpServerTest, HandlersRunOnABoundedPoolAndStopWaitsForThem) {
  HttpServerOptions options;
  options.handler_threads = 2;
  Start(options);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(clients.back()->Send(Get("/block")));
  }
  {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(
        changed_.wait_for(lock, std::chrono::seconds(20), [this] { return running_ == 2; }));
  }
  absl::SleepFor(absl::Milliseconds(200));  // the other three wait in the queue
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(max_running_, 2);
    released_ = true;
    changed_.notify_all();
  }
  for (auto& c : clients) EXPECT_EQ(c->ReadResponse().status, 200);
}

TEST_F(HttpServerTest, StopEndsStreamsAndClosesConnections) {
  Start();
  Client streaming(port());
  ASSERT_TRUE(streaming.Send(Get("/stream")));
  ASSERT_TRUE(streaming.ReadUntil("\r\n\r\n"));
  Client idle(port());
  ASSERT_TRUE(idle.Send(Get("/healthz")));
  ASSERT_EQ(idle.ReadResponse().status, 200);
  server_->Stop();
  EXPECT_TRUE(feed_->Destroyed());
  EXPECT_TRUE(streaming.ClosedWithin(absl::Seconds(20)));
  EXPECT_TRUE(idle.ClosedWithin(absl::Seconds(20)));
}

}  // namespace
}  // namespace hera::api
