#include "recovery/congestion_controller.h"

#include "recovery/cubic.h"
#include "recovery/new_reno.h"

namespace roam::recovery {

std::string_view to_string(CongestionAlgorithm algorithm) {
  switch (algorithm) {
    case CongestionAlgorithm::kNewReno: return "newreno";
    case CongestionAlgorithm::kCubic: return "cubic";
  }
  return "unknown";
}

std::unique_ptr<CongestionController> make_congestion_controller(CongestionAlgorithm algorithm,
                                                                 const CongestionConfig& config) {
  switch (algorithm) {
    case CongestionAlgorithm::kNewReno: return std::make_unique<NewReno>(config);
    case CongestionAlgorithm::kCubic: return std::make_unique<Cubic>(config);
  }
  return std::make_unique<NewReno>(config);
}

}  // namespace roam::recovery
