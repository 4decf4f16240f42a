#pragma once
// The two drawings of a report::Report (report/report_model.h): a PDF for print and mail
// (cairo, A4 portrait, charts as vector graphics) and a self-contained HTML page (inline CSS,
// charts as inline SVG; no script, font or image is fetched). Both show the same sections,
// figures, charts and tables, and each table's query. One call per thread.
// Internal to flowscope_report: other modules use its public headers.

#include <string>

#include "core/result.h"

#include "report/report_model.h"

namespace flowscope::report {

// Returns the number of pages written. Fails with ErrorCode::Unsupported in a build without
// cairo, or Io naming the file.
Result<int> write_pdf(const Report& report, const std::string& path);

std::string render_html(const Report& report);
Result<void> write_html(const Report& report, const std::string& path);

}  // namespace flowscope::report
