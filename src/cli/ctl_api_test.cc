#include "cli/ctl_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "cli/ctl_log_follow.h"
#include "cli/ctl_test_server.h"

namespace hera::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A port on 127.0.0.1 that refuses connections: bound but not listening.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_;
  int port_;
};

TEST(NormalizeServerTest, AddsSchemeAndDropsTrailingSlash) {
  EXPECT_EQ(NormalizeServer("localhost:8080"), "http://localhost:8080");
  EXPECT_EQ(NormalizeServer("https://hera.example.com/"), "https://hera.example.com");
  EXPECT_EQ(NormalizeServer("http://127.0.0.1:8080//"), "http://127.0.0.1:8080");
}

TEST(ApiClientTest, SendsTokenAndParsesJson) {
  TestHttpServer server([](const TestRequest&) {
    return TestHttpServer::Response(200, R"({"items":[{"id":1}],"total":1})");
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "tok123");
  absl::StatusOr<Json> resp = api.Get("/groups?limit=5");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ((*resp)["total"], 1);
  ASSERT_EQ(server.requests().size(), 1u);
  const TestRequest req = server.requests()[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/api/v1/groups?limit=5");
  EXPECT_EQ(req.headers.at("authorization"), "Bearer tok123");
}

TEST(ApiClientTest, PostsAndPatchesJsonBodies) {
  TestHttpServer server([](const TestRequest& req) {
    return TestHttpServer::Response(req.method == "POST" ? 201 : 200, R"({"id":5})");
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  // Over 1 KiB: must not wait for "100 Continue".
  const std::string script(5000, 'x');
  ASSERT_TRUE(api.Post("/jobs", Json{{"script", script}}).ok());
  ASSERT_TRUE(api.Patch("/jobs/5", Json{{"name", "n"}}).ok());
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(Json::parse(reqs[0].body)["script"], script);
  EXPECT_EQ(reqs[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(reqs[0].headers.count("expect"), 0u);
  EXPECT_EQ(reqs[1].method, "PATCH");
  EXPECT_EQ(reqs[1].body, R"({"name":"n"})");
}

TEST(ApiClientTest, DeleteWith204GivesNull) {
  TestHttpServer server([](const TestRequest&) {
    return std::string("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  absl::StatusOr<Json> resp = api.Delete("/groups/3");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_TRUE(resp->is_null());
  EXPECT_EQ(server.requests()[0].method, "DELETE");
}

TEST(ApiClientTest, ServerErrorBodyBecomesMessageAndCode) {
  TestHttpServer server([](const TestRequest&) {
    return TestHttpServer::Response(
        400,
        R"({"error":{"code":"INVALID_ARGUMENT","message":"field 'name': must not be empty"}})");
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  absl::StatusOr<Json> resp = api.Post("/groups", Json{{"name", ""}});
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(resp.status().message(), "field 'name': must not be empty (INVALID_ARGUMENT)");
  EXPECT_EQ(ExitCodeFor(resp.status()), kExitError);
}

TEST(ApiClientTest, NonJsonErrorShowsHttpStatus) {
  TestHttpServer server([](const TestRequest&) {
    return TestHttpServer::Response(502, "Bad gateway\n<html>", "text/html");
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  absl::StatusOr<Json> resp = api.Get("/jobs");
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().message(), "HTTP 502: Bad gateway (UNKNOWN)");
  EXPECT_EQ(ExitCodeFor(resp.status()), kExitError);
}

TEST(ApiClientTest, Unauthorized) {
  TestHttpServer server([](const TestRequest&) {
    return TestHttpServer::Response(
        401, R"({"error":{"code":"UNAUTHENTICATED","message":"wrong user name or password"}})");
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "old");
  absl::StatusOr<Json> resp = api.Get("/jobs");
  EXPECT_EQ(resp.status().message(), "not logged in or session expired; run 'hera ctl login'");
  // A 401 from the login itself is a wrong password: keep the server's words.
  resp = api.Login("admin", "nope");
  EXPECT_EQ(resp.status().message(), "wrong user name or password (UNAUTHENTICATED)");
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].target, "/api/v1/auth/login");
  EXPECT_EQ(reqs[1].headers.count("authorization"), 0u);
  EXPECT_EQ(Json::parse(reqs[1].body), (Json{{"username", "admin"}, {"password", "nope"}}));
}

TEST(ApiClientTest, UnreachableServerExitsWith2) {
  RefusingPort port;
  HttpClient http;
  ApiClient api(&http, port.url(), "t");
  absl::StatusOr<Json> resp = api.Get("/jobs");
  ASSERT_FALSE(resp.ok());
  EXPECT_THAT(std::string(resp.status().message()),
              StartsWith("cannot reach Hera at " + port.url() + ": "));
  EXPECT_EQ(ExitCodeFor(resp.status()), kExitUnreachable);
}

std::string SseHead() {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
}

std::string LogEvent(int64_t offset, const std::string& data) {
  return "event: log\nid: " + std::to_string(offset + static_cast<int64_t>(data.size())) +
         "\ndata: " + Json{{"offset", offset}, {"data", data}}.dump() + "\n\n";
}

TEST(FollowLogTest, ResumesFromLastOffsetAfterDrop) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/api/v1/runs/3/log/stream?offset=0") {
      // Then the connection drops in the middle of an event.
      return SseHead() + ": keepalive\n\n" + LogEvent(0, "hello\n") + "event: log\ndata: {\"off";
    }
    if (req.target == "/api/v1/runs/3/log/stream?offset=6") {
      // The server resends from an earlier offset: the overlap must not print twice.
      return SseHead() + LogEvent(3, "lo\nworld\n") +
             "event: end\ndata: {\"id\":3,\"status\":\"success\",\"exit_code\":0}\n\n";
    }
    return TestHttpServer::Response(404, R"({"error":{"code":"NOT_FOUND","message":"no"}})");
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  std::string out;
  int reconnects = 0;
  FollowOptions options;
  options.initial_backoff = absl::Milliseconds(1);
  options.on_reconnect = [&](const absl::Status&, int64_t offset) {
    ++reconnects;
    EXPECT_EQ(offset, 6);
  };
  absl::StatusOr<Json> run = FollowLog(
      api, 3, 0, [&](std::string_view b) { out.append(b); }, options);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(out, "hello\nworld\n");
  EXPECT_EQ((*run)["status"], "success");
  EXPECT_EQ(reconnects, 1);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].headers.at("accept"), "text/event-stream");
  EXPECT_EQ(reqs[1].headers.at("last-event-id"), "6");
}

TEST(FollowLogTest, TruncatedChunkedResponseIsRetried) {
  int calls = 0;
  TestHttpServer server([&calls](const TestRequest&) {
    if (++calls == 1) {
      // A chunked body cut off mid-chunk: curl reports a transfer error.
      return std::string(
                 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n") +
             "40\r\nevent: log\nid: 2\ndata: {\"offset\":0,\"data\":\"a\\n\"}\n\n";
    }
    return SseHead() + LogEvent(2, "b\n") + "event: end\ndata: {\"status\":\"failed\"}\n\n";
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  std::string out;
  FollowOptions options;
  options.initial_backoff = absl::Milliseconds(1);
  absl::StatusOr<Json> run = FollowLog(
      api, 9, 0, [&](std::string_view b) { out.append(b); }, options);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(out, "a\nb\n");
  EXPECT_EQ((*run)["status"], "failed");
  EXPECT_EQ(server.requests()[1].target, "/api/v1/runs/9/log/stream?offset=2");
}

TEST(FollowLogTest, NotFoundIsNotRetried) {
  TestHttpServer server([](const TestRequest&) {
    return TestHttpServer::Response(
        404, R"({"error":{"code":"NOT_FOUND","message":"run 42 not found"}})");
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  absl::StatusOr<Json> run = FollowLog(api, 42, 0, [](std::string_view) {});
  EXPECT_EQ(run.status().message(), "run 42 not found (NOT_FOUND)");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(FollowLogTest, UnusableEndEventFetchesTheRun) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/api/v1/runs/4") {
      return TestHttpServer::Response(200, R"({"id":4,"status":"cancelled"})");
    }
    return SseHead() + "event: end\ndata: bye\n\n";
  });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  absl::StatusOr<Json> run = FollowLog(api, 4, 0, [](std::string_view) {});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)["status"], "cancelled");
}

TEST(FollowLogTest, UnreachableAtFirstFailsAtOnce) {
  RefusingPort port;
  HttpClient http;
  ApiClient api(&http, port.url(), "t");
  int reconnects = 0;
  FollowOptions options;
  options.on_reconnect = [&](const absl::Status&, int64_t) { ++reconnects; };
  absl::StatusOr<Json> run = FollowLog(
      api, 1, 0, [](std::string_view) {}, options);
  EXPECT_EQ(ExitCodeFor(run.status()), kExitUnreachable);
  EXPECT_EQ(reconnects, 0);
}

TEST(FollowLogTest, GivesUpWhenStreamKeepsClosingWithoutData) {
  // 200 with an empty body each time: connected, but never any progress.
  TestHttpServer server([](const TestRequest&) { return SseHead(); });
  HttpClient http;
  ApiClient api(&http, server.url(), "t");
  FollowOptions options;
  options.max_attempts = 3;
  options.initial_backoff = absl::Milliseconds(1);
  absl::StatusOr<Json> run = FollowLog(
      api, 1, 0, [](std::string_view) {}, options);
  EXPECT_EQ(run.status().message(), "the log stream closed before the run ended");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(LogFollowerTest, SkipsOverlapAndRejectsMalformedEvents) {
  std::string out;
  LogFollower f(4, [&](std::string_view b) { out.append(b); });
  ASSERT_TRUE(f.OnEvent({"log", R"({"offset":0,"data":"abc"})", "3"}).ok());  // all seen
  ASSERT_TRUE(f.OnEvent({"log", R"({"offset":2,"data":"cdef"})", "6"}).ok());
  EXPECT_EQ(out, "ef");
  EXPECT_EQ(f.offset(), 6);
  ASSERT_TRUE(f.OnEvent({"message", "whatever", ""}).ok());
  EXPECT_FALSE(f.OnEvent({"log", R"({"data":"x"})", ""}).ok());
  EXPECT_FALSE(f.OnEvent({"log", "not json", ""}).ok());
  EXPECT_FALSE(f.ended());
  ASSERT_TRUE(f.OnEvent({"end", R"({"status":"success"})", ""}).ok());
  EXPECT_TRUE(f.ended());
  EXPECT_EQ(f.final_run()["status"], "success");
}

TEST(LogFollowerTest, MovesPastTheDroppedMiddleOfALogOverTheCap) {
  std::string out;
  LogFollower f(3, [&](std::string_view b) { out.append(b); });
  // The server's notice stands for bytes 3..1000; the event id is where the log goes on.
  ASSERT_TRUE(f.OnEvent({"log", R"({"offset":3,"data":"\nhera: 997 bytes dropped\nxyz"})",
                         "1003"}).ok());
  EXPECT_EQ(out, "\nhera: 997 bytes dropped\nxyz");
  EXPECT_EQ(f.offset(), 1003);
  ASSERT_TRUE(f.OnEvent({"log", R"({"offset":1003,"data":"!"})", "1004"}).ok());
  EXPECT_EQ(out.back(), '!');
  EXPECT_EQ(f.offset(), 1004);
}

}  // namespace
}  // namespace hera::cli
