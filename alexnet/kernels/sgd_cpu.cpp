// Section 5's update on the CPU, one pass over each parameter instead of four:
//
//   v <- momentum * v - weight_decay * lr * w - lr * g,   w <- w + v
//
// with the same float operations, in the same order, as PaperSGD's four in-place torch calls
// (v.mul_(m); v.add_(w, alpha=-wd*lr); v.add_(g, alpha=-lr); w.add_(v)): torch's add with alpha
// is a fused multiply-add, so the results are bit for bit the same. Each parameter, its gradient
// and its momentum buffer are dense float32 tensors with the same strides, walked as flat arrays.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace {

void check(const at::Tensor& w, const at::Tensor& g, const at::Tensor& v) {
  for (const at::Tensor* t : {&w, &g, &v}) {
    TORCH_CHECK(t->device().is_cpu() && t->scalar_type() == at::kFloat, "sgd_cpu: float32 CPU tensors only");
    TORCH_CHECK(t->is_non_overlapping_and_dense(), "sgd_cpu: dense tensors only");
  }
  TORCH_CHECK(g.sizes() == w.sizes() && v.sizes() == w.sizes() && g.strides() == w.strides() &&
                  v.strides() == w.strides(),
              "sgd_cpu: the parameter, its gradient and its buffer must have one shape and one layout");
}

}  // namespace

// One update of every (w, g, v) triple, in place.
void paper_sgd_step(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
                    const std::vector<at::Tensor>& bufs, double lr, double momentum, double weight_decay) {
  TORCH_CHECK(params.size() == grads.size() && params.size() == bufs.size(), "sgd_cpu: one gradient and one buffer per parameter");
  const float m = static_cast<float>(momentum);
  const float a_w = static_cast<float>(-weight_decay * lr), a_g = static_cast<float>(-lr);
  const bool decay = weight_decay != 0;
  for (size_t t = 0; t < params.size(); ++t) {
    check(params[t], grads[t], bufs[t]);
    float* __restrict__ w = params[t].data_ptr<float>();
    const float* __restrict__ g = grads[t].data_ptr<float>();
    float* __restrict__ v = bufs[t].data_ptr<float>();
    at::parallel_for(0, params[t].numel(), 1 << 15, [&](int64_t i0, int64_t i1) {
      if (decay) {
        for (int64_t i = i0; i < i1; ++i) {
          const float u = std::fma(g[i], a_g, std::fma(w[i], a_w, v[i] * m));
          v[i] = u;
          w[i] = w[i] + u;
        }
      } else {
        for (int64_t i = i0; i < i1; ++i) {
          const float u = std::fma(g[i], a_g, v[i] * m);
          v[i] = u;
          w[i] = w[i] + u;
        }
      }
    });
  }
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("step", &paper_sgd_step, "Section 5's SGD update, in place, one pass per parameter");
}
