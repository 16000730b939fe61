// Section 3.3's local response normalisation on the CPU: one pass forward, one pass backward.
//
//   b_i = a_i / (k + alpha * sum_{j in window(i)} a_j^2)^beta,   a = relu(z) when relu is set,
//
// the window of channel i being [i - size/2, i + (size-1)/2] inside its group (tower). The forward
// writes only b; the backward recomputes the denominator from z (cheaper than storing and reading
// it back) and gives dz = (g_i p_i - 2 alpha beta a_i sum_{c: i in window(c)} g_c a_c p_c / d_c)
// * [z_i > 0], with d the denominator and p = d^-beta. Channels-last tensors are walked row by row
// (each pixel's channels are contiguous); contiguous (N, C, H, W) tensors plane by plane, in strips
// of pixels. Arithmetic in float (double for double tensors); bfloat16 and float16 are converted on
// load and rounded once on store.
#include <torch/extension.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace {

struct Params {
  int64_t groups;
  int size;
  double alpha, beta, k;
  bool relu;
};

template <typename A>
inline A neg_pow(A d, A beta) {
  if (beta == A(0.75)) {  // rsqrt(d) * sqrt(rsqrt(d)): two square roots instead of exp and log
    A q = A(1) / std::sqrt(d);
    return q * std::sqrt(q);
  }
  if (beta == A(0.5)) return A(1) / std::sqrt(d);
  return std::pow(d, -beta);
}

// d^-beta and d^-beta / d, the latter without a division where beta is 0.75 or 0.5.
template <typename A>
inline void neg_pow_pair(A d, A beta, A& p, A& p_over_d) {
  if (beta == A(0.75) || beta == A(0.5)) {
    const A r = A(1) / std::sqrt(d);
    p = beta == A(0.75) ? r * std::sqrt(r) : r;
    p_over_d = p * r * r;
    return;
  }
  p = std::pow(d, -beta);
  p_over_d = p / d;
}

// Window sums along one line of n values: out[i] = sum_{j < size} pad[i * stride + j * stride],
// pad holding `size - 1` zeros' worth of padding around the line (stride 1: rows, L: strips).
template <typename A>
inline void window(const A* __restrict__ pad, A* __restrict__ out, int64_t n, int size, int64_t inner) {
  for (int64_t i = 0; i < n * inner; ++i) out[i] = pad[i];
  for (int j = 1; j < size; ++j) {
    const A* src = pad + j * inner;
    for (int64_t i = 0; i < n * inner; ++i) out[i] += src[i];
  }
}

// One group of `cg` channels, each channel a strip of `len` values `cs` apart in memory (a plane
// strip of a contiguous tensor), or, when ROW, the `cg` contiguous channels of one channels-last
// pixel (len = 1): the loops then run along the channels, so that they vectorise. Forward: y from z.
#define LRN_LOOPS                                            \
  const int64_t nc = ROW ? 1 : cg, nl = ROW ? cg : len, ncs = ROW ? 0 : cs; \
  (void)nc; (void)nl; (void)ncs;

template <bool ROW, typename T, typename A>
void load_squares(const T* z, int64_t cg, int64_t len, int64_t cs, int64_t before, bool relu, A* a, A* pad) {
  LRN_LOOPS
  A* q = pad + before * len;
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t i = 0; i < nl; ++i) {
      A v = static_cast<A>(z[c * ncs + i]);
      v = relu ? std::max(v, A(0)) : v;
      a[c * nl + i] = v;
      q[c * nl + i] = v * v;
    }
}

template <typename A>
void zero_ends(A* pad, int64_t cg, int64_t len, int64_t front, int64_t back) {
  std::fill(pad, pad + front * len, A(0));
  std::fill(pad + (front + cg) * len, pad + (front + cg + back) * len, A(0));
}

// Y: the output's type (the fused pooling keeps T-rounded values as A, which compare faster).
template <bool ROW, typename T, typename A, typename Y = T>
void group_fwd(const T* z, Y* y, int64_t cg, int64_t len, int64_t cs, const Params& p, std::vector<A>& a,
               std::vector<A>& pad, std::vector<A>& s) {
  LRN_LOOPS
  const int before = p.size / 2, after = (p.size - 1) / 2;
  const A alpha = A(p.alpha), beta = A(p.beta), k = A(p.k);
  zero_ends(pad.data(), cg, len, before, after);
  load_squares<ROW>(z, cg, len, cs, before, p.relu, a.data(), pad.data());
  window(pad.data(), s.data(), cg, p.size, len);
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t i = 0; i < nl; ++i)
      y[c * ncs + i] = static_cast<Y>(static_cast<T>(a[c * nl + i] * neg_pow(k + alpha * s[c * nl + i], beta)));
}

// Backward of group_fwd: dz from z and the output's gradient g (same layout).
// G: the gradient's type (the fused pooling's buffer holds T-rounded values as A).
template <bool ROW, typename T, typename A, typename G = T>
void group_bwd(const T* z, const G* g, T* dz, int64_t cg, int64_t len, int64_t cs, const Params& p,
               std::vector<A>& a, std::vector<A>& pad, std::vector<A>& s, std::vector<A>& pw) {
  LRN_LOOPS
  const int before = p.size / 2, after = (p.size - 1) / 2;
  const A alpha = A(p.alpha), beta = A(p.beta), k = A(p.k), two_ab = A(2.0 * p.alpha * p.beta);
  zero_ends(pad.data(), cg, len, before, after);
  load_squares<ROW>(z, cg, len, cs, before, p.relu, a.data(), pad.data());
  window(pad.data(), s.data(), cg, p.size, len);  // s: the window sums of the squares
  // t_c = g_c a_c p_c / d_c, padded the other way round: channel i collects c in [i - after, i + before]
  zero_ends(pad.data(), cg, len, after, before);
  A* t = pad.data() + after * len;
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t i = 0; i < nl; ++i) {
      const int64_t e = c * nl + i;
      const A d = k + alpha * s[e];
      A q, q_over_d;
      neg_pow_pair(d, beta, q, q_over_d);
      pw[e] = q;
      t[e] = static_cast<A>(g[c * ncs + i]) * a[e] * q_over_d;
    }
  window(pad.data(), s.data(), cg, p.size, len);  // s: the transposed window sums of t
  for (int64_t c = 0; c < nc; ++c)
    for (int64_t i = 0; i < nl; ++i) {
      const int64_t e = c * nl + i, m = c * ncs + i;
      A v = static_cast<A>(g[m]) * pw[e] - two_ab * a[e] * s[e];
      if (p.relu) v = static_cast<A>(z[m]) > A(0) ? v : A(0);
      dz[m] = static_cast<T>(v);
    }
}

constexpr int64_t kStrip = 64;  // pixels per strip of a contiguous (N, C, H, W) plane

bool is_channels_last(const at::Tensor& t) {
  return t.size(1) > 1 && !t.is_contiguous() && t.is_contiguous(at::MemoryFormat::ChannelsLast);
}

// Calls body(offset, cg, len, cs, buffers) for every (pixel or strip, group) of the tensor, in parallel.
template <typename A, typename Body>
void for_each_group(const at::Tensor& z, int64_t groups, int size, bool channels_last, Body body) {
  const int64_t n = z.size(0), c = z.size(1), hw = z.size(2) * z.size(3), cg = c / groups;
  if (channels_last) {
    at::parallel_for(0, n * hw, 256, [&](int64_t r0, int64_t r1) {
      std::vector<A> a(cg), pad(cg + size), s(cg), pw(cg);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t g = 0; g < groups; ++g) body(std::true_type{}, r * c + g * cg, cg, int64_t(1), int64_t(1), a, pad, s, pw);
    });
    return;
  }
  const int64_t strips = (hw + kStrip - 1) / kStrip;
  at::parallel_for(0, n * groups * strips, 1, [&](int64_t t0, int64_t t1) {
    std::vector<A> a(cg * kStrip), pad((cg + size) * kStrip), s(cg * kStrip), pw(cg * kStrip);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t i = t / (groups * strips), g = (t / strips) % groups, strip = t % strips;
      const int64_t start = strip * kStrip, len = std::min(kStrip, hw - start);
      body(std::false_type{}, i * c * hw + g * cg * hw + start, cg, len, hw, a, pad, s, pw);
    }
  });
}

void check(const at::Tensor& z, int64_t groups, const char* what) {
  TORCH_CHECK(z.device().is_cpu(), "lrn_cpu: ", what, " must be a CPU tensor");
  TORCH_CHECK(z.dim() == 4, "lrn_cpu: ", what, " must be (N, C, H, W), got ", z.sizes());
  TORCH_CHECK(groups >= 1 && z.size(1) % groups == 0, "lrn_cpu: channels (", z.size(1),
              ") must split evenly into groups (", groups, ")");
  TORCH_CHECK(z.is_contiguous() || z.is_contiguous(at::MemoryFormat::ChannelsLast),
              "lrn_cpu: ", what, " must be contiguous or channels-last");
}

}  // namespace

at::Tensor lrn_forward(const at::Tensor& z, int64_t size, double alpha, double beta, double k, int64_t groups,
                       bool relu) {
  check(z, groups, "input");
  const bool cl = is_channels_last(z);
  at::Tensor y = at::empty_like(z, cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
  const Params p{groups, int(size), alpha, beta, k, relu};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, z.scalar_type(), "lrn_forward", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* zp = z.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    for_each_group<A>(z, groups, p.size, cl, [&](auto row, int64_t off, int64_t cg, int64_t len, int64_t cs, std::vector<A>& a,
                                                 std::vector<A>& pad, std::vector<A>& s, std::vector<A>&) {
      group_fwd<decltype(row)::value, scalar_t, A>(zp + off, yp + off, cg, len, cs, p, a, pad, s);
    });
  });
  return y;
}

at::Tensor lrn_backward(const at::Tensor& z, const at::Tensor& grad, int64_t size, double alpha, double beta,
                        double k, int64_t groups, bool relu) {
  check(z, groups, "input");
  TORCH_CHECK(grad.sizes() == z.sizes() && grad.strides() == z.strides() && grad.scalar_type() == z.scalar_type(),
              "lrn_cpu: the gradient must have the input's shape, strides and dtype");
  const bool cl = is_channels_last(z);
  at::Tensor dz = at::empty_like(z, cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
  const Params p{groups, int(size), alpha, beta, k, relu};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, z.scalar_type(), "lrn_backward", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* zp = z.data_ptr<scalar_t>();
    const scalar_t* gp = grad.data_ptr<scalar_t>();
    scalar_t* dp = dz.data_ptr<scalar_t>();
    for_each_group<A>(z, groups, p.size, cl, [&](auto row, int64_t off, int64_t cg, int64_t len, int64_t cs, std::vector<A>& a,
                                                 std::vector<A>& pad, std::vector<A>& s, std::vector<A>& pw) {
      group_bwd<decltype(row)::value, scalar_t, A>(zp + off, gp + off, dp + off, cg, len, cs, p, a, pad, s, pw);
    });
  });
  return dz;
}

// ---- LRN then max pooling (Section 3.4), fused: the normalised maps never leave the cache ----
//
// pool(lrn(relu(z))) with a k x k window moved s pixels at a time (no padding, rounding down), one
// image at a time: the image's LRN output goes to a buffer the size of one image (conv1's: 1.2 MB
// in float32), the pooling reads it from there and keeps, per output value, which of the k x k
// inputs was the largest (one byte). The backward adds each output gradient into an image-sized
// buffer at that input, in the order torch's max pooling does (same rounding), and runs the LRN
// backward from it. Ties and NaNs go as in torch's max pooling: the first largest in row order.

namespace {

struct Pool {
  int64_t k, s, ho, wo;
};

// Calls body(row, offset, cg, len, cs) for every (pixel or strip, group) of one image (c, h, w).
template <typename Body>
void image_groups(int64_t c, int64_t hw, int64_t groups, bool channels_last, Body body) {
  const int64_t cg = c / groups;
  if (channels_last) {
    for (int64_t r = 0; r < hw; ++r)
      for (int64_t g = 0; g < groups; ++g) body(std::true_type{}, r * c + g * cg, cg, int64_t(1), int64_t(1));
    return;
  }
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t start = 0; start < hw; start += kStrip)
      body(std::false_type{}, g * cg * hw + start, cg, std::min(kStrip, hw - start), hw);
}

// Element (c, h, w) of an image of c x h x w values: its offset in either layout.
struct Layout {
  int64_t sc, sh, sw;
  Layout(int64_t c, int64_t h, int64_t w, bool cl) : sc(cl ? 1 : h * w), sh(cl ? w * c : w), sw(cl ? c : 1) {}
  int64_t at(int64_t ci, int64_t hi, int64_t wi) const { return ci * sc + hi * sh + wi * sw; }
};

// One window position's inputs for a line of n outputs: the running maximum and its place in the
// window (the first largest, or a NaN, as torch's pooling keeps). Vectorises: one type's width.
template <typename A>
inline void take_line(const A* __restrict__ src, int32_t place, A* __restrict__ best, int32_t* __restrict__ at,
                      int64_t n) {
  for (int64_t e = 0; e < n; ++e) {
    const A v = src[e];
    const bool take = v > best[e] || v != v;
    best[e] = take ? v : best[e];
    at[e] = take ? place : at[e];
  }
}

// Max pooling of one image's LRN output y (T-rounded values as A) into out, with the argmax's place
// in the window. Channels-last: a line is one output pixel's channels. Contiguous: a line is one
// output row, read from the input row split into its s phases (x[j s + p]) so that every window
// column is a contiguous run.
template <typename T, typename A>
void pool_image(const A* y, T* out, uint8_t* where, int64_t c, int64_t h, int64_t w, const Pool& pl, bool cl,
                std::vector<A>& best, std::vector<int32_t>& at, std::vector<A>& phases) {
  const Layout in(c, h, w, cl), o(c, pl.ho, pl.wo, cl);
  const int64_t n = cl ? c : pl.wo, per_phase = (w + pl.s - 1) / pl.s;
  for (int64_t outer = 0; outer < (cl ? pl.ho * pl.wo : c * pl.ho); ++outer) {
    const int64_t ci = cl ? 0 : outer / pl.ho, oh = cl ? outer / pl.wo : outer % pl.ho, ow = cl ? outer % pl.wo : 0;
    std::fill(best.begin(), best.begin() + n, -std::numeric_limits<A>::infinity());
    std::fill(at.begin(), at.begin() + n, 0);
    for (int64_t kh = 0; kh < pl.k; ++kh) {
      if (cl) {
        for (int64_t kw = 0; kw < pl.k; ++kw)
          take_line(y + in.at(0, oh * pl.s + kh, ow * pl.s + kw), int32_t(kh * pl.k + kw), best.data(), at.data(), n);
        continue;
      }
      const A* row = y + in.at(ci, oh * pl.s + kh, 0);
      for (int64_t ph = 0; ph < pl.s; ++ph)
        for (int64_t j = 0; j * pl.s + ph < w; ++j) phases[ph * per_phase + j] = row[j * pl.s + ph];
      for (int64_t kw = 0; kw < pl.k; ++kw)
        take_line(phases.data() + (kw % pl.s) * per_phase + kw / pl.s, int32_t(kh * pl.k + kw), best.data(),
                  at.data(), n);
    }
    T* op = out + o.at(ci, oh, ow);
    uint8_t* wp = where + o.at(ci, oh, ow);
    for (int64_t e = 0; e < n; ++e) {
      op[e] = static_cast<T>(best[e]);
      wp[e] = uint8_t(at[e]);
    }
  }
}

// The pooling's backward into g (zeroed): each output gradient added at its argmax, in the order
// of the outputs within each channel (torch's order, so the same rounding).
template <typename T, typename A>
void unpool_image(const T* gout, const uint8_t* where, A* g, int64_t c, int64_t h, int64_t w, const Pool& pl, bool cl) {
  const Layout in(c, h, w, cl), o(c, pl.ho, pl.wo, cl);
  std::fill(g, g + c * h * w, A(0));
  const int64_t n = cl ? c : pl.wo;
  for (int64_t outer = 0; outer < (cl ? pl.ho * pl.wo : c * pl.ho); ++outer) {
    const int64_t ci = cl ? 0 : outer / pl.ho, oh = cl ? outer / pl.wo : outer % pl.ho, ow = cl ? outer % pl.wo : 0;
    const int64_t first = o.at(ci, oh, ow);
    for (int64_t e = 0; e < n; ++e) {
      const int64_t kh = where[first + e] / pl.k, kw = where[first + e] % pl.k;
      A& dst = g[cl ? in.at(e, oh * pl.s + kh, ow * pl.s + kw) : in.at(ci, oh * pl.s + kh, (ow + e) * pl.s + kw)];
      dst = static_cast<A>(static_cast<T>(dst + static_cast<A>(gout[first + e])));  // rounded to T, as torch's sum
    }
  }
}

Pool pool_of(const at::Tensor& z, int64_t k, int64_t s) {
  TORCH_CHECK(k >= 1 && k * k <= 256 && s >= 1, "lrn_pool_cpu: pooling window ", k, " and stride ", s, " not supported");
  TORCH_CHECK(z.size(2) >= k && z.size(3) >= k, "lrn_pool_cpu: the maps (", z.size(2), "x", z.size(3),
              ") are smaller than the pooling window (", k, ")");
  return Pool{k, s, (z.size(2) - k) / s + 1, (z.size(3) - k) / s + 1};
}

}  // namespace

std::vector<at::Tensor> lrn_pool_forward(const at::Tensor& z, int64_t size, double alpha, double beta, double k,
                                         int64_t groups, bool relu, int64_t pool_k, int64_t pool_s) {
  check(z, groups, "input");
  const bool cl = is_channels_last(z);
  const Pool pl = pool_of(z, pool_k, pool_s);
  const int64_t n = z.size(0), c = z.size(1), h = z.size(2), w = z.size(3), hw = h * w;
  const auto fmt = cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  at::Tensor out = at::empty({n, c, pl.ho, pl.wo}, z.options().memory_format(fmt));
  at::Tensor where = at::empty({n, c, pl.ho, pl.wo}, z.options().dtype(at::kByte).memory_format(fmt));
  const Params p{groups, int(size), alpha, beta, k, relu};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, z.scalar_type(), "lrn_pool_forward", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* zp = z.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    uint8_t* wp = where.data_ptr<uint8_t>();
    at::parallel_for(0, n, 1, [&](int64_t i0, int64_t i1) {
      const int64_t cg = c / groups, line = cl ? 1 : kStrip;
      std::vector<A> a(cg * line), pad((cg + size) * line), s(cg * line);
      std::vector<A> y(c * hw);  // the image's LRN output, rounded to scalar_t
      std::vector<A> best(std::max(c, pl.wo)), phases(w + pl.s);
      std::vector<int32_t> at(best.size());
      for (int64_t i = i0; i < i1; ++i) {
        const scalar_t* zi = zp + i * c * hw;
        image_groups(c, hw, groups, cl, [&](auto row, int64_t off, int64_t cg_, int64_t len, int64_t cs) {
          group_fwd<decltype(row)::value, scalar_t, A, A>(zi + off, y.data() + off, cg_, len, cs, p, a, pad, s);
        });
        pool_image<scalar_t, A>(y.data(), op + i * c * pl.ho * pl.wo, wp + i * c * pl.ho * pl.wo, c, h, w, pl, cl, best, at, phases);
      }
    });
  });
  return {out, where};
}

at::Tensor lrn_pool_backward(const at::Tensor& z, const at::Tensor& grad, const at::Tensor& where, int64_t size,
                             double alpha, double beta, double k, int64_t groups, bool relu, int64_t pool_k,
                             int64_t pool_s) {
  check(z, groups, "input");
  const bool cl = is_channels_last(z);
  const Pool pl = pool_of(z, pool_k, pool_s);
  TORCH_CHECK(grad.sizes() == where.sizes() && grad.strides() == where.strides() && grad.scalar_type() == z.scalar_type()
                  && grad.size(2) == pl.ho && grad.size(3) == pl.wo && where.scalar_type() == at::kByte,
              "lrn_pool_cpu: the gradient must have the output's shape, strides and dtype");
  const int64_t n = z.size(0), c = z.size(1), h = z.size(2), w = z.size(3), hw = h * w;
  at::Tensor dz = at::empty_like(z, cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
  const Params p{groups, int(size), alpha, beta, k, relu};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, z.scalar_type(), "lrn_pool_backward", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* zp = z.data_ptr<scalar_t>();
    const scalar_t* gp = grad.data_ptr<scalar_t>();
    const uint8_t* wp = where.data_ptr<uint8_t>();
    scalar_t* dp = dz.data_ptr<scalar_t>();
    at::parallel_for(0, n, 1, [&](int64_t i0, int64_t i1) {
      const int64_t cg = c / groups, line = cl ? 1 : kStrip;
      std::vector<A> a(cg * line), pad((cg + size) * line), s(cg * line), pw(cg * line);
      std::vector<A> g(c * hw);  // the gradient at the LRN output, rounded to scalar_t
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t zo = i * c * hw, go = i * c * pl.ho * pl.wo;
        unpool_image<scalar_t, A>(gp + go, wp + go, g.data(), c, h, w, pl, cl);
        image_groups(c, hw, groups, cl, [&](auto row, int64_t off, int64_t cg_, int64_t len, int64_t cs) {
          group_bwd<decltype(row)::value, scalar_t, A, A>(zp + zo + off, g.data() + off, dp + zo + off, cg_, len, cs, p,
                                                       a, pad, s, pw);
        });
      }
    });
  });
  return dz;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &lrn_forward, "LRN forward (Section 3.3)");
  m.def("backward", &lrn_backward, "LRN backward (Section 3.3)");
  m.def("pool_forward", &lrn_pool_forward, "LRN then max pooling, forward (Sections 3.3, 3.4)");
  m.def("pool_backward", &lrn_pool_backward, "LRN then max pooling, backward (Sections 3.3, 3.4)");
}
