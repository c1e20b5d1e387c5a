#pragma once
// Rerun batches (重跑历史): /api/v1/jobs/{id}/reruns and /api/v1/reruns/{id}.

#include "api/api_service.h"
#include "api/router.h"

namespace hera::api {

void AddRerunRoutes(Router& router, const ApiContext& ctx);

}  // namespace hera::api
