// `hera ctl group create|list|tree|show|update|delete|configs`. Groups are named by id or by
// path ("dw/ods").

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_group_ref.h"
#include "cli/ctl_job_flags.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"

namespace hera::cli {
namespace {

constexpr size_t kDescriptionWidth = 50;

struct GroupFlags {
  std::string name;
  CLI::Option* name_opt = nullptr;
  std::string parent;  // a group reference (id or path)
  CLI::Option* parent_opt = nullptr;
  std::string description;
  CLI::Option* description_opt = nullptr;
  std::string ref;  // the group a command is about
  std::vector<std::string> configs;  // KEY=VALUE (configs set) or KEY (configs unset)
};

absl::Status CreateGroup(CtlContext& ctx, const GroupFlags& flags) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  Json body = {{"name", flags.name}};
  if (Given(flags.parent_opt)) {
    HERA_ASSIGN_OR_RETURN(body["parent_id"], ResolveGroup(*api, flags.parent));
  }
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

absl::Status ShowGroup(CtlContext& ctx, const std::string& ref) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json groups, FetchGroups(*api));
  HERA_ASSIGN_OR_RETURN(int64_t id, FindGroup(groups, ref));
  HERA_ASSIGN_OR_RETURN(Json g, api->Get(absl::StrCat("/groups/", id)));
  if (ctx.json) {
    PrintJson(g);
    return absl::OkStatus();
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", FieldText(g, "id")},
      {"name", FieldText(g, "name")},
      {"path", GroupPathOf(groups, id)},
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

absl::Status UpdateGroup(CtlContext& ctx, const GroupFlags& flags) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(int64_t id, ResolveGroup(*api, flags.ref));
  Json body = Json::object();
  if (Given(flags.name_opt)) body["name"] = flags.name;
  if (Given(flags.description_opt)) body["description"] = flags.description;
  if (Given(flags.parent_opt)) {
    HERA_ASSIGN_OR_RETURN(body["parent_id"], ResolveGroup(*api, flags.parent));
  }
  if (body.empty()) {
    return absl::InvalidArgumentError("nothing to change: give --name, --description or --parent");
  }
  HERA_ASSIGN_OR_RETURN(Json g, api->Patch(absl::StrCat("/groups/", id), body));
  if (ctx.json) {
    PrintJson(g);
  } else {
    Print(absl::StrCat("group ", id, " updated (version ", FieldText(g, "version"), ")\n"));
  }
  return absl::OkStatus();
}

// `configs set` (KEY=VALUE…) or `configs unset` (KEY…): the group's configs with those changed;
// the rest are sent back as they are (secrets as their mask, which keeps the stored value).
absl::Status ChangeGroupConfigs(CtlContext& ctx, const GroupFlags& flags, bool set) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(int64_t id, ResolveGroup(*api, flags.ref));
  HERA_ASSIGN_OR_RETURN(Json g, api->Get(absl::StrCat("/groups/", id)));
  Json configs = g.contains("configs") && g["configs"].is_object() ? g["configs"] : Json::object();
  if (set) {
    HERA_ASSIGN_OR_RETURN(Json given, ParseConfigFlags(flags.configs));
    for (auto& [key, value] : given.items()) configs[key] = value;
  } else {
    for (const std::string& key : flags.configs) {
      if (!configs.contains(key)) {
        return absl::NotFoundError(absl::StrCat("group ", id, " has no config '", key, "'"));
      }
      configs.erase(key);
    }
  }
  HERA_ASSIGN_OR_RETURN(Json saved, api->Patch(absl::StrCat("/groups/", id),
                                               Json{{"configs", configs}}));
  if (ctx.json) {
    PrintJson(saved);
  } else {
    Print(absl::StrCat("group ", id, " configs ", set ? "set" : "unset", " (version ",
                       FieldText(saved, "version"), ")\n"));
  }
  return absl::OkStatus();
}

// The groups as a tree with their jobs under them, as the web UI's left tree shows it.
absl::Status GroupTree(CtlContext& ctx) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json groups, FetchGroups(*api));
  HERA_ASSIGN_OR_RETURN(Json jobs_resp, api->Get("/jobs?limit=10000"));
  const Json jobs = jobs_resp.is_object() && jobs_resp.contains("items") ? jobs_resp["items"]
                                                                         : Json::array();
  if (ctx.json) {
    PrintJson(Json{{"groups", groups}, {"jobs", jobs}});
    return absl::OkStatus();
  }
  std::map<int64_t, std::vector<const Json*>> children, jobs_in;
  for (const Json& g : groups) {
    children[g.contains("parent_id") && g["parent_id"].is_number_integer()
                 ? g["parent_id"].get<int64_t>()
                 : 0]
        .push_back(&g);
  }
  for (const Json& j : jobs) {
    if (j.contains("group_id") && j["group_id"].is_number_integer()) {
      jobs_in[j["group_id"].get<int64_t>()].push_back(&j);
    }
  }
  auto by_name = [](const Json* a, const Json* b) {
    return FieldText(*a, "name") < FieldText(*b, "name");
  };
  std::string out;
  std::set<int64_t> shown;
  std::function<void(int64_t, int)> visit = [&](int64_t parent, int depth) {
    auto& subgroups = children[parent];
    std::sort(subgroups.begin(), subgroups.end(), by_name);
    for (const Json* g : subgroups) {
      const int64_t id = (*g)["id"].get<int64_t>();
      if (!shown.insert(id).second) continue;
      absl::StrAppend(&out, std::string(static_cast<size_t>(depth) * 2, ' '),
                      FieldText(*g, "name"), "/  (group ", id, ")\n");
      auto& own = jobs_in[id];
      std::sort(own.begin(), own.end(), by_name);
      for (const Json* j : own) {
        const bool enabled = j->contains("enabled") && (*j)["enabled"].is_boolean() &&
                             (*j)["enabled"].get<bool>();
        absl::StrAppend(&out, std::string(static_cast<size_t>(depth + 1) * 2, ' '),
                        FieldText(*j, "name"), "  (job ", FieldText(*j, "id"), ", ",
                        FieldText(*j, "type"), enabled ? "" : ", disabled", ")\n");
      }
      visit(id, depth + 1);
    }
  };
  visit(0, 0);
  Print(out.empty() ? "no groups yet\n" : out);
  return absl::OkStatus();
}

absl::Status DeleteGroup(CtlContext& ctx, const std::string& ref) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(int64_t id, ResolveGroup(*api, ref));
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
  CLI::App* group = ctl->add_subcommand("group", "Job groups (folders), named by id or path");
  group->require_subcommand(1);
  group->footer("A group is named by its id (12) or its path from the top (dw/ods).");
  auto flags = std::make_shared<GroupFlags>();

  CLI::App* create = group->add_subcommand("create", "Create a group; prints its id");
  create->add_option("NAME", flags->name, "Group name")->required();
  flags->parent_opt = create->add_option("--parent", flags->parent, "Parent group (id or path)");
  flags->description_opt = create->add_option("--description", flags->description, "Description");
  create->footer("Example: hera ctl group create ods --parent dw --description 'raw tables'");
  create->callback([ctx, flags] { RunCommand([&] { return CreateGroup(*ctx, *flags); }); });

  CLI::App* list = group->add_subcommand("list", "List groups as a table, in tree order");
  list->footer("Example: hera ctl group list");
  list->callback([ctx] { RunCommand([&] { return ListGroups(*ctx); }); });

  CLI::App* tree = group->add_subcommand("tree", "Show the groups as a tree, with their jobs");
  tree->footer("Example: hera ctl group tree");
  tree->callback([ctx] { RunCommand([&] { return GroupTree(*ctx); }); });

  CLI::App* show = group->add_subcommand("show", "Show one group, its path and configs");
  show->add_option("GROUP", flags->ref, "Group id or path")->required();
  show->footer("Example: hera ctl group show dw/ods");
  show->callback([ctx, flags] { RunCommand([&] { return ShowGroup(*ctx, flags->ref); }); });

  CLI::App* update = group->add_subcommand("update", "Rename, describe or move a group");
  update->add_option("GROUP", flags->ref, "Group id or path")->required();
  flags->name_opt = update->add_option("--name", flags->name, "New name");
  update->add_option("--description", flags->description, "New description");
  update->add_option("--parent", flags->parent, "New parent group (id or path)");
  update->footer("Example: hera ctl group update dw/ods --name ods_v2 --parent warehouse");
  update->callback([ctx, flags, update] {
    // The create command's options are distinct objects: look this command's up by name.
    flags->description_opt = update->get_option("--description");
    flags->parent_opt = update->get_option("--parent");
    RunCommand([&] { return UpdateGroup(*ctx, *flags); });
  });

  CLI::App* configs = group->add_subcommand("configs", "Set or unset a group's configs");
  configs->require_subcommand(1);
  CLI::App* set = configs->add_subcommand("set", "Set configs (inherited by its jobs)");
  set->add_option("GROUP", flags->ref, "Group id or path")->required();
  set->add_option("KEY=VALUE", flags->configs, "Configs to set")->required();
  set->footer("Example: hera ctl group configs set dw/ods queue=etl 'bizdate=${zdt.format(\"yyyyMMdd\")}'");
  set->callback([ctx, flags] {
    RunCommand([&] { return ChangeGroupConfigs(*ctx, *flags, /*set=*/true); });
  });
  CLI::App* unset = configs->add_subcommand("unset", "Remove configs");
  unset->add_option("GROUP", flags->ref, "Group id or path")->required();
  unset->add_option("KEY", flags->configs, "Config keys to remove")->required();
  unset->footer("Example: hera ctl group configs unset dw/ods queue");
  unset->callback([ctx, flags] {
    RunCommand([&] { return ChangeGroupConfigs(*ctx, *flags, /*set=*/false); });
  });

  CLI::App* del = group->add_subcommand("delete", "Delete an empty group");
  del->add_option("GROUP", flags->ref, "Group id or path")->required();
  del->footer("Example: hera ctl group delete dw/tmp");
  del->callback([ctx, flags] { RunCommand([&] { return DeleteGroup(*ctx, flags->ref); }); });
}

}  // namespace hera::cli
