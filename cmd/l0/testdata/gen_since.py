#!/usr/bin/python3
"""Writes the fixtures of vectors since fired (-feature-stats'
vectors_since_fired, -dead-after N) in cmd/l0/testdata/since/, and
expected.json beside them: numpy's numbers.

    /usr/bin/python3 cmd/l0/testdata/gen_since.py

dense.npy is float32 [200, 12], vectors in order; dense3d.npy the same
vectors as [8 sequences, 25 positions, 12 features]; shard-{0,1,2}.npy
and shard3d-{0,1,2}.npy split them, in order, at vectors 75 and 125 (the
3-d ones at sequences 3 and 5). The features: 0 never fires (0.0 and
-0.0 only); 1 fires in the first vector only; 2 in the last only; 3 only
by a subnormal, in vector 77; 4 by NaN (vectors 10 and 150); 5 by +Inf
(5) and -Inf (180); 6 is -0.0 everywhere (never fires); 7 to 11 fire at
random, with densities 0.5 to 0.005, some by subnormals, with -0.0
between. numpy decides firing as the rule x != 0 does (NaN != 0 is True,
-0.0 != 0 is False) and computes, per feature, the index of the last row
in which it is non-zero, the most direct way:

    last = max(np.nonzero(x[:, f] != 0)[0]), since = vectors - (last + 1)
    (a feature with no such row: since = vectors)

and, for each N of dead_after, the number of features with since > N.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "since")
rng = np.random.default_rng(19_2026)

VECTORS, FEATURES = 200, 12
SEQUENCES, POSITIONS = 8, 25
SUB = np.float32(1e-45)  # the least float32 subnormal

x = np.zeros((VECTORS, FEATURES), dtype=np.float32)
neg0 = rng.random((VECTORS, FEATURES)) < 0.3
x[neg0] = np.float32(-0.0)
x[:, 6] = np.float32(-0.0)
x[0, 1] = 1.0
x[VECTORS - 1, 2] = -3.5
x[77, 3] = SUB
x[[10, 150], 4] = np.float32("nan")
x[5, 5] = np.float32("inf")
x[180, 5] = np.float32("-inf")
for f, density in zip(range(7, 12), [0.5, 0.1, 0.02, 0.005, 0.3]):
    fires = rng.random(VECTORS) < density
    values = rng.standard_normal(VECTORS).astype(np.float32)
    values[rng.random(VECTORS) < 0.2] = SUB * 7  # subnormals fire too
    values[values == 0] = 1.0
    x[fires, f] = values[fires]

os.makedirs(OUT, exist_ok=True)
np.save(os.path.join(OUT, "dense.npy"), x)
np.save(os.path.join(OUT, "dense3d.npy"), x.reshape(SEQUENCES, POSITIONS, FEATURES))
for i, (a, b) in enumerate([(0, 75), (75, 125), (125, 200)]):
    np.save(os.path.join(OUT, "shard-%d.npy" % i), x[a:b])
for i, (a, b) in enumerate([(0, 3), (3, 5), (5, 8)]):
    np.save(os.path.join(OUT, "shard3d-%d.npy" % i), x.reshape(SEQUENCES, POSITIONS, FEATURES)[a:b])

since = []
for f in range(FEATURES):
    rows = np.nonzero(x[:, f] != 0)[0]
    since.append(int(VECTORS - (rows.max() + 1)) if len(rows) else VECTORS)
dead_after = {str(n): int(sum(s > n for s in since)) for n in [0, 1, 2, 19, 24, 50, 122, 199, 200, 1 << 40]}
expected = {"vectors": VECTORS, "features": FEATURES, "vectors_since_fired": since, "dead_after": dead_after}
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
