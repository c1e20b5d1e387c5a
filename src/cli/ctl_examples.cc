#include "cli/ctl_examples.h"

#include <map>
#include <string>

namespace hera::cli {
namespace {

// Command path under `hera ctl` → what to type.
const std::map<std::string, std::string>& Examples() {
  static const auto* examples = new std::map<std::string, std::string>{
      {"login", "hera ctl login -u alice   (asks for the password; or HERA_PASSWORD=…)"},
      {"logout", "hera ctl logout"},
      {"job enable", "hera ctl job enable 12 --chain   (with every disabled upstream)"},
      {"job disable", "hera ctl job disable 12 --chain   (with every enabled downstream)"},
      {"job actions", "hera ctl job actions 12 --from 2026-12-01T00:00:00+08:00"},
      {"job recover", "hera ctl job recover 12 345 --super   (345 and all below it, once)"},
      {"job force", "hera ctl job force 345 --status success --reason 'loaded by hand'"},
      {"job revisions", "hera ctl job revisions 12"},
      {"job diff", "hera ctl job diff 12 3 --against current"},
      {"job restore", "hera ctl job restore 12 3"},
      {"job graph", "hera ctl job graph 12 --down --depth 5"},
      {"job configs", "hera ctl job configs 12   (each config with the group it comes from)"},
      {"job preview", "hera ctl job preview 12 --time 2026-12-01T01:30:00"},
      {"run", "hera ctl run 12 --wait"},
      {"runs", "hera ctl runs --job 12 --status failed --since 2026-12-01T00:00:00Z"},
      {"status", "hera ctl status 678"},
      {"log", "hera ctl log 678 --follow"},
      {"cancel", "hera ctl cancel 678"},
      {"rerun start",
       "hera ctl rerun start 12 --from 2026-11-01T00:00:00Z --to 2026-11-07T23:59:59Z -p 4"},
      {"rerun list", "hera ctl rerun list 12"},
      {"rerun show", "hera ctl rerun show 5"},
      {"rerun stop", "hera ctl rerun stop 5"},
      {"rerun failed", "hera ctl rerun failed 5 -p 2"},
      {"worker list", "hera ctl worker list"},
      {"worker drain", "hera ctl worker drain w3"},
      {"worker undrain", "hera ctl worker undrain w3"},
      {"worker metrics", "hera ctl worker metrics w3 --since 2026-12-08T00:00:00Z"},
      {"resource upload", "hera ctl resource upload udf.jar --name udf.jar"},
      {"resource list", "hera ctl resource list"},
      {"resource show", "hera ctl resource show udf.jar"},
  };
  return *examples;
}

void Walk(CLI::App* app, const std::string& path) {
  for (CLI::App* sub : app->get_subcommands({})) {
    const std::string name = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    if (sub->get_footer().empty()) {
      if (auto it = Examples().find(name); it != Examples().end()) {
        sub->footer("Example: " + it->second);
      }
    }
    Walk(sub, name);
  }
}

}  // namespace

void AddExamples(CLI::App* ctl) { Walk(ctl, ""); }

}  // namespace hera::cli
