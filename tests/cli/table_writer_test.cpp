#include "cli/table_writer.h"

#include <sstream>

#include <gtest/gtest.h>

namespace flowscope::cli {
namespace {

TEST(TableWriter, AlignsAndWraps) {
  TableWriter t(
      {{"NAME"}, {"N", TableWriter::Align::Right}, {"TEXT", TableWriter::Align::Left, 10}});
  t.add_row({"a", "1", "short"});
  t.add_row({"longer", "1234", "several words to wrap here"});
  std::ostringstream out;
  t.write(out);
  EXPECT_EQ(out.str(),
            "NAME       N  TEXT\n"
            "a          1  short\n"
            "longer  1234  several\n"
            "              words to\n"
            "              wrap here\n");
}

}  // namespace
}  // namespace flowscope::cli
