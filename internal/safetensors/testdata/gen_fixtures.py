#!/usr/bin/python3
"""Writes the safetensors fixtures of internal/safetensors' tests, and
expected.json beside them.

Run it from anywhere with Debian's numpy (apt-get install python3-numpy):

    /usr/bin/python3 internal/safetensors/testdata/gen_fixtures.py

There is no safetensors package here, so the files are laid out by hand as
the format's reference writer (huggingface/safetensors, tensor.rs `prepare`)
lays them out: the 8-byte little-endian header length; the header JSON
without spaces (serde_json's compact form, which json.dumps with
separators=(",", ":") and ensure_ascii=False reproduces, escapes included),
"__metadata__" first, tensors sorted by dtype, descending in the order of
the reference's Dtype enum, then by name; the header padded with spaces to a
multiple of 8 bytes; then the data in that order. One fixture is laid out
as older writers did (no padding, unaligned data, any order).

good/ holds valid files. expected.json gives, per tensor, what numpy says:
dtype, shape, offsets, and np.count_nonzero of the whole tensor and of each
row (BF16, which numpy lacks, is widened exactly to float32 first).
bad/ holds files a strict reader rejects, each with the sentinel error and
the words its message must contain, when the file's size is known ("error",
"contains") and, where it differs, when it is read as a stream of unknown
size ("stream_error", "stream_contains").
"""

import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GOOD = os.path.join(HERE, "good")
BAD = os.path.join(HERE, "bad")

# The reference's Dtype enum, in its order: the writer sorts by it,
# descending. Bits per element.
DTYPES = [
    ("BOOL", 8), ("F4", 4), ("F6_E2M3", 6), ("F6_E3M2", 6), ("U8", 8), ("I8", 8),
    ("F8_E5M2", 8), ("F8_E4M3", 8), ("F8_E8M0", 8), ("F8_E4M3FNUZ", 8), ("F8_E5M2FNUZ", 8),
    ("I16", 16), ("U16", 16), ("F16", 16), ("BF16", 16), ("I32", 32), ("U32", 32),
    ("F32", 32), ("C64", 64), ("F64", 64), ("I64", 64), ("U64", 64),
]
RANK = {name: i for i, (name, _) in enumerate(DTYPES)}
BITS = dict(DTYPES)

# numpy's dtype for each readable safetensors dtype; BF16 is held as its
# uint16 bit patterns.
NUMPY = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "|i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "|u1", "BOOL": "|b1",
}

rng = np.random.default_rng(20261211)
expected = {"good": {}, "bad": {}}


def sparse(shape, st, density=0.3):
    """Random activations of the safetensors dtype st, about density
    non-zero, with the type's edge values sprinkled in."""
    if st == "BF16":
        f = sparse(shape, "F32", density)
        a = (f.view("<u4") >> 16).astype("<u2")  # truncated to bfloat16
        # Edge patterns: NaN, ±Inf, the smallest subnormal, and -0, which
        # must not count.
        edge = np.array([0x7FC0, 0x7F80, 0xFF80, 0x0001, 0x8000], "<u2")
        flat = a.reshape(-1)
        k = min(flat.size, len(edge))
        flat[rng.choice(flat.size, size=k, replace=False)] = edge[:k]
        return a
    dtype = np.dtype(NUMPY[st])
    mask = rng.random(shape) < density
    if dtype.kind == "f":
        a = rng.exponential(1.0, shape).astype(dtype)
        a[rng.random(shape) < 0.2] *= -1
        edge = np.array([np.nan, np.inf, -np.inf, np.finfo(dtype).smallest_subnormal, -0.0], dtype)
        flat = a.reshape(-1)
        k = min(flat.size, len(edge))
        flat[rng.choice(flat.size, size=k, replace=False)] = edge[:k]
    elif dtype.kind == "b":
        a = np.ones(shape, dtype)
    else:
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
        a[a == 0] = 1
        flat = a.reshape(-1)
        flat[: min(flat.size, 2)] = [info.min, info.max][: min(flat.size, 2)]
    a = np.where(mask, a, np.zeros((), dtype))
    if a.ndim >= 1 and a.shape[-1] > 0:
        # A feature that fires in every vector, and one that never does.
        a[..., 0] = np.where(a[..., 0] == 0, np.ones((), dtype), a[..., 0])
        a[..., -1] = 0
    return a


def numeric(st, a):
    """The array numpy counts: BF16 patterns widened exactly to float32."""
    if st == "BF16":
        return (a.astype("<u4") << 16).view("<f4")
    return a


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def reference_layout(tensors, metadata=None):
    """The bytes of a file of tensors, a dict name -> (dtype, shape, data
    bytes), laid out as the reference writer does."""
    names = sorted(tensors, key=lambda n: (-RANK[tensors[n][0]], n))
    header, offset, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    for n in names:
        dtype, shape, raw = tensors[n]
        header[n] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = compact(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def record(name, tensors, arrays, data, metadata=None):
    """Adds a good file's expectations: numpy's counts per tensor."""
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    e = {"header_bytes": n, "tensors": {}}
    if metadata is not None:
        e["metadata"] = metadata
    for t, (dtype, shape, raw) in tensors.items():
        info = {"dtype": dtype, "shape": list(shape), "data_offsets": header[t]["data_offsets"]}
        if t in arrays:
            a = numeric(dtype, arrays[t])
            info["nonzero"] = int(np.count_nonzero(a))
            if a.ndim >= 1:
                info["row_nonzero"] = [int(np.count_nonzero(r)) for r in a] if a.shape[0] <= 4096 else None
        e["tensors"][t] = info
    # The order of the data, as a reader sorts the entries.
    # (Python's sort is stable: ties stay in the header's order.)
    e["order"] = sorted([t for t in header if t != "__metadata__"], key=lambda t: tuple(header[t]["data_offsets"]))
    expected["good"][name] = e


def good(name, arrays, metadata=None, shapes=None):
    """A valid file of numpy arrays, each a (dtype, array) pair, in the
    reference layout."""
    tensors = {t: (st, a.shape, np.ascontiguousarray(a).tobytes()) for t, (st, a) in arrays.items()}
    for t, (st, shape) in (shapes or {}).items():  # claimed shapes of no data
        tensors[t] = (st, shape, b"")
    data = reference_layout(tensors, metadata)
    with open(os.path.join(GOOD, name), "wb") as f:
        f.write(data)
    record(name, tensors, {t: a for t, (st, a) in arrays.items()}, data, metadata)
    return data


def raw_file(header_text, data=b"", length=None):
    """A file from a header text (str or bytes) as is, no padding."""
    if isinstance(header_text, str):
        header_text = header_text.encode("utf-8")
    n = len(header_text) if length is None else length
    return struct.pack("<Q", n) + header_text + data


def padded(header_text, data=b""):
    if isinstance(header_text, str):
        header_text = header_text.encode("utf-8")
    return raw_file(header_text + b" " * (-len(header_text) % 8), data)


def bad(name, data, error, contains, stream_error=None, stream_contains=None):
    with open(os.path.join(BAD, name), "wb") as f:
        f.write(data)
    e = {"error": error, "contains": contains}
    if stream_error is not None:
        e["stream_error"] = stream_error
    if stream_contains is not None:
        e["stream_contains"] = stream_contains
    expected["bad"][name] = e


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def main():
    for d in (GOOD, BAD):
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))

    # Every readable dtype, rank 2 and rank 3, in one file: the writer's
    # order by dtype shows in it.
    arrays = {}
    for st in NUMPY:
        arrays[f"{st}_2d"] = (st, sparse((7, 5), st))
        arrays[f"{st}_3d"] = (st, sparse((4, 3, 6), st))
    good("dtypes.safetensors", arrays)

    # SAELens (before v4) cached activations as {i}.safetensors, one tensor
    # "activations" [n_tokens, 1, d].
    good("saelens_activations.safetensors", {"activations": ("F32", sparse((48, 1, 16), "F32"))})
    # OpenMOSS Language-Model-SAEs: chunk-N.safetensors, "activation"
    # [samples, context, d] and "tokens" [samples, context].
    tokens = rng.integers(0, 50257, size=(4, 8), dtype="<i8")
    good("openmoss_chunk.safetensors", {
        "activation": ("BF16", sparse((4, 8, 16), "BF16")),
        "tokens": ("I64", tokens),
    })
    # SAELens' sparsity.safetensors: "sparsity", F32, log10(density + 1e-10)
    # per feature ([d_sae], or [components, d_sae]); dead features give -10.
    acts = sparse((64, 24), "F32", density=0.1)
    density = np.count_nonzero(acts, axis=0) / acts.shape[0]
    good("sparsity.safetensors", {"sparsity": ("F32", np.log10(density + 1e-10).astype("<f4"))})
    acts = sparse((64, 2, 24), "F32", density=0.1)
    density = np.count_nonzero(acts, axis=0) / acts.shape[0]
    good("sparsity_components.safetensors", {"sparsity": ("F32", np.log10(density + 1e-10).astype("<f4"))})

    # Rank 0 and empty tensors, and a file of nothing.
    good("scalar_empty.safetensors", {
        "scalar": ("F64", np.array(3.5, "<f8")),
        "empty_rows": ("F32", np.zeros((0, 5), "<f4")),
        "empty_features": ("I32", np.zeros((3, 0), "<i4")),
        "empty_3d": ("BF16", np.zeros((2, 0, 4), "<u2")),
        "x": ("U8", sparse((2, 2), "U8")),
    })
    good("no_tensors.safetensors", {})
    # A header claiming 2^62 rows of nothing, and 2^62 vectors of 3
    # components of no features: valid, and no more work than one row.
    good("huge_empty_rows.safetensors", {}, shapes={
        "x": ("F32", [1 << 62, 0]),
        "y": ("I8", [1 << 62, 3, 0]),
    })
    # Metadata, and names that need escaping or sort past ASCII.
    meta = {"format": "pt", "note": 'é ✓ "quoted" \\ back\nslash\t\x01', "empty": ""}
    good("metadata.safetensors", {
        "ä": ("F32", sparse((2, 3), "F32")),
        "a": ("F32", sparse((3, 3), "F32")),
        "a\x01": ("I8", sparse((2, 2), "I8")),
        "tab\tname": ("U8", sparse((1, 4), "U8")),
    }, metadata=meta)
    good("metadata_only.safetensors", {}, metadata={})

    # An older writer: no padding, JSON with spaces, entries in name order,
    # data in another order and unaligned (3 bytes first).
    a, b, c = sparse((3,), "U8"), sparse((4, 5), "F32"), sparse((3, 3), "F16")
    header = {
        "a_bytes": entry("U8", [3], 0, 3),
        "b": entry("F32", [4, 5], 3, 83),
        "c": entry("F16", [3, 3], 83, 101),
    }
    text = json.dumps(header)
    if len(text) % 8 == 0:
        text += " "  # not a multiple of 8, as older writers left it
    data = raw_file(text, a.tobytes() + b.tobytes() + c.tobytes())
    with open(os.path.join(GOOD, "unpadded_unaligned.safetensors"), "wb") as f:
        f.write(data)
    record("unpadded_unaligned.safetensors",
           {"a_bytes": ("U8", [3], a.tobytes()), "b": ("F32", [4, 5], b.tobytes()), "c": ("F16", [3, 3], c.tobytes())},
           {"a_bytes": a, "b": b, "c": c}, data)
    # Padding of JSON white space other than spaces, as the reference reads.
    x = sparse((2, 2), "I16")
    data = raw_file(compact({"x": entry("I16", [2, 2], 0, 8)}) + "\n\t\r ", x.tobytes())
    with open(os.path.join(GOOD, "whitespace_padding.safetensors"), "wb") as f:
        f.write(data)
    record("whitespace_padding.safetensors", {"x": ("I16", [2, 2], x.tobytes())}, {"x": x}, data)

    # Files a strict reader rejects.
    f32 = lambda shape, b, e: {"x": entry("F32", shape, b, e)}
    zeros = lambda n: b"\0" * n
    bad("empty_file.safetensors", b"", "ErrTruncated", "header length")
    bad("short_length.safetensors", b"\x10\0\0\0\0", "ErrTruncated", "header length")
    bad("header_past_file.safetensors", raw_file(b'{"x":{}}', length=1000), "ErrTruncated", "past the end of the file",
        stream_contains="ends in the header")
    bad("header_over_cap.safetensors", raw_file(b"{}      ", length=100_000_008), "ErrFormat", "at most 100000000")
    bad("header_length_max.safetensors", raw_file(b"{}      ", length=(1 << 64) - 1), "ErrFormat", "at most 100000000")
    bad("huge_header_claim.safetensors", raw_file(b'{"x":' + b" " * 120, length=99_999_992), "ErrTruncated",
        "past the end of the file", stream_contains="ends in the header")
    bad("not_utf8.safetensors", padded(b'{"x\xff":' + compact(entry("F32", [1], 0, 4)).encode() + b"}", zeros(4)),
        "ErrFormat", "not valid UTF-8")
    bad("overlong_utf8.safetensors", padded(b'{"\xc0\xaf":' + compact(entry("F32", [1], 0, 4)).encode() + b"}", zeros(4)),
        "ErrFormat", "not valid UTF-8")
    bad("leading_space.safetensors", padded(" {}"), "ErrFormat", "does not start with '{'")
    bad("not_object.safetensors", padded("[]"), "ErrFormat", "does not start with '{'")
    bad("empty_header.safetensors", raw_file(""), "ErrFormat", "does not start with '{'")
    bad("not_json.safetensors", padded('{"x":{"dtype":"F32",'), "ErrFormat", "not valid JSON")
    bad("json_syntax.safetensors", padded('{"x" 1}'), "ErrFormat", "not valid JSON")
    bad("single_quotes.safetensors", padded("{'x': 1}"), "ErrFormat", "not valid JSON")
    bad("after_object.safetensors", padded("{} x"), "ErrFormat", "goes on after its object")
    bad("two_objects.safetensors", padded("{}{}"), "ErrFormat", "goes on after its object")
    bad("nul_padding.safetensors", raw_file(b"{}\0\0\0\0\0\0"), "ErrFormat", "goes on after its object")
    bad("lone_surrogate.safetensors", padded('{"\\ud800x":' + compact(entry("F32", [1], 0, 4)) + "}", zeros(4)),
        "ErrFormat", "lone UTF-16 surrogate")
    bad("duplicate_name.safetensors",
        padded('{"x":%s,"x":%s}' % (compact(entry("F32", [1], 0, 4)), compact(entry("F32", [1], 4, 8))), zeros(8)),
        "ErrFormat", "appears twice")
    bad("duplicate_metadata.safetensors", padded('{"__metadata__":{},"__metadata__":{}}'), "ErrFormat", "appears twice")
    bad("duplicate_key_in_entry.safetensors",
        padded('{"x":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', zeros(4)),
        "ErrFormat", "appears twice in its entry")
    bad("duplicate_metadata_key.safetensors", padded('{"__metadata__":{"a":"1","a":"2"}}'), "ErrFormat",
        "__metadata__: the key \"a\" appears twice")
    bad("unknown_dtype.safetensors", padded(compact({"x": entry("F128", [1], 0, 16)}), zeros(16)), "ErrFormat", "unknown dtype")
    bad("lowercase_dtype.safetensors", padded(compact({"x": entry("f32", [1], 0, 4)}), zeros(4)), "ErrFormat", "unknown dtype")
    bad("dtype_not_string.safetensors", padded(compact({"x": entry(4, [1], 0, 4)}), zeros(4)), "ErrFormat", "not a string")
    for st, shape in [("C64", [2]), ("F8_E4M3", [4]), ("F8_E5M2", [4]), ("F8_E8M0", [4]), ("F8_E4M3FNUZ", [4]),
                      ("F8_E5M2FNUZ", [4]), ("F6_E2M3", [4]), ("F6_E3M2", [4]), ("F4", [2, 2])]:
        n = BITS[st] * int(np.prod(shape)) // 8
        bad(f"unsupported_{st}.safetensors", padded(compact({"x": entry(st, shape, 0, n)}), zeros(n)),
            "ErrUnsupported", f"unsupported dtype {st}")
    bad("sub_byte_misaligned.safetensors", padded(compact({"x": entry("F4", [3], 0, 2)}), zeros(2)), "ErrFormat",
        "do not fill whole bytes")
    bad("negative_dim.safetensors", padded(compact(f32([-1, 4], 0, 0))), "ErrFormat", "negative")
    bad("negative_zero_dim.safetensors", padded('{"x":{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}}'), "ErrFormat",
        "negative")
    bad("float_dim.safetensors", padded('{"x":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', zeros(8)), "ErrFormat",
        "not an integer")
    bad("exponent_dim.safetensors", padded('{"x":{"dtype":"F32","shape":[1e1],"data_offsets":[0,40]}}', zeros(40)),
        "ErrFormat", "not an integer")
    bad("string_dim.safetensors", padded(compact(f32(["2"], 0, 8)), zeros(8)), "ErrFormat", "not an integer")
    bad("null_dim.safetensors", padded(compact(f32([None], 0, 8)), zeros(8)), "ErrFormat", "not an integer")
    bad("dim_2_63.safetensors", padded(compact(f32([1 << 63], 0, 8)), zeros(8)), "ErrFormat", "2^63 or more")
    bad("dim_2_64.safetensors", padded(compact(f32([1 << 64], 0, 8)), zeros(8)), "ErrFormat", "2^63 or more")
    bad("shape_overflow.safetensors", padded(compact(f32([1 << 62, 4], 0, 0))), "ErrFormat", "2^63 bytes or more")
    bad("shape_overflow_u64.safetensors", padded(compact(f32([2, (1 << 64) - 2], 0, 16)), zeros(16)), "ErrFormat",
        "2^63 or more")
    bad("shape_overflow_then_zero.safetensors", padded(compact(f32([1 << 62, 1 << 62, 0], 0, 0))), "ErrFormat",
        "2^63 bytes or more")
    bad("shape_overflow_zero_first.safetensors", padded(compact(f32([0, 1 << 62, 1 << 62], 0, 0))), "ErrFormat",
        "2^63 bytes or more")
    bad("shape_not_list.safetensors", padded(compact(f32(4, 0, 16)), zeros(16)), "ErrFormat", "not a list")
    bad("shape_null.safetensors", padded(compact(f32(None, 0, 16)), zeros(16)), "ErrFormat", "not a list")
    bad("size_mismatch.safetensors", padded(compact(f32([2, 2], 0, 12)), zeros(12)), "ErrFormat", "hold 12 bytes")
    bad("begin_after_end.safetensors", padded(compact(f32([0], 16, 0)), zeros(16)), "ErrFormat", "begin after they end")
    bad("hole.safetensors",
        padded(compact({"a": entry("F32", [4], 0, 16), "b": entry("F32", [4], 20, 36)}), zeros(36)),
        "ErrFormat", "hole")
    bad("hole_at_start.safetensors", padded(compact(f32([4], 8, 24)), zeros(24)), "ErrFormat", "hole")
    bad("overlap.safetensors",
        padded(compact({"a": entry("F32", [4], 0, 16), "b": entry("F32", [4], 8, 24)}), zeros(24)),
        "ErrFormat", "overlap")
    bad("same_offsets.safetensors",
        padded(compact({"a": entry("F32", [4], 0, 16), "b": entry("I32", [4], 0, 16)}), zeros(16)),
        "ErrFormat", "overlap")
    bad("past_end.safetensors", padded(compact(f32([4], 0, 16)), zeros(8)), "ErrTruncated",
        "describes 16 bytes of data, the file holds 8", stream_contains="the file ends 8 bytes into")
    bad("past_end_of_other.safetensors",
        padded(compact({"a": entry("F32", [4], 0, 16), "b": entry("F32", [2], 16, 24)}), zeros(20)),
        "ErrTruncated", "describes 24 bytes of data, the file holds 20", stream_contains="the file ends")
    good_x = padded(compact(f32([2, 2], 0, 16)), np.arange(4, dtype="<f4").tobytes())
    bad("trailing_bytes.safetensors", good_x + b"PK\x03\x04", "ErrTrailing", "4 bytes follow",
        stream_contains="goes on after the data buffer")
    bad("truncated_data.safetensors", good_x[:-3], "ErrTruncated", "the file holds 13",
        stream_contains="ends 13 bytes into")
    bad("huge_shape_claim.safetensors",
        padded(compact(f32([1, 1 << 40], 0, 1 << 42)), zeros(64)), "ErrTruncated",
        "describes 4398046511104 bytes of data", stream_contains="ends 64 bytes into")
    bad("file_size_overflow.safetensors",
        padded(compact({"x": entry("U8", [(1 << 63) - 1], 0, (1 << 63) - 1)})), "ErrFormat", "2^63 bytes or more")
    bad("offset_2_63.safetensors", padded(compact(f32([0], 1 << 63, 1 << 63))), "ErrFormat", "2^63 or more")
    bad("offset_negative.safetensors", padded(compact(f32([1], -4, 0))), "ErrFormat", "negative")
    bad("offset_float.safetensors", padded('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', zeros(4)),
        "ErrFormat", "not an integer")
    bad("offsets_three.safetensors", padded('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', zeros(4)),
        "ErrFormat", "more than two values")
    bad("offsets_one.safetensors", padded('{"x":{"dtype":"F32","shape":[0],"data_offsets":[0]}}'),
        "ErrFormat", "not two")
    bad("offsets_not_list.safetensors", padded('{"x":{"dtype":"F32","shape":[0],"data_offsets":{"0":0}}}'),
        "ErrFormat", "not a list")
    bad("metadata_not_object.safetensors", padded('{"__metadata__":"pt"}'), "ErrFormat", "not an object of strings")
    bad("metadata_list.safetensors", padded('{"__metadata__":["a","b"]}'), "ErrFormat", "not an object of strings")
    bad("metadata_null.safetensors", padded('{"__metadata__":null}'), "ErrFormat", "__metadata__ is null")
    bad("metadata_number.safetensors", padded('{"__metadata__":{"epoch":1}}'), "ErrFormat", "not a string")
    bad("metadata_nested.safetensors", padded('{"__metadata__":{"a":{"b":"c"}}}'), "ErrFormat", "not a string")
    bad("metadata_deep.safetensors", padded('{"__metadata__":{"a":' + "[" * 2000 + "]" * 2000 + "}}"), "ErrFormat",
        "not a string")
    bad("entry_deep.safetensors", padded('{"x":' + "[" * 2000 + "]" * 2000 + "}"), "ErrFormat", "not an object")
    bad("entry_not_object.safetensors", padded('{"x":[0,4]}'), "ErrFormat", "not an object")
    bad("unknown_key.safetensors",
        padded('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offset":0}}', zeros(4)),
        "ErrFormat", 'unknown key "offset"')
    bad("missing_shape.safetensors", padded('{"x":{"dtype":"F32","data_offsets":[0,4]}}', zeros(4)), "ErrFormat",
        'no "shape"')
    bad("missing_dtype.safetensors", padded('{"x":{"shape":[1],"data_offsets":[0,4]}}', zeros(4)), "ErrFormat",
        'no "dtype"')
    bad("missing_offsets.safetensors", padded('{"x":{"dtype":"F32","shape":[1]}}', zeros(4)), "ErrFormat",
        'no "data_offsets"')

    # One line per file, so that a regenerated fixture is a one-line diff.
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        f.write("{\n")
        for i, kind in enumerate(("good", "bad")):
            f.write('"%s": {\n' % kind)
            items = sorted(expected[kind].items())
            f.write(",\n".join("%s: %s" % (json.dumps(k), json.dumps(v, sort_keys=True)) for k, v in items))
            f.write("\n}%s\n" % ("," if i == 0 else ""))
        f.write("}\n")


main()
