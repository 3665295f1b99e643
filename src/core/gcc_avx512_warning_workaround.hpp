#pragma once
// Included before every source file (by the build, with -include) under GCC 12.0-12.2 only.
//
// GCC bug 105593: the AVX-512 intrinsics of GCC 12.1/12.2 implement _mm512_undefined_*() as
// `__m512 __Y = __Y;`, and every Eigen kernel that inlines one warns "'__Y' may be used
// uninitialized" (-Wmaybe-uninitialized), nearly two thousand times in a build. It is a false
// positive in GCC's own header, fixed in 12.3. The warning state of a line is the one in force
// where the line is first read, so reading immintrin.h here, first, with the warning off, silences
// exactly these headers; the warning stays on for everything else, dnmf's code included.

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
