#include "cli/ctl_sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hera::cli {
namespace {

struct Seen {
  std::string type, data, id;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{" << s.type << ", \"" << s.data << "\", id=" << s.id << "}";
}

std::vector<Seen> ParseChunks(const std::vector<std::string>& chunks) {
  SseParser parser;
  std::vector<Seen> events;
  for (const std::string& chunk : chunks) {
    parser.Feed(chunk, [&](const SseEvent& e) { events.push_back({e.type, e.data, e.id}); });
  }
  return events;
}

// Feeds `stream` cut at every split into chunks of `size` bytes.
std::vector<Seen> ParseInPieces(const std::string& stream, size_t size) {
  std::vector<std::string> chunks;
  for (size_t i = 0; i < stream.size(); i += size) chunks.push_back(stream.substr(i, size));
  return ParseChunks(chunks);
}

const char kLogStream[] =
    ": keepalive\n"
    "\n"
    "event: log\n"
    "id: 6\n"
    "data: {\"offset\":0,\"data\":\"hello\\n\"}\n"
    "\n"
    ": keepalive\n"
    "event: log\n"
    "id: 12\n"
    "data: {\"offset\":6,\"data\":\"world\\n\"}\n"
    "\n"
    "event: end\n"
    "data: {\"id\":3,\"status\":\"success\"}\n"
    "\n";

const std::vector<Seen> kLogEvents = {
    {"log", R"({"offset":0,"data":"hello\n"})", "6"},
    {"log", R"({"offset":6,"data":"world\n"})", "12"},
    {"end", R"({"id":3,"status":"success"})", "12"},
};

TEST(SseParserTest, WholeStream) { EXPECT_EQ(ParseChunks({kLogStream}), kLogEvents); }

TEST(SseParserTest, EveryChunkSize) {
  const std::string stream = kLogStream;
  for (size_t size = 1; size <= stream.size(); ++size) {
    EXPECT_EQ(ParseInPieces(stream, size), kLogEvents) << "chunk size " << size;
  }
}

TEST(SseParserTest, EverySplitPointWithCrlf) {
  std::string stream;
  for (char c : std::string(kLogStream)) {
    if (c == '\n')
      stream += "\r\n";
    else
      stream += c;
  }
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(ParseChunks({stream.substr(0, cut), stream.substr(cut)}), kLogEvents)
        << "cut at " << cut;
  }
}

TEST(SseParserTest, BareCarriageReturnEndsLines) {
  EXPECT_EQ(ParseChunks({"event: log\rdata: a\r\r"}), (std::vector<Seen>{{"log", "a", ""}}));
  // "\r" then "\n" in the next chunk is one line end, not an empty line.
  EXPECT_EQ(ParseChunks({"data: a\r", "\ndata: b\r", "\n\r\n"}),
            (std::vector<Seen>{{"message", "a\nb", ""}}));
}

TEST(SseParserTest, MultiLineDataJoinsWithNewline) {
  EXPECT_EQ(ParseChunks({"data: one\ndata: two\ndata:\ndata:  four\n\n"}),
            (std::vector<Seen>{{"message", "one\ntwo\n\n four", ""}}));
}

TEST(SseParserTest, CommentsAndUnknownFieldsAreIgnored) {
  EXPECT_EQ(ParseChunks({":comment\n: keepalive\nretry: 100\nfoo: bar\ndata: x\n:mid\n\n"}),
            (std::vector<Seen>{{"message", "x", ""}}));
  EXPECT_TRUE(ParseChunks({": only a comment\n\n"}).empty());
}

TEST(SseParserTest, FieldWithoutColonAndValueWithoutSpace) {
  // "data" alone is the data field with an empty value; only one leading space is stripped.
  EXPECT_EQ(ParseChunks({"data\n\n"}), (std::vector<Seen>{{"message", "", ""}}));
  EXPECT_EQ(ParseChunks({"data:x: y\n\n"}), (std::vector<Seen>{{"message", "x: y", ""}}));
}

TEST(SseParserTest, EventWithoutDataIsNotDispatchedAndResetsType) {
  EXPECT_EQ(ParseChunks({"event: end\n\ndata: x\n\n"}), (std::vector<Seen>{{"message", "x", ""}}));
}

TEST(SseParserTest, IdPersistsAcrossEventsAndCanBeReset) {
  SseParser parser;
  std::vector<Seen> events;
  auto collect = [&](const SseEvent& e) { events.push_back({e.type, e.data, e.id}); };
  parser.Feed("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", collect);
  EXPECT_EQ(events, (std::vector<Seen>{
                        {"message", "a", "7"}, {"message", "b", "7"}, {"message", "c", ""}}));
  parser.Feed("id: 9\n", collect);
  EXPECT_EQ(parser.last_event_id(), "9");
  parser.Feed(std::string("id: 1\0002\n", 8), collect);  // an id with NUL is ignored
  EXPECT_EQ(parser.last_event_id(), "9");
}

TEST(SseParserTest, IncompleteEventIsHeldUntilBlankLine) {
  SseParser parser;
  int count = 0;
  parser.Feed("event: log\ndata: {\"offset\":0,", [&](const SseEvent&) { ++count; });
  parser.Feed("\"data\":\"x\"}\n", [&](const SseEvent&) { ++count; });
  EXPECT_EQ(count, 0);
  parser.Feed("\n", [&](const SseEvent& e) {
    ++count;
    EXPECT_EQ(e.data, R"({"offset":0,"data":"x"})");
  });
  EXPECT_EQ(count, 1);
}

TEST(SseParserTest, LeadingByteOrderMarkIsSkipped) {
  EXPECT_EQ(ParseChunks({"\xEF\xBB",
                         "\xBF"
                         "data: x\n\n"}),
            (std::vector<Seen>{{"message", "x", ""}}));
}

TEST(SseParserTest, Utf8DataSplitInsideACharacter) {
  const std::string stream = "data: 日志\n\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(ParseChunks({stream.substr(0, cut), stream.substr(cut)}),
              (std::vector<Seen>{{"message", "日志", ""}}));
  }
}

}  // namespace
}  // namespace hera::cli
