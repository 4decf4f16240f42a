// Replays fuzz inputs through a libFuzzer target without libFuzzer, so that the ordinary
// (gcc, asan) builds check under ctest that every seed and every former crash input in
// tests/regress/<target>/ still passes. Arguments: files or directories (searched recursively);
// a directory that does not exist is skipped with a note.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::size_t replay_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy in its own allocation lets ASan catch reads one past the input.
  std::vector<std::uint8_t> exact(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg)) {
        if (entry.is_regular_file()) count += replay_file(entry.path());
      }
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      count += replay_file(arg);
    } else {
      std::printf("note: %s does not exist, nothing replayed from it\n", argv[i]);
    }
  }
  std::printf("replayed %zu inputs\n", count);
  return count == 0 ? 1 : 0;  // a target with no seeds at all is a mistake
}
