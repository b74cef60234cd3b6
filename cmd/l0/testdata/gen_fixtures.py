#!/usr/bin/python3
"""Writes the .npy and safetensors fixtures of cmd/l0's tests, and
expected.json beside each set (npy/ and safetensors/).

Run it from anywhere with Debian's numpy (apt-get install python3-numpy):

    /usr/bin/python3 cmd/l0/testdata/gen_fixtures.py

Every good fixture is written by numpy itself (np.save, or
np.lib.format.write_array for the 2.0 and 3.0 formats), and its expected
report is computed by numpy: the L0 norm as np.count_nonzero(a, axis=-1)
.sum(0) / batch (and (a > T), (np.abs(a) > T) for the thresholded L0s), the
feature counts as
np.count_nonzero(a, axis=0), from which the dead and dense features and the
log10 density histogram follow with l0's fixed bins. The bad fixtures are
numpy files with something l0 must reject, or hand-made byte strings, each
with the words its error message must contain.

The safetensors files (there is no safetensors package here) are laid out
by hand as the format's reference writer lays them out, as
internal/safetensors/testdata/gen_fixtures.py does: the header JSON without
spaces, tensors sorted by dtype (descending, in the order of the
reference's Dtype enum) then name, padded with spaces to a multiple of 8
bytes, the data in the same order; one file as older writers left them (no
padding, unaligned data). BF16, which numpy lacks, is held as uint16 bit
patterns (float32 truncated) and counted widened exactly to float32. Their
expectations add the per-position reports of -positions and
-skip-positions 1 ("positions"), and the totals of shards ("totals"), with
SAELens' sparsity, log10(density + 1e-10) as float32, of each.
"""

import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "npy")
ST = os.path.join(HERE, "safetensors")
THRESHOLD = 0.5  # the -threshold and -abs-threshold of the thresholded expectations
DENSE = 0.1  # the default -dense
HIST_MIN, HIST_WIDTH, HIST_BINS = -8.0, 0.5, 16  # metric.Histogram's bins

rng = np.random.default_rng(20261127)
expected = {}


def sparse(shape, dtype, density=0.3):
    """Random activations of the dtype, about density non-zero, with the
    type's edge values sprinkled in."""
    dtype = np.dtype(dtype)
    mask = rng.random(shape) < density
    if dtype.kind == "f":
        a = rng.exponential(1.0, shape).astype(dtype)
        a[rng.random(shape) < 0.2] *= -1
        # Elements that must count: NaN, ±Inf, the smallest subnormal; and
        # -0, which must not. count_nonzero decides for numpy.
        edge = np.array([np.nan, np.inf, -np.inf, np.finfo(dtype).smallest_subnormal, -0.0], dtype)
        flat = a.reshape(-1)
        flat[rng.choice(flat.size, size=min(flat.size, len(edge)), replace=False)] = edge[: min(flat.size, len(edge))]
    elif dtype.kind == "b":
        a = np.ones(shape, dtype)
    else:
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
        a[a == 0] = 1
        flat = a.reshape(-1)
        flat[: min(flat.size, 2)] = [info.min, info.max][: min(flat.size, 2)]
    a = np.where(mask, a, np.zeros((), dtype))
    # A feature that fires in every vector, and one that never does.
    a[..., 0] = np.where(a[..., 0] == 0, np.ones((), dtype), a[..., 0])
    a[..., -1] = 0
    return a


def histogram(fired, batch):
    """The bins of the features that fired in fired[i] of batch vectors,
    decided exactly, in Python's integers: the density c/N reaches the edge
    10^e, e = -p/2, when c^2 * 10^p >= N^2."""
    counts, underflow, dead = [0] * HIST_BINS, 0, 0

    def reaches(c, k):
        p = round(-2 * (HIST_MIN + k * HIST_WIDTH))
        return c * c * 10**p >= batch * batch

    for c in fired:
        c = int(c)
        if c == 0:
            dead += 1
            continue
        if not reaches(c, 0):
            underflow += 1
            continue
        k = HIST_BINS - 1
        while k > 0 and not reaches(c, k):
            k -= 1
        counts[k] += 1
    return {"counts": counts, "underflow": underflow, "dead": dead}


def expect(a):
    """The report numpy computes for the array a."""
    batch = a.shape[0]
    l0 = (np.count_nonzero(a, axis=-1).sum(0) / batch).tolist()
    fired = np.count_nonzero(a, axis=0).reshape(-1)  # per (component, feature)
    density = fired / batch
    slots = a.shape[1] if a.ndim == 3 else 1
    per = density.reshape(slots, -1)
    e = {
        "shape": list(a.shape),
        "vectors": batch,
        "l0": l0,
        "dead": (per == 0).sum(axis=1).tolist(),
        "dense": (per > DENSE).sum(axis=1).tolist(),
        "histogram": histogram(fired, batch),
    }
    if a.dtype.kind == "f":
        e["l0_above"] = (np.count_nonzero(a > THRESHOLD, axis=-1).sum(0) / batch).tolist()
        e["l0_abs_above"] = (np.count_nonzero(np.abs(a) > THRESHOLD, axis=-1).sum(0) / batch).tolist()
    if a.ndim == 2:
        for key in ("l0", "l0_above", "l0_abs_above", "dead", "dense"):
            if key in e and isinstance(e[key], list):
                e[key] = e[key][0] if key in ("dead", "dense") else e[key]
    return e


def save(name, a, version=None, **extra):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, a)
        else:
            np.lib.format.write_array(f, a, version=version)
    e = expect(a)
    e["dtype"] = np.lib.format.dtype_to_descr(a.dtype)
    e.update(extra)
    expected[name] = e


def empty_expectation(shape, descr, components):
    """The report of an array of vectors of no features: L0 0, no feature
    dead or dense, an empty histogram."""
    slots = shape[1] if components else None
    zero = lambda v: [v] * slots if components else v
    e = {
        "shape": shape,
        "dtype": descr,
        "vectors": shape[0],
        "l0": zero(0.0),
        "dead": zero(0),
        "dense": zero(0),
        "histogram": {"counts": [0] * HIST_BINS, "underflow": 0, "dead": 0},
    }
    if descr[1] == "f":
        e["l0_above"] = zero(0.0)
        e["l0_abs_above"] = zero(0.0)
    return e


def save_as_is(name, a, e):
    """Saves a with numpy, with the expectation e made by hand."""
    np.save(os.path.join(OUT, name), a)
    expected[name] = e


def bad(name, data, error):
    """A file l0 must reject with an error message containing error."""
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    expected[name] = {"error": error}


def bad_array(name, a, error, **kw):
    path = os.path.join(OUT, name)
    np.save(path, a, **kw)
    expected[name] = {"error": error}


def raw(header, payload=b"", version=(1, 0)):
    """A .npy file from a header dict text, padded as numpy pads it."""
    text = header.encode("latin1")
    lenfmt = "<H" if version[0] == 1 else "<I"
    pre = b"\x93NUMPY" + bytes(version)
    total = len(pre) + struct.calcsize(lenfmt) + len(text) + 1
    text += b" " * (-total % 64) + b"\n"
    return pre + struct.pack(lenfmt, len(text)) + text + payload


def main_npy():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    dtypes = ["<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|b1"]
    for dt in dtypes:
        tag = np.dtype(dt).name
        save(f"{tag}_2d.npy", sparse((37, 19), dt))
        save(f"{tag}_3d.npy", sparse((23, 3, 11), dt))

    # The other format versions, and sizes at the edges.
    save("v2_f4_3d.npy", sparse((9, 2, 5), "<f4"), version=(2, 0))
    save("v3_i2_2d.npy", sparse((9, 7), "<i2"), version=(3, 0))
    save("one_vector.npy", sparse((1, 8), "<f4"))
    save("one_feature.npy", sparse((12, 2, 1), "<u2"))
    save("dense_all.npy", np.full((5, 4), 7, "<i4"))
    save("zeros.npy", np.zeros((6, 2, 3), "<f8"))
    # Vectors of no features are vectors: their L0 is 0, as the metric has it.
    save("zero_features.npy", np.zeros((5, 0), "<f4"))
    save("zero_features_3d.npy", np.zeros((4, 2, 0), "<i2"))
    # Many vectors of few features, and few of many: more rows than a
    # small buffer holds, and rows longer than one.
    save("tall_u1.npy", sparse((3000, 2, 3), "|u1", density=0.02))
    save("wide_f4.npy", sparse((3, 1500), "<f4", density=0.01))

    # Descrs numpy reads but does not write: native '=' and no byte order,
    # and byte orders on one-byte types.
    a = sparse((10, 6), "<f4")
    for name, descr in [("native_eq_f4.npy", "=f4"), ("native_bare_f4.npy", "f4")]:
        payload = a.tobytes()
        data = raw("{'descr': '%s', 'fortran_order': False, 'shape': (10, 6), }" % descr, payload)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        check = np.load(os.path.join(OUT, name))
        assert check.dtype == np.float32 and np.array_equal(check, a, equal_nan=True)
        e = expect(a)
        e["dtype"] = descr
        expected[name] = e
    b = sparse((8, 5), "|i1")
    for name, descr in [("lt_i1.npy", "<i1"), ("gt_u1.npy", ">u1")]:
        c = b.view(descr[1] + "1")
        data = raw("{'descr': '%s', 'fortran_order': False, 'shape': (8, 5), }" % descr, c.tobytes())
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        assert np.array_equal(np.load(os.path.join(OUT, name)), c)
        e = expect(c)
        e["dtype"] = descr
        expected[name] = e

    # Arrays l0 rejects.
    bad_array("rank1.npy", np.ones(5, "<f4"), "rank 1")
    bad_array("rank4.npy", np.ones((2, 2, 2, 2), "<f4"), "rank 4")
    bad_array("scalar.npy", np.float32(1), "scalar")
    bad_array("fortran.npy", np.asfortranarray(sparse((4, 3), "<f4")), "Fortran")
    bad_array("big_endian.npy", sparse((4, 3), "<f4").astype(">f4"), "big-endian")
    bad_array("complex.npy", np.ones((4, 3), "<c8"), '"<c8"')
    bad_array("unicode.npy", np.array([["ab", "c"]], "<U2"), '"<U2"')
    bad_array("structured.npy", np.zeros((3, 2), [("x", "<f4"), ("y", "<i4")]), "structured")
    bad_array("object.npy", np.array([[1, None]], dtype=object), '"|O"', allow_pickle=True)
    bad_array("zero_vectors.npy", np.zeros((0, 5), "<f4"), "no vectors")
    bad_array("zero_components.npy", np.zeros((5, 0, 3), "<f4"), "no components")

    good = open(os.path.join(OUT, "float32_2d.npy"), "rb").read()
    bad("truncated_payload.npy", good[:-3], "truncated")
    bad("truncated_header.npy", good[:40], "truncated")
    bad("trailing.npy", good + b"\0\0\0\0", "bytes after the array data")
    bad("empty.npy", b"", "truncated")
    bad("not_npy.npy", b"just some text, not an array\n", "magic")
    bad("version4.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", b"\0" * 4, (4, 0)), "version 4.0")
    bad("no_newline_garbage.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',", "header")
    bad("missing_key.npy", raw("{'descr': '<f4', 'shape': (1, 1), }", b"\0" * 4), "fortran_order")
    bad("extra_key.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), 'x': 1, }", b"\0" * 4), "unexpected key")
    bad("negative_dim.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 4), }"), "negative")
    bad("huge_dims.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }"), "2^63")
    bad("huge_dim.npy", raw("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999, 4), }"), "64 bits")
    bad("huge_claim.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1099511627776), }", b"\0" * 64), "truncated")
    bad("header_len_4g.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'", "header of 4294967295 bytes")
    bad("shape_not_tuple.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", b"\0" * 16), "not a tuple")
    bad("deep_nesting.npy", raw("{'descr': " + "(" * 100 + "}"), "nested")
    # Added after the others, so that they draw the same random numbers.
    # Rows of no bytes and a batch of 2^62: reported in time and memory
    # that follow the file's 128 bytes, not its 2^62 rows. numpy writes the
    # 2-D one (np.empty makes it without memory), but counts neither, so
    # the expectations are by hand; the 3-D one numpy refuses to load (its
    # non-zero dimensions make more than 2^63 elements), so it is written
    # as bytes.
    huge = 2**62
    save_as_is("empty_rows_2d.npy", np.empty((huge, 0), "|i1"), empty_expectation([huge, 0], "|i1", False))
    empty3 = raw("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 3, 0), }" % huge)
    with open(os.path.join(OUT, "empty_rows_3d.npy"), "wb") as f:
        f.write(empty3)
    expected["empty_rows_3d.npy"] = empty_expectation([huge, 3, 0], "<f4", True)
    # Many components: more than the text report lists one by one.
    save("many_components.npy", sparse((6, 20, 3), "|u1", density=0.5))
    # Python (and so numpy) refuses leading zeros: "Cannot parse header".
    bad("leading_zeros.npy", raw("{'descr': '<f4', 'fortran_order': False, 'shape': (02, 3), }", b"\0" * 24), "leading zero")
    # Rows of more than 2^63 bytes, though the batch is empty.
    bad("huge_rows.npy", raw("{'descr': '|u1', 'fortran_order': False, 'shape': (0, 2305843009213693953, 4), }"), "2^63")
    # Components past the metrics' limit, and more components of no
    # features than the file's bytes pay for; numpy writes (and loads) both.
    bad_array("huge_components.npy", np.empty((1, huge, 0), "|u1"), "at most 16777216")
    bad_array("featureless_components.npy", np.empty((1, 100000, 0), "|u1"), "components without features")

    # One line per file, so that a regenerated fixture is a one-line diff.
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        f.write('{"threshold": %s, "dense": %s, "files": {\n' % (json.dumps(THRESHOLD), json.dumps(DENSE)))
        f.write(",\n".join("%s: %s" % (json.dumps(k), json.dumps(v, sort_keys=True)) for k, v in sorted(expected.items())))
        f.write("\n}}\n")


# The safetensors fixtures. Their own generator, so that the .npy files
# above keep drawing the same numbers.
st_rng = np.random.default_rng(20261212)
st_expected = {}
st_totals = {}

# The reference's Dtype enum, in its order: the writer sorts by it,
# descending.
ST_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
            "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
ST_NUMPY = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "|i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "|u1", "BOOL": "|b1",
}


def st_sparse(shape, st, density=0.3):
    """Random activations of the safetensors dtype st, as sparse() makes
    them; BF16 as the top halves of float32 activations, with its edge
    patterns (NaN, ±Inf, the smallest subnormal, -0) sprinkled in."""
    global rng
    saved, rng = rng, st_rng
    try:
        if st == "BF16":
            f = sparse(shape, "<f4", density)
            a = (f.view("<u4") >> 16).astype("<u2")
            edge = np.array([0x7FC0, 0x7F80, 0xFF80, 0x0001, 0x8000], "<u2")
            flat = a.reshape(-1)
            k = min(flat.size, len(edge))
            flat[st_rng.choice(flat.size, size=k, replace=False)] = edge[:k]
            return a
        return sparse(shape, ST_NUMPY[st], density)
    finally:
        rng = saved


def st_numeric(st, a):
    """The array numpy counts: BF16 patterns widened exactly to float32."""
    if st == "BF16":
        return (a.astype("<u4") << 16).view("<f4")
    return a


def reference_layout(tensors, metadata=None, pad=True):
    """The bytes of a file of tensors, name -> (dtype, shape, bytes), laid
    out as the reference writer does (pad=False: without the padding)."""
    names = sorted(tensors, key=lambda n: (-ST_ORDER.index(tensors[n][0]), n))
    header, offset, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    for n in names:
        dtype, shape, raw = tensors[n]
        header[n] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def expect_positions(a, skip):
    """The report of a [batch, position, feature] array read with
    -positions -skip-positions skip."""
    batch, positions, features = a.shape
    kept = a[:, skip:, :]
    vectors = batch * (positions - skip)
    flat = kept.reshape(vectors, features)
    fired = np.count_nonzero(flat, axis=0)
    density = fired / vectors
    return {
        "vectors": vectors,
        "l0": float(np.count_nonzero(flat) / vectors),
        "l0_by_position": (np.count_nonzero(kept, axis=-1).sum(0) / batch).tolist(),
        "dead": int((density == 0).sum()),
        "dense": int((density > DENSE).sum()),
        "histogram": histogram(fired, vectors),
    }


def st_file(name, tensors, read=None, metadata=None, pad=True, positions=False):
    """Writes a safetensors file of tensors, name -> (dtype, array), and
    the expectation of the one l0 reads (read, or the only one)."""
    raw = {t: (st, a.shape, np.ascontiguousarray(a).tobytes()) for t, (st, a) in tensors.items()}
    data = reference_layout(raw, metadata, pad)
    with open(os.path.join(ST, name), "wb") as f:
        f.write(data)
    key = read or next(iter(tensors))
    st, a = tensors[key]
    e = expect(st_numeric(st, a))
    e["dtype"] = st
    e["tensor"] = key
    if read is not None:
        e["key"] = read
    if positions:
        n = st_numeric(st, a)
        e["positions"] = {str(skip): expect_positions(n, skip) for skip in (0, 1)}
    st_expected[name] = e
    return data


def st_bad(name, data, error, key=None, stream_error=None):
    """A file l0 must reject with an error containing error (and, read as
    a stream of unknown size, stream_error where that differs)."""
    with open(os.path.join(ST, name), "wb") as f:
        f.write(data)
    st_expected[name] = {"error": error}
    if key is not None:
        st_expected[name]["key"] = key
    if stream_error is not None:
        st_expected[name]["stream_error"] = stream_error


def st_total(name, files, arrays, st):
    """The total of shards: numpy's report of their rows together, and
    SAELens' sparsity of it."""
    a = st_numeric(st, np.concatenate(arrays))
    e = expect(a)
    batch = a.shape[0]
    fired = np.count_nonzero(a, axis=0).reshape(-1)
    sparsity = np.log10(fired / batch + 1e-10).astype("<f4")
    e["files"] = files
    e["sparsity_shape"] = list(a.shape[1:])
    e["sparsity"] = sparsity.tolist()
    st_totals[name] = e


def main_safetensors():
    os.makedirs(ST, exist_ok=True)
    for f in os.listdir(ST):
        os.remove(os.path.join(ST, f))
    for st in ST_NUMPY:
        st_file(f"{st}_2d.safetensors", {"x": (st, st_sparse((29, 13), st))})
        st_file(f"{st}_3d.safetensors", {"x": (st, st_sparse((17, 3, 7), st))})
    # SAELens before v4: {i}.safetensors, "activations" [n_tokens, 1, d].
    st_file("saelens_activations.safetensors", {"activations": ("F32", st_sparse((64, 1, 24), "F32"))})
    # OpenMOSS Language-Model-SAEs: "activation" [samples, context, d] and
    # "tokens" [samples, context]: two tensors of rank 2 or 3, so -key.
    st_file("openmoss_chunk.safetensors", {
        "activation": ("BF16", st_sparse((6, 9, 20), "BF16")),
        "tokens": ("I64", st_rng.integers(0, 50257, size=(6, 9), dtype="<i8")),
    }, read="activation", positions=True)
    # Token positions: the first position (BOS) fires far more.
    a = st_sparse((10, 12, 16), "F32", density=0.2)
    a[:, 0, :] = st_sparse((10, 16), "F32", density=0.9)
    a[:, :, -1] = 0
    st_file("positions.safetensors", {"acts": ("F32", a)}, positions=True)
    # The one tensor of rank 2 or 3 among others, and metadata.
    st_file("one_candidate.safetensors", {
        "acts": ("F16", st_sparse((11, 9), "F16")),
        "bias": ("F32", st_sparse((9,), "F32")),
        "step": ("I64", np.array(7, "<i8")),
        "scales": ("F8_E4M3", np.zeros((3, 3), "|u1")),
    }, read=None, metadata={"format": "pt"})
    st_expected["one_candidate.safetensors"]["tensor"] = "acts"
    # An older writer: no padding, and so data not aligned for its floats.
    st_file("unaligned.safetensors", {"x": ("F32", st_sparse((21, 5), "F32"))}, pad=False)
    # 2^62 vectors of no features, and of 3 components of no features.
    huge = 1 << 62
    for name, st, shape, comps in [("empty_rows_2d.safetensors", "F32", [huge, 0], False),
                                   ("empty_rows_3d.safetensors", "BF16", [huge, 3, 0], True)]:
        data = reference_layout({"x": (st, shape, b"")})
        with open(os.path.join(ST, name), "wb") as f:
            f.write(data)
        e = empty_expectation(shape, "<f4", comps)
        e["dtype"], e["tensor"] = st, "x"
        st_expected[name] = e
    # Shards of one dataset: a total, in BF16 (also as one 3-D total).
    shards = [st_sparse((n, 20), "BF16", density=0.1) for n in (30, 17, 41)]
    names = []
    for i, s in enumerate(shards):
        names.append(f"shard_{i}.safetensors")
        st_file(names[-1], {"activations": ("BF16", s)})
    st_total("bf16_shards", names, shards, "BF16")
    shards = [st_sparse((n, 2, 6), "F32", density=0.2) for n in (9, 14)]
    names = []
    for i, s in enumerate(shards):
        names.append(f"comp_shard_{i}.safetensors")
        st_file(names[-1], {"acts": ("F32", s)})
    st_total("f32_component_shards", names, shards, "F32")

    # Files l0 rejects; the reader's own rules are internal/safetensors'
    # fixtures, which the tests run l0 on too.
    good = open(os.path.join(ST, "F32_2d.safetensors"), "rb").read()
    st_bad("two_candidates.safetensors", open(os.path.join(ST, "openmoss_chunk.safetensors"), "rb").read(),
           '2 tensors of rank 2 or 3 of a dtype l0 counts: pick one with -key NAME; the file holds 2: "tokens" I64 [6, 9], "activation" BF16 [6, 9, 20]')
    st_bad("no_candidate.safetensors", reference_layout({"b": ("F32", [4], b"\0" * 16), "s": ("F8_E4M3", [2, 2], b"\0" * 4)}),
           'no tensor of rank 2 or 3 of a dtype l0 counts: pick one with -key NAME; the file holds 2: "b" F32 [4], "s" F8_E4M3 [2, 2] (a dtype l0 does not count)')
    st_bad("f8_key.safetensors", reference_layout({"s": ("F8_E4M3", [2, 2], b"\0" * 4)}),
           'tensor "s" is F8_E4M3 [2, 2]', key="s")
    st_bad("c64_key.safetensors", reference_layout({"c": ("C64", [2, 2], b"\0" * 32)}), 'tensor "c" is C64 [2, 2]', key="c")
    st_bad("missing_key.safetensors", good, 'no tensor "nope" (-key); the file holds 1: "x" F32 [29, 13]', key="nope")
    st_bad("rank1_key.safetensors", reference_layout({"b": ("F32", [4], b"\0" * 16)}), "rank 1", key="b")
    st_bad("rank4.safetensors", reference_layout({"b": ("F32", [1, 1, 1, 1], b"\0" * 4)}), "no tensor of rank 2 or 3")
    st_bad("rank4_key.safetensors", reference_layout({"b": ("F32", [1, 1, 1, 1], b"\0" * 4)}), "rank 4", key="b")
    st_bad("zero_vectors.safetensors", reference_layout({"x": ("F32", [0, 5], b"")}), "no vectors")
    st_bad("truncated.safetensors", good[:-5], "truncated data: the header describes 1508 bytes of data, the file holds 1503",
           stream_error="truncated data: tensor \"x\": the file ends 1503 bytes into the 1508 bytes of rows 0 to 29")
    st_bad("truncated_in_header.safetensors", good[:40], "truncated data: the header length", stream_error="the file ends in the header")
    st_bad("trailing.safetensors", good + b"\0", "bytes after the tensor data")
    claim = b'{"x":{"dtype":"F32","shape":[1,1099511627776],"data_offsets":[0,4398046511104]}}'
    st_bad("huge_claim.safetensors", struct.pack("<Q", len(claim)) + claim + b"\0" * 64, "describes 4398046511104 bytes of data",
           stream_error="more (component, feature) pairs than l0 counts")
    st_bad("huge_header_claim.safetensors", struct.pack("<Q", 99_999_992) + b'{"x":' + b" " * 120, "past the end of the file",
           stream_error="the file ends in the header (125 of 99999992 bytes)")
    st_bad("header_over_cap.safetensors", struct.pack("<Q", 100_000_008) + b"{}      ", "at most 100000000")
    st_bad("featureless_components.safetensors", reference_layout({"x": ("U8", [1, 100000, 0], b"")}),
           "components without features")

    with open(os.path.join(ST, "expected.json"), "w") as f:
        f.write('{"threshold": %s, "dense": %s, "files": {\n' % (json.dumps(THRESHOLD), json.dumps(DENSE)))
        f.write(",\n".join("%s: %s" % (json.dumps(k), json.dumps(v, sort_keys=True)) for k, v in sorted(st_expected.items())))
        f.write('\n}, "totals": {\n')
        f.write(",\n".join("%s: %s" % (json.dumps(k), json.dumps(v, sort_keys=True)) for k, v in sorted(st_totals.items())))
        f.write("\n}}\n")


main_npy()
main_safetensors()
