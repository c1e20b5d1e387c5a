#pragma once
// What a run of a job sees, without running it: GET /api/v1/jobs/{id}/configs/effective,
// GET /api/v1/actions/{id}/preview and GET /api/v1/jobs/{id}/preview (SEMANTICS.md §7).

#include "api/api_service.h"
#include "api/router.h"

namespace hera::api {

void AddRenderRoutes(Router& router, const ApiContext& ctx);

}  // namespace hera::api
