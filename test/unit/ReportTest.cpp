//===- ReportTest.cpp - per-layer compile report --------------------------===//

#include "../../tools/lopper/Report.h"

#include "lopper/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace lopper::tools;

namespace {

// A 2:4-sparse conv with a fused bias, residual and relu; a matmul on a
// dequantized int8 weight; a relu (not a layer).
const char *moduleText = R"mlir(
func.func @main(%x: tensor<1x1x3x3xf32>, %r: tensor<1x2x2x2xf32>, %y: tensor<2x1xf32>) -> (tensor<1x2x2x2xf32>, tensor<2x8xf32>) {
  %w = lop.constant {sparsity = #lop.sparsity<nm[2, 4], output_axis = 0, density = 0.5>} dense<[[[[1.0, 0.0], [0.0, 2.0]]], [[[0.0, 3.0], [4.0, 0.0]]]]> : tensor<2x1x2x2xf32> -> tensor<2x1x2x2xf32>
  %b = lop.constant dense<[1.0, 2.0]> : tensor<2xf32> -> tensor<2xf32>
  %0 = lop.conv %x, %w bias(%b : tensor<2xf32>) residual(%r : tensor<1x2x2x2xf32>) {activation = #lop.activation<relu>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x1x3x3xf32>, tensor<2x1x2x2xf32> -> tensor<1x2x2x2xf32> loc("conv1")
  %q = lop.constant dense<[[1, 0, 0, -3, 0, 5, 7, 0]]> : tensor<1x8xi8> -> tensor<1x8x!quant.uniform<i8:f32, 0.1>>
  %wq = lop.dequantize %q : tensor<1x8x!quant.uniform<i8:f32, 0.1>> -> tensor<1x8xf32>
  %1 = lop.matmul %y, %wq : tensor<2x1xf32>, tensor<1x8xf32> -> tensor<2x8xf32> loc("fc<1>")
  %2 = lop.relu %1 : tensor<2x8xf32> -> tensor<2x8xf32> loc("act")
  return %0, %2 : tensor<1x2x2x2xf32>, tensor<2x8xf32>
}
)mlir";

class ReportTest : public ::testing::Test {
protected:
  ReportTest() {
    lopper::registerAllDialects(registry);
    context = std::make_unique<mlir::MLIRContext>(registry);
    context->loadAllAvailableDialects();
    module = mlir::parseSourceString<mlir::ModuleOp>(moduleText, context.get());
  }
  mlir::DialectRegistry registry;
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

TEST_F(ReportTest, LayersOfTheHeavyOps) {
  ASSERT_TRUE(module);
  std::vector<LayerRecord> layers = computeLayers(*module);
  ASSERT_EQ(layers.size(), 2u);

  const LayerRecord &conv = layers[0];
  EXPECT_EQ(conv.name, "conv1");
  EXPECT_EQ(conv.op, "Conv");
  EXPECT_EQ(conv.parameters, 10); // weight 8 + bias 2
  EXPECT_EQ(conv.parameterBytes, 40);
  EXPECT_EQ(conv.macs, 32); // 8 outputs x 4 taps
  EXPECT_EQ(conv.flops, 64);
  EXPECT_DOUBLE_EQ(conv.sparsity, 0.5);
  EXPECT_EQ(conv.sparsityPattern, "nm[2,4]");
  EXPECT_EQ(conv.precision, "f32");
  EXPECT_TRUE(conv.bias);
  EXPECT_TRUE(conv.residual);
  EXPECT_EQ(conv.activation, "relu");
  EXPECT_EQ(conv.kernel, "dense-f32");

  const LayerRecord &fc = layers[1];
  EXPECT_EQ(fc.name, "fc<1>");
  EXPECT_EQ(fc.op, "MatMul");
  EXPECT_EQ(fc.parameters, 8);
  EXPECT_EQ(fc.parameterBytes, 8); // int8 storage
  EXPECT_EQ(fc.macs, 16);
  EXPECT_EQ(fc.precision, "int8");
  EXPECT_EQ(fc.kernel, "dense-f32"); // the op itself sees an f32 weight
  EXPECT_EQ(fc.sparsityPattern, "dense");
  EXPECT_FALSE(fc.bias);
  EXPECT_EQ(fc.activation, "none");

  ModelTotals totals = computeTotals(*module);
  EXPECT_EQ(totals.parameters, 18);
  EXPECT_EQ(totals.parameterBytes, 48);
  EXPECT_EQ(totals.macs, 48);
  // 2 * 48 MACs, 8 for the dequantize and 16 for the relu.
  EXPECT_EQ(totals.flops, 120);
}

TEST_F(ReportTest, JsonHtmlAndSummary) {
  ASSERT_TRUE(module);
  CompileReportData data;
  data.model = "m.onnx";
  data.output = "m.so";
  data.before = computeTotals(*module);
  data.after = data.before;
  data.after.parameters = 9;
  data.layers = computeLayers(*module);
  data.artifactBytes = 1234;

  llvm::json::Object json = reportToJson(data);
  EXPECT_EQ(json.getObject("after")->getInteger("parameters"), 9);
  EXPECT_EQ(json.getArray("layers")->size(), 2u);
  EXPECT_EQ(json.getInteger("artifact_bytes"), 1234);
  EXPECT_TRUE(json.get("accuracy")->getAsNull());

  std::string html = reportToHtml(data);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("fc&lt;1&gt;"), std::string::npos);
  EXPECT_EQ(html.find("fc<1>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);

  std::string text;
  llvm::raw_string_ostream os(text);
  printSummary(data, os);
  EXPECT_NE(
      text.find("parameters                     18                9    0.500"),
      std::string::npos)
      << text;
}

} // namespace
