"""Design matrices for training: the scorer's own features (shared/routing/features.py), so
what is trained is exactly what runs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from shared.routing.features import HASH_BUCKETS, SIGNALS, features


def design_matrix(texts: Sequence[str]) -> sp.csr_matrix:
    """Rows of [named signals..., hashed bucket counts...] for each text."""
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    width = len(SIGNALS)
    for i, text in enumerate(texts):
        named, terms = features(text)
        for j, name in enumerate(SIGNALS):
            if named[name]:
                rows.append(i)
                cols.append(j)
                values.append(named[name])
        for bucket, count in terms.counts().items():
            rows.append(i)
            cols.append(width + bucket)
            values.append(float(count))
    shape = (len(texts), width + HASH_BUCKETS)
    return sp.csr_matrix((np.array(values), (np.array(rows), np.array(cols))), shape=shape)
