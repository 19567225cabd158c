// Scratch files for the units: a path under googletest's temp dir, named
// after the running suite (so that two suites' "roundtrip" never meet) and
// this process, and whole-file reads and writes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

inline std::string temp_path(const char *name)
{
	const char *suite = testing::UnitTest::GetInstance()->current_test_info()->test_suite_name();

	return std::string(testing::TempDir()) + "kt_" + suite + "_" + name + "_" +
	       std::to_string(getpid()) + ".zst";
}

inline std::vector<uint8_t> read_file(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), {});
}

inline void write_file(const std::string &path, const std::vector<uint8_t> &data)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f.write(reinterpret_cast<const char *>(data.data()), (std::streamsize)data.size());
}
