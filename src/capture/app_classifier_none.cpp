// Built without nDPI (CMake did not find libndpi, or FLOWSCOPE_NDPI=OFF): no labels.
#include "capture/app_classifier.h"

namespace flowscope::capture {

std::unique_ptr<AppClassifier> AppClassifier::create() { return nullptr; }

}  // namespace flowscope::capture
