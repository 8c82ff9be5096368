"""Lab question q1: perplexity baselines with your perplexity (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q1"


@test_case(hidden=False)
def test_baselines(uniform_ppl, unigram_ppl, V):
    import numpy as np

    from coursekit import data

    assert uniform_ppl is not None and unigram_ppl is not None, "set uniform_ppl and unigram_ppl"
    assert np.isclose(uniform_ppl, V, rtol=1e-4), "all-zero logits spread the probability evenly: perplexity V"
    train_ids, _ = data.load_corpus("train")
    val_ids, _ = data.load_corpus("val")
    frequencies = np.maximum(np.bincount(train_ids, minlength=V), 1) / len(train_ids)
    expected = float(np.exp(-np.mean(np.log(frequencies[val_ids[1:2049]]))))
    assert np.isclose(unigram_ppl, expected, rtol=1e-3), "unigram_ppl: the log-frequencies as logits at every position"
