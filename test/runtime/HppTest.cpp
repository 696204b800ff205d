// runtime.hpp: the Status mode here (the tests build with -fno-exceptions)
// and the throwing mode through HppExceptions.cpp.
#include "TestUtil.h"
#include "lopper/runtime.hpp"

#include <cstring>
#include <type_traits>

#if LOPPER_HPP_EXCEPTIONS
#error "the runtime tests build without exceptions"
#endif

std::string lopperHppExceptionChecks(const std::string &artifactPath);

using namespace lopper_test;

static_assert(!std::is_copy_constructible<lopper::Model>::value, "move-only");
static_assert(!std::is_copy_constructible<lopper::Tensor>::value, "move-only");
static_assert(!std::is_copy_constructible<lopper::Session>::value, "move-only");
static_assert(std::is_nothrow_move_constructible<lopper::Model>::value, "");
static_assert(std::is_nothrow_move_assignable<lopper::Tensor>::value, "");
static_assert(std::is_same<lopper::Model, lopper::nothrow::Model>::value,
              "the no-exception mode lives in lopper::nothrow");

TEST(RuntimeHpp, StatusMode) {
  lopper::Model model;
  lopper::Status st = model.load("/nonexistent/model.so");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), LOPPER_ERR_IO);
  EXPECT_NE(st.message().find("cannot open"), std::string::npos);
  EXPECT_STREQ(st.code_string(), "I/O error");
  EXPECT_FALSE(model.loaded());
  EXPECT_EQ(model.num_inputs(), 0u);

  st = model.load(artifact("fake_add"), lopper::Options{2});
  ASSERT_TRUE(st.ok()) << st.message();
  std::vector<lopper::TensorInfo> ins = model.inputs(), outs = model.outputs();
  ASSERT_EQ(ins.size(), 2u);
  EXPECT_EQ(ins[0].name, "a");
  EXPECT_EQ(ins[0].desc.dims[0], -1);
  EXPECT_EQ(ins[0].dim_names[0], "batch");
  EXPECT_EQ(ins[0].dim_names[1], "");
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[1].dim_names[0], "4*batch");
  EXPECT_EQ(model.tap_names(),
            (std::vector<std::string>{"sum", "y_tail", "w"}));

  std::vector<lopper_tensor_desc> descs = {
      lopper::make_desc(LOPPER_DTYPE_F32, {3, 4}),
      lopper::make_desc(LOPPER_DTYPE_F32, {3, 4})};
  std::vector<lopper_tensor_desc> outDescs;
  ASSERT_TRUE(model.output_descs(descs, outDescs).ok());
  ASSERT_EQ(outDescs.size(), 2u);
  EXPECT_EQ(outDescs[1].dims[0], 12);
  size_t ws = 0;
  ASSERT_TRUE(model.workspace_size(descs, ws).ok());
  EXPECT_EQ(ws, 128u);

  lopper::Session session;
  ASSERT_TRUE(session.create(model).ok());
  ASSERT_TRUE(session.enable_profiling().ok());
  ASSERT_TRUE(session.tap("sum").ok());
  EXPECT_FALSE(session.tap("nope").ok());

  std::vector<float> a(12), b(12);
  for (int i = 0; i < 12; ++i) {
    a[i] = static_cast<float>(i) - 6;
    b[i] = 0.5f;
  }
  std::vector<lopper::Tensor> in(2);
  ASSERT_TRUE(in[0].borrow(descs[0], a.data(), a.size() * 4).ok());
  ASSERT_TRUE(in[1].allocate(descs[1]).ok());
  std::memcpy(in[1].data(), b.data(), 48);
  EXPECT_EQ(in[1].bytes(), 48u);
  EXPECT_EQ(in[1].num_elements(), 12u);
  std::vector<lopper::Tensor> out;
  st = model.run(in, out, &session);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(out.size(), 2u);
  std::vector<float> ref = fakeReference(a, b);
  ASSERT_EQ(out[0].num_elements(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(out[0].data_as<float>()[i], ref[i]);
    EXPECT_EQ(out[1].data_as<float>()[i], ref[i]);
  }
  // Run again into the same (now allocated) outputs.
  lopper_tensor *keep = out[0].get();
  ASSERT_TRUE(model.run(in, out, &session).ok());
  EXPECT_EQ(out[0].get(), keep);

  lopper::TensorView sum;
  ASSERT_TRUE(session.get_tap("sum", sum).ok());
  EXPECT_EQ(sum.desc().dims[0], 3);
  EXPECT_EQ(sum.data_as<float>()[0], a[0] + b[0] + 0.5f);
  std::vector<lopper::ProfileEntry> prof = session.profile();
  ASSERT_EQ(prof.size(), 3u);
  EXPECT_EQ(prof[0].kind, "add");
  EXPECT_EQ(prof[0].node, "add node");
  EXPECT_EQ(prof[2].calls, 2u);
  ASSERT_TRUE(session.reset_profile().ok());
  EXPECT_EQ(session.profile()[2].calls, 0u);

  // Errors come back as Status.
  std::vector<lopper::Tensor> wrong(2);
  ASSERT_TRUE(
      wrong[0].allocate(lopper::make_desc(LOPPER_DTYPE_F32, {2, 4})).ok());
  ASSERT_TRUE(
      wrong[1].allocate(lopper::make_desc(LOPPER_DTYPE_F32, {3, 4})).ok());
  st = model.run(wrong, out);
  EXPECT_EQ(st.code(), LOPPER_ERR_SHAPE);
  EXPECT_NE(st.message().find("'batch' is 2 (from input 'a')"),
            std::string::npos)
      << st.message();
  lopper::Tensor t;
  st = t.allocate(
      lopper::make_desc(LOPPER_DTYPE_F32, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(st.code(), LOPPER_ERR_INVALID_ARGUMENT);
  EXPECT_FALSE(t.valid());
  EXPECT_EQ(t.data(), nullptr);
  EXPECT_EQ(t.bytes(), 0u);

  // Moves.
  lopper::Model moved = std::move(model);
  EXPECT_TRUE(moved.loaded());
  EXPECT_FALSE(model.loaded());
  lopper::Tensor t2 = std::move(in[1]);
  EXPECT_TRUE(t2.valid());
  EXPECT_FALSE(in[1].valid());
  lopper_tensor *raw = t2.release();
  lopper_tensor_destroy(raw);
}

TEST(RuntimeHpp, LinkedAndThreads) {
  lopper::Model m;
  lopper::Options o;
  o.num_threads = 1;
  lopper_options c = o.c();
  EXPECT_EQ(c.size, sizeof(lopper_options));
  EXPECT_EQ(c.num_threads, 1);
  lopper::Status st = m.load_linked(nullptr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("get_info is NULL"), std::string::npos);
}

TEST(RuntimeHpp, ExceptionMode) {
  EXPECT_EQ(lopperHppExceptionChecks(artifact("fake_add")), "");
}
