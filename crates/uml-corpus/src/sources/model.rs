//! The model container: a truss server (python-json-logger on uvicorn) around
//! the user's model, with an inference engine (vLLM, Triton) and the user's
//! own `print()`s writing plain text beside it (docs/contract.md, "The five
//! sources").
//!
//! The mix, per event (one event is one line, except tracebacks):
//!
//! | share | what | stream |
//! | --- | --- | --- |
//! | 44 % | access log objects, `POST …predict` with a `request_id`, some with `latency_ms` | stderr (mostly) |
//! | 4 % | readiness probes: `GET /v1/models/model` access objects | stderr (mostly) |
//! | 15 % | INFO objects of the model (load, predict timings, prompts and outputs with `\uXXXX` unicode) | stderr (mostly) |
//! | 6 % | WARNING and DEBUG objects | stderr (mostly) |
//! | 1 % | uvicorn objects with an ANSI `color_message` | stderr |
//! | 0.8 % | ERROR and CRITICAL objects with an `exc_info` traceback | stderr |
//! | 1.7 % | odd objects: a non-string, empty or missing `message`, `NaN`/`Infinity`, nested objects, a rare lone surrogate `\udce9` | stderr |
//! | 10 % | vLLM plain text `(APIServer pid=1) INFO 11-20 04:54:33 [file.py:N] …`, full request logs included | stdout |
//! | 4 % | Triton klog `I1120 01:17:48.317907 1 grpc_server.cc:2451] …` | stderr |
//! | 3 % | uvicorn plain text `INFO:     …` | stderr |
//! | 7 % | `print()` output: text, reprs, raw UTF-8, empty lines, error-looking text | stdout |
//! | 2.5 % | loguru lines with ANSI colours | stderr |
//! | 0.8 % | tqdm bars redrawn with `\r` (rarely long enough to be cut into partial pieces) | stderr |
//! | 0.3 % | plain-text Python tracebacks (plain, chained, exception groups), after an error line or alone | stderr |
//! | 0.02 % | huge lines (20–70 KB: a request body, token ids, multi-byte text) cut into partial pieces | both |
//! | 0.01 % | a `print()` of bytes that are not UTF-8 | stdout |
//!
//! The JSON objects carry `taskName` (python-json-logger 2 on Python 3.12).
//! The mean CRI line is about 270 bytes.

use crate::frame::{Burst, Cx, Generator, Stream};
use crate::names::Identity;
use crate::sources::{push_tqdm_redraws, py_json_head, py_key, py_str};
use crate::text::{
    HEX, pick, push_fixed, push_padded, push_pod_address, push_py_json, push_random, push_u64, push_uuid,
};
use crate::traceback::{self, Pool};

pub(crate) struct Model {
    /// uvicorn's server process id.
    pid: u64,
    /// The message text before it is escaped into a JSON object.
    text: Vec<u8>,
    /// The Hugging Face name of the model served.
    model: &'static str,
}

impl Model {
    pub(crate) fn new(identity: &Identity) -> Model {
        let pick_by = identity.mvid.bytes().map(usize::from).sum::<usize>();
        Model { pid: 12_000 + (pick_by as u64 * 37) % 900, text: Vec::new(), model: MODELS[pick_by % MODELS.len()] }
    }
}

const MODELS: [&str; 5] = [
    "meta-llama/Llama-3.1-8B-Instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "Qwen/Qwen2.5-14B-Instruct",
    "openai/whisper-large-v3",
    "stabilityai/stable-diffusion-xl-base-1.0",
];

/// Texts users send and models answer, with what JSON and terminals make
/// of them: accents, CJK, RTL, emoji outside the BMP, quotes, tabs.
pub(crate) const TEXTS: [&str; 16] = [
    "Bonjour à tous, comment ça va ?",
    "Привет! Как дела?",
    "你好，世界。今天天气很好。",
    "こんにちは、元気ですか？",
    "¿Dónde está la biblioteca?",
    "Grüße aus München 🥨",
    "🚀 ready to serve",
    "naïve café résumé — déjà vu",
    "مرحبا بالعالم",
    "Καλημέρα κόσμε",
    "emoji test 😀😃😄 👍🏽",
    "smart quotes “like this” and ‘this’",
    "tab\tseparated\tvalues",
    "a \"quoted\" word and a back\\slash",
    "Summarize: The quick brown fox jumps over the lazy dog.",
    "Write a haiku about Kubernetes",
];

const PREDICT_PATHS: [&str; 5] = [
    "/v1/models/model%3Apredict",
    "/v1/models/model:predict",
    "/v1/models/model%3Apredict_binary",
    "/v1/chat/completions",
    "/v1/completions",
];

pub(crate) const POOL: Pool = Pool {
    outer: &[
        (
            "/usr/local/lib/python3.11/site-packages/uvicorn/protocols/http/httptools_impl.py",
            "run_asgi",
            "result = await app(  # type: ignore[func-returns-value]",
        ),
        (
            "/usr/local/lib/python3.11/site-packages/starlette/routing.py",
            "handle",
            "await self.app(scope, receive, send)",
        ),
        (
            "/usr/local/lib/python3.11/site-packages/fastapi/routing.py",
            "app",
            "raw_response = await run_endpoint_function(",
        ),
        ("/app/truss/templates/server/truss_server.py", "predict", "result = await self._model.predict(body, request)"),
        ("/app/truss/templates/server/model_wrapper.py", "predict", "return await self._predict_fn(inputs)"),
    ],
    failures: &[
        (&[("/app/model/model.py", "predict", "prompt = request[\"prompt\"]")], "KeyError: 'prompt'"),
        (&[("/app/model/model.py", "predict", "raise ValueError(\"bad input\")")], "ValueError: bad input"),
        (
            &[("/app/model/model.py", "predict", "if request[\"max_tokens\"] > 4096:")],
            "TypeError: '>' not supported between instances of 'str' and 'int'",
        ),
        (
            &[
                ("/app/model/model.py", "predict", "output = self._pipeline(prompt, max_new_tokens=max_tokens)"),
                (
                    "/usr/local/lib/python3.11/site-packages/transformers/pipelines/text_generation.py",
                    "__call__",
                    "return super().__call__(text_inputs, **kwargs)",
                ),
                (
                    "/usr/local/lib/python3.11/site-packages/torch/nn/modules/module.py",
                    "_call_impl",
                    "return forward_call(*args, **kwargs)",
                ),
            ],
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB of which 1.06 GiB is free. Including non-PyTorch memory, this process has 78.08 GiB memory in use.",
        ),
        (
            &[
                ("/app/model/model.py", "preprocess", "return json.loads(raw)"),
                ("/usr/local/lib/python3.11/json/__init__.py", "loads", "return _default_decoder.decode(s)"),
                (
                    "/usr/local/lib/python3.11/json/decoder.py",
                    "decode",
                    "obj, end = self.raw_decode(s, idx=_w(s, 0).end())",
                ),
                (
                    "/usr/local/lib/python3.11/json/decoder.py",
                    "raw_decode",
                    "raise JSONDecodeError(\"Expecting value\", s, err.value) from None",
                ),
            ],
            "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
        ),
        (
            &[
                ("/app/model/model.py", "predict", "image = Image.open(io.BytesIO(data))"),
                ("/usr/local/lib/python3.11/site-packages/PIL/Image.py", "open", "raise UnidentifiedImageError(msg)"),
            ],
            "PIL.UnidentifiedImageError: cannot identify image file <_io.BytesIO object at 0x7f3a5c1e2d40>",
        ),
        (
            &[
                (
                    "/app/model/model.py",
                    "predict",
                    "output = self._model.generate(**inputs, max_new_tokens=max_tokens)",
                ),
                (
                    "/usr/local/lib/python3.11/site-packages/transformers/generation/utils.py",
                    "generate",
                    "result = self._sample(",
                ),
                (
                    "/usr/local/lib/python3.11/site-packages/transformers/generation/utils.py",
                    "_sample",
                    "next_tokens = torch.multinomial(probs, num_samples=1).squeeze(1)",
                ),
            ],
            "RuntimeError: CUDA error: device-side assert triggered\nCUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1",
        ),
        (
            &[
                ("/app/model/model.py", "predict", "return self._client.post(self._url, json=body).json()"),
                ("/usr/local/lib/python3.11/site-packages/httpx/_client.py", "post", "return self.request("),
                (
                    "/usr/local/lib/python3.11/site-packages/httpx/_transports/default.py",
                    "handle_request",
                    "raise mapped_exc(message) from exc",
                ),
            ],
            "httpx.ReadTimeout: timed out",
        ),
        (
            &[("/app/model/model.py", "predict", "with open(self._lora_path) as f:")],
            "FileNotFoundError: [Errno 2] No such file or directory: '/app/data/adapter_config.json'",
        ),
    ],
};

impl Generator for Model {
    fn burst(&mut self, cx: &mut Cx, b: &mut Burst) {
        match cx.rng.u32(..10_000) {
            0..4400 => self.access(cx, b, false),
            4400..5900 => self.model_object(cx, b),
            5900..6500 => self.warning_or_debug(cx, b),
            6500..6600 => self.uvicorn_object(cx, b),
            6600..6680 => self.exc_info_object(cx, b),
            6680..6850 => self.odd_object(cx, b),
            6850..7850 => self.vllm(cx, b),
            7850..8250 => self.triton(cx, b),
            8250..8550 => self.uvicorn_plain(cx, b),
            8550..9250 => self.print(cx, b),
            9250..9500 => self.loguru(cx, b),
            9500..9580 => self.tqdm(cx, b),
            9580..9610 => self.traceback(cx, b),
            9610..9612 => self.huge(cx, b),
            9612..9613 => self.invalid_utf8(cx, b),
            _ => self.access(cx, b, true),
        }
    }

    fn single(&mut self, cx: &mut Cx, b: &mut Burst) {
        match cx.rng.u8(..4) {
            0 => self.vllm(cx, b),
            _ => self.access(cx, b, true),
        }
    }

    fn mean_gap_ns(&self) -> u64 {
        20_000_000
    }

    fn mean_line_len(&self) -> usize {
        340
    }
}

/// Python logging writes to stderr; a few servers configure stdout.
fn json_stream(cx: &mut Cx) -> Stream {
    if cx.rng.u8(..12) == 0 { Stream::Stdout } else { Stream::Stderr }
}

/// `, "taskName": "Task-17"` or `null`: python-json-logger 2 on Python
/// 3.12 keeps the record's new `taskName` attribute as an extra key.
fn push_task_name(out: &mut Vec<u8>, rng: &mut fastrand::Rng, in_task: bool) {
    py_key(out, "taskName");
    if in_task {
        out.extend_from_slice(b"\"Task-");
        push_u64(out, rng.u64(1..40_000));
        out.push(b'"');
    } else {
        out.extend_from_slice(b"null");
    }
}

impl Model {
    fn access(&mut self, cx: &mut Cx, b: &mut Burst, probe: bool) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let text = &mut self.text;
        text.clear();
        if probe {
            text.extend_from_slice(b"10.4.0.1:");
            push_u64(text, rng.u64(32768..61000));
            text.extend_from_slice(b" - \"GET /v1/models/model HTTP/1.1\" 200");
        } else {
            push_pod_address(text, rng);
            text.extend_from_slice(b" - \"POST ");
            text.extend_from_slice(pick(rng, &PREDICT_PATHS).as_bytes());
            text.extend_from_slice(b" HTTP/1.1\" ");
            let status = match rng.u32(..1000) {
                0..955 => 200,
                955..975 => 422,
                975..990 => 500,
                990..996 => 503,
                _ => 499,
            };
            push_u64(text, status);
        }
        let out = b.line(json_stream(cx));
        py_json_head(out, &civil, "INFO");
        py_str(out, "message", text);
        push_task_name(out, &mut cx.rng, true);
        if !probe {
            py_key(out, "request_id");
            out.push(b'"');
            push_uuid(out, &mut cx.rng);
            out.push(b'"');
            if cx.rng.bool() {
                py_key(out, "latency_ms");
                push_fixed(out, cx.rng.u64(500..900_000), 2);
            }
        }
        out.push(b'}');
    }

    fn model_object(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let text = &mut self.text;
        text.clear();
        let mut request = true;
        match rng.u8(..10) {
            0 => {
                text.extend_from_slice(b"Completed model.predict() in ");
                push_u64(text, rng.u64(8..4000));
                text.extend_from_slice(b" ms");
            }
            1 => {
                text.extend_from_slice(b"Generated ");
                let tokens = rng.u64(1..1024);
                push_u64(text, tokens);
                text.extend_from_slice(b" tokens in ");
                push_u64(text, rng.u64(40..9000));
                text.extend_from_slice(b" ms (");
                push_fixed(text, rng.u64(150..1500), 1);
                text.extend_from_slice(b" tokens/s), prompt_tokens=");
                push_u64(text, rng.u64(3..4096));
                text.extend_from_slice(b", finish_reason=");
                text.extend_from_slice(pick(rng, &[&b"stop"[..], b"length", b"eos_token"]));
            }
            2 | 3 => {
                text.extend_from_slice(pick(rng, &[&b"Prompt: "[..], b"Output: ", b"Transcription: "]));
                for k in 0..rng.usize(1..=4) {
                    if k > 0 {
                        text.push(b' ');
                    }
                    text.extend_from_slice(pick(rng, &TEXTS).as_bytes());
                }
            }
            4 => {
                text.extend_from_slice(b"Batch of ");
                push_u64(text, rng.u64(1..65));
                text.extend_from_slice(b" requests processed in ");
                push_fixed(text, rng.u64(100..90_000), 2);
                text.extend_from_slice(b" ms, queue depth ");
                push_u64(text, rng.u64(0..40));
            }
            5 => {
                request = false;
                text.extend_from_slice(pick(
                    rng,
                    &[
                        &b"Executing model.load()..."[..],
                        b"Loading truss model from file.",
                        b"Setting up secrets from /secrets",
                        b"Model is ready to serve requests",
                        b"Starting inference server with 4 workers",
                    ],
                ));
            }
            6 => {
                request = false;
                text.extend_from_slice(b"Completed model.load() execution in ");
                push_u64(text, rng.u64(800..600_000));
                text.extend_from_slice(b" ms");
            }
            7 => {
                request = false;
                text.extend_from_slice(b"Loading weights from /app/model_cache/");
                text.extend_from_slice(self.model.as_bytes());
                text.extend_from_slice(b"/model-0000");
                let total = rng.u64(2..8);
                push_u64(text, rng.u64(1..=total));
                text.extend_from_slice(b"-of-0000");
                push_u64(text, total);
                text.extend_from_slice(b".safetensors");
            }
            8 => {
                text.extend_from_slice(b"KV cache usage ");
                push_fixed(text, rng.u64(0..1000), 1);
                text.extend_from_slice(b"%, prefix cache hit rate ");
                push_fixed(text, rng.u64(0..1000), 1);
                text.push(b'%');
            }
            _ => {
                text.extend_from_slice(b"Received request with ");
                push_u64(text, rng.u64(1..8192));
                text.extend_from_slice(b" prompt tokens, max_tokens=");
                push_u64(text, pick(rng, &[64, 128, 256, 512, 1024, 4096]));
                text.extend_from_slice(b", temperature=");
                push_fixed(text, rng.u64(0..11), 1);
                text.extend_from_slice(b", model=");
                text.extend_from_slice(self.model.as_bytes());
            }
        }
        let out = b.line(json_stream(cx));
        py_json_head(out, &civil, "INFO");
        py_str(out, "message", text);
        push_task_name(out, &mut cx.rng, request);
        if request {
            py_key(out, "request_id");
            out.push(b'"');
            push_uuid(out, &mut cx.rng);
            out.push(b'"');
        }
        out.push(b'}');
    }

    fn warning_or_debug(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let text = &mut self.text;
        text.clear();
        let level = match rng.u8(..3) {
            0 => {
                text.extend_from_slice(b"Request took ");
                push_u64(text, rng.u64(2000..60_000));
                text.extend_from_slice(b" ms, above the 2000 ms budget");
                "WARNING"
            }
            1 => {
                text.extend_from_slice(pick(
                    rng,
                    &[
                        &b"Input truncated to 4096 tokens"[..],
                        b"GPU memory usage above 90%, consider a smaller batch",
                        b"`torch_dtype` is deprecated! Use `dtype` instead!",
                        b"Setting `pad_token_id` to `eos_token_id`:128001 for open-end generation.",
                        b"Secret 'hf_access_token' not found, downloading public weights",
                    ],
                ));
                "WARNING"
            }
            _ => {
                text.extend_from_slice(b"Tokenizer call took ");
                push_fixed(text, rng.u64(5..900), 2);
                text.extend_from_slice(b" ms for ");
                push_u64(text, rng.u64(1..4096));
                text.extend_from_slice(b" tokens");
                "DEBUG"
            }
        };
        let out = b.line(json_stream(cx));
        py_json_head(out, &civil, level);
        py_str(out, "message", text);
        push_task_name(out, &mut cx.rng, true);
        out.push(b'}');
    }

    /// uvicorn's own records through the JSON formatter keep their
    /// `color_message`: the format string with ANSI colours.
    fn uvicorn_object(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let text = &mut self.text;
        text.clear();
        let (message, colored): (&[u8], &[u8]) = match cx.rng.u8(..4) {
            0 => {
                text.extend_from_slice(b"Started server process [");
                push_u64(text, self.pid);
                text.push(b']');
                (&text[..], b"Started server process [\x1b[36m%d\x1b[0m]")
            }
            1 => (b"Waiting for application startup.", b"Waiting for application startup."),
            2 => (b"Application startup complete.", b"Application startup complete."),
            _ => (
                b"Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)",
                b"Uvicorn running on \x1b[1m%s://%s:%d\x1b[0m (Press CTRL+C to quit)",
            ),
        };
        let out = b.line(Stream::Stderr);
        py_json_head(out, &civil, "INFO");
        py_str(out, "message", message);
        push_task_name(out, &mut cx.rng, false);
        py_str(out, "color_message", colored);
        out.push(b'}');
    }

    fn exc_info_object(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        // The traceback lines, joined with `\n` into one string.
        let mut lines = Burst::default();
        traceback::python(&mut cx.rng, &POOL, &mut lines, Stream::Stderr);
        let text = &mut self.text;
        text.clear();
        for i in 0..lines.len() {
            if i > 0 {
                text.push(b'\n');
            }
            text.extend_from_slice(lines.get(i).1);
        }
        let out = b.line(Stream::Stderr);
        py_json_head(out, &civil, pick(&mut cx.rng, &["ERROR", "ERROR", "ERROR", "CRITICAL"]));
        let message: &[u8] = pick(
            &mut cx.rng,
            &[&b"Exception in ASGI application\n"[..], b"Exception while running predict", b"Internal Server Error"],
        );
        py_str(out, "message", message);
        py_str(out, "exc_info", text);
        push_task_name(out, &mut cx.rng, true);
        if cx.rng.bool() {
            py_key(out, "request_id");
            out.push(b'"');
            push_uuid(out, &mut cx.rng);
            out.push(b'"');
        }
        out.push(b'}');
    }

    /// Objects a rule must not trust: `message` not a string, empty or
    /// missing; Python's bare `NaN` and `Infinity`; nested objects; a lone
    /// surrogate that `json.dumps` writes for a `surrogateescape`d byte.
    fn odd_object(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stderr);
        match rng.u8(..17) {
            0 => {
                py_json_head(out, &civil, "INFO");
                py_key(out, "message");
                push_u64(out, rng.u64(0..100_000));
            }
            1 => {
                py_json_head(out, &civil, "INFO");
                out.extend_from_slice(b", \"message\": {\"event\": \"batch_done\", \"size\": ");
                push_u64(out, rng.u64(1..64));
                out.extend_from_slice(b", \"ok\": true}");
            }
            2 => {
                py_json_head(out, &civil, "INFO");
                out.extend_from_slice(b", \"message\": [\"tokens\", 128, 0.25]");
            }
            3 => {
                py_json_head(out, &civil, "WARNING");
                out.extend_from_slice(pick(
                    rng,
                    &[&b", \"message\": null"[..], b", \"message\": true", b", \"message\": 3.14"],
                ));
            }
            4 | 5 => {
                py_json_head(out, &civil, "INFO");
                out.extend_from_slice(b", \"message\": \"\"");
                py_str(out, "event", b"heartbeat");
            }
            6 => {
                // No `message` at all.
                py_json_head(out, &civil, "INFO");
                py_str(out, "event", b"startup");
                py_str(out, "gpu", b"NVIDIA H100 80GB HBM3");
            }
            7 | 8 => {
                py_json_head(out, &civil, "WARNING");
                out.extend_from_slice(b", \"message\": \"Loss is not finite\", \"loss\": NaN, \"step\": ");
                push_u64(out, rng.u64(1..100_000));
            }
            9 => {
                py_json_head(out, &civil, "WARNING");
                out.extend_from_slice(b", \"message\": NaN, \"loss\": NaN");
            }
            10 => {
                py_json_head(out, &civil, "INFO");
                out.extend_from_slice(b", \"message\": \"grad norm\", \"grad_norm\": Infinity, \"min\": -Infinity");
            }
            11 if rng.u8(..8) == 0 => {
                py_json_head(out, &civil, "INFO");
                out.extend_from_slice(b", \"message\": \"Decoded file name caf\\udce9.txt from the upload\"");
            }
            _ => {
                py_json_head(out, &civil, "INFO");
                py_str(out, "message", b"Inference stats");
                out.extend_from_slice(b", \"stats\": {\"batch_size\": ");
                push_u64(out, rng.u64(1..64));
                out.extend_from_slice(b", \"latency_ms\": {\"p50\": ");
                push_fixed(out, rng.u64(100..9000), 1);
                out.extend_from_slice(b", \"p99\": ");
                push_fixed(out, rng.u64(9000..90_000), 1);
                out.extend_from_slice(b"}, \"gpus\": [0, 1], \"model\": ");
                push_py_json(out, self.model.as_bytes(), true);
                out.push(b'}');
            }
        }
        out.push(b'}');
    }

    fn vllm(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stdout);
        let engine = rng.u8(..4) == 0;
        let head: &[u8] = match rng.u8(..3) {
            0 => b"",
            _ if engine => b"(EngineCore_0 pid=245) ",
            _ => b"(APIServer pid=1) ",
        };
        out.extend_from_slice(head);
        let level = match rng.u8(..40) {
            0..3 => "WARNING",
            3 => "DEBUG",
            _ => "INFO",
        };
        out.extend_from_slice(level.as_bytes());
        out.push(b' ');
        civil.vllm(out);
        match (level, rng.u8(..8)) {
            ("WARNING", _) => out.extend_from_slice(pick(
                rng,
                &[
                    &b" [config.py:3467] Casting torch.bfloat16 to torch.float16."[..],
                    b" [scheduler.py:1560] Sequence group cmpl-3f1b is preempted by PreemptionMode.RECOMPUTE mode because there is not enough KV cache space.",
                    b" [serving_chat.py:142] Using supplied chat template: None",
                ],
            )),
            ("DEBUG", _) => {
                out.extend_from_slice(b" [client.py:187] Waiting for output from MQLLMEngine. Heartbeat ");
                push_u64(out, rng.u64(1..9999));
            }
            (_, 0..3) => {
                out.extend_from_slice(b" [metrics.py:351] Avg prompt throughput: ");
                push_fixed(out, rng.u64(0..40_000), 1);
                out.extend_from_slice(b" tokens/s, Avg generation throughput: ");
                push_fixed(out, rng.u64(0..9000), 1);
                out.extend_from_slice(b" tokens/s, Running: ");
                push_u64(out, rng.u64(0..32));
                out.extend_from_slice(b" reqs, Swapped: 0 reqs, Pending: ");
                push_u64(out, rng.u64(0..4));
                out.extend_from_slice(b" reqs, GPU KV cache usage: ");
                push_fixed(out, rng.u64(0..1000), 1);
                out.extend_from_slice(b"%, CPU KV cache usage: 0.0%.");
            }
            (_, 3) => {
                out.extend_from_slice(b" [engine.py:275] Added request chatcmpl-");
                push_random(out, rng, HEX, 32);
                out.push(b'.');
            }
            (_, 4) => {
                out.extend_from_slice(b" [api_server.py:598] Supported tasks: ['generate']");
            }
            (_, 5) => {
                out.extend_from_slice(b" [engine.py:291] Finished request chatcmpl-");
                push_random(out, rng, HEX, 32);
                out.push(b'.');
            }
            _ => {
                // vLLM logs every request in full unless told not to.
                out.extend_from_slice(b" [logger.py:43] Received request chatcmpl-");
                push_random(out, rng, HEX, 32);
                out.extend_from_slice(b": prompt: '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n\\n");
                let text = pick(rng, &TEXTS);
                out.extend_from_slice(text.replace('\t', "\\t").as_bytes());
                out.extend_from_slice(b"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\\n\\n', params: SamplingParams(n=1, presence_penalty=0.0, frequency_penalty=0.0, repetition_penalty=1.0, temperature=");
                push_fixed(out, rng.u64(0..11), 1);
                out.extend_from_slice(b", top_p=0.95, top_k=-1, min_p=0.0, seed=None, stop=[], stop_token_ids=[], bad_words=[], include_stop_str_in_output=False, ignore_eos=False, max_tokens=");
                push_u64(out, pick(rng, &[128, 256, 512, 1024]));
                out.extend_from_slice(b", min_tokens=0, logprobs=None, prompt_logprobs=None, skip_special_tokens=True, spaces_between_special_tokens=True, truncate_prompt_tokens=None, guided_decoding=None), prompt_token_ids: [128000, 128006, 882, 128007, 271");
                for _ in 0..rng.usize(4..40) {
                    out.extend_from_slice(b", ");
                    push_u64(out, rng.u64(0..128_000));
                }
                out.extend_from_slice(b", 128009, 128006, 78191, 128007, 271], lora_request: None, prompt_adapter_request: None.");
            }
        }
    }

    fn triton(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stderr);
        let (severity, rest): (u8, &[u8]) = match rng.u8(..20) {
            0..6 => (b'I', b" 1 grpc_server.cc:2451] Started GRPCInferenceService at 0.0.0.0:8001"),
            6..10 => (b'I', b" 1 http_server.cc:3555] Started HTTPService at 0.0.0.0:8000"),
            10..14 => (b'I', b" 1 model_lifecycle.cc:818] successfully loaded 'model'"),
            14..16 => (b'I', b" 1 server.cc:674] Waiting for in-flight requests to complete."),
            16..18 => (
                b'W',
                b" 1 pinned_memory_manager.cc:237] Unable to allocate pinned system memory, pinned memory pool will not be available: CUDA driver version is insufficient for CUDA runtime version",
            ),
            18 => (b'E', b" 1 model_repository_manager.cc:1307] Poll failed for model directory 'ensemble': failed to open text file for read /models/ensemble/config.pbtxt: No such file or directory"),
            _ => (b'I', b" 1 metrics.cc:877] Collecting metrics for GPU 0: NVIDIA A100-SXM4-80GB"),
        };
        civil.klog(out, severity);
        out.extend_from_slice(rest);
    }

    fn uvicorn_plain(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stderr);
        match rng.u8(..8) {
            0 => {
                out.extend_from_slice(b"INFO:     Started server process [");
                push_u64(out, self.pid);
                out.push(b']');
            }
            1 => out.extend_from_slice(b"INFO:     Waiting for application startup."),
            2 => out.extend_from_slice(b"INFO:     Application startup complete."),
            3 => out.extend_from_slice(b"INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)"),
            4 => out.extend_from_slice(b"WARNING:  Invalid HTTP request received."),
            _ => {
                out.extend_from_slice(b"INFO:     ");
                push_pod_address(out, rng);
                out.extend_from_slice(b" - \"POST /v1/chat/completions HTTP/1.1\" 200 OK");
            }
        }
    }

    fn print(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stdout);
        match rng.u8(..16) {
            0 | 1 => {} // print()
            2 => out.extend_from_slice(b"Loading model..."),
            3 => {
                out.extend_from_slice(b"Model loaded in ");
                push_fixed(out, rng.u64(10..9000), 1);
                out.push(b's');
            }
            4 => {
                out.extend_from_slice(b"{'prompt': ");
                out.extend_from_slice(pick(rng, &[&b"'hello'"[..], b"'Write a haiku about Kubernetes'", b"''"]));
                out.extend_from_slice(b", 'max_new_tokens': ");
                push_u64(out, pick(rng, &[64, 128, 512]));
                out.extend_from_slice(b", 'stream': False}");
            }
            5 => out.extend_from_slice(b"torch.Size([1, 512, 4096])"),
            6 => {
                out.extend_from_slice(b"tensor([[0.");
                push_padded(out, rng.u64(0..10_000), 4, b'0');
                out.extend_from_slice(b", 0.");
                push_padded(out, rng.u64(0..10_000), 4, b'0');
                out.extend_from_slice(b"]], device='cuda:0', dtype=torch.float16)");
            }
            7 => out.extend_from_slice(pick(rng, &TEXTS).replace('\t', "    ").as_bytes()),
            8 => out.extend(std::iter::repeat_n(b'=', 80)),
            9 => out.extend_from_slice(b"Using device: cuda:0"),
            10 => {
                out.extend_from_slice(b"step ");
                push_u64(out, rng.u64(0..10_000));
                out.extend_from_slice(b" loss=");
                push_fixed(out, rng.u64(100..40_000), 4);
            }
            11 => out.extend_from_slice(b"DEBUG: cache miss, recomputing embeddings"),
            12 => out.extend_from_slice(b"Error: could not parse the request, using defaults"),
            _ => {
                out.extend_from_slice(b"Generated:");
                for _ in 0..rng.usize(1..=3) {
                    out.push(b' ');
                    out.extend_from_slice(pick(rng, &TEXTS).replace('\t', " ").as_bytes());
                }
            }
        }
    }

    /// loguru with `colorize=True`, as many models configure it.
    fn loguru(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let out = b.line(Stream::Stderr);
        let (level, colour): (&[u8], &[u8]) = match rng.u8(..10) {
            0 => (b"WARNING ", b"\x1b[33m\x1b[1m"),
            1 => (b"ERROR   ", b"\x1b[31m\x1b[1m"),
            2 => (b"DEBUG   ", b"\x1b[34m\x1b[1m"),
            3 => (b"SUCCESS ", b"\x1b[32m\x1b[1m"),
            _ => (b"INFO    ", b"\x1b[1m"),
        };
        out.extend_from_slice(b"\x1b[32m");
        civil.loguru(out);
        out.extend_from_slice(b"\x1b[0m | ");
        out.extend_from_slice(colour);
        out.extend_from_slice(level);
        out.extend_from_slice(b"\x1b[0m | \x1b[36mmodel.model\x1b[0m:\x1b[36m");
        out.extend_from_slice(pick(rng, &[&b"predict"[..], b"load", b"preprocess", b"postprocess"]));
        out.extend_from_slice(b"\x1b[0m:\x1b[36m");
        push_u64(out, rng.u64(20..300));
        out.extend_from_slice(b"\x1b[0m - ");
        out.extend_from_slice(colour);
        out.extend_from_slice(pick(
            rng,
            &[
                &b"Processing request"[..],
                b"Image decoded: 1024x1024 RGB",
                b"Scheduler step 25/25 done",
                b"Cache warmed up",
                b"Retrying the upstream call (attempt 2 of 3)",
            ],
        ));
        out.extend_from_slice(b"\x1b[0m");
    }

    fn tqdm(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        let lead = rng.bool();
        let (desc, total, states, secs_per_it_x100) = match rng.u8(..20) {
            0 => ("Processing prompts", 5000, rng.u64(150..500), 7),
            1..8 => {
                let total = rng.u64(2..9);
                ("Loading checkpoint shards", total, total + 1, rng.u64(50..400))
            }
            8..14 => ("Fetching 4 files", 4, 5, rng.u64(100..2000)),
            _ => ("", 50, rng.u64(3..40), rng.u64(2..30)),
        };
        // The line ends when the bar does.
        b.pause(total * secs_per_it_x100 * 10_000_000);
        push_tqdm_redraws(b.line(Stream::Stderr), desc, total, states, secs_per_it_x100, lead);
    }

    fn traceback(&mut self, cx: &mut Cx, b: &mut Burst) {
        let rng = &mut cx.rng;
        // Often an error line comes first, on the same stream.
        match rng.u8(..10) {
            0..4 => b.line(Stream::Stderr).extend_from_slice(b"ERROR:    Exception in ASGI application"),
            4..6 => b.line(Stream::Stderr).extend_from_slice(b"Error during prediction:"),
            _ => {}
        }
        traceback::python(rng, &POOL, b, Stream::Stderr);
    }

    /// A line longer than the runtime's 16 KiB pieces.
    fn huge(&mut self, cx: &mut Cx, b: &mut Burst) {
        let civil = cx.clock.civil();
        let rng = &mut cx.rng;
        let target = rng.usize(20_000..70_000);
        match rng.u8(..3) {
            0 => {
                let text = &mut self.text;
                text.clear();
                text.extend_from_slice(b"Received request: {\"prompt\": \"");
                while text.len() < target {
                    text.extend_from_slice(pick(rng, &TEXTS).as_bytes());
                    text.push(b' ');
                }
                text.extend_from_slice(b"\", \"max_tokens\": 512}");
                let out = b.line(Stream::Stderr);
                py_json_head(out, &civil, "DEBUG");
                py_str(out, "message", text);
                out.push(b'}');
            }
            1 => {
                let out = b.line(Stream::Stdout);
                out.extend_from_slice(b"token ids: [128000");
                while out.len() < target {
                    out.extend_from_slice(b", ");
                    push_u64(out, rng.u64(0..128_256));
                }
                out.push(b']');
            }
            _ => {
                // Raw multi-byte text: a piece may end inside a character.
                let out = b.line(Stream::Stdout);
                out.extend_from_slice(b"Generated: ");
                while out.len() < target {
                    out.extend_from_slice(pick(rng, &TEXTS[..12]).as_bytes());
                    out.push(b' ');
                }
            }
        }
    }

    fn invalid_utf8(&mut self, cx: &mut Cx, b: &mut Burst) {
        let line: &[u8] = pick(
            &mut cx.rng,
            &[
                &b"tokenizer: unexpected byte sequence \xc3\x28 in vocab entry 50256"[..],
                b"Stra\xdfe in M\xfcnchen (latin-1 from a C library)",
            ],
        );
        b.line(Stream::Stdout).extend_from_slice(line);
    }
}
