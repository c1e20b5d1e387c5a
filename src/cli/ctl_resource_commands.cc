// `hera ctl resource upload|list|show`: files in the master's resource store, fetched into a
// run's work directory by `download[hera://NAME]`.

#include <CLI/CLI.hpp>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/ctl_api.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"

namespace hera::cli {
namespace {

struct UploadFlags {
  std::string file;
  std::string name;  // empty: the file's base name
};

// A boundary that does not occur in `content` (RFC 2046 requires that).
std::string BoundaryFor(std::string_view content) {
  std::random_device random;
  for (;;) {
    const std::string boundary = absl::StrFormat("hera-%08x%08x%08x", random(), random(), random());
    if (content.find(boundary) == std::string_view::npos) return boundary;
  }
}

// A multipart/form-data body with the field `name` (when not empty) and the file.
std::string MultipartBody(const std::string& boundary, const std::string& name,
                          const std::string& filename, std::string_view content) {
  std::string body;
  if (!name.empty()) {
    absl::StrAppend(&body, "--", boundary,
                    "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n", name, "\r\n");
  }
  std::string quoted;
  for (const char c : filename) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  absl::StrAppend(&body, "--", boundary,
                  "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"", quoted,
                  "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
  body.append(content.data(), content.size());
  absl::StrAppend(&body, "\r\n--", boundary, "--\r\n");
  return body;
}

std::string ShortSha(const Json& v) { return FieldText(v, "sha256").substr(0, 12); }

absl::Status Upload(CtlContext& ctx, const UploadFlags& flags) {
  std::ifstream in(flags.file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", flags.file));
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", flags.file));
  const size_t slash = flags.file.rfind('/');
  const std::string filename =
      slash == std::string::npos ? flags.file : flags.file.substr(slash + 1);
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  const std::string boundary = BoundaryFor(content);
  HERA_ASSIGN_OR_RETURN(
      Json v, api->PostRaw("/resources", absl::StrCat("multipart/form-data; boundary=", boundary),
                           MultipartBody(boundary, flags.name, filename, content)));
  if (ctx.json) {
    PrintJson(v);
  } else {
    Print(absl::StrCat("uploaded ", FieldText(v, "uri"), " version ", FieldText(v, "version"), " (",
                       FieldText(v, "size"), " bytes, sha256 ", ShortSha(v), ")\n"));
  }
  return absl::OkStatus();
}

void AddVersionRow(TablePrinter& table, const Json& v, bool with_name) {
  std::vector<Cell> row;
  if (with_name) row.emplace_back(FieldText(v, "name"));
  for (std::string cell : {FieldText(v, "version"), FieldText(v, "size"), FieldText(v, "uploader"),
                           LocalTimeText(v, "uploaded_at"), ShortSha(v)}) {
    row.emplace_back(std::move(cell));
  }
  table.AddRow(std::move(row));
}

absl::Status List(CtlContext& ctx) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get("/resources"));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  TablePrinter table({"NAME", "LATEST", "BYTES", "UPLOADER", "UPLOADED", "SHA256"});
  for (size_t col : {1, 2}) table.SetAlign(col, TablePrinter::Align::kRight);
  for (const Json& v : resp.value("items", Json::array())) AddVersionRow(table, v, true);
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

absl::Status Show(CtlContext& ctx, const std::string& name) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(absl::StrCat("/resources/", HttpClient::Escape(name))));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  Print(
      absl::StrCat(FieldText(resp, "uri"), " (latest: version ", FieldText(resp, "latest"), ")\n"));
  TablePrinter table({"VERSION", "BYTES", "UPLOADER", "UPLOADED", "SHA256"});
  for (size_t col : {0, 1}) table.SetAlign(col, TablePrinter::Align::kRight);
  for (const Json& v : resp.value("versions", Json::array())) AddVersionRow(table, v, false);
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

}  // namespace

void AddResourceCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx) {
  CLI::App* resource = ctl->add_subcommand(
      "resource", "Files for download[hera://NAME] lines (the master's resource store)");
  resource->require_subcommand(1);
  auto upload_flags = std::make_shared<UploadFlags>();
  CLI::App* upload =
      resource->add_subcommand("upload", "Upload FILE as a new version of a resource");
  upload->add_option("FILE", upload_flags->file, "The file to upload")->required();
  upload->add_option("--name", upload_flags->name, "Resource name (default: FILE's base name)");
  upload->callback(
      [ctx, upload_flags] { RunCommand([&] { return Upload(*ctx, *upload_flags); }); });
  CLI::App* list = resource->add_subcommand("list", "Every resource with its latest version");
  list->callback([ctx] { RunCommand([&] { return List(*ctx); }); });
  auto name = std::make_shared<std::string>();
  CLI::App* show = resource->add_subcommand("show", "Every version of one resource");
  show->add_option("NAME", *name, "Resource name")->required();
  show->callback([ctx, name] { RunCommand([&] { return Show(*ctx, *name); }); });
}

}  // namespace hera::cli
