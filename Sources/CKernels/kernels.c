#include "fsml_kernels.h"

#define PREFETCH_DISTANCE 32

void fsml_histogram4_indexed(const uint8_t *c0, const uint8_t *c1, const uint8_t *c2, const uint8_t *c3,
                             double *h0, double *h1, double *h2, double *h3, const int32_t *indices,
                             int64_t count, const double *pairs) {
    int64_t j = 0;
    for (; j + PREFETCH_DISTANCE < count; j++) {
        const int32_t ahead = indices[j + PREFETCH_DISTANCE];
        __builtin_prefetch(c0 + ahead);
        __builtin_prefetch(c1 + ahead);
        __builtin_prefetch(c2 + ahead);
        __builtin_prefetch(c3 + ahead);
        const int32_t row = indices[j];
        const double g = pairs[2 * j], h = pairs[2 * j + 1];
        const uint32_t b0 = c0[row], b1 = c1[row], b2 = c2[row], b3 = c3[row];
        h0[2 * b0] += g; h0[2 * b0 + 1] += h;
        h1[2 * b1] += g; h1[2 * b1 + 1] += h;
        h2[2 * b2] += g; h2[2 * b2 + 1] += h;
        h3[2 * b3] += g; h3[2 * b3 + 1] += h;
    }
    for (; j < count; j++) {
        const int32_t row = indices[j];
        const double g = pairs[2 * j], h = pairs[2 * j + 1];
        const uint32_t b0 = c0[row], b1 = c1[row], b2 = c2[row], b3 = c3[row];
        h0[2 * b0] += g; h0[2 * b0 + 1] += h;
        h1[2 * b1] += g; h1[2 * b1 + 1] += h;
        h2[2 * b2] += g; h2[2 * b2 + 1] += h;
        h3[2 * b3] += g; h3[2 * b3 + 1] += h;
    }
}
