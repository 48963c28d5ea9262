// AMX-BF16 tile kernel: a 32 x 32 fp32 block in four 16x16 accumulator tiles,
// 32 k per step (two A tiles, two B tiles, four TDPBF16PS: 32K multiply-adds
// per step). B is the same k-pair panel layout the AVX512-BF16 kernel reads.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sd {

namespace {

struct TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

void configure_tiles() {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;  // C: 16 fp32; A: 32 bf16; B: 16 columns x 2 bf16
  }
  _tile_loadconfig(&cfg);
}

}  // namespace

// Asks Linux for the AMX register state (a process must opt in before using it).
bool amx_request_permission() {
#ifdef __linux__
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

// c[32 x 32] (+)= a[32 x kc] * b, kc a multiple of 32. a: bf16 rows with stride lda elements;
// bp: the panel slice [kc/2][32][2] (rows of 128 bytes); c: fp32 with stride ldc.
void gemm_amx_32x32(int64_t kc, const uint16_t* a, int64_t lda, const uint16_t* bp, float* c, int64_t ldc,
                    bool accumulate) {
  thread_local bool configured = false;
  if (!configured) {
    configure_tiles();
    configured = true;
  }
  const int64_t cstride = ldc * 4;
  if (accumulate) {
    _tile_loadd(0, c, cstride);
    _tile_loadd(1, c + 16, cstride);
    _tile_loadd(2, c + 16 * ldc, cstride);
    _tile_loadd(3, c + 16 * ldc + 16, cstride);
  } else {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  }
  const int64_t astride = lda * 2;
  for (int64_t k = 0; k < kc; k += 32) {
    _tile_loadd(4, a + k, astride);
    _tile_loadd(5, a + 16 * lda + k, astride);
    _tile_loadd(6, bp + (k / 2) * 64, 128);
    _tile_loadd(7, bp + (k / 2) * 64 + 32, 128);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, c, cstride);
  _tile_stored(1, c + 16, cstride);
  _tile_stored(2, c + 16 * ldc, cstride);
  _tile_stored(3, c + 16 * ldc + 16, cstride);
}

}  // namespace sd
