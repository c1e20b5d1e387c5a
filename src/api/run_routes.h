#pragma once
// /api/v1/runs: list, get, log by offset, live log stream (SSE), cancel.

#include "api/api_service.h"
#include "api/router.h"

namespace hera::api {

void AddRunRoutes(Router& router, const ApiContext& ctx);

}  // namespace hera::api
