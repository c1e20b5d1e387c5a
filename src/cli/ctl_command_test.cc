// End-to-end tests of the `hera ctl` commands against a fake API server: flags in, HTTP requests
// and printed text out.

#include "cli/ctl_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/ctl_api.h"
#include "cli/ctl_credentials.h"
#include "cli/ctl_test_server.h"

namespace hera::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct CtlResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class CtlCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* var : {"HERA_SERVER", "HERA_TOKEN", "HERA_CONFIG_DIR", "HERA_PASSWORD"}) {
      ::unsetenv(var);
    }
    char tmpl[] = "/tmp/hera_ctl_cmd_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    config_dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(config_dir_); }

  // Runs `hera ctl <args>` with the test's config dir, as main() would.
  CtlResult Ctl(std::vector<std::string> args) {
    CLI::App app("hera");
    AddCtlCommand(app);
    args.insert(args.begin(), {"hera", "ctl", "--config-dir", config_dir_});
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    CtlResult r;
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      r.exit_code = app.exit(e);
    }
    std::fflush(stdout);
    r.out = ::testing::internal::GetCapturedStdout();
    r.err = ::testing::internal::GetCapturedStderr();
    return r;
  }

  std::string config_dir_;
};

std::string Error(int status, const std::string& code, const std::string& message) {
  return TestHttpServer::Response(status,
                                  Json{{"error", {{"code", code}, {"message", message}}}}.dump());
}

TEST_F(CtlCommandTest, LoginSavesSessionUsedByLaterCommands) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/api/v1/auth/login") {
      if (Json::parse(req.body)["password"] != "secret") {
        return Error(401, "UNAUTHENTICATED", "wrong user name or password");
      }
      return TestHttpServer::Response(
          200, R"({"token":"tok-1","user":{"id":1,"username":"admin","is_admin":true}})");
    }
    if (req.headers.count("authorization") == 0 ||
        req.headers.at("authorization") != "Bearer tok-1") {
      return Error(401, "UNAUTHENTICATED", "no session");
    }
    return TestHttpServer::Response(200, R"({"items":[],"total":0})");
  });

  CtlResult r = Ctl({"--server", server.url(), "login", "-p", "wrong"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: wrong user name or password (UNAUTHENTICATED)\n");

  r = Ctl({"--server", server.url() + "/", "login", "-p", "secret"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Logged in to " + server.url() + " as admin\n");
  struct stat st;
  ASSERT_EQ(::stat(CredentialsPath(config_dir_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // No --server: the saved one and its token are used.
  r = Ctl({"job", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ID  GROUP  NAME  TYPE  SCHEDULE  ENABLED  OWNER\n");
  EXPECT_EQ(server.requests().back().target, "/api/v1/jobs");

  r = Ctl({"logout"});
  EXPECT_EQ(r.out, "Logged out\n");
  r = Ctl({"--server", server.url(), "runs"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: not logged in or session expired; run 'hera ctl login'\n");
}

TEST_F(CtlCommandTest, SavedTokenIsNotSentToAnotherServer) {
  TestHttpServer server([](const TestRequest&) {
    return TestHttpServer::Response(200, R"({"items":[],"total":0})");
  });
  ASSERT_TRUE(SaveCredentials(config_dir_, {"http://elsewhere:8080", "tok", "admin"}).ok());
  ASSERT_EQ(Ctl({"--server", server.url(), "runs"}).exit_code, 0);
  EXPECT_EQ(server.requests().back().headers.count("authorization"), 0u);
  // An explicit token (here from the environment) is sent.
  ::setenv("HERA_TOKEN", "env-token", 1);
  ::setenv("HERA_SERVER", server.url().c_str(), 1);
  ASSERT_EQ(Ctl({"runs"}).exit_code, 0);
  EXPECT_EQ(server.requests().back().headers.at("authorization"), "Bearer env-token");
}

// Every command a person can run shows an example under --help.
void ExpectExamples(const CLI::App* app, const std::string& path) {
  const std::vector<const CLI::App*> subs = app->get_subcommands({});
  if (subs.empty()) {
    EXPECT_THAT(app->get_footer(), HasSubstr("Example: hera ctl")) << path;
    return;
  }
  for (const CLI::App* sub : subs) ExpectExamples(sub, path + " " + sub->get_name());
}

TEST(CtlHelpTest, EveryCommandHasAnExample) {
  CLI::App app("hera");
  AddCtlCommand(app);
  ExpectExamples(app.get_subcommand("ctl"), "hera ctl");
}

TEST_F(CtlCommandTest, GroupCreateAndTree) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.method == "POST") return TestHttpServer::Response(201, R"({"id":7,"name":"x"})");
    return TestHttpServer::Response(200, R"({"items":[
      {"id":2,"parent_id":1,"name":"etl","owner":"admin","description":""},
      {"id":1,"parent_id":null,"name":"root","owner":"admin","description":"top"},
      {"id":3,"parent_id":2,"name":"daily","owner":"bob","description":"d"}],"total":3})");
  });
  CtlResult r = Ctl({"--server", server.url(), "--token", "t", "group", "create", "x", "--parent",
                     "1", "--description", "the x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "7\n");
  EXPECT_EQ(Json::parse(server.requests().back().body),
            Json::parse(R"({"name":"x","parent_id":1,"description":"the x"})"));

  r = Ctl({"--server", server.url(), "--token", "t", "group", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID  PARENT  NAME       OWNER  DESCRIPTION\n"
            " 1       -  root       admin  top\n"
            " 2       1    etl      admin\n"
            " 3       2      daily  bob    d\n");
  EXPECT_EQ(server.requests().back().target, "/api/v1/groups?limit=10000");
}

TEST_F(CtlCommandTest, JobCreateUpdateAndBadInput) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.method == "POST" && Json::parse(req.body)["group_id"] == 999) {
      return Error(404, "NOT_FOUND", "group 999 not found");
    }
    if (req.method == "POST") return TestHttpServer::Response(201, R"({"id":11})");
    if (req.method == "GET") {
      return TestHttpServer::Response(200, R"({"id":11,"configs":{"keep":"1","x":"old"}})");
    }
    return TestHttpServer::Response(200, R"({"id":11,"version":2})");
  });
  const std::vector<std::string> base = {"--server", server.url(), "--token", "t"};
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), base.begin(), base.end());
    return Ctl(args);
  };

  CtlResult r = ctl({"job", "create", "--group", "3", "--name", "hello", "--script", "echo hello",
                     "--config", "a=1", "b=2", "--retry", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "11\n");
  EXPECT_EQ(nlohmann::json::parse(server.requests().back().body),
            nlohmann::json::parse(R"({"name":"hello","group_id":3,"type":"shell",
              "script":"echo hello","retry":{"count":2},"configs":{"a":"1","b":"2"}})"));

  r = ctl({"job", "update", "11", "--config", "x=new", "--timeout", "60", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["version"], 2);
  const auto reqs = server.requests();
  EXPECT_EQ(reqs.back().method, "PATCH");
  EXPECT_EQ(reqs.back().target, "/api/v1/jobs/11");
  EXPECT_EQ(nlohmann::json::parse(reqs.back().body),
            nlohmann::json::parse(R"({"timeout_s":60,"configs":{"keep":"1","x":"new"}})"));

  r = ctl({"job", "create", "--group", "999", "--name", "n", "--script", "true"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: group 999 not found (NOT_FOUND)\n");

  const size_t before = server.requests().size();
  r = ctl({"job", "create", "--group", "3", "--name", "n", "--script", "x", "--config", "oops"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: --config 'oops': expected KEY=VALUE\n");
  r = ctl({"job", "update", "11"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("error: nothing to update"));
  EXPECT_EQ(server.requests().size(), before);  // bad input never reaches the server
  // --script and --script-file exclude each other (a CLI11 usage error).
  r = ctl({"job", "create", "--script", "a", "--script-file", "b"});
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(CtlCommandTest, UnreachableServerExits2) {
  TestHttpServer* gone = new TestHttpServer([](const TestRequest&) { return std::string(); });
  const std::string url = gone->url();
  delete gone;  // nothing listens on the port any more
  CtlResult r = Ctl({"--server", url, "--token", "t", "runs"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("error: cannot reach Hera at " + url + ": "));
}

std::string Sse(const std::string& log, const std::string& final_run) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
         "event: log\nid: " +
         std::to_string(log.size()) + "\ndata: " + Json{{"offset", 0}, {"data", log}}.dump() +
         "\n\nevent: end\ndata: " + final_run + "\n\n";
}

TEST_F(CtlCommandTest, RunWaitFollowsLogAndReportsOutcome) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/api/v1/jobs/5/run") {
      return TestHttpServer::Response(202, R"({"run_id":40,"action_id":41})");
    }
    if (req.target == "/api/v1/jobs/6/run") {
      return TestHttpServer::Response(202, R"({"run_id":50,"action_id":51})");
    }
    if (req.target == "/api/v1/runs/40/log/stream?offset=0") {
      return Sse("hello\n", R"({"id":40,"status":"success","exit_code":0})");
    }
    return Sse("bye\n", R"({"id":50,"status":"failed","exit_code":7,"message":""})");
  });
  const std::vector<std::string> base = {"--server", server.url(), "--token", "t"};
  CtlResult r = Ctl({"--server", server.url(), "--token", "t", "run", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "run 40 queued (action 41)\n");
  EXPECT_EQ(server.requests().back().body, R"({"trigger":"manual"})");

  r = Ctl({"--server", server.url(), "--token", "t", "run", "5", "--wait"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "run 40 queued (action 41)\nrun 40 success (exit code 0)\n");

  r = Ctl({"--server", server.url(), "--token", "t", "run", "6", "--wait"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "bye\n");
  EXPECT_THAT(r.err, HasSubstr("run 50 failed (exit code 7)\n"));
}

TEST_F(CtlCommandTest, LogReadsAllPartsAndRunsTable) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/api/v1/runs/8/log?offset=0") {
      return TestHttpServer::Response(200, "part1\n", "text/plain",
                                      "X-Next-Offset: 6\r\nX-Run-Finished: true\r\n");
    }
    if (req.target == "/api/v1/runs/8/log?offset=6") {
      return TestHttpServer::Response(200, "part2\n", "text/plain",
                                      "X-Next-Offset: 12\r\nX-Run-Finished: true\r\n");
    }
    if (req.target == "/api/v1/runs/8/log?offset=12") {
      return TestHttpServer::Response(200, "", "text/plain", "X-Next-Offset: 12\r\n");
    }
    return TestHttpServer::Response(200, R"({"items":[{"id":8,"job_id":5,"trigger":"manual",
      "status":"failed","exit_code":7,"signal":null,"worker":"w1",
      "queued_at":"2026-11-23T08:00:00Z","started_at":"2026-11-23T08:00:01Z",
      "ended_at":"2026-11-23T08:00:04Z"}],"total":30})");
  });
  CtlResult r = Ctl({"--server", server.url(), "--token", "t", "log", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "part1\npart2\n");

  ::setenv("TZ", "UTC", 1);
  r = Ctl({"--server", server.url(), "--token", "t", "runs", "--job", "5", "--status", "failed",
           "--limit", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.requests().back().target, "/api/v1/runs?job_id=5&status=failed&limit=1");
  EXPECT_THAT(r.out, StartsWith("ID  JOB  TRIGGER  STATUS  EXIT  WORKER  QUEUED"));
  EXPECT_THAT(r.out, HasSubstr(" 8    5  manual   failed     7  w1      "));
  EXPECT_THAT(r.out, HasSubstr("3.0s\n"));
  EXPECT_EQ(r.err, "(1 of 30 runs shown; use --limit to see more)\n");

  // --json after the subcommand reaches ctl's flag; the output is the server's JSON.
  r = Ctl({"--server", server.url(), "--token", "t", "runs", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["total"], 30);
}

}  // namespace
}  // namespace hera::cli
