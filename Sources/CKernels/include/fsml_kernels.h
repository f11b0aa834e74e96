#pragma once
#include <stdint.h>

/// Adds (gradient, hessian) pairs into the histograms of four features, over the rows listed in
/// `indices` (row j of the leaf is indices[j]; its pair is pairs[2j], pairs[2j+1]). Bin codes are
/// prefetched ahead of use, which plain Swift cannot express. Sums run in row order, so results
/// do not depend on threads.
void fsml_histogram4_indexed(const uint8_t *c0, const uint8_t *c1, const uint8_t *c2, const uint8_t *c3,
                             double *h0, double *h1, double *h2, double *h3, const int32_t *indices,
                             int64_t count, const double *pairs);
