#include "api/multipart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace hera::api {
namespace {

using ::testing::HasSubstr;

std::string Crlf(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

TEST(MultipartBoundaryTest, TokenOrQuoted) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; charset=utf-8; boundary=--x--"), "--x--");
}

TEST(MultipartBoundaryTest, RefusesOtherTypesAndBadBoundaries) {
  EXPECT_THAT(MultipartBoundary("application/json").status().message(),
              HasSubstr("multipart/form-data"));
  EXPECT_THAT(MultipartBoundary("").status().message(), HasSubstr("no Content-Type"));
  EXPECT_THAT(MultipartBoundary("multipart/form-data").status().message(), HasSubstr("boundary"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x')).ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=\"unterminated").ok());
}

TEST(MultipartTest, FileAndFieldAsCurlSendsThem) {
  const std::string body = Crlf(
      "--------------------------d74496d66958873e\n"
      "Content-Disposition: form-data; name=\"name\"\n"
      "\n"
      "lib.sh\n"
      "--------------------------d74496d66958873e\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"my lib.sh\"\n"
      "Content-Type: application/x-sh\n"
      "\n"
      "echo hi\n"
      "--------------------------d74496d66958873e--\n");
  auto parts = ParseMultipart(body, "------------------------d74496d66958873e");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "name");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].data, "lib.sh");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "my lib.sh");
  EXPECT_EQ((*parts)[1].content_type, "application/x-sh");
  EXPECT_EQ((*parts)[1].data, "echo hi") << "the CRLF before the delimiter is not content";
}

TEST(MultipartTest, BinaryContentThatLooksLikeDelimitersStaysIntact) {
  std::string content;
  for (int i = 0; i < 256; ++i) content.push_back(static_cast<char>(i));
  // Almost-delimiters: the boundary without the CRLF before it, and CRLF-- with another word.
  content += std::string("--XyZ\r\n--XyZa\r\n--Xy\0\r\n\r\n", 22);
  const std::string body =
      "preamble to ignore\r\n--XyZ\r\n"
      "content-disposition: form-data; name=file; filename=\"a\\\"b.bin\"\r\n"
      "\r\n" +
      content + "\r\n--XyZ--\r\nepilogue";
  auto parts = ParseMultipart(body, "XyZ");
  // "\r\n--XyZa" inside the content is a delimiter followed by junk: malformed, as RFC 2046
  // forbids the boundary inside content. Without it the content comes back byte for byte.
  EXPECT_FALSE(parts.ok());
  content = content.substr(0, 256) + std::string("--XyZ\r\n-XyZ\r\n\0\r\n\r\n", 18);
  const std::string good =
      "--XyZ\r\nContent-Disposition: form-data; name=file; "
      "filename=\"a\\\"b.bin\"\r\n\r\n" +
      content + "\r\n--XyZ--";
  parts = ParseMultipart(good, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].filename, "a\"b.bin");
  EXPECT_EQ((*parts)[0].data, content);
}

TEST(MultipartTest, EmptyFileExtendedFilenameAndPadding) {
  const std::string body = Crlf(
      "--b  \n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"x\"; "
      "filename*=UTF-8''%E4%B8%AD.txt\n"
      "\n"
      "\n"
      "--b--");
  auto parts = ParseMultipart(body, "b");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].filename, "\xE4\xB8\xAD.txt");
  EXPECT_EQ((*parts)[0].data, "");
}

TEST(MultipartTest, MalformedBodiesSayWhatIsWrong) {
  struct Case {
    std::string body;
    const char* error;
  };
  const Case cases[] = {
      {"no delimiter at all", "no multipart delimiter"},
      {Crlf("--b\nContent-Disposition: form-data; name=\"file\"\n\nhalf an upload"),
       "ends before its delimiter"},
      {Crlf("--b\nContent-Disposition: form-data; name=\"file\"\n\nx\n--b"), "without the closing"},
      {Crlf("--b\nContent-Disposition: form-data; name=\"file\"\nno blank line\n--b--"),
       "do not end with an empty line"},
      {Crlf("--b\nContent-Type: text/plain\n\nx\n--b--"), "no Content-Disposition"},
      {Crlf("--b\nContent-Disposition: attachment; name=\"f\"\n\nx\n--b--"), "not form-data"},
      {Crlf("--b\nContent-Disposition: form-data; filename=\"f\"\n\nx\n--b--"), "has no name"},
      {Crlf("--b\nContent-Disposition: form-data; name=\"f\n\nx\n--b--"), "unterminated"},
      {Crlf("--b\nno colon here\n\nx\n--b--"), "has no name"},
      {Crlf("--bjunk\n"), "not followed by a line break"},
  };
  for (const Case& c : cases) {
    auto parts = ParseMultipart(c.body, "b");
    ASSERT_FALSE(parts.ok()) << c.body;
    EXPECT_EQ(parts.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parts.status().message(), HasSubstr(c.error)) << c.body;
  }
}

TEST(MultipartTest, TooManyParts) {
  std::string body;
  for (int i = 0; i < 3; ++i) body += "--b\r\nContent-Disposition: form-data; name=f\r\n\r\nx\r\n";
  body += "--b--";
  EXPECT_TRUE(ParseMultipart(body, "b", 3).ok());
  EXPECT_THAT(ParseMultipart(body, "b", 2).status().message(), HasSubstr("more than 2 parts"));
}

}  // namespace
}  // namespace hera::api
