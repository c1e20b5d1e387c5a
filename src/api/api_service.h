#pragma once
// The /api/v1 endpoints (DESIGN.md §7) and /healthz, over the engine's commands, the store's
// reads and the master's logs. Every endpoint but login and healthz needs a valid token.

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "api/auth.h"
#include "api/http_types.h"
#include "core/ports.h"
#include "core/resources.h"
#include "core/store.h"
#include "core/worker_directory.h"

namespace hera::api {

struct ApiContext {
  core::Store* store = nullptr;             // reads
  core::EngineCommands* engine = nullptr;   // every change
  core::LogReader* logs = nullptr;
  Auth* auth = nullptr;
  core::WorkerDirectory* workers = nullptr;  // null: no worker routes
  absl::TimeZone tz = absl::UTCTimeZone();  // the zone times are shown in
  core::Resources* resources = nullptr;     // null: no resource routes
  // `hera server`: workers fetch hera:// resources with it; empty: no /internal routes.
  std::string cluster_token;
  // Why the data directory's disk counts as full, or "" (master/disk_guard.h). While it is,
  // requests that would change state get 507 and /healthz says so. Null: never full.
  std::function<std::string()> disk_full;
};

// The handler serving every HTTP request. `ctx`'s pointers must outlive it.
HttpHandler MakeApiHandler(const ApiContext& ctx);

}  // namespace hera::api
