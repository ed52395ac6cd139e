"""Design matrices for training: the scorer's own features (shared/routing/features.py), so
what is trained is exactly what runs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from bench.routing.data import Prompt
from shared.routing.features import (
    HASH_BUCKETS,
    MODEL_INPUTS,
    model_inputs,
    request_features,
    view_request,
    wording_weight,
)


def design_matrix(prompts: Sequence[Prompt]) -> sp.csr_matrix:
    """Rows of [model inputs (named signals)..., hashed bucket counts...] for each request."""
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    width = len(MODEL_INPUTS)
    for i, prompt in enumerate(prompts):
        named, terms = request_features(view_request(prompt.messages, prompt.tools))
        inputs = model_inputs(named)
        for j, name in enumerate(MODEL_INPUTS):
            if inputs.get(name):
                rows.append(i)
                cols.append(j)
                values.append(inputs[name])
        weight = wording_weight(named)
        for bucket, count in terms.counts().items():
            rows.append(i)
            cols.append(width + bucket)
            values.append(float(count) * weight)
    shape = (len(prompts), width + HASH_BUCKETS)
    return sp.csr_matrix((np.array(values), (np.array(rows), np.array(cols))), shape=shape)
