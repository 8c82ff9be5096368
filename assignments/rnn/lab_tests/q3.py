"""Lab question q3: samples at several temperatures from your sample (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q3"


@test_case(hidden=False)
def test_samples(samples, temperatures, prefix_text, lm, prefix):
    import torch

    import char_lm

    assert isinstance(samples, dict) and sorted(samples) == sorted(temperatures), "one sample per temperature"
    for t, text in samples.items():
        assert isinstance(text, str) and text.startswith(prefix_text) and len(text) == len(prefix_text) + 120, \
            f"temperature {t}: the prefix followed by 120 characters"
    again = char_lm.sample(lm, prefix, 120, temperature=1.0, seed=0)
    assert torch.equal(again, char_lm.sample(lm, prefix, 120, temperature=1.0, seed=0)), "the same seed gives the same sample"
    greedy = char_lm.sample(lm, prefix, 20, temperature=0.0, seed=1)
    with torch.no_grad():
        first = int(torch.argmax(lm(prefix[None, :])[0, -1]))
    assert int(greedy[len(prefix)]) == first, "temperature 0 takes the most likely character"
