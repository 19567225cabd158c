// kt_open_regular(): only a regular file comes back as an fd; anything else
// is refused without blocking, with a message naming the path and what it
// is, and leaves no fd behind.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern "C" {
#include "common/error.h"
#include "common/file.h"
}

namespace {

class OpenRegular : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/kt-file-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir = tmpl;
	}
	void TearDown() override
	{
		std::string cmd = "rm -rf " + dir;
		ASSERT_EQ(system(cmd.c_str()), 0);
	}
	// Fds open now, to check that a refusal leaks none.
	static int OpenFds()
	{
		int n = 0;
		for (int fd = 0; fd < 1024; fd++)
			n += fcntl(fd, F_GETFD) >= 0;
		return n;
	}
	void ExpectRefused(const std::string &path, int err, const std::string &what)
	{
		int before = OpenFds();
		kt_clear_error();
		EXPECT_EQ(kt_open_regular(path.c_str(), O_RDONLY | O_CLOEXEC), err);
		EXPECT_EQ(std::string(kt_last_error()), path + ": is " + what + ", not a regular file");
		EXPECT_EQ(OpenFds(), before);
	}
	std::string dir;
};

TEST_F(OpenRegular, ARegularFileOpensBlockingAtOffsetZero)
{
	std::string path = dir + "/f";
	int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0644);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "abc", 3), 3);
	close(fd);
	fd = kt_open_regular(path.c_str(), O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	char buf[4];
	EXPECT_EQ(read(fd, buf, sizeof(buf)), 3);
	close(fd);
}

TEST_F(OpenRegular, AFifoWithoutWriterIsRefusedAtOnce)
{
	std::string path = dir + "/pipe";
	ASSERT_EQ(mkfifo(path.c_str(), 0644), 0);
	ExpectRefused(path, -EINVAL, "a FIFO");
}

TEST_F(OpenRegular, ASocketIsNamed)
{
	std::string path = dir + "/sock";
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	sockaddr_un addr = {};
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
	ASSERT_EQ(bind(s, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)), 0);
	ExpectRefused(path, -EINVAL, "a socket");
	close(s);
}

TEST_F(OpenRegular, DevicesAndDirectories)
{
	ExpectRefused("/dev/null", -EINVAL, "a character device");
	ExpectRefused(dir, -EISDIR, "a directory");
}

TEST_F(OpenRegular, AMissingFileSaysSo)
{
	kt_clear_error();
	std::string path = dir + "/none";
	EXPECT_EQ(kt_open_regular(path.c_str(), O_RDONLY), -ENOENT);
	EXPECT_EQ(std::string(kt_last_error()), path + ": No such file or directory");
}

TEST(WriteAll, WritesEverything)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	EXPECT_EQ(kt_write_all(p[1], "hello", 5), 0);
	char buf[8] = {};
	EXPECT_EQ(read(p[0], buf, sizeof(buf)), 5);
	EXPECT_STREQ(buf, "hello");
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(kt_write_all(-1, "x", 1), -EBADF);
}

}  // namespace
