#include "model/stable_diffusion.h"

#include <algorithm>

#include "core/host_allocator.h"
#include "core/thread_pool.h"
#include "io/checkpoint.h"
#include "model/unet.h"
#include "model/vae.h"

namespace sd {

DType parse_weight_dtype(const std::string& name) {
  if (name == "f32" || name == "fp32" || name == "float32") return DType::F32;
  if (name == "f16" || name == "fp16" || name == "float16" || name == "half") return DType::F16;
  if (name == "bf16" || name == "bfloat16") return DType::BF16;
  fail("unknown weight precision \"", name, "\" (use f32, f16 or bf16)");
}

StableDiffusion::StableDiffusion(const std::string& checkpoint_path, const EngineOptions& options,
                                 const ModelConfig* config, const std::function<void(const LoadProgress&)>& progress)
    : options_(options) {
  if (options_.threads > 0 && options_.threads != compute_pool().size()) set_compute_threads(options_.threads);
  ResidencyOptions residency;
  residency.mode = parse_memory_mode(options_.memory_mode);  // before the slow part: fail fast
  residency.budget_bytes = options_.weight_budget_bytes;
  residency.storage = options_.weight_dtype;
  std::unique_ptr<Checkpoint> ckpt = open_checkpoint(checkpoint_path);
  config_ = config ? *config : detect_model_config(*ckpt);
  if (options_.backend == "cpu") {
    BackendOptions cpu;
    cpu.bf16_compute = options_.weight_dtype == DType::BF16;  // bf16 mode: attention in bf16 as well
    cpu.winograd = options_.winograd;
    backend_ = make_cpu_backend(cpu);
  } else if (options_.backend == "cuda") {
    BackendOptions device;
    device.half_activations = options_.half_activations;
    device.device_budget_bytes = options_.device_budget_bytes;
    // Attention scores are the biggest activations at 512x512; the low-memory modes chunk them finer.
    device.attention_workspace_bytes = residency.mode == MemoryMode::LowVram   ? (64u << 20)
                                       : residency.mode == MemoryMode::MedVram ? (256u << 20)
                                                                               : (512u << 20);
    if (device.device_budget_bytes)
      device.attention_workspace_bytes = std::min(device.attention_workspace_bytes, std::max<size_t>(8u << 20, device.device_budget_bytes / 8));
    backend_ = make_cuda_backend(0, device);
  } else {
    fail("unknown backend \"", options_.backend, "\" (use cpu or cuda)");
  }
  WeightStore store = WeightStore::load(*ckpt, options_.weight_dtype, {kUNetPrefix, kVAEPrefix, kCLIPPrefix}, progress);
  ckpt.reset();
  if (residency.mode != MemoryMode::Normal) {
    backend_->adopt_host_weights(store, options_.weight_dtype);
    host_trim();  // the pageable originals went to the allocator's cache: give them back
  }
  residency_ = make_residency(*backend_, std::move(store), residency);
  host_trim();
  clip_ = std::make_unique<CLIPTextModel>(config_.clip, *backend_, *residency_);
  unet_ = std::make_unique<UNetModel>(config_.unet, *backend_, *residency_);
  vae_ = std::make_unique<VAEModel>(config_.vae, *backend_, *residency_);
}

StableDiffusion::~StableDiffusion() = default;

}  // namespace sd
