#pragma once
// GET /api/v1/jobs/{id}/graph: the job's upstream and/or downstream jobs to some depth, each
// with today's action and why it has not run (DESIGN.md §7, the DAG page of §8).

#include "api/api_service.h"
#include "api/router.h"

namespace hera::api {

// GET /api/v1/jobs/{id}/graph?direction=up|down|both&depth=N
void AddGraphRoutes(Router& router, const ApiContext& ctx);

}  // namespace hera::api
