"""Lab question q1: your conv2d_forward against torch's conv2d (public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q1"


@test_case(hidden=False)
def test_conv_matches_torch(conv_difference):
    assert conv_difference is not None, "set conv_difference"
    assert conv_difference < 1e-10, f"your convolution differs from F.conv2d by {conv_difference:.1e}"


@test_case(hidden=False)
def test_a_second_shape():
    import numpy as np
    import torch
    import torch.nn.functional as F

    import conv

    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((1, 2, 6, 8)), rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3)
    mine, _ = conv.conv2d_forward(x, w, b, stride=2, pad=(0, 1))
    theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=2, padding=(0, 1)).numpy()
    assert mine.shape == theirs.shape, f"output shape {mine.shape}, torch gives {theirs.shape}"
    assert np.allclose(mine, theirs), "stride 2 and padding (0, 1): your convolution differs from F.conv2d"
