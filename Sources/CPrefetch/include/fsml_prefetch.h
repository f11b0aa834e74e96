#ifndef FSML_PREFETCH_H
#define FSML_PREFETCH_H

/// Asks for the cache line holding `address` to be loaded, without waiting for it. Swift has no
/// way to say this; a load would hold its place in the processor's window until the data came.
static inline void fsml_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
