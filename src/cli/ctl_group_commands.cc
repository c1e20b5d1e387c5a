// `hera ctl group create|list|show|delete`.

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"

namespace hera::cli {
namespace {

constexpr size_t kDescriptionWidth = 50;

struct GroupFlags {
  std::string name;
  int64_t parent_id = 0;
  CLI::Option* parent_opt = nullptr;
  std::string description;
  CLI::Option* description_opt = nullptr;
  int64_t id = 0;
};

absl::Status CreateGroup(CtlContext& ctx, const GroupFlags& flags) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  Json body = {{"name", flags.name}};
  if (Given(flags.parent_opt)) body["parent_id"] = flags.parent_id;
  if (Given(flags.description_opt)) body["description"] = flags.description;
  HERA_ASSIGN_OR_RETURN(Json group, api->Post("/groups", body));
  if (ctx.json) {
    PrintJson(group);
  } else {
    Print(absl::StrCat(FieldText(group, "id"), "\n"));
  }
  return absl::OkStatus();
}

// Rows in tree order: each group followed by its children (by name), names indented by depth.
// Groups whose parent is not in the list are roots; a cycle cannot hide a group.
void AddTreeRows(const Json& items, TablePrinter* table) {
  std::map<std::string, std::vector<const Json*>> children;  // parent id text → groups
  std::set<std::string> ids;
  for (const Json& g : items) ids.insert(FieldText(g, "id"));
  std::vector<const Json*> roots;
  for (const Json& g : items) {
    const std::string parent = FieldText(g, "parent_id");
    if (parent == "-" || !ids.contains(parent)) {
      roots.push_back(&g);
    } else {
      children[parent].push_back(&g);
    }
  }
  auto by_name = [](const Json* a, const Json* b) {
    return std::make_pair(FieldText(*a, "name"), FieldText(*a, "id")) <
           std::make_pair(FieldText(*b, "name"), FieldText(*b, "id"));
  };
  std::set<std::string> shown;
  std::function<void(const Json*, int)> visit = [&](const Json* g, int depth) {
    const std::string id = FieldText(*g, "id");
    if (!shown.insert(id).second) return;
    table->AddRow({id, FieldText(*g, "parent_id"),
                   std::string(static_cast<size_t>(depth) * 2, ' ') + FieldText(*g, "name"),
                   FieldText(*g, "owner"),
                   CellText(FieldText(*g, "description"), kDescriptionWidth)});
    auto it = children.find(id);
    if (it == children.end()) return;
    std::sort(it->second.begin(), it->second.end(), by_name);
    for (const Json* child : it->second) visit(child, depth + 1);
  };
  std::sort(roots.begin(), roots.end(), by_name);
  for (const Json* g : roots) visit(g, 0);
  for (const Json& g : items) visit(&g, 0);  // groups in a parent cycle
}

absl::Status ListGroups(CtlContext& ctx) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get("/groups?limit=10000"));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  const Json items = resp.is_object() && resp.contains("items") ? resp["items"] : Json::array();
  TablePrinter table({"ID", "PARENT", "NAME", "OWNER", "DESCRIPTION"});
  table.SetAlign(0, TablePrinter::Align::kRight);
  table.SetAlign(1, TablePrinter::Align::kRight);
  AddTreeRows(items, &table);
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

absl::Status ShowGroup(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json g, api->Get(absl::StrCat("/groups/", id)));
  if (ctx.json) {
    PrintJson(g);
    return absl::OkStatus();
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", FieldText(g, "id")},
      {"name", FieldText(g, "name")},
      {"parent", FieldText(g, "parent_id")},
      {"description", FieldText(g, "description")},
      {"owner", FieldText(g, "owner")},
      {"version", FieldText(g, "version")},
      {"created", LocalTimeText(g, "created_at")},
      {"updated", LocalTimeText(g, "updated_at")},
  };
  if (g.contains("configs") && g["configs"].is_object()) {
    for (const auto& [key, value] : g["configs"].items()) {
      fields.emplace_back(absl::StrCat("config ", key),
                          value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  Print(RenderFields(fields));
  return absl::OkStatus();
}

absl::Status DeleteGroup(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_RETURN_IF_ERROR(api->Delete(absl::StrCat("/groups/", id)).status());
  if (ctx.json) {
    PrintJson(Json{{"deleted", id}});
  } else {
    Print(absl::StrCat("group ", id, " deleted\n"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddGroupCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx) {
  CLI::App* group = ctl->add_subcommand("group", "Job groups (folders)");
  group->require_subcommand(1);
  auto flags = std::make_shared<GroupFlags>();

  CLI::App* create = group->add_subcommand("create", "Create a group; prints its id");
  create->add_option("NAME", flags->name, "Group name")->required();
  flags->parent_opt = create->add_option("--parent", flags->parent_id, "Parent group id")
                          ->check(CLI::PositiveNumber);
  flags->description_opt = create->add_option("--description", flags->description, "Description");
  create->callback([ctx, flags] { RunCommand([&] { return CreateGroup(*ctx, *flags); }); });

  CLI::App* list = group->add_subcommand("list", "List groups as a tree");
  list->callback([ctx] { RunCommand([&] { return ListGroups(*ctx); }); });

  CLI::App* show = group->add_subcommand("show", "Show one group");
  show->add_option("ID", flags->id, "Group id")->required()->check(CLI::PositiveNumber);
  show->callback([ctx, flags] { RunCommand([&] { return ShowGroup(*ctx, flags->id); }); });

  CLI::App* del = group->add_subcommand("delete", "Delete a group");
  del->add_option("ID", flags->id, "Group id")->required()->check(CLI::PositiveNumber);
  del->callback([ctx, flags] { RunCommand([&] { return DeleteGroup(*ctx, flags->id); }); });
}

}  // namespace hera::cli
