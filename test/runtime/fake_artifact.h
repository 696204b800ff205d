/* Shared by the hand-written fake artifact (fake_artifact.c) and the tests:
 * the model y = relu(a + b + w), flat = reshape(y, [4 * batch]) with inputs
 * a, b: f32 [batch, 4] and the weights w: f32 [4] (padded to 64 bytes). */
#ifndef LOPPER_TEST_RUNTIME_FAKE_ARTIFACT_H
#define LOPPER_TEST_RUNTIME_FAKE_ARTIFACT_H

#define FAKE_WEIGHT_COUNT 16
#define FAKE_WEIGHTS_INIT                                                      \
  { 0.5f, -1.0f, 2.0f, 0.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }
#define FAKE_SIDECAR_NAME "fake_add_sidecar.weights"
#define FAKE_MAX_BATCH 1024

#endif /* LOPPER_TEST_RUNTIME_FAKE_ARTIFACT_H */
