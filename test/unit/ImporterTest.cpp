//===- ImporterTest.cpp - unit tests of the ONNX importer -----------------===//

#include "lopper/Dialect/Lop/LopOps.h"
#include "lopper/Import/OnnxImporter.h"
#include "lopper/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <fstream>

using namespace lopper;

namespace {

class ImporterTest : public ::testing::Test {
protected:
  ImporterTest() {
    registerAllDialects(registry);
    context = std::make_unique<mlir::MLIRContext>(registry);
  }

  mlir::OwningOpRef<mlir::ModuleOp> importText(llvm::StringRef text,
                                               ImportOptions options = {}) {
    errors.clear();
    return importOnnxBuffer(text, "test.onnx", "", context.get(), options,
                            errors);
  }

  mlir::OwningOpRef<mlir::ModuleOp> importProto(const onnx::ModelProto &m,
                                                llvm::StringRef dir = "") {
    errors.clear();
    std::string bytes = m.SerializeAsString();
    return importOnnxBuffer(bytes, "proto.onnx", dir, context.get(), {},
                            errors);
  }

  /// A model with one Identity-free graph: Y = Add(X, W) with W an
  /// initializer of 32 floats, large enough to go to a blob.
  static onnx::ModelProto addModel() {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(17);
    auto *g = m.mutable_graph();
    auto *in = g->add_input();
    in->set_name("X");
    in->mutable_type()->mutable_tensor_type()->set_elem_type(
        onnx::TensorProto::FLOAT);
    in->mutable_type()
        ->mutable_tensor_type()
        ->mutable_shape()
        ->add_dim()
        ->set_dim_param("N");
    in->mutable_type()
        ->mutable_tensor_type()
        ->mutable_shape()
        ->add_dim()
        ->set_dim_value(32);
    auto *w = g->add_initializer();
    w->set_name("W");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(32);
    std::string raw(32 * sizeof(float), '\0');
    for (int i = 0; i < 32; ++i) {
      float v = i;
      memcpy(raw.data() + i * 4, &v, 4);
    }
    w->set_raw_data(raw);
    auto *n = g->add_node();
    n->set_op_type("Add");
    n->set_name("add0");
    n->add_input("X");
    n->add_input("W");
    n->add_output("Y");
    g->add_output()->set_name("Y");
    return m;
  }

  /// Points the model's initializer at an external data file.
  static void makeExternal(onnx::ModelProto &m, const std::string &location) {
    auto *w = m.mutable_graph()->mutable_initializer(0);
    w->clear_raw_data();
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto *kv = w->add_external_data();
    kv->set_key("location");
    kv->set_value(location);
  }

  mlir::DialectRegistry registry;
  std::unique_ptr<mlir::MLIRContext> context;
  ImportErrors errors;
};

TEST_F(ImporterTest, ParseInputShape) {
  ImportOptions options;
  std::string error;
  EXPECT_TRUE(parseInputShape("x=1x3x224x224", options, error));
  EXPECT_EQ(options.inputShapes["x"],
            (llvm::SmallVector<int64_t>{1, 3, 224, 224}));
  EXPECT_TRUE(parseInputShape("ids=?x128", options, error));
  EXPECT_EQ(options.inputShapes["ids"], (llvm::SmallVector<int64_t>{-1, 128}));
  EXPECT_FALSE(parseInputShape("x", options, error));
  EXPECT_NE(error.find("NAME=1x3x224x224"), std::string::npos);
  EXPECT_FALSE(parseInputShape("x=1xfoo", options, error));
  EXPECT_NE(error.find("'foo'"), std::string::npos);
  EXPECT_FALSE(parseInputShape("=1x2", options, error));
}

TEST_F(ImporterTest, KeepsSymbolicBatchDynamic) {
  auto module = importProto(addModel());
  ASSERT_TRUE(module) << (errors.empty() ? "" : errors[0]);
  auto fn = module->lookupSymbol<mlir::func::FuncOp>("main");
  ASSERT_TRUE(fn);
  auto t = llvm::cast<mlir::RankedTensorType>(fn.getArgumentTypes()[0]);
  EXPECT_TRUE(t.isDynamicDim(0));
  EXPECT_EQ(t.getDimSize(1), 32);
  // The 32-element initializer is a blob, not an inline dense attribute.
  bool sawResource = false;
  fn.walk([&](lopper::lop::ConstantOp c) {
    sawResource |= llvm::isa<mlir::DenseResourceElementsAttr>(c.getValue());
    auto values = lopper::lop::readElementsAsDouble(c.getValue());
    ASSERT_TRUE(values);
    EXPECT_EQ((*values)[31], 31.0);
  });
  EXPECT_TRUE(sawResource);
}

TEST_F(ImporterTest, PinnedShape) {
  ImportOptions options;
  options.pinDynamicDims = 4;
  errors.clear();
  std::string bytes = addModel().SerializeAsString();
  auto module =
      importOnnxBuffer(bytes, "m.onnx", "", context.get(), options, errors);
  ASSERT_TRUE(module);
  auto fn = module->lookupSymbol<mlir::func::FuncOp>("main");
  auto t = llvm::cast<mlir::RankedTensorType>(fn.getResultTypes()[0]);
  EXPECT_EQ(t.getDimSize(0), 4);
}

TEST_F(ImporterTest, RawDataOfWrongSize) {
  auto m = addModel();
  m.mutable_graph()->mutable_initializer(0)->mutable_raw_data()->resize(12);
  EXPECT_FALSE(importProto(m));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("node 'add0' (Add)"), std::string::npos)
      << errors[0];
  EXPECT_NE(errors[0].find("initializer 'W' holds 12 bytes"), std::string::npos)
      << errors[0];
}

TEST_F(ImporterTest, MissingExternalData) {
  auto m = addModel();
  makeExternal(m, "weights.bin");
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("lopper-unit", dir));
  EXPECT_FALSE(importProto(m, dir));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("weights.bin"), std::string::npos) << errors[0];

  // With the file present (128 bytes of floats) the import succeeds.
  llvm::SmallString<128> path(dir);
  llvm::sys::path::append(path, "weights.bin");
  {
    std::ofstream f(path.c_str(), std::ios::binary);
    std::vector<float> v(32, 2.0f);
    f.write(reinterpret_cast<const char *>(v.data()), v.size() * 4);
  }
  EXPECT_TRUE(importProto(m, dir)) << (errors.empty() ? "" : errors[0]);
  llvm::sys::fs::remove(path);
  llvm::sys::fs::remove(dir);
}

TEST_F(ImporterTest, ExternalDataSharesOneFileAtOffsets) {
  // Two initializers in one file, as exporters write them: W at offset 0,
  // V at offset 128, both read from the single mapping of the file.
  auto m = addModel();
  makeExternal(m, "shared.bin");
  auto *len = m.mutable_graph()->mutable_initializer(0)->add_external_data();
  len->set_key("length");
  len->set_value("128");
  auto *v = m.mutable_graph()->add_initializer();
  v->CopyFrom(m.graph().initializer(0));
  v->set_name("V");
  auto *off = v->add_external_data();
  off->set_key("offset");
  off->set_value("128");
  auto *n = m.mutable_graph()->add_node();
  n->set_op_type("Add");
  n->add_input("Y");
  n->add_input("V");
  n->add_output("Z");
  m.mutable_graph()->mutable_output(0)->set_name("Z");
  llvm::SmallString<128> dir, path;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("lopper-unit", dir));
  path = dir;
  llvm::sys::path::append(path, "shared.bin");
  {
    std::ofstream f(path.c_str(), std::ios::binary);
    std::vector<float> data(64);
    for (int i = 0; i < 64; ++i)
      data[i] = i;
    f.write(reinterpret_cast<const char *>(data.data()), data.size() * 4);
  }
  auto module = importProto(m, dir);
  ASSERT_TRUE(module) << (errors.empty() ? "" : errors[0]);
  std::vector<double> firsts;
  module->walk([&](lopper::lop::ConstantOp c) {
    firsts.push_back((*lopper::lop::readElementsAsDouble(c.getValue()))[0]);
  });
  EXPECT_EQ(firsts, (std::vector<double>{0.0, 32.0}));
  llvm::sys::fs::remove(path);
  llvm::sys::fs::remove(dir);
}

TEST_F(ImporterTest, ExternalDataCannotEscapeTheModelFolder) {
  auto m = addModel();
  makeExternal(m, "../../etc/passwd");
  EXPECT_FALSE(importProto(m, "/tmp"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("relative path inside"), std::string::npos);
}

TEST_F(ImporterTest, AllUnsupportedOpsListedAtOnce) {
  auto m = addModel();
  for (const char *op : {"FooOp", "BarOp"}) {
    auto *n = m.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(std::string("n_") + op);
  }
  EXPECT_FALSE(importProto(m));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("2 unsupported ops"), std::string::npos);
  EXPECT_NE(errors[0].find("'n_FooOp' (FooOp)"), std::string::npos);
  EXPECT_NE(errors[0].find("'n_BarOp' (BarOp)"), std::string::npos);
}

TEST_F(ImporterTest, GarbageIsNotAModel) {
  EXPECT_FALSE(importText("this is not a model"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("not a valid ONNX model"), std::string::npos);
  EXPECT_FALSE(importText(""));
}

TEST_F(ImporterTest, ShapeComputationsStayPrecise) {
  // Reshape's target comes from Shape -> Gather -> Concat on a dynamic
  // batch: the known parts of the shape survive into the result type.
  const char *text = R"(
    < ir_version: 8, opset_import: ["" : 17] >
    g (float[N, 4, 6] X) => (float[N, 24] Y) {
      s = Shape (X)
      zero = Constant <value = int64[1] {0}> ()
      n = Gather <axis = 0> (s, zero)
      last = Constant <value = int64[1] {24}> ()
      shape = Concat <axis = 0> (n, last)
      Y = Reshape (X, shape)
    })";
  auto module = importText(text);
  ASSERT_TRUE(module) << (errors.empty() ? "" : errors[0]);
  auto fn = module->lookupSymbol<mlir::func::FuncOp>("main");
  auto t = llvm::cast<mlir::RankedTensorType>(fn.getResultTypes()[0]);
  EXPECT_TRUE(t.isDynamicDim(0));
  EXPECT_EQ(t.getDimSize(1), 24);
}

} // namespace
