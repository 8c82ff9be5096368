"""Lab question q2: the trained first layer's feature maps, recomputed with your numpy convolution
(public, no points)."""

from otter.test_files import test_case

OK_FORMAT = False
name = "q2"


@test_case(hidden=False)
def test_maps_agree(maps_difference, accuracy):
    assert maps_difference is not None, "set maps_difference"
    assert maps_difference < 1e-4, f"your convolution and the torch layer differ by {maps_difference:.1e}"
    assert accuracy is not None and max(accuracy) > 0.9, "the CNN should learn the digits (validation accuracy > 0.9)"
