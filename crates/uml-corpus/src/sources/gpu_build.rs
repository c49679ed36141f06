//! The GPU build: a Job pod's `builder` container compiling a TensorRT-LLM
//! engine (docs/contract.md, "The five sources").
//!
//! The file is a sequence of engine builds, each in phases:
//!
//! 1. the banner `[TensorRT-LLM] TensorRT-LLM version: 0.10.0` and Python
//!    logging lines (`2026-11-20 07:07:55,838 - INFO - flashinfer.jit: …`);
//! 2. the configuration, `[11/20/2026-13:22:01] [TRT-LLM] [I] Set
//!    gpt_attention_plugin to float16.` and a few `[W]`;
//! 3. loading the checkpoint: tqdm bars redrawn with `\r`, the weight
//!    conversion one long enough to be cut into partial pieces now and then;
//! 4. the flood: hundreds to thousands of `[TensorRT-LLM][WARNING] …` lines
//!    (with some `[TensorRT-LLM][INFO]`), most of the file;
//! 5. TensorRT's own builder lines (`[TRT] [I] [MemUsageChange] …`, `[W]`);
//! 6. the end: the engine saved, or, for one build in four, `[TRT] [E]`
//!    errors and a Python traceback.
//!
//! TensorRT-LLM's logger writes to stdout; Python logging, tqdm and
//! tracebacks go to stderr.

use crate::frame::{Burst, Cx, Generator, Stream};
use crate::sources::push_tqdm_redraws;
use crate::text::{pick, push_fixed, push_padded, push_u64};
use crate::traceback::{self, Pool};

pub(crate) struct GpuBuild {
    phase: Phase,
    left: u32,
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Start,
    Config,
    Load,
    Warnings,
    Engine,
    End,
}

const POOL: Pool = Pool {
    outer: &[
        ("/app/build.py", "<module>", "main()"),
        ("/app/build.py", "main", "build_and_save(rank, args.gpus_per_node, args)"),
    ],
    failures: &[
        (
            &[
                (
                    "/usr/local/lib/python3.10/dist-packages/tensorrt_llm/commands/build.py",
                    "build_and_save",
                    "engine = build_model(build_config, rank, model_config=model_config)",
                ),
                (
                    "/usr/local/lib/python3.10/dist-packages/tensorrt_llm/commands/build.py",
                    "build_model",
                    "return build(model, build_config)",
                ),
                (
                    "/usr/local/lib/python3.10/dist-packages/tensorrt_llm/builder.py",
                    "build",
                    "engine = builder.build_engine(network, builder_config)",
                ),
                (
                    "/usr/local/lib/python3.10/dist-packages/tensorrt_llm/builder.py",
                    "build_engine",
                    "assert engine is not None, 'Engine building failed, please check the error log.'",
                ),
            ],
            "AssertionError: Engine building failed, please check the error log.",
        ),
        (
            &[("/app/build.py", "build_and_save", "engine = builder.build_engine(network, config)")],
            "RuntimeError: Failed to build the TensorRT engine",
        ),
        (
            &[
                (
                    "/usr/local/lib/python3.10/dist-packages/tensorrt_llm/models/modeling_utils.py",
                    "from_checkpoint",
                    "weights = load_checkpoint(ckpt_dir, rank)",
                ),
                (
                    "/usr/local/lib/python3.10/dist-packages/safetensors/torch.py",
                    "load_file",
                    "result[k] = f.get_tensor(k)",
                ),
            ],
            "safetensors_rust.SafetensorError: Error while deserializing header: MetadataIncompleteBuffer",
        ),
        (
            &[(
                "/usr/local/lib/python3.10/dist-packages/tensorrt_llm/models/llama/convert.py",
                "load_weights",
                "weights[name] = param.to(torch.float16).cuda()",
            )],
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 3.50 GiB. GPU 0 has a total capacity of 79.10 GiB of which 2.81 GiB is free.",
        ),
    ],
};

const PLUGINS: [&str; 8] = [
    "gpt_attention_plugin",
    "gemm_plugin",
    "lora_plugin",
    "moe_plugin",
    "nccl_plugin",
    "paged_kv_cache",
    "remove_input_padding",
    "context_fmha",
];

const TRTLLM_WARNINGS: [&str; 6] = [
    "Fail to get the number of GPUs from the environment",
    "Implicit conversion of weights from float32 to float16 is deprecated",
    "The value of max_num_tokens is larger than max_batch_size * max_input_len, it will be clamped",
    "Provided rank is greater than the world size of the current process group, the default rank 0 is used",
    "Parameter dtype is None, using default dtype: float16",
    "Detected layernorm weights in float32, casting to float16",
];

impl GpuBuild {
    pub(crate) fn new() -> GpuBuild {
        GpuBuild { phase: Phase::Start, left: 0 }
    }

    fn enter(&mut self, cx: &mut Cx, phase: Phase) {
        self.phase = phase;
        self.left = match phase {
            Phase::Config => cx.rng.u32(8..40),
            Phase::Load => cx.rng.u32(2..6),
            // Thousands, now and then.
            Phase::Warnings => {
                if cx.rng.u8(..4) == 0 {
                    cx.rng.u32(1000..4000)
                } else {
                    cx.rng.u32(100..900)
                }
            }
            Phase::Engine => cx.rng.u32(20..80),
            _ => 1,
        };
    }

    /// Starts a TensorRT logger line: `[11/20/2026-13:22:01] [TRT-LLM] [I] `.
    fn trt<'b>(cx: &Cx, b: &'b mut Burst, component: &[u8], level: u8) -> &'b mut Vec<u8> {
        let civil = cx.clock.civil();
        let out = b.line(Stream::Stdout);
        civil.tensorrt(out);
        out.extend_from_slice(b" [");
        out.extend_from_slice(component);
        out.extend_from_slice(b"] [");
        out.push(level);
        out.extend_from_slice(b"] ");
        out
    }

    fn python_log(cx: &mut Cx, b: &mut Burst, level: &[u8], message: &[u8]) {
        let civil = cx.clock.civil();
        let out = b.line(Stream::Stderr);
        civil.asctime(out);
        out.extend_from_slice(b" - ");
        out.extend_from_slice(level);
        out.extend_from_slice(b" - ");
        out.extend_from_slice(message);
    }

    fn start(&mut self, cx: &mut Cx, b: &mut Burst) {
        b.line(Stream::Stdout).extend_from_slice(b"[TensorRT-LLM] TensorRT-LLM version: 0.10.0");
        Self::python_log(cx, b, b"INFO", b"flashinfer.jit: Prebuilt kernels not found, using JIT backend");
        if cx.rng.bool() {
            Self::python_log(
                cx,
                b,
                b"WARNING",
                b"root: Secret hf_access_token not set, gated checkpoints will fail to download",
            );
        }
        Self::trt(cx, b, b"TRT-LLM", b'I').extend_from_slice(b"Compute capability: (9, 0)");
        Self::trt(cx, b, b"TRT-LLM", b'I').extend_from_slice(b"SM count: 132");
    }

    fn config(&mut self, cx: &mut Cx, b: &mut Burst) {
        if cx.rng.u8(..8) == 0 {
            Self::trt(cx, b, b"TRT-LLM", b'W').extend_from_slice(pick(
                &mut cx.rng,
                &[
                    &b"Specifying a `max_num_tokens` larger than 16384 is usually not recommended"[..],
                    b"remove_input_padding is enabled, while opt_num_tokens is not set, setting to max_batch_size*max_beam_width.",
                ],
            ));
            return;
        }
        let out = Self::trt(cx, b, b"TRT-LLM", b'I');
        let rng = &mut cx.rng;
        out.extend_from_slice(b"Set ");
        out.extend_from_slice(pick(rng, &PLUGINS).as_bytes());
        out.extend_from_slice(b" to ");
        out.extend_from_slice(pick(rng, &["float16", "bfloat16", "auto", "True", "False", "None"]).as_bytes());
        out.push(b'.');
    }

    fn load(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        // A bar's line ends when the work does.
        let (desc, total, states, secs_per_it_x100) = if rng.u8(..6) == 0 {
            // One redraw per weight: sometimes more than 16 KiB.
            let total = rng.u64(200..700);
            ("Converting weights", total, total / rng.u64(1..4), rng.u64(5..40))
        } else {
            let total = rng.u64(2..9);
            ("Loading checkpoint shards", total, total + 1, rng.u64(80..400))
        };
        b.pause(total * secs_per_it_x100 * 10_000_000);
        let lead = rng.bool();
        push_tqdm_redraws(b.line(Stream::Stderr), desc, total, states, secs_per_it_x100, lead);
    }

    fn warning(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stdout);
        if rng.u8(..12) == 0 {
            out.extend_from_slice(b"[TensorRT-LLM][INFO] Loaded engine size: ");
            push_u64(out, rng.u64(1000..80_000));
            out.extend_from_slice(b" MiB");
        } else {
            out.extend_from_slice(b"[TensorRT-LLM][WARNING] ");
            out.extend_from_slice(pick(rng, &TRTLLM_WARNINGS).as_bytes());
        }
    }

    fn engine(&mut self, cx: &mut Cx, b: &mut Burst) {
        let level = if cx.rng.u8(..10) == 0 { b'W' } else { b'I' };
        let out = Self::trt(cx, b, b"TRT", level);
        let rng = &mut cx.rng;
        if level == b'W' {
            out.extend_from_slice(pick(
                rng,
                &[
                    &b"Unable to determine GPU memory usage: out of memory"[..],
                    b"Detected layernorm nodes in FP16.",
                    b"Requested amount of GPU memory (2147483648 bytes) could not be allocated. There may not be enough free memory for allocation to succeed.",
                ],
            ));
            return;
        }
        match rng.u8(..4) {
            0 => {
                out.extend_from_slice(b"[MemUsageChange] Init builder kernel library: CPU +");
                push_u64(out, rng.u64(1..4000));
                out.extend_from_slice(b", GPU +");
                push_u64(out, rng.u64(0..800));
                out.extend_from_slice(b", now: CPU ");
                push_u64(out, rng.u64(4000..90_000));
                out.extend_from_slice(b", GPU ");
                push_u64(out, rng.u64(800..80_000));
                out.extend_from_slice(b" (MiB)");
            }
            1 => out.extend_from_slice(
                b"Global timing cache in use. Profiling results in this builder pass will be stored.",
            ),
            2 => {
                out.extend_from_slice(b"Detected ");
                push_u64(out, rng.u64(2..20));
                out.extend_from_slice(b" inputs and 1 output network tensors.");
            }
            _ => {
                out.extend_from_slice(b"Total Activation Memory: ");
                push_u64(out, rng.u64(1 << 20..1 << 36));
                out.extend_from_slice(b" bytes");
            }
        }
    }

    fn end(&mut self, cx: &mut Cx, b: &mut Burst) {
        if cx.rng.u8(..4) == 0 {
            Self::trt(cx, b, b"TRT", b'E').extend_from_slice(
                b"1: [defaultAllocator.cpp::allocate::20] Error Code 1: Cuda Runtime (out of memory)",
            );
            Self::trt(cx, b, b"TRT", b'E').extend_from_slice(b"2: [builder.cpp::buildSerializedNetwork::751] Error Code 2: Internal Error (Assertion engine != nullptr failed. )");
            traceback::python(&mut cx.rng, &POOL, b, Stream::Stderr);
            return;
        }
        // The engine took this long (this burst has no earlier line).
        let millis = cx.rng.u64(10_000..900_000);
        cx.clock.advance(millis * 1_000_000);
        let out = Self::trt(cx, b, b"TRT", b'I');
        out.extend_from_slice(b"Engine generation completed in ");
        push_fixed(out, millis, 3);
        out.extend_from_slice(b" seconds.");
        let out = Self::trt(cx, b, b"TRT-LLM", b'I');
        let rng = &mut cx.rng;
        out.extend_from_slice(b"Total time of building all engines: 00:");
        push_padded(out, rng.u64(1..60), 2, b'0');
        out.push(b':');
        push_padded(out, rng.u64(0..60), 2, b'0');
        Self::python_log(cx, b, b"INFO", b"root: Engine saved to /app/engines/rank0.engine");
    }
}

impl Generator for GpuBuild {
    fn burst(&mut self, cx: &mut Cx, b: &mut Burst) {
        match self.phase {
            Phase::Start => self.start(cx, b),
            Phase::Config => self.config(cx, b),
            Phase::Load => self.load(cx, b),
            Phase::Warnings => self.warning(cx, b),
            Phase::Engine => self.engine(cx, b),
            Phase::End => self.end(cx, b),
        }
        self.left = self.left.saturating_sub(1);
        if self.left == 0 {
            let next = match self.phase {
                Phase::Start => Phase::Config,
                Phase::Config => Phase::Load,
                Phase::Load => Phase::Warnings,
                Phase::Warnings => Phase::Engine,
                Phase::Engine => Phase::End,
                Phase::End => Phase::Start,
            };
            self.enter(cx, next);
        }
    }

    fn single(&mut self, cx: &mut Cx, b: &mut Burst) {
        self.warning(cx, b);
    }

    fn mean_gap_ns(&self) -> u64 {
        30_000_000
    }

    fn mean_line_len(&self) -> usize {
        180
    }
}
