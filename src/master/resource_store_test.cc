#include "master/resource_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "master/resource_name.h"

namespace hera::master {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Every name a resource may have, and every rule a bad one breaks.
TEST(ResourceNameTest, AcceptsPlainFileNames) {
  for (const char* name : {"lib.sh", "udf-1.2.jar", "a", "data_2024.csv", "中文.txt"}) {
    EXPECT_TRUE(ValidateResourceName(name).ok()) << name;
  }
  EXPECT_TRUE(ValidateResourceName(std::string(200, 'a')).ok());
}

TEST(ResourceNameTest, RefusesNamesThatLeaveTheStoreOrCannotBeFetched) {
  struct Case {
    std::string name;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {std::string(201, 'a'), "201 bytes"},
      {".hidden", "starts with '.'"},
      {".", "starts with '.'"},
      {"..", "starts with '.'"},
      {"../etc/passwd", "starts with '.'"},
      {"a/../b", "path separator"},
      {"a/b", "path separator"},
      {"a\\b", "path separator"},
      {"a..b", "\"..\""},
      {"x..", "\"..\""},
      {std::string("a\nb"), "control character"},
      {std::string("a\0b", 3), "control character"},
      {"tab\there", "control character"},
      {"del\x7f", "control character"},
      {"two words", "space"},
      {"lib.sh?version=2", "'?' or '#'"},
      {"a#b", "'?' or '#'"},
  };
  for (const Case& c : cases) {
    const absl::Status st = ValidateResourceName(c.name);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(st.message(), HasSubstr(c.why)) << c.name;
  }
}

class ResourceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "hera_resource_store_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/resources";
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<ResourceStore> OpenStore(int64_t max_bytes = 1 << 20) {
    ResourceStoreOptions options;
    options.dir = dir_;
    options.max_bytes = max_bytes;
    auto store = ResourceStore::Open(options, &clock_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static std::string ReadAll(int fd) {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }

  // Every file under the store, relative to it (temporary ones included).
  std::set<std::string> Files() const {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      if (e.is_regular_file()) out.insert(fs::relative(e.path(), dir_).string());
    }
    return out;
  }

  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::string root_;
  std::string dir_;
};

TEST_F(ResourceStoreTest, EveryUploadIsANewVersionAndOldOnesStay) {
  auto store = OpenStore();
  auto v1 = store->Put("lib.sh", "echo one\n", "alice");
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->size, 9);
  EXPECT_EQ(v1->uploader, "alice");
  EXPECT_EQ(v1->uploaded_at, absl::FromUnixSeconds(1700000000));
  EXPECT_EQ(v1->sha256.size(), 64u);
  clock_.Advance(absl::Minutes(1));
  auto v2 = store->Put("lib.sh", "echo two\n", "bob");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->version, 2);
  EXPECT_NE(v2->sha256, v1->sha256);

  auto versions = store->Versions("lib.sh");
  ASSERT_TRUE(versions.ok()) << versions.status();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].uploader, "alice");
  EXPECT_EQ((*versions)[1].uploader, "bob");

  auto latest = store->Open("lib.sh", 0);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->meta.version, 2);
  EXPECT_EQ(ReadAll(latest->fd.get()), "echo two\n");
  auto first = store->Open("lib.sh", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(ReadAll(first->fd.get()), "echo one\n");
  EXPECT_EQ(Files(),
            (std::set<std::string>{"lib.sh/v1", "lib.sh/v1.json", "lib.sh/v2", "lib.sh/v2.json"}));
}

TEST_F(ResourceStoreTest, KnownDigestAndBinaryContent) {
  auto store = OpenStore();
  auto abc = store->Put("abc", "abc", "u");
  ASSERT_TRUE(abc.ok()) << abc.status();
  EXPECT_EQ(abc->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  binary += std::string("\r\n--\0\0", 6);
  auto bin = store->Put("blob.bin", binary, "u");
  ASSERT_TRUE(bin.ok()) << bin.status();
  auto opened = store->Open("blob.bin", 0);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(ReadAll(opened->fd.get()), binary);
}

TEST_F(ResourceStoreTest, ListShowsTheLatestVersionOfEachByName) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Put("b.txt", "1", "u").ok());
  ASSERT_TRUE(store->Put("a.txt", "1", "u").ok());
  ASSERT_TRUE(store->Put("b.txt", "22", "u").ok());
  auto list = store->List();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a.txt");
  EXPECT_EQ((*list)[0].version, 1);
  EXPECT_EQ((*list)[1].name, "b.txt");
  EXPECT_EQ((*list)[1].version, 2);
  EXPECT_EQ((*list)[1].size, 2);
}

TEST_F(ResourceStoreTest, MissingNamesAndVersionsAreNotFound) {
  auto store = OpenStore();
  EXPECT_EQ(store->Versions("nope").status().code(), absl::StatusCode::kNotFound);
  const auto missing = store->Open("nope", 0).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("no resource \"nope\""));
  ASSERT_TRUE(store->Put("x", "1", "u").ok());
  const auto no_version = store->Open("x", 7).status();
  EXPECT_EQ(no_version.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(no_version.message(), HasSubstr("has no version 7 (the latest is 1)"));
  EXPECT_EQ(store->Open("../x", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ResourceStoreTest, TooLargeOrBadlyNamedUploadsWriteNothing) {
  auto store = OpenStore(/*max_bytes=*/10);
  const auto big = store->Put("big", std::string(11, 'x'), "u").status();
  EXPECT_EQ(big.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(big.message(), HasSubstr("11 bytes; the upload limit is 10 bytes"));
  EXPECT_TRUE(store->Put("fits", std::string(10, 'x'), "u").ok());
  const auto bad = store->Put("../escape", "x", "u").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Files(), (std::set<std::string>{"fits/v1", "fits/v1.json"}));
  EXPECT_FALSE(fs::exists(root_ + "/escape"));
  EXPECT_FALSE(fs::exists(dir_ + "/big"));
}

TEST_F(ResourceStoreTest, ACrashLeavesWholeVersionsOrNone) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->Put("lib.sh", "v1", "u").ok());
  }
  // A crash mid-upload: a temporary file, and a content file whose metadata never got written.
  { std::ofstream(dir_ + "/.tmp/upload-abcdef") << "half"; }
  { std::ofstream(dir_ + "/lib.sh/v2") << "torn"; }
  auto store = OpenStore();
  auto versions = store->Versions("lib.sh");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u) << "a version without metadata does not exist";
  EXPECT_FALSE(fs::exists(dir_ + "/.tmp/upload-abcdef")) << "Open() clears temporary files";
  auto v2 = store->Put("lib.sh", "real v2", "u");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->version, 2);
  auto opened = store->Open("lib.sh", 2);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(ReadAll(opened->fd.get()), "real v2");
  EXPECT_EQ(Files(),
            (std::set<std::string>{"lib.sh/v1", "lib.sh/v1.json", "lib.sh/v2", "lib.sh/v2.json"}));
}

TEST_F(ResourceStoreTest, ConcurrentUploadsGetDistinctVersions) {
  auto store = OpenStore();
  std::vector<std::thread> threads;
  std::vector<int64_t> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto v = store->Put("same", std::string(1000 + i, 'x'), "u");
      got[i] = v.ok() ? v->version : -1;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()), (std::set<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  // Each version's content matches its own metadata.
  for (int64_t n = 1; n <= 8; ++n) {
    auto opened = store->Open("same", n);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(static_cast<int64_t>(ReadAll(opened->fd.get()).size()), opened->meta.size);
  }
}

}  // namespace
}  // namespace hera::master
