"""Lab question q2: attention weights recomputed from your building blocks (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q2"


@test_case(hidden=False)
def test_attention_maps(maps, attention_difference, T):
    import torch

    assert maps is not None and attention_difference is not None, "run the cells of question q2"
    assert attention_difference < 1e-5, f"your recomputation differs from block.attn by {attention_difference:.1e}"
    for weights in maps:
        assert weights.shape[-2:] == (T, T), "weights are (heads, T, T)"
        assert torch.allclose(weights.sum(dim=-1), torch.ones(weights.shape[:-1]), atol=1e-5), "each row sums to 1"
        assert float(torch.triu(weights, diagonal=1).abs().max()) < 1e-6, "no query attends to a later key"
