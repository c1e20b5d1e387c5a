// Data-driven tests: the public vectors (vectors.tsv, invalid.tsv) and the fuzz seed corpus.
//
// The vectors are read from the first of: $HERA_CRON_VECTORS_DIR; $HERA_SOURCE_DIR/../shared/cron
// (shared/ beside the repository, in a checkout and in CI's clone); $HERA_SOURCE_DIR/src/cron/
// testdata (the copy kept in the repository); the same two paths fixed at build time.

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/time_format.h"
#include "cron/cron_expr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace hera::cron {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> DataDirs() {
  std::vector<fs::path> dirs;
  if (const char* d = std::getenv("HERA_CRON_VECTORS_DIR")) dirs.emplace_back(d);
  if (const char* root = std::getenv("HERA_SOURCE_DIR")) {
    dirs.push_back(fs::path(root) / ".." / "shared" / "cron");
    dirs.push_back(fs::path(root) / "src" / "cron" / "testdata");
  }
  dirs.emplace_back(HERA_CRON_SHARED_DIR);
  dirs.emplace_back(HERA_CRON_TESTDATA_DIR);
  return dirs;
}

// The first readable `name` among DataDirs(), or an empty path.
fs::path FindData(const std::string& name) {
  for (const fs::path& dir : DataDirs()) {
    std::error_code ec;
    if (fs::is_regular_file(dir / name, ec)) return dir / name;
  }
  return {};
}

std::vector<std::string> SplitTabs(const std::string& line, char sep = '\t') {
  std::vector<std::string> out;
  size_t begin = 0;
  for (;;) {
    const size_t end = line.find(sep, begin);
    out.push_back(line.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) return out;
    begin = end + 1;
  }
}

// Rows of a TSV file with a header line; `width` columns at least.
std::vector<std::vector<std::string>> ReadTsv(const std::string& name, size_t width) {
  std::vector<std::vector<std::string>> rows;
  const fs::path path = FindData(name);
  if (path.empty()) return rows;
  std::ifstream in(path);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (header) {
      header = false;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols = SplitTabs(line);
    if (cols.size() < width) cols.resize(width);
    rows.push_back(std::move(cols));
  }
  return rows;
}

// A gtest-safe, unique name for a row id.
std::string TestName(const std::string& id, size_t index) {
  std::string name;
  for (char c : id) name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (name.empty()) name = "row";
  return name + "_" + std::to_string(index);
}

struct VectorRow {
  std::string id, dialect, expression, tz, from, expected, notes;
  size_t index = 0;
};

std::vector<VectorRow> LoadVectors() {
  std::vector<VectorRow> out;
  for (auto& c : ReadTsv("vectors.tsv", 8)) {
    out.push_back({c[0], c[2], c[3], c[4], c[5], c[6], c[7], out.size()});
  }
  return out;
}

struct InvalidRow {
  std::string id, dialect, expression, why;
  size_t index = 0;
};

std::vector<InvalidRow> LoadInvalid() {
  std::vector<InvalidRow> out;
  for (auto& c : ReadTsv("invalid.tsv", 5)) out.push_back({c[0], c[2], c[3], c[4], out.size()});
  return out;
}

TEST(CronVectorFilesTest, FoundAndNotEmpty) {
  const fs::path vectors = FindData("vectors.tsv");
  const fs::path invalid = FindData("invalid.tsv");
  ASSERT_FALSE(vectors.empty()) << "vectors.tsv not found; set HERA_SOURCE_DIR";
  ASSERT_FALSE(invalid.empty()) << "invalid.tsv not found; set HERA_SOURCE_DIR";
  std::cout << "vectors: " << vectors.string() << "\ninvalid: " << invalid.string() << "\n";
  EXPECT_GE(LoadVectors().size(), 100u);
  EXPECT_GE(LoadInvalid().size(), 50u);
}

class CronVectorTest : public testing::TestWithParam<VectorRow> {};

TEST_P(CronVectorTest, NextTimesMatch) {
  const VectorRow& row = GetParam();
  SCOPED_TRACE(row.id + " '" + row.expression + "' in " + row.tz + " from " + row.from + ": " +
               row.notes);
  absl::TimeZone tz;
  ASSERT_TRUE(absl::LoadTimeZone(row.tz, &tz)) << row.tz;
  const absl::StatusOr<CronExpr> expr = CronExpr::Parse(row.expression);
  ASSERT_TRUE(expr.ok()) << expr.status();
  EXPECT_EQ(expr->dialect(), row.dialect == "unix" ? Dialect::kUnix : Dialect::kQuartz);
  const absl::StatusOr<absl::Time> from = ParseIsoTime(row.from, tz);
  ASSERT_TRUE(from.ok()) << from.status();

  std::vector<absl::Time> want;
  if (row.expected != "NONE") {
    for (const std::string& s : SplitTabs(row.expected, '|')) {
      const absl::StatusOr<absl::Time> t = ParseIsoTime(s, tz);
      ASSERT_TRUE(t.ok()) << t.status();
      want.push_back(*t);
    }
  }
  auto show = [&](std::optional<absl::Time> t) {
    return t ? FormatIsoTime(*t, tz) : std::string("NONE");
  };

  // Forward, one step at a time.
  absl::Time t = *from;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::optional<absl::Time> next = expr->NextAfter(t, tz);
    ASSERT_EQ(show(next), show(want[i])) << "step " << i;
    t = *next;
  }
  if (want.empty()) {
    EXPECT_EQ(show(expr->NextAfter(*from, tz)), "NONE");
  }

  // Backward over the same times, and no fire time between `from` and the first one.
  for (size_t i = want.size(); i-- > 1;) {
    EXPECT_EQ(show(expr->PrevBefore(want[i], tz)), show(want[i - 1])) << "back from " << i;
  }
  if (!want.empty()) {
    const std::optional<absl::Time> before = expr->PrevBefore(want[0], tz);
    if (before) {
      EXPECT_LE(*before, *from) << show(before);
    }
  }

  // All at once.
  if (!want.empty()) {
    const std::vector<absl::Time> all =
        expr->AllIn(*from + absl::Nanoseconds(1), want.back() + absl::Nanoseconds(1), tz);
    std::vector<std::string> got_s, want_s;
    for (absl::Time x : all) got_s.push_back(FormatIsoTime(x, tz));
    for (absl::Time x : want) want_s.push_back(FormatIsoTime(x, tz));
    EXPECT_EQ(got_s, want_s);
  }
}

INSTANTIATE_TEST_SUITE_P(Shared, CronVectorTest, testing::ValuesIn(LoadVectors()),
                         [](const testing::TestParamInfo<VectorRow>& info) {
                           return TestName(info.param.id, info.param.index);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CronVectorTest);

class CronInvalidTest : public testing::TestWithParam<InvalidRow> {};

TEST_P(CronInvalidTest, IsRejectedWithAReason) {
  const InvalidRow& row = GetParam();
  const absl::StatusOr<CronExpr> expr = CronExpr::Parse(row.expression);
  ASSERT_FALSE(expr.ok()) << row.id << " '" << row.expression << "' should fail: " << row.why;
  EXPECT_EQ(expr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(expr.status().message().empty());
}

INSTANTIATE_TEST_SUITE_P(Shared, CronInvalidTest, testing::ValuesIn(LoadInvalid()),
                         [](const testing::TestParamInfo<InvalidRow>& info) {
                           return TestName(info.param.id, info.param.index);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CronInvalidTest);

// The repository's copy is what CI runs when shared/ is absent; say when it has fallen behind.
TEST(CronVectorFilesTest, TestdataCopyMatchesShared) {
  for (const char* name : {"vectors.tsv", "invalid.tsv"}) {
    const fs::path shared = fs::path(HERA_CRON_SHARED_DIR) / name;
    const fs::path copy = fs::path(HERA_CRON_TESTDATA_DIR) / name;
    std::error_code ec;
    if (!fs::is_regular_file(shared, ec)) GTEST_SKIP() << "no shared/ beside the repository";
    auto slurp = [](const fs::path& p) {
      std::ifstream in(p, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    if (slurp(shared) != slurp(copy)) {
      std::cout << "note: " << copy.string() << " differs from " << shared.string()
                << "; the shared file was tested\n";
    }
  }
}

// Every seed of the fuzz corpus through the fuzz entry point: no crash, no hang, no broken
// invariant (the entry point aborts on one).
TEST(CronFuzzSeedsTest, EverySeedRuns) {
  fs::path dir = HERA_CRON_CORPUS_DIR;
  if (const char* root = std::getenv("HERA_SOURCE_DIR")) {
    dir = fs::path(root) / "tests" / "fuzz" / "corpus" / "cron";
  }
  std::error_code ec;
  ASSERT_TRUE(fs::is_directory(dir, ec)) << dir;
  int seeds = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++seeds;
  }
  EXPECT_GE(seeds, 20);
}

}  // namespace
}  // namespace hera::cron
