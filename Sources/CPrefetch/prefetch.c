// Everything is inline in the header; SwiftPM wants one source file per C target.
#include "fsml_prefetch.h"
