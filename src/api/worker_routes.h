#pragma once
// Workers (the Machines page, `hera ctl worker`): /api/v1/workers, /api/v1/workers/{id}/metrics,
// /api/v1/workers/{id}/drain and /undrain.

#include "api/api_service.h"
#include "api/router.h"

namespace hera::api {

void AddWorkerRoutes(Router& router, const ApiContext& ctx);

}  // namespace hera::api
