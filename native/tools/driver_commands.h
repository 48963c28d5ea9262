// sd-driver subcommands about checkpoints (native/tools/driver_checkpoint.cpp).
// Each takes the arguments after the subcommand name and returns the exit code.
#pragma once

namespace sd {

// inspect FILE [--verify] [--dtype f32|f16|bf16] [--list]
int driver_inspect(int argc, char** argv);
// load FILE [--dtype f32|f16|bf16] [--prefix P]... [--report]
int driver_load(int argc, char** argv);
// layout --config sd15|PATH.json: every key, type and shape of that SD 1.x checkpoint (JSON)
int driver_layout(int argc, char** argv);
// make-model --config sd15|PATH.json --out FILE [--dtype f16|f32|bf16] [--seed N]
//            [--format safetensors|ckpt] [--embed-config]
int driver_make_model(int argc, char** argv);

}  // namespace sd
