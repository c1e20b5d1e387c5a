#include "common/log_masker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hera {
namespace {

// Feeds `chunks` and returns everything the masker let out, flushed at the end.
std::string Stream(const std::vector<std::string>& secrets,
                   const std::vector<std::string>& chunks) {
  LogMasker m(secrets);
  std::string out;
  for (const auto& c : chunks) out += m.Feed(c);
  out += m.Flush();
  return out;
}

TEST(LogMaskerTest, MasksEachByteOfEveryOccurrence) {
  const struct {
    std::vector<std::string> secrets;
    std::vector<std::string> chunks;
    std::string want;
  } cases[] = {
      {{"hunter2"}, {"pw=hunter2\n"}, "pw=*******\n"},
      {{"hunter2"}, {"pw=hun", "ter2\n"}, "pw=*******\n"},  // split across two chunks
      {{"hunter2"}, {"h", "u", "n", "t", "e", "r", "2", "!"}, "*******!"},  // one byte at a time
      {{"hunter2"}, {"hunt", "ing\n"}, "hunting\n"},           // a prefix that was not one
      {{"hunter2"}, {"a hun"}, "a hun"},                       // a prefix at the very end
      {{"abcabc"}, {"xabcab", "cabc", "yz"}, "x*********yz"},  // overlapping occurrences
      {{"abcabc"}, {"xabcabc", "yz"}, "x******yz"},            // held part already masked
      {{"abc", "bcd"}, {"abcd"}, "****"},                      // overlapping secrets
      {{"s3cr3t", "tok"}, {"tok s3c", "r3t tok"}, "*** ****** ***"},
      {{"", "x"}, {"axb"}, "a*b"},  // empty secrets are ignored
      {{}, {"plain", " text"}, "plain text"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Stream(c.secrets, c.chunks), c.want) << c.chunks.front();
  }
}

TEST(LogMaskerTest, HoldsOnlyWhatCouldStartASecret) {
  LogMasker m({"hunter2"});
  EXPECT_EQ(m.Feed("done hunt"), "done ");
  EXPECT_EQ(m.held(), 4u);
  EXPECT_EQ(m.Feed("er"), "");
  EXPECT_EQ(m.held(), 6u);
  EXPECT_EQ(m.Feed("2 ok"), "******* ok");
  EXPECT_EQ(m.held(), 0u);
  EXPECT_EQ(m.Flush(), "");
}

}  // namespace
}  // namespace hera
