#!/usr/bin/python3
"""Writes the delphi latent-cache fixtures of cmd/l0's tests (delphi/), and
expected.json beside them.

Run it from anywhere with Debian's numpy (apt-get install python3-numpy):

    /usr/bin/python3 cmd/l0/testdata/gen_delphi.py

EleutherAI's delphi caches an SAE's latents per hookpoint as a directory of
splits, {start}_{end}.safetensors (end inclusive), the latents split by
torch.linspace(0, width, n_splits + 1).long(), each with

    locations    [n, 3] (sequence, position, latent - start): uint16 when
                 both the sequence and the relative latent are below 2^16,
                 else uint32
    activations  [n] float16, the entries with |x| > 1e-5
    tokens       [sequences, ctx] int64, the same in every split (left out
                 when saved without tokens)

and config.json beside them (delphi's CacheConfig, and model_name). This
script does what delphi's LatentCache.save_splits does, with numpy alone
(there is no delphi, torch or safetensors package here): the entries are
np.nonzero(np.abs(a) > 1e-5) of a dense [sequence, position, latent]
float16 array a, in np.nonzero's order (torch.nonzero's: by sequence, then
position, then latent), and the files are laid out as safetensors'
reference writer lays them out (header JSON without spaces, tensors sorted
by dtype as its Dtype enum orders them, descending, then by name, padded to
8 bytes), as gen_fixtures.py does. The dense twin of each good cache (its
stored entries put back in place, float16) is written too, as a .npy file,
so that the tests also check that the cache reports (and saves) exactly as
the dense array read with -positions.

numpy's numbers are the twin's: the L0 as np.count_nonzero(x, axis=-1),
per position, and over all; the feature counts as np.count_nonzero(x,
axis=(0, 1)), from which the dead and dense features and the log10 density
histogram follow with l0's fixed bins; the same of (x > 0.5) and
(np.abs(x) > 0.5) for -threshold 0.5 and -abs-threshold 0.5, and of x[:,
1:] for -skip-positions 1.

Token masks and per-sequence statistics (-exclude-tokens, -feature-stats):
the tokens of the caches with tokens hold a BOS at position 0 of every
sequence and one mid-sequence, padding at the end of the last sequence and
(in "cache") a sequence of padding only; each cache's tokens are written as
a .npy twin too (cache_twin_tokens.npy), so that the tests compare the
cache with the dense twin read with -positions -tokens. numpy's numbers of
the masked runs ("masks" in expected.json) come from the definitions, as
gen_masks.py computes them: keep = ~np.isin(tokens, exclude); the L0 and
the density over the kept vectors; per position over the vectors kept
there; firing_counts, sequences_fired (the sequences in which a latent
fired at a kept position), feature_density and
consistent_activation_heuristic (NaN where no sequence fired).

The bad caches are each a directory (or a file) with one flaw of the list
l0 must refuse, with the words its error must contain.
"""

import json
import math
import os
import shutil
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "delphi")
THRESHOLD = 0.5
DENSE = 0.1  # the default -dense
HIST_MIN, HIST_WIDTH, HIST_BINS = -8.0, 0.5, 16  # metric.Histogram's bins
ST_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
            "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
ST_DTYPE = {np.dtype("<u2"): "U16", np.dtype("<u4"): "U32", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64"}

rng = np.random.default_rng(20261207)
BOS, PAD = 1, 0  # special token ids (rng draws ids from 0: PAD may also appear by chance)
runs = []  # good runs: args relative to OUT, and numpy's numbers
masks = {}  # masked and per-sequence runs: numpy's numbers
bad = []  # bad runs: args, and the words of the error


def histogram(fired, vectors):
    """The bins of the features that fired in fired[i] of the vectors,
    decided exactly in Python's integers, as gen_fixtures.py does."""
    counts, underflow, dead = [0] * HIST_BINS, 0, 0

    def reaches(c, k):
        p = round(-2 * (HIST_MIN + k * HIST_WIDTH))
        return c * c * 10**p >= vectors * vectors

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


def expect(x, skip=0):
    """numpy's report of a [sequence, position, feature] array (x counts
    where it is True or non-zero), its first skip positions left out."""
    seqs = x.shape[0]
    kept = x[:, skip:, :]
    vectors = seqs * kept.shape[1]
    fired = np.count_nonzero(kept, axis=(0, 1))
    density = fired / vectors
    return {
        "shape": list(x.shape),
        "vectors": vectors,
        "l0": float(np.count_nonzero(kept) / vectors),
        "l0_by_position": (np.count_nonzero(kept, axis=-1).sum(0) / seqs).tolist(),
        "dead": int((density == 0).sum()),
        "dense": int((density > DENSE).sum()),
        "histogram": histogram(fired, vectors),
    }


def reference_layout(tensors):
    """The bytes of a safetensors file of tensors, name -> numpy array, laid
    out as the reference writer does."""
    names = sorted(tensors, key=lambda n: (-ST_ORDER.index(ST_DTYPE[tensors[n].dtype]), n))
    header, offset, data = {}, 0, b""
    for n in names:
        raw = np.ascontiguousarray(tensors[n]).tobytes()
        header[n] = {"dtype": ST_DTYPE[tensors[n].dtype], "shape": list(tensors[n].shape),
                     "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def activations(shape, density):
    """A dense float16 [sequence, position, latent] array of SAE latents:
    about density of them fire, exponential, some negative, a few ±Inf and
    values at and around the threshold and delphi's 1e-5."""
    a = (rng.exponential(0.7, shape) * (rng.random(shape) < density)).astype(np.float16)
    a[rng.random(shape) < 0.1] *= -1
    flat = a.reshape(-1)
    special = np.array([np.inf, -np.inf, 0.5, -0.5, np.float16(0.5) + np.float16(0.0004883), 2e-5, 1e-5, 6e-8, -0.0], np.float16)
    flat[rng.choice(flat.size, size=len(special), replace=False)] = special
    return a


def split_bounds(width, n_splits):
    """delphi's splits: torch.linspace(0, width, n_splits + 1).long(), the
    ends less one (linspace in float32, as torch's)."""
    b = np.linspace(0, width, n_splits + 1, dtype=np.float32).astype(np.int64)
    return list(zip(b[:-1].tolist(), (b[1:] - 1).tolist()))


def entries(a):
    """The entries delphi keeps of a, in torch.nonzero's order."""
    keep = np.abs(a.astype(np.float32)) > 1e-5
    loc = np.argwhere(keep).astype(np.int64)
    return loc, a[keep]


def twin(a):
    """The dense array a cache of a stands for: its stored entries in
    place."""
    t = np.zeros_like(a)
    loc, act = entries(a)
    t[loc[:, 0], loc[:, 1], loc[:, 2]] = act
    return t


def special(tok):
    """Puts special tokens in tok [sequences, ctx], in place, drawing no
    random number (the other fixtures stay as they were): a BOS at
    position 0 and mid-sequence, padding at the end, and with 6 sequences
    or more a sequence of padding only."""
    seqs, ctx = tok.shape
    tok[:, 0] = BOS
    tok[min(1, seqs - 1), ctx // 2] = BOS
    tok[-1, -1] = PAD
    if seqs >= 6:
        tok[3, :] = PAD
    return tok


def write_cache(name, a, n_splits, tokens=True, config=True, edit=None, config_edit=None, batch_size=2, tokens_twin=False):
    """Writes a cache of a as delphi does into OUT/name; edit(start, end,
    tensors) may spoil a split's tensors; with tokens_twin, its tokens are
    special ones, also written as OUT/{name}_twin_tokens.npy; returns the
    directory."""
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    seqs, ctx, width = a.shape
    tok = rng.integers(0, 50000, size=(seqs, ctx), dtype=np.int64)
    if tokens_twin:
        np.save(os.path.join(OUT, name + "_twin_tokens.npy"), special(tok))
    loc, act = entries(a)
    for start, end in split_bounds(width, n_splits):
        mask = (loc[:, 2] >= start) & (loc[:, 2] <= end)
        l = loc[mask].copy()
        l[:, 2] -= start
        if len(l) == 0 or (l[:, 2].max() < 2**16 and l[:, 0].max() < 2**16):
            l = l.astype(np.uint16)
        else:
            l = l.astype(np.uint32)
        tensors = {"locations": l, "activations": act[mask].astype(np.float16)}
        if tokens:
            tensors["tokens"] = tok
        if edit is not None:
            tensors = edit(start, end, tensors)
            if tensors is None:
                continue
        with open(os.path.join(d, "%d_%d.safetensors" % (start, end)), "wb") as f:
            f.write(reference_layout(tensors))
    if config:
        c = {"dataset_repo": "EleutherAI/SmolLM2-135M-10B", "dataset_split": "train[:1%]", "dataset_name": "",
             "dataset_column": "text", "batch_size": batch_size, "cache_ctx_len": ctx, "n_tokens": seqs * ctx,
             "n_splits": n_splits, "model_name": "HuggingFaceTB/SmolLM2-135M"}
        if config_edit is not None:
            config_edit(c)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=4)
    return d


def good(args, x, cache, **kw):
    """A good run and numpy's numbers, for every rule; cache is what its
    "delphi" field says."""
    e = expect(x, **kw)
    e["delphi"] = cache
    e["l0_above"] = expect(x > THRESHOLD, **kw)
    e["l0_abs_above"] = expect(np.abs(x.astype(np.float32)) > THRESHOLD, **kw)
    runs.append({"args": args, "expect": e})


def numbers(counted, keep, skip=0, sparse=False):
    """numpy's numbers of a masked or per-sequence run: counted [sequence,
    position, latent] bool, keep [sequence, position] bool, the first skip
    positions left out of both. sparse: the per-latent numbers of a wide
    cache as {latent: count} of the latents that fired (the others 0; the
    density and the heuristic follow from them)."""
    counted, keep = counted[:, skip:], keep[:, skip:]
    kept = counted[keep]  # [vectors, latent]
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
    if sparse:
        return dict(
            vectors=vectors, excluded_vectors=int(keep.size - vectors), l0=float(kept.sum()) / vectors,
            dead=int((firing == 0).sum()), dense=int((density > DENSE).sum()),
            sequences=int(keep.shape[0]), l0_by_position=per_pos, features=int(counted.shape[2]),
            firing_at={str(i): int(firing[i]) for i in np.flatnonzero(firing)},
            fired_at={str(i): int(fired[i]) for i in np.flatnonzero(fired)},
        )
    return dict(
        vectors=vectors, excluded_vectors=int(keep.size - vectors), l0=float(kept.sum()) / vectors,
        dead=int((firing == 0).sum()), dense=int((density > DENSE).sum()),
        sequences=int(keep.shape[0]), l0_by_position=per_pos,
        firing_counts=[int(x) for x in firing], sequences_fired=[int(x) for x in fired],
        feature_density=[float(x) for x in density],
        consistent_activation_heuristic=[None if math.isnan(x) else float(x) for x in cah],
    )


def masked(name, args, x, tok, exclude, skip=0, sparse=False):
    """The masked runs of a cache (args, its directory or split last) of
    twin x and tokens tok: with the mask of exclude (None: -feature-stats
    alone), by the default rule and -abs-threshold 0.5."""
    keep = ~np.isin(tok, exclude or [])
    ex = [] if exclude is None else ["-exclude-tokens", ",".join(str(i) for i in exclude)]
    sk = ["-skip-positions", str(skip)] if skip else []
    masks[name] = dict(args=sk + ex + args, **numbers(x != 0, keep, skip, sparse))
    masks[name + "_abs"] = dict(args=sk + ex + ["-abs-threshold", str(THRESHOLD)] + args,
                                **numbers(np.abs(x.astype(np.float32)) > THRESHOLD, keep, skip, sparse))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)

    # A cache with tokens: 6 sequences of 8 tokens, 100 latents in 3 splits
    # (0_32, 33_65, 66_99), uint16 locations; its twin; one split alone.
    a = activations((6, 8, 100), 0.15)
    a[:, :, 40:45] = 0  # dead latents
    a[:, 3, :] = 0  # a position where none fires
    write_cache("cache", a, 3, tokens_twin=True)
    t = twin(a)
    np.save(os.path.join(OUT, "cache_twin.npy"), t)
    tok = np.load(os.path.join(OUT, "cache_twin_tokens.npy"))
    masked("cache_bos_pad", ["cache"], t, tok, [BOS, PAD])
    masked("cache_stats", ["cache"], t, tok, None)
    masked("cache_skip_bos", ["cache"], t, tok, [BOS], skip=1)
    masked("cache_absent", ["cache"], t, tok, [49999999])
    masked("split_pad", ["cache/33_65.safetensors"], t[:, :, 33:66], tok, [PAD])
    stored = int(np.count_nonzero(t))
    cache = {"splits": 3, "entries": stored, "locations_dtype": "U16", "tokens": True, "sequences_from": "tokens"}
    good(["cache"], t, cache)
    good(["-skip-positions", "1", "cache"], t, cache, skip=1)
    good(["cache/33_65.safetensors"], t[:, :, 33:66], dict(cache, splits=1, entries=int(np.count_nonzero(t[:, :, 33:66]))))

    # Without tokens: the sequences come from config.json as delphi's
    # LatentCache.run caches them: (n_tokens // ctx // batch_size) ×
    # batch_size; 103 // 8 // 4 × 4 = 12.
    b = activations((12, 8, 64), 0.2)
    write_cache("no_tokens", b, 4, tokens=False, config_edit=lambda c: c.update(n_tokens=103, batch_size=4))
    good(["no_tokens"], twin(b), {"splits": 4, "entries": int(np.count_nonzero(twin(b))), "locations_dtype": "U16",
                                  "tokens": False, "sequences_from": "config.json"})

    # uint32 locations: a split wider than 65,536 latents (two splits of
    # 70,000), few entries; the last latent of each split fires.
    w = np.zeros((3, 4, 140000), np.float16)
    for s, p, l in [(0, 0, 0), (0, 0, 69999), (0, 1, 70000), (1, 2, 139999), (2, 3, 65536), (2, 3, 65537), (1, 0, 100000)]:
        w[s, p, l] = np.float16(rng.exponential(1.0) + 0.01)
    w[2, 3, 65537] = -0.25
    write_cache("wide", w, 2, tokens_twin=True)
    good(["wide"], twin(w), {"splits": 2, "entries": 7, "locations_dtype": "U32", "tokens": True, "sequences_from": "tokens"})
    wtok = np.load(os.path.join(OUT, "wide_twin_tokens.npy"))
    masked("wide_bos", ["wide"], twin(w), wtok, [BOS], sparse=True)
    masked("wide_stats", ["wide"], twin(w), wtok, None, sparse=True)

    # The bad caches: each one flaw.
    def spoil(name, n_splits=3, error=(), **kw):
        write_cache(name, a, n_splits, **kw)
        bad.append({"args": [name], "error": [error] if isinstance(error, str) else error})

    def latent_past(start, end, tensors):
        if start == 0:
            tensors["locations"][5, 2] = end - start + 1
        return tensors

    spoil("bad_latent", edit=latent_past, error=["0_32.safetensors: entry 5 (", "latent 33): latent past the split's end"])

    def lengths(start, end, tensors):
        if start == 33:
            tensors["activations"] = tensors["activations"][:-1]
        return tensors

    spoil("bad_lengths", edit=lengths, error=["33_65.safetensors: ", "locations and", "activations: each entry has one of each"])

    def sequence_past(start, end, tensors):
        if start == 66:
            tensors["locations"][-1, 0] = 6
        return tensors

    spoil("bad_sequence", edit=sequence_past, error=["66_99.safetensors: entry", "sequence past the cache's 6 sequences"])

    def position_past(start, end, tensors):
        if start == 66:
            tensors["locations"][-1, 1] = 8
        return tensors

    spoil("bad_position", edit=position_past, error=["66_99.safetensors: entry", "position past the sequences' 8 positions"])

    def other_tokens(start, end, tensors):
        if start == 66:
            tensors["tokens"] = tensors["tokens"].copy()
            tensors["tokens"][4, 5] += 1
        return tensors

    spoil("bad_tokens", edit=other_tokens, error="the tokens of 0_32.safetensors and 66_99.safetensors differ at [4, 5]")

    def duplicate(start, end, tensors):
        if start == 33:
            loc, act = tensors["locations"], tensors["activations"]
            tensors["locations"] = np.concatenate([loc[:11], loc[10:]])
            tensors["activations"] = np.concatenate([act[:11], act[10:]])
        return tensors

    spoil("bad_duplicate", edit=duplicate, error=["33_65.safetensors: entry 11 (", "given twice (entries 10 and 11)"])

    def unsorted(start, end, tensors):
        if start == 33:
            tensors["locations"][[3, 4]] = tensors["locations"][[4, 3]]
            tensors["activations"][[3, 4]] = tensors["activations"][[4, 3]]
        return tensors

    spoil("bad_order", edit=unsorted, error=["33_65.safetensors: entry 4 (", "out of order after entry 3"])

    def drop(which):
        return lambda start, end, tensors: None if start == which else tensors

    spoil("bad_missing", edit=drop(66), error="config.json says n_splits 3, and the directory holds 2 splits")
    spoil("bad_gap", edit=drop(33), config_edit=lambda c: c.pop("n_splits"), error="a gap between the splits 0_32.safetensors and 66_99.safetensors: latents 33 to 65")
    spoil("bad_start", edit=drop(0), config_edit=lambda c: c.pop("n_splits"), error="the splits start at latent 33 (33_65.safetensors)")
    d = write_cache("bad_overlap", a, 3, config_edit=lambda c: c.pop("n_splits"))
    os.rename(os.path.join(d, "33_65.safetensors"), os.path.join(d, "30_65.safetensors"))
    bad.append({"args": ["bad_overlap"], "error": ["the splits 0_32.safetensors and 30_65.safetensors overlap: latents 30 to 32"]})
    spoil("bad_no_count", tokens=False, config=False, error="the cache holds no tokens")

    def some_tokens(start, end, tensors):
        if start == 33:
            del tensors["tokens"]
        return tensors

    spoil("bad_some_tokens", edit=some_tokens, error="0_32.safetensors holds tokens and 33_65.safetensors does not")

    def f32_activations(start, end, tensors):
        tensors["activations"] = tensors["activations"].astype(np.float32)
        ST_DTYPE[np.dtype("<f4")] = "F32"
        return tensors

    spoil("bad_dtype", edit=f32_activations, error="0_32.safetensors: the activations are F32")
    # A tiny split that claims 2^40 entries: refused by its size, before
    # anything is sized by the claim.
    d = os.path.join(OUT, "bad_huge")
    os.makedirs(d)
    header = json.dumps({"activations": {"dtype": "F16", "shape": [2**40], "data_offsets": [0, 2**41]},
                         "locations": {"dtype": "U16", "shape": [2**40, 3], "data_offsets": [2**41, 2**41 + 6 * 2**40]}},
                        separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    with open(os.path.join(d, "0_99.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    bad.append({"args": ["bad_huge"], "error": ["0_99.safetensors: ", "the file holds 16"]})

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"threshold": THRESHOLD, "dense": DENSE, "runs": runs, "bad": bad, "masks": masks}, f, indent=1, sort_keys=True)
        f.write("\n")


main()
