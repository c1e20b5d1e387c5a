#pragma once
// `hera worker`: a worker node (worker/agent.h) started from the command line, flags as in
// docs/cluster.md.

namespace CLI {
class App;
}  // namespace CLI

namespace hera {

// Registers the `worker` subcommand on `app`. When it runs, it serves until SIGTERM or SIGINT
// and stores the process exit code in *exit_code (0 after a signal, 1 after an error, which
// goes to stderr). `exit_code` must outlive app's parsing.
void AddWorkerCommand(CLI::App& app, int* exit_code);

}  // namespace hera
