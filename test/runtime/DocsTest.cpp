// docs/runtime.md shows test/runtime/example/example.c verbatim, and the
// example builds (lopper-runtime-example) and runs on the fake model.
#include "TestUtil.h"

#include <cstdio>

using namespace lopper_test;

TEST(RuntimeDocs, ExampleIsInTheDocsVerbatim) {
  std::string src = std::string(LOPPER_TEST_SOURCE_DIR);
  std::string example = readFile(src + "/test/runtime/example/example.c");
  std::string doc = readFile(src + "/docs/runtime.md");
  ASSERT_FALSE(example.empty());
  EXPECT_NE(doc.find("```c\n" + example + "```\n"), std::string::npos)
      << "docs/runtime.md must contain test/runtime/example/example.c in a "
         "```c block";
  size_t lines = 0;
  for (char c : example)
    lines += c == '\n';
  EXPECT_LE(lines, 30u);
}

TEST(RuntimeDocs, ExampleRuns) {
  std::string cmd =
      std::string(LOPPER_TEST_EXAMPLE) + " " + artifact("fake_add") + " 2>&1";
  FILE *p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  int rc = pclose(p);
  EXPECT_EQ(rc, 0) << out;
  // batch 1, a = b = 1: y = relu(2 + w) with w = {0.5, -1, 2, 0}.
  EXPECT_EQ(out, "2.5 1 4 2\n");

  cmd =
      std::string(LOPPER_TEST_EXAMPLE) + " " + artifact("fake_neon") + " 2>&1";
  p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  out.clear();
  while (size_t n = fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  rc = pclose(p);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("needs CPU features neon"), std::string::npos) << out;
}
