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

The top-k fixtures (sparse/, -sparse INDEX_KEY[,VALUE_KEY] -features D)
are pairs of index and value tensors, as a top-k SAE's encoder gives them,
each with its dense twin: the same activations put back in place
(np.put_along_axis), written too, so that the tests check l0 reports the
pair exactly as the twin; numpy's numbers are the twin's. Without values
the twin is the mask of the entries (BOOL), every one of which counts.
Their expected.json lists the runs (a file, -sparse, -features, the twin),
the totals of top-k and dense shards, and the bad files with the words of
their errors.
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


# The top-k fixtures: their own generator and directory, so that the ones
# above keep drawing the same numbers.
SP = os.path.join(HERE, "sparse")
sp_rng = np.random.default_rng(20270105)
sp_runs = {}
sp_totals = {}
sp_bad = {}


def topk_indices(batch, slots, k, features, dead=4):
    """Indices [batch, (slots,) k], each row's distinct (as torch.topk's):
    feature 0 in every row (a dense feature), the last dead features in
    none, the rest at random, in random order."""
    rows = batch * slots
    rest = 1 + np.argsort(sp_rng.random((rows, features - 1 - dead)), axis=-1)[:, : k - 1]
    idx = np.concatenate([np.zeros((rows, 1), np.int64), rest], axis=1)
    idx = np.take_along_axis(idx, np.argsort(sp_rng.random(idx.shape), axis=-1), axis=-1)
    return idx.reshape((batch, slots, k) if slots > 1 else (batch, k))


def topk_values(shape, zeros=0.25):
    """float32 values of a top-k batch: mostly positive, a quarter zero
    (+0 and -0: a ReLU's zeros among the top k), a few negative."""
    v = sp_rng.exponential(1.0, shape).astype("<f4") + np.float32(0.01)
    v[sp_rng.random(shape) < 0.1] *= -1
    z = sp_rng.random(shape) < zeros
    v[z] = np.where(sp_rng.random(shape) < 0.5, np.float32(0.0), np.float32(-0.0))[z]
    return v


def bf16(f):
    """float32 truncated to BF16 patterns, with the edge patterns (NaN, +Inf,
    the smallest subnormal, -0) sprinkled in."""
    a = (f.view("<u4") >> 16).astype("<u2")
    flat = a.reshape(-1)
    edge = np.array([0x7FC0, 0x7F80, 0x0001, 0x8000], "<u2")
    flat[sp_rng.choice(flat.size, size=len(edge), replace=False)] = edge
    return a


def densify(idx, vals, features, dtype):
    """The dense twin of a top-k pair: vals at idx along the last axis."""
    dense = np.zeros(idx.shape[:-1] + (features,), dtype)
    np.put_along_axis(dense, idx, vals, axis=-1)
    return dense


def sp_write(name, tensors):
    """Writes a safetensors file of tensors, name -> (dtype, array), in the
    reference layout."""
    raw = {t: (st, a.shape, np.ascontiguousarray(a).tobytes()) for t, (st, a) in tensors.items()}
    with open(os.path.join(SP, name), "wb") as f:
        f.write(reference_layout(raw))


def sp_run(run, name, sparse, features, twin, twin_st, dense, dtype):
    """A run l0 must report as the dense twin: numpy's numbers of dense."""
    e = expect(st_numeric(twin_st, dense))
    e.update({"file": name, "sparse": sparse, "features": features, "twin": twin, "dtype": dtype})
    sp_runs[run] = e


def sp_bad_file(name, tensors, sparse, features, error):
    sp_write(name, tensors)
    sp_bad[name] = {"file": name, "sparse": sparse, "features": features, "error": error}


def main_sparse():
    os.makedirs(SP, exist_ok=True)
    for f in os.listdir(SP):
        os.remove(os.path.join(SP, f))

    # I64 indices and BF16 values, [batch, k], beside another tensor; the
    # twin BF16, and the mask of the entries (BOOL) for the pair read
    # without values.
    D = 64
    idx = topk_indices(40, 1, 8, D)
    vals = bf16(topk_values(idx.shape))
    sp_write("topk_i64_bf16.safetensors", {"indices": ("I64", idx), "values": ("BF16", vals),
                                           "tokens": ("I64", sp_rng.integers(0, 50257, 40, dtype="<i8"))})
    dense = densify(idx, vals, D, "<u2")
    sp_write("dense_i64_bf16.safetensors", {"x": ("BF16", dense)})
    sp_run("i64_bf16", "topk_i64_bf16.safetensors", "indices,values", D, "dense_i64_bf16.safetensors", "BF16", dense, "BF16")
    mask = densify(idx, True, D, "|b1")
    sp_write("mask_i64.safetensors", {"x": ("BOOL", mask)})
    sp_run("i64_fired", "topk_i64_bf16.safetensors", "indices", D, "mask_i64.safetensors", "BOOL", mask, "uint8")

    # I32 indices and F32 values with components, [batch, components, k].
    D = 20
    idx = topk_indices(23, 3, 5, D).astype("<i4")
    vals = topk_values(idx.shape)
    sp_write("topk_i32_f32_3d.safetensors", {"idx": ("I32", idx), "val": ("F32", vals)})
    dense = densify(idx, vals, D, "<f4")
    sp_write("dense_i32_f32_3d.safetensors", {"x": ("F32", dense)})
    sp_run("i32_f32_3d", "topk_i32_f32_3d.safetensors", "idx,val", D, "dense_i32_f32_3d.safetensors", "F32", dense, "F32")

    # U16 indices alone: every entry counts.
    D = 50
    idx = topk_indices(31, 1, 6, D).astype("<u2")
    sp_write("topk_u16_fired.safetensors", {"indices": ("U16", idx)})
    mask = densify(idx, True, D, "|b1")
    sp_write("mask_u16.safetensors", {"x": ("BOOL", mask)})
    sp_run("u16_fired", "topk_u16_fired.safetensors", "indices", D, "mask_u16.safetensors", "BOOL", mask, "uint8")

    # Every index dtype and every value dtype, of the same numbers: values
    # that are multiples of 1/4, exact in all four, with NaN and ±Inf.
    D = 100
    idx = topk_indices(17, 1, 4, D)
    quarters = (sp_rng.integers(-16, 17, idx.shape) / 4).astype("<f4")
    quarters[sp_rng.random(idx.shape) < 0.25] = 0
    quarters.reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
    quarters = np.where((idx == 0) & (quarters == 0), np.float32(1.5), quarters)  # feature 0 dense
    tensors = {st.lower(): (st, idx.astype(ST_NUMPY[st])) for st in ["I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64"]}
    tensors.update({"f16": ("F16", quarters.astype("<f2")), "f32": ("F32", quarters), "f64": ("F64", quarters.astype("<f8")),
                    "bf16": ("BF16", (quarters.view("<u4") >> 16).astype("<u2"))})
    sp_write("topk_dtypes.safetensors", tensors)
    dense = densify(idx, quarters, D, "<f4")
    sp_write("dense_dtypes.safetensors", {"x": ("F32", dense)})
    mask = densify(idx, True, D, "|b1")
    sp_write("mask_dtypes.safetensors", {"x": ("BOOL", mask)})
    for i in ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"]:
        for v in ["f16", "bf16", "f32", "f64"]:
            sp_run(f"dtypes_{i}_{v}", "topk_dtypes.safetensors", f"{i},{v}", D, "dense_dtypes.safetensors", "F32", dense, v.upper())
        sp_run(f"dtypes_{i}", "topk_dtypes.safetensors", i, D, "mask_dtypes.safetensors", "BOOL", mask, "uint8")

    # 2^62 vectors of no entries (k = 0), and of 3 components of none:
    # reported at once, every feature dead. No twin: by hand.
    huge = 1 << 62
    for name, shape, features in [("empty_rows_2d.safetensors", [huge, 0], 16), ("empty_rows_3d.safetensors", [huge, 3, 0], 5)]:
        with open(os.path.join(SP, name), "wb") as f:
            f.write(reference_layout({"i": ("I64", shape, b""), "v": ("BF16", shape, b"")}))
        comps = len(shape) == 3
        dense_shape = shape[:-1] + [features]
        e = empty_expectation(dense_shape, "<f2", comps)
        slots = shape[1] if comps else 1
        e["dead"] = [features] * slots if comps else features
        e["histogram"]["dead"] = slots * features
        e.update({"file": name, "sparse": "i,v", "features": features, "twin": "", "dtype": "BF16"})
        sp_runs[name.replace(".safetensors", "")] = e

    # Totals: top-k shards with dense shards of the same dataset, .npy (the
    # dense safetensors files of a -sparse run would be read as top-k
    # pairs) and, in the test, a state saved from a dense safetensors shard.
    D = 20
    idx = topk_indices(30, 3, 5, D).astype("<i4")
    vals = topk_values(idx.shape)
    dense = densify(idx, vals, D, "<f4")
    sp_write("shard_topk_f32.safetensors", {"idx": ("I32", idx[:12]), "val": ("F32", vals[:12])})
    np.save(os.path.join(SP, "shard_dense_f32.npy"), dense[12:])
    e = expect(dense)
    e.update({"files": ["shard_topk_f32.safetensors", "shard_dense_f32.npy"], "sparse": "idx,val", "features": D, "dtype": "float32"})
    sp_totals["f32_topk_and_npy"] = e
    D = 64
    idx = topk_indices(25, 1, 8, D)
    vals = bf16(topk_values(idx.shape))
    dense = densify(idx, vals, D, "<u2")
    sp_write("shard_dense_bf16.safetensors", {"x": ("BF16", dense)})
    twin = st_numeric("BF16", np.concatenate([
        densify(*read_topk("topk_i64_bf16.safetensors", "indices", "values"), D, "<u2"), dense]))
    e = expect(twin)
    e.update({"files": ["topk_i64_bf16.safetensors", "shard_dense_bf16.safetensors"], "sparse": "indices,values", "features": D,
              "dtype": "bfloat16", "state": "shard_dense_bf16.safetensors"})
    sp_totals["bf16_topk_and_state"] = e
    D = 50
    idx = topk_indices(19, 1, 6, D).astype("<u2")
    mask = densify(idx, True, D, "|b1")
    np.save(os.path.join(SP, "shard_mask.npy"), mask)
    first = densify(*read_topk("topk_u16_fired.safetensors", "indices", None), D, "|b1")
    e = expect(np.concatenate([first, mask]))
    e.update({"files": ["topk_u16_fired.safetensors", "shard_mask.npy"], "sparse": "indices", "features": D, "dtype": "uint8"})
    sp_totals["fired_topk_and_bool_npy"] = e

    # Files (and runs) l0 rejects.
    i2 = np.array([[0, 1], [2, 3], [1, 0], [3, 2]], "<i8")
    v2 = np.ones((4, 2), "<f4")
    def bad_run(run, name, sparse, features, error):
        sp_bad[run] = {"file": name, "sparse": sparse, "features": features, "error": error}
    bad_run("missing_index", "topk_i64_bf16.safetensors", "nope,values", 64,
            'no tensor "nope" (-sparse INDEX_KEY); the file holds 3: "indices" I64 [40, 8], "tokens" I64 [40], "values" BF16 [40, 8]')
    bad_run("missing_values", "topk_i64_bf16.safetensors", "indices,nope", 64,
            'no tensor "nope" (-sparse INDEX_KEY,VALUE_KEY); the file holds 3: "indices" I64 [40, 8], "tokens" I64 [40], "values" BF16 [40, 8]')
    bad_run("values_for_index", "topk_i64_bf16.safetensors", "values,indices", 64, 'the indices "values" are BF16 [40, 8]: -sparse wants an integer dtype (I64 I32 I16 I8 U64 U32 U16 U8)')
    bad_run("index_for_values", "topk_i64_bf16.safetensors", "indices,tokens", 64, 'the values "tokens" are I64 [40]: -sparse wants a float dtype (F64 F32 F16 BF16), or no values')
    bad_run("index_rank1", "topk_i64_bf16.safetensors", "tokens", 64, 'the indices "tokens" have the shape [40], of rank 1; -sparse wants [batch, k] or [batch, components, k]')
    bad_run("index_past_features", "topk_i64_bf16.safetensors", "indices,values", 40, "outside [0, 40) (-features 40)")
    bad_run("dtypes_u8_past_features", "topk_dtypes.safetensors", "u8", 10, 'the indices "u8" hold ')
    sp_bad_file("float_index.safetensors", {"i": ("F32", i2.astype("<f4")), "v": ("F32", v2)}, "i,v", 4,
                'the indices "i" are F32 [4, 2]: -sparse wants an integer dtype')
    sp_bad_file("bool_index.safetensors", {"i": ("BOOL", i2 > 0), "v": ("F32", v2)}, "i,v", 4, 'the indices "i" are BOOL [4, 2]')
    sp_bad_file("int_values.safetensors", {"i": ("I64", i2), "v": ("I32", v2.astype("<i4"))}, "i,v", 4,
                'the values "v" are I32 [4, 2]: -sparse wants a float dtype')
    sp_bad_file("f8_values.safetensors", {"i": ("I64", i2), "v": ("F8_E4M3", np.zeros((4, 2), "|u1"))}, "i,v", 4, 'the values "v" are F8_E4M3 [4, 2]')
    sp_bad_file("shapes_differ.safetensors", {"i": ("I64", i2), "v": ("F32", np.ones((4, 3), "<f4"))}, "i,v", 4,
                'the values "v" [4, 3] and the indices "i" [4, 2] differ in shape')
    sp_bad_file("rank4.safetensors", {"i": ("I64", i2.reshape(1, 4, 2, 1)), "v": ("F32", v2.reshape(1, 4, 2, 1))}, "i,v", 4, "of rank 4")
    sp_bad_file("index_negative.safetensors", {"i": ("I32", np.array([[0, 1], [2, -1]], "<i4")), "v": ("F32", v2[:2])}, "i,v", 4,
                'the indices "i" hold -1 at [1, 1], outside [0, 4)')
    sp_bad_file("index_i8_negative.safetensors", {"i": ("I8", np.array([[0, -5], [2, 1]], "|i1")), "v": ("F16", np.ones((2, 2), "<f2"))}, "i,v", 4,
                'the indices "i" hold -5 at [0, 1], outside [0, 4)')
    sp_bad_file("index_u64_huge.safetensors", {"i": ("U64", np.array([[0, 1], [2**64 - 1, 3]], "<u8"))}, "i", 4,
                'the indices "i" hold 18446744073709551615 at [1, 0], outside [0, 4)')
    sp_bad_file("index_3d_past.safetensors", {"i": ("U32", np.array([[[0, 1], [2, 3]], [[3, 2], [1, 4]]], "<u4")),
                                              "v": ("F64", np.ones((2, 2, 2), "<f8"))}, "i,v", 4,
                'the indices "i" hold 4 at [1, 1, 1], outside [0, 4)')
    sp_bad_file("zero_vectors.safetensors", {"i": ("I64", np.zeros((0, 2), "<i8")), "v": ("F32", np.zeros((0, 2), "<f4"))}, "i,v", 4,
                "the shape [0, 4] (of the top-k [0, 2]) has no vectors")
    sp_bad_file("zero_components.safetensors", {"i": ("I64", np.zeros((5, 0, 2), "<i8")), "v": ("F32", np.zeros((5, 0, 2), "<f4"))}, "i,v", 4,
                "the shape [5, 0, 4] (of the top-k [5, 0, 2]) has no components")
    with open(os.path.join(SP, "no_entries_components.safetensors"), "wb") as f:
        f.write(reference_layout({"i": ("I64", [1, 1000, 0], b"")}))
    sp_bad["no_entries_components.safetensors"] = {"file": "no_entries_components.safetensors", "sparse": "i", "features": 100,
                                                   "error": "have no entries (k = 0) for 1000 components × 100 features; l0 takes at most 65536"}
    good = open(os.path.join(SP, "topk_i32_f32_3d.safetensors"), "rb").read()
    with open(os.path.join(SP, "truncated.safetensors"), "wb") as f:
        f.write(good[:-3])
    sp_bad["truncated.safetensors"] = {"file": "truncated.safetensors", "sparse": "idx,val", "features": 20, "error": "truncated data"}

    with open(os.path.join(SP, "expected.json"), "w") as f:
        f.write('{"threshold": %s, "dense": %s, "runs": {\n' % (json.dumps(THRESHOLD), json.dumps(DENSE)))
        for part, entries in [("runs", sp_runs), ("totals", sp_totals), ("bad", sp_bad)]:
            if part != "runs":
                f.write('\n}, "%s": {\n' % part)
            f.write(",\n".join("%s: %s" % (json.dumps(k), json.dumps(v, sort_keys=True)) for k, v in sorted(entries.items())))
        f.write("\n}}\n")


def read_topk(name, index, values):
    """The index and value arrays of a top-k pair, read back from the file
    (as uint16 patterns for BF16; True without values)."""
    data = open(os.path.join(SP, name), "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    def tensor(key):
        t = header[key]
        begin, end = t["data_offsets"]
        return np.frombuffer(data[8 + n + begin : 8 + n + end], ST_NUMPY[t["dtype"]]).reshape(t["shape"])
    return tensor(index), (tensor(values) if values else True)


main_npy()
main_safetensors()
main_sparse()
