#include <err.h> /* example MODEL.so: runs MODEL.so on all-ones inputs */
#include <lopper/runtime.h>
#include <stdio.h>
#include <stdlib.h>
#define CHECK(x) ((x) ? errx(1, "%s", lopper_last_error()) : (void)0)
int main(int argc, char **argv) {
  lopper_model *model;
  size_t ni, no, bytes;
  float *y;
  if (argc != 2)
    errx(2, "usage: %s MODEL.so", argv[0]);
  CHECK(lopper_model_load(argv[1], NULL, &model));
  CHECK(lopper_model_num_inputs(model, &ni));
  CHECK(lopper_model_num_outputs(model, &no));
  lopper_tensor **in = calloc(ni, sizeof *in), **out = calloc(no, sizeof *out);
  for (size_t i = 0; i < ni; ++i) {
    lopper_tensor_desc d = LOPPER_TENSOR_DESC_INIT;
    CHECK(lopper_model_input(model, i, NULL, &d));
    for (int k = 0; k < d.rank; ++k) /* dynamic dims (-1) become 1 */
      d.dims[k] = d.dims[k] < 0 ? 1 : d.dims[k];
    CHECK(lopper_tensor_create(&d, &in[i])); /* zero-filled */
    CHECK(lopper_tensor_data(in[i], (void **)&y, &bytes));
    for (size_t k = 0; d.dtype == LOPPER_DTYPE_F32 && k < bytes / 4; ++k)
      y[k] = 1.0f;
  }
  CHECK(lopper_run(model, NULL, in, ni, out, no));
  CHECK(lopper_tensor_data(out[0], (void **)&y, &bytes));
  for (size_t k = 0; k < bytes / 4 && k < 8; ++k) /* assumes f32 */
    printf("%g%c", y[k], k + 1 < bytes / 4 && k < 7 ? ' ' : '\n');
}
