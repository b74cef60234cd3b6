#!/usr/bin/python3
"""Writes the fixtures of token masks (-exclude-tokens) and per-sequence
statistics (-feature-stats) in cmd/l0/testdata/masks/, and expected.json
beside them: numpy's numbers for each run.

    /usr/bin/python3 cmd/l0/testdata/gen_masks.py

Activations [batch, position, feature] (or [batch, feature], [batch,
component, feature], top-k pairs [batch, position, k]) are drawn sparse;
token ids hold a BOS at position 0 of every sequence and mid-sequence, and
padding at the ends, so that a mask leaves out whole positions and
scattered vectors. numpy computes every number from the definitions:
keep = ~np.isin(tokens, exclude); a vector fires feature f when its
element counts by the rule; vectors = keep.sum(); the L0 = the counted
elements of the kept vectors / vectors; per position p over the kept
vectors at p (None where none is kept); firing_counts = the kept vectors
each feature fired in; sequences_fired = the sequences in which it fired
at a kept position; feature_density = firing_counts / vectors;
consistent_activation_heuristic = firing_counts / sequences_fired (NaN
where 0). safetensors files are laid out by hand as the reference writer
does (gen_fixtures.reference_layout).
"""
import json
import math
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "masks")
rng = np.random.default_rng(18_2026)
BOS, PAD = 50256, 0
EXCLUDE = [BOS, PAD]
expected = {}

ST_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
            "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]


def reference_layout(tensors):
    """The bytes of a safetensors file of tensors, name -> (dtype, shape,
    bytes), laid out as the reference writer does."""
    names = sorted(tensors, key=lambda n: (-ST_ORDER.index(tensors[n][0]), n))
    header, offset, data = {}, 0, b""
    for n in names:
        dtype, shape, raw = tensors[n]
        header[n] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def sparse(shape, dtype="<f4", density=0.2):
    a = rng.standard_normal(shape).astype(dtype)
    a[rng.random(shape) >= density] = 0
    flat = a.reshape(shape[0], -1) if len(shape) > 1 else a
    # A few dead features: the last two never fire.
    a[..., -2:] = 0
    return a


def tokens_for(shape, dtype="<i8"):
    t = rng.integers(1, 50000, size=shape).astype(dtype)
    if len(shape) == 2:
        t[:, 0] = BOS
        t[1, shape[1] // 2] = BOS  # a BOS mid-sequence
        t[2, -2:] = PAD  # padding at the end
        t[3, :] = PAD  # a sequence of padding only
    else:
        t[::5] = BOS
        t[3] = PAD
    return t


def numbers(counted, keep, positions):
    """numpy's numbers of a run: counted [batch, (position|component,)
    feature] bool, keep [batch, position] or [batch]."""
    out = {}
    if positions:
        kept = counted[keep]  # [vectors, feature]
        vectors = int(keep.sum())
        firing = kept.sum(0)
        fired = (counted & keep[:, :, None]).any(1).sum(0)
        per_pos = []
        for p in range(keep.shape[1]):
            n = int(keep[:, p].sum())
            per_pos.append(None if n == 0 else float(counted[:, p][keep[:, p]].sum()) / n)
        density = firing / vectors
        with np.errstate(divide="ignore", invalid="ignore"):
            cah = np.where(fired > 0, firing / np.maximum(fired, 1), np.nan)
        out.update(
            sequences=int(keep.shape[0]),
            l0_by_position=per_pos,
            firing_counts=[int(x) for x in firing],
            sequences_fired=[int(x) for x in fired],
            feature_density=[float(x) for x in density],
            consistent_activation_heuristic=[None if math.isnan(x) else float(x) for x in cah],
        )
        l0 = float(kept.sum()) / vectors
        excluded = keep.size - vectors
        dead = int((firing == 0).sum())
        dense = int((density > 0.1).sum())
    else:
        kept = counted[keep]
        vectors = int(keep.sum())
        if counted.ndim == 3:  # components
            l0 = [float(x) for x in kept.sum((0, 2)) / vectors]
            firing = kept.sum(0)
            dead = [int(x) for x in (firing == 0).sum(1)]
            dense = [int(x) for x in (firing / vectors > 0.1).sum(1)]
        else:
            l0 = float(kept.sum()) / vectors
            firing = kept.sum(0)
            dead = int((firing == 0).sum())
            dense = int((firing / vectors > 0.1).sum())
        excluded = keep.size - vectors
    out.update(vectors=vectors, excluded_vectors=int(excluded), l0=l0, dead=dead, dense=dense)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    ex = ",".join(str(e) for e in EXCLUDE)

    # 1. .npy [batch, position, feature] float32, -tokens int64.
    a = sparse((6, 9, 40))
    t = tokens_for((6, 9))
    np.save(os.path.join(OUT, "pos_f32.npy"), a)
    np.save(os.path.join(OUT, "pos_tokens.npy"), t)
    keep = ~np.isin(t, EXCLUDE)
    expected["pos_f32"] = dict(args=["-positions", "-exclude-tokens", ex, "-tokens", "pos_tokens.npy", "pos_f32.npy"],
                               **numbers(a != 0, keep, True))
    # The same without a mask: per-sequence statistics of every vector.
    expected["pos_f32_all"] = dict(args=["-positions", "pos_f32.npy"], **numbers(a != 0, np.ones_like(keep), True))
    # With -skip-positions 2: the first two positions never kept.
    skip = keep.copy()
    skip[:, :2] = False
    e = numbers(a != 0, skip, True)
    e["l0_by_position"] = e["l0_by_position"][2:]
    e["excluded_vectors"] -= 2 * 6
    expected["pos_f32_skip"] = dict(args=["-skip-positions", "2", "-exclude-tokens", ex, "-tokens", "pos_tokens.npy", "pos_f32.npy"], **e)
    # -threshold 0.5.
    expected["pos_f32_above"] = dict(args=["-positions", "-threshold", "0.5", "-exclude-tokens", ex, "-tokens", "pos_tokens.npy", "pos_f32.npy"],
                                     **numbers(a > 0.5, keep, True))

    # 2. safetensors [batch, position, feature] BF16 beside I32 tokens.
    f = sparse((5, 7, 33))
    b = (f.view("<u4") >> 16).astype("<u2")
    widened = (b.astype("<u4") << 16).view("<f4")
    t = tokens_for((5, 7), "<i4")
    with open(os.path.join(OUT, "pos_bf16.safetensors"), "wb") as w:
        w.write(reference_layout({"acts": ("BF16", b.shape, b.tobytes()), "tokens": ("I32", t.shape, t.tobytes())}))
    keep = ~np.isin(t, EXCLUDE)
    expected["pos_bf16"] = dict(args=["-key", "acts", "-positions", "-abs-threshold", "0.3", "-exclude-tokens", ex, "pos_bf16.safetensors"],
                                **numbers(np.abs(widened) > 0.3, keep, True))
    # tokens under another name.
    with open(os.path.join(OUT, "pos_bf16_ids.safetensors"), "wb") as w:
        w.write(reference_layout({"acts": ("BF16", b.shape, b.tobytes()), "input_ids": ("I32", t.shape, t.tobytes())}))
    expected["pos_bf16_ids"] = dict(args=["-key", "acts", "-positions", "-abs-threshold", "0.3", "-exclude-tokens", ex, "-tokens-key", "input_ids", "pos_bf16_ids.safetensors"],
                                    **numbers(np.abs(widened) > 0.3, keep, True))

    # 3. .npy [batch, feature] with uint16 tokens [batch].
    a = sparse((50, 24))
    t = tokens_for((50,), "<u2")
    np.save(os.path.join(OUT, "flat_f32.npy"), a)
    np.save(os.path.join(OUT, "flat_tokens.npy"), t)
    expected["flat_f32"] = dict(args=["-exclude-tokens", "0", "-tokens", "flat_tokens.npy", "flat_f32.npy"],
                                **numbers(a != 0, ~np.isin(t, [0]), False))

    # 4. safetensors [batch, component, feature] F32 with I64 tokens [batch].
    a = sparse((20, 3, 16))
    t = tokens_for((20,))
    with open(os.path.join(OUT, "comp_f32.safetensors"), "wb") as w:
        w.write(reference_layout({"acts": ("F32", a.shape, a.tobytes()), "tokens": ("I64", t.shape, t.tobytes())}))
    expected["comp_f32"] = dict(args=["-key", "acts", "-exclude-tokens", ex, "comp_f32.safetensors"],
                                **numbers(a != 0, ~np.isin(t, EXCLUDE), False))

    # 5. a top-k pair [batch, position, k] with -positions, I64 tokens.
    batch, positions, k, features = 4, 6, 5, 32
    idx = np.stack([np.stack([rng.choice(features - 2, size=k, replace=False) for _ in range(positions)]) for _ in range(batch)]).astype("<i8")
    vals = rng.standard_normal((batch, positions, k)).astype("<f4")
    vals[rng.random(vals.shape) < 0.25] = 0  # ReLU zeros among the top k
    t = tokens_for((batch, positions))
    with open(os.path.join(OUT, "topk_pos.safetensors"), "wb") as w:
        w.write(reference_layout({"indices": ("I64", idx.shape, idx.tobytes()), "values": ("F32", vals.shape, vals.tobytes()),
                                  "tokens": ("I64", t.shape, t.tobytes())}))
    dense = np.zeros((batch, positions, features), "<f4")
    for bb in range(batch):
        for p in range(positions):
            dense[bb, p, idx[bb, p]] = vals[bb, p]
    keep = ~np.isin(t, EXCLUDE)
    expected["topk_pos"] = dict(args=["-sparse", "indices,values", "-features", str(features), "-positions", "-exclude-tokens", ex, "topk_pos.safetensors"],
                                **numbers(dense != 0, keep, True))
    expected["topk_pos_all"] = dict(args=["-sparse", "indices,values", "-features", str(features), "-positions", "topk_pos.safetensors"],
                                    **numbers(dense != 0, np.ones_like(keep), True))

    # 6. a top-k pair [batch, k] without positions, U16 tokens [batch],
    # indices U16, no values (every entry counts).
    batch, k, features = 30, 4, 20
    idx = np.stack([rng.choice(features - 3, size=k, replace=False) for _ in range(batch)]).astype("<u2")
    t = tokens_for((batch,), "<u2")
    with open(os.path.join(OUT, "topk_flat.safetensors"), "wb") as w:
        w.write(reference_layout({"indices": ("U16", idx.shape, idx.tobytes()), "tokens": ("U16", t.shape, t.tobytes())}))
    dense = np.zeros((batch, features), "u1")
    for bb in range(batch):
        dense[bb, idx[bb]] = 1
    expected["topk_flat"] = dict(args=["-sparse", "indices", "-features", str(features), "-exclude-tokens", ex, "topk_flat.safetensors"],
                                 **numbers(dense != 0, ~np.isin(t, EXCLUDE), False))

    # Bad: tokens of another shape; tokens of a float dtype.
    np.save(os.path.join(OUT, "bad_tokens_shape.npy"), tokens_for((6, 8)))
    np.save(os.path.join(OUT, "bad_tokens_float.npy"), np.zeros((6, 9), "<f4"))

    with open(os.path.join(OUT, "expected.json"), "w") as w:
        json.dump(expected, w, indent=1, sort_keys=True)
        w.write("\n")


main()
