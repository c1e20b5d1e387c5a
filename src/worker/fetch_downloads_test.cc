#include "worker/fetch_downloads.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/mutex_lock.h"
#include "exec/test_util.h"

namespace hera::worker {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A tiny HTTP/1.0 server on 127.0.0.1: one canned answer per path, each request recorded.
class TinyHttpServer {
 public:
  struct Answer {
    int status = 200;
    std::string body;
  };

  TinyHttpServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyHttpServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }

  std::string base() const { return absl::StrCat("http://127.0.0.1:", port_); }
  void Set(const std::string& path, Answer answer) {
    MutexLock lock(&mu_);
    answers_[path] = std::move(answer);
  }
  // The request heads received so far (request line and headers).
  std::vector<std::string> requests() {
    MutexLock lock(&mu_);
    return requests_;
  }

 private:
  void Serve() {
    for (;;) {
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(conn, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      const size_t sp = head.find(' ');
      const std::string path = head.substr(sp + 1, head.find(' ', sp + 1) - sp - 1);
      Answer answer{404, "no such path"};
      {
        MutexLock lock(&mu_);
        requests_.push_back(head.substr(0, head.find("\r\n\r\n")));
        if (auto it = answers_.find(path); it != answers_.end()) answer = it->second;
      }
      const std::string response =
          absl::StrCat("HTTP/1.0 ", answer.status, " X\r\nContent-Length: ", answer.body.size(),
                       "\r\nConnection: close\r\n\r\n", answer.body);
      (void)!::write(conn, response.data(), response.size());
      ::close(conn);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::map<std::string, Answer> answers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary) << content;
  ::chmod(path.c_str(), mode);
}

class FetchDownloadsTest : public ::testing::Test {
 protected:
  FetchJob Job(std::vector<std::pair<std::string, std::string>> downloads) {
    FetchJob job;
    job.downloads = std::move(downloads);
    job.work_dir = tmp_.Sub("work/17");  // missing: the fetch creates it
    job.reserved_names = {"script.sh"};
    return job;
  }
  // The names in the work dir (temporary files would show up here).
  std::set<std::string> WorkFiles() {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(tmp_.Sub("work/17"), ec)) {
      out.insert(e.path().filename().string());
    }
    return out;
  }
  // A stand-in for `hdfs` that runs `body` (a bash script) with its arguments.
  std::string Stub(const std::string& body) {
    const std::string path = tmp_.Sub("hdfs-stub");
    WriteFile(path, "#!/bin/bash\n" + body, 0755);
    return path;
  }

  exec::testing::TempDir tmp_;
  FetchOptions options_;
};

TEST_F(FetchDownloadsTest, FileUriCopiesBytesExactly) {
  std::string binary;
  for (int i = 0; i < 3 * 256 * 1024; ++i) binary.push_back(static_cast<char>(i * 7));
  WriteFile(tmp_.Sub("source.bin"), binary);
  const absl::Status st =
      FetchDownloads(Job({{"file://" + tmp_.Sub("source.bin"), "data.bin"}}), options_, nullptr);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(ReadFile(tmp_.Sub("work/17/data.bin")), binary);
  EXPECT_EQ(WorkFiles(), std::set<std::string>{"data.bin"});
  struct stat info;
  ASSERT_EQ(::stat(tmp_.Sub("work/17").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u) << "the work dir the fetch creates is private";
}

TEST_F(FetchDownloadsTest, FileUriErrorsNameTheUri) {
  absl::Status st = FetchDownloads(Job({{"file:///no/such/file", "x"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("download file:///no/such/file failed: open /no/such/file"));
  EXPECT_TRUE(WorkFiles().empty()) << "nothing is left behind";
  st = FetchDownloads(Job({{"file://relative/path", "x"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("absolute local path"));
  st = FetchDownloads(Job({{"file://" + tmp_.path(), "x"}}), options_, nullptr);
  EXPECT_THAT(st.message(), HasSubstr("is not a file"));
}

TEST_F(FetchDownloadsTest, HttpFetchesA2xxBody) {
  TinyHttpServer server;
  server.Set("/data.csv", {200, "a,b\n1,2\n"});
  const absl::Status st =
      FetchDownloads(Job({{server.base() + "/data.csv", "data.csv"}}), options_, nullptr);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(ReadFile(tmp_.Sub("work/17/data.csv")), "a,b\n1,2\n");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_THAT(server.requests()[0], ::testing::StartsWith("GET /data.csv HTTP/1.1"));
  EXPECT_THAT(server.requests()[0], ::testing::Not(HasSubstr("Authorization")))
      << "the cluster token goes only to the master";
}

TEST_F(FetchDownloadsTest, HttpErrorStatusFailsTheFetchAndLeavesNoFile) {
  TinyHttpServer server;
  server.Set("/gone.csv", {500, "disk on fire"});
  absl::Status st =
      FetchDownloads(Job({{server.base() + "/missing.csv", "m.csv"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("missing.csv failed: HTTP 404: no such path"));
  st = FetchDownloads(Job({{server.base() + "/gone.csv", "g.csv"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("HTTP 500: disk on fire"));
  EXPECT_TRUE(WorkFiles().empty());
  // Nobody listens here any more.
  std::string dead;
  {
    TinyHttpServer gone;
    dead = gone.base();
  }
  st = FetchDownloads(Job({{dead + "/x", "x"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("download " + dead + "/x failed: "));
}

TEST_F(FetchDownloadsTest, HeraOverHttpAsksTheMasterWithTheClusterToken) {
  TinyHttpServer master;
  master.Set("/internal/v1/resources/lib.sh/content", {200, "greet() { echo hi; }\n"});
  master.Set("/internal/v1/resources/lib.sh/content?version=2", {200, "v2\n"});
  master.Set("/internal/v1/resources/nope/content",
             {404, R"({"error":{"code":"NOT_FOUND","message":"no resource \"nope\""}})"});
  options_.resource_url = master.base() + "/";
  options_.token = "cluster-secret";
  absl::Status st =
      FetchDownloads(Job({{"hera://lib.sh", "lib.sh"}, {"hera://lib.sh?version=2", "lib2.sh"}}),
                     options_, nullptr);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(ReadFile(tmp_.Sub("work/17/lib.sh")), "greet() { echo hi; }\n");
  EXPECT_EQ(ReadFile(tmp_.Sub("work/17/lib2.sh")), "v2\n");
  ASSERT_EQ(master.requests().size(), 2u);
  EXPECT_THAT(master.requests()[0], HasSubstr("Authorization: Bearer cluster-secret"));

  st = FetchDownloads(Job({{"hera://nope", "nope"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "download hera://nope failed: HTTP 404: no resource \"nope\"");

  options_.resource_url.clear();
  st = FetchDownloads(Job({{"hera://lib.sh", "lib.sh"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("knows no master URL"));
}

TEST_F(FetchDownloadsTest, HeraFromTheLocalStore) {
  WriteFile(tmp_.Sub("stored"), "from the store\n");
  std::vector<std::pair<std::string, int64_t>> asked;
  options_.open_resource = [&](const std::string& name,
                               int64_t version) -> absl::StatusOr<UniqueFd> {
    asked.emplace_back(name, version);
    if (name != "lib.sh") return absl::NotFoundError(absl::StrCat("no resource \"", name, "\""));
    return UniqueFd(::open(tmp_.Sub("stored").c_str(), O_RDONLY | O_CLOEXEC));
  };
  absl::Status st = FetchDownloads(Job({{"hera://lib.sh?version=3", "lib.sh"}}), options_, nullptr);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(ReadFile(tmp_.Sub("work/17/lib.sh")), "from the store\n");
  EXPECT_EQ(asked, (std::vector<std::pair<std::string, int64_t>>{{"lib.sh", 3}}));

  st = FetchDownloads(Job({{"hera://missing.sh", "missing.sh"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "download hera://missing.sh failed: no resource \"missing.sh\"");
  EXPECT_EQ(WorkFiles(), std::set<std::string>{"lib.sh"});

  for (const char* bad : {"hera://", "hera://a?v=1", "hera://a?version=0", "hera://a/b"}) {
    st = FetchDownloads(Job({{bad, "x"}}), options_, nullptr);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(FetchDownloadsTest, HdfsRunsTheConfiguredCommandWithUriAndDestination) {
  const std::string log = tmp_.Sub("hdfs-args");
  options_.hdfs_get =
      Stub("printf '%s\\n' \"$@\" > " + log + "\necho \"jar from $3\" > \"$4\"\n") + " dfs -get";
  const absl::Status st =
      FetchDownloads(Job({{"hdfs:///jars/udf.jar", "udf.jar"}}), options_, nullptr);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(ReadFile(tmp_.Sub("work/17/udf.jar")), "jar from hdfs:///jars/udf.jar\n");
  EXPECT_EQ(ReadFile(log), absl::StrCat("dfs\n-get\nhdfs:///jars/udf.jar\n",
                                        tmp_.Sub("work/17/.hera-download-0.part"), "\n"));
  EXPECT_EQ(WorkFiles(), std::set<std::string>{"udf.jar"});
}

TEST_F(FetchDownloadsTest, AFailingHdfsCommandFailsWithWhatItSaid) {
  options_.hdfs_get =
      Stub("echo \"get: '$3': No such file or directory\" >&2\nexit 1\n") + " dfs -get";
  absl::Status st = FetchDownloads(Job({{"hdfs:///nope", "nope"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(st.message(), HasSubstr("download hdfs:///nope failed: "));
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("exit code 1: get: 'hdfs:///nope': No such file"));
  EXPECT_TRUE(WorkFiles().empty());

  options_.hdfs_get = tmp_.Sub("no-such-hdfs") + " dfs -get";
  st = FetchDownloads(Job({{"hdfs:///x", "x"}}), options_, nullptr);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("download hdfs:///x failed: "));

  options_.hdfs_get = Stub("exit 0\n");  // claims success, writes nothing
  st = FetchDownloads(Job({{"hdfs:///x", "x"}}), options_, nullptr);
  EXPECT_THAT(st.message(), HasSubstr("exited 0 but wrote no file"));
}

TEST_F(FetchDownloadsTest, SlowFetchesTimeOutOrAreCancelled) {
  options_.hdfs_get = Stub("exec sleep 30\n");
  options_.timeout = absl::Milliseconds(300);
  absl::Status st = FetchDownloads(Job({{"hdfs:///slow", "slow"}}), options_, nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;

  options_.timeout = absl::Minutes(5);
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(300));
    cancel.store(true);
  });
  const absl::Time start = absl::Now();
  st = FetchDownloads(Job({{"hdfs:///slow", "slow"}}), options_, &cancel);
  canceller.join();
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled) << st;
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
}

TEST_F(FetchDownloadsTest, NamesAndSchemesAreCheckedAgainOnTheWorker) {
  WriteFile(tmp_.Sub("f"), "x");
  const std::string src = "file://" + tmp_.Sub("f");
  struct Case {
    std::string uri, name, error;
  };
  const std::vector<Case> cases = {
      {src, "script.sh", "a file of the run's own"},
      {src, "output.log", "a file of the run's own"},
      {src, "../escape", "plain file name"},
      {src, "a/b", "plain file name"},
      {"ftp://example.com/x", "x", "unsupported scheme \"ftp\""},
  };
  for (const Case& c : cases) {
    const absl::Status st = FetchDownloads(Job({{c.uri, c.name}}), options_, nullptr);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(st.message(), HasSubstr(c.error)) << c.name;
  }
  EXPECT_FALSE(fs::exists(tmp_.Sub("work/escape")));
}

TEST(ResolveResourceUrlTest, AWildcardHostBecomesTheMastersHost) {
  EXPECT_EQ(ResolveResourceUrl("http://0.0.0.0:8080", "10.1.2.3:9887"), "http://10.1.2.3:8080");
  EXPECT_EQ(ResolveResourceUrl("http://[::]:8080/", "master.example:9887"),
            "http://master.example:8080/");
  EXPECT_EQ(ResolveResourceUrl("http://0.0.0.0:8080", "[fd00::1]:9887"), "http://[fd00::1]:8080");
  EXPECT_EQ(ResolveResourceUrl("http://0.0.0.0:8080", "dns:///m1:9887"), "http://m1:8080");
  EXPECT_EQ(ResolveResourceUrl("https://hera.example.com", "10.1.2.3:9887"),
            "https://hera.example.com");
  EXPECT_EQ(ResolveResourceUrl("http://127.0.0.1:8080", "10.1.2.3:9887"), "http://127.0.0.1:8080");
  EXPECT_EQ(ResolveResourceUrl("", "10.1.2.3:9887"), "");
}

}  // namespace
}  // namespace hera::worker
