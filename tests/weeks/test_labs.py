"""Every week's lab notebook, executed headless as a student runs it in the starter: the reference
runs without an error within the week's budget, every otter check passes on it and fails on the
stencil, every figure it shows is saved as an image with the expected number of axes, and the PDF of
its written answers is produced. The README's figures are the reference lab's, fresh."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import matplotlib.image as mpimg
import pytest
from PIL import Image

from coursekit import lab
from coursekit.authoring import lab_runner
from coursekit.authoring.commands.lab import FIGURES_FOLDER, README_FIGURES, reference_problems
from coursekit.authoring.notebooks import LAB_NOTEBOOK
from coursekit.config import load_week
from coursekit.paths import Repo

REPO = Repo.here()
LAB_WEEKS = [w for w in REPO.week_names() if (REPO.solution(w) / LAB_NOTEBOOK).is_file()]
pytestmark = pytest.mark.slow

#: The figures each week's lab saves, with the number of axes in each (colorbars count as axes).
EXPECTED_FIGURES = {
    "perceptron": {"boundaries": 4, "mistakes": 2, "xor": 2, "logreg": 2, "digit_templates": 10,
                   "digits_accuracy": 2},
    "backprop": {"gradcheck": 1, "spiral_curves": 2, "spiral_regions": 1, "optimizers": 1, "digits_mistakes": 8},
    "cnn": {"hand_filters": 8, "accuracy": 1, "filters": 16, "feature_maps": 17},
    "rnn": {"bptt_norms": 1, "perplexity": 2, "temperature": 4},
    "transformer": {"positions": 2, "training": 2, "attention": 8},
    "vae": {"elbo": 2, "reconstructions_and_samples": 32, "interpolation": 32, "iwae": 1},
    "diffusion": {"schedules": 1, "forward": 6, "loss": 1, "reverse": 6, "trajectories": 1, "ddim": 2},
}


@pytest.fixture(scope="session")
def all_runs(tmp_path_factory):
    """Every week's reference (exported) and stencil run, two kernels at a time so both of CI's
    cores stay busy; a run that raised is kept as its exception, for that week's tests to show."""
    jobs = {}
    with ThreadPoolExecutor(2) as pool:
        for week in LAB_WEEKS:
            config = load_week(REPO, week)
            base = tmp_path_factory.mktemp(f"lab-{week}")
            jobs[week] = (config,
                          pool.submit(lab_runner.run, REPO, config, "reference", base / "reference"),
                          pool.submit(lab_runner.run, REPO, config, "stencil", base / "stencil", export=False))
        return {week: (config, reference.exception() or reference.result(), stencil.exception() or stencil.result())
                for week, (config, reference, stencil) in jobs.items()}


@pytest.fixture(params=LAB_WEEKS)
def runs(request, all_runs):
    config, reference, stencil = all_runs[request.param]
    for run in (reference, stencil):
        if isinstance(run, BaseException):
            raise run
    return config, reference, stencil


def test_the_reference_runs_headless_within_the_budget(runs):
    config, reference, _ = runs
    assert reference.errors == [], reference.errors
    if sys.platform.startswith("linux"):  # /proc gives the kernel's CPU time (elsewhere: wall time)
        assert reference.cpu_seconds is not None and reference.cpu_seconds > 0
    assert reference.charged_seconds <= config.budget.grade_seconds
    assert reference_problems(reference, config.budget.grade_seconds) == []


def test_the_checks_pass_on_the_reference_and_fail_on_the_stencil(runs):
    _, reference, stencil = runs
    assert reference.checks and set(reference.checks) == set(stencil.checks)
    assert all(reference.checks.values()), reference.checks
    assert not any(stencil.checks.values()), stencil.checks
    assert stencil.errors  # the stencil's stubs raise, and the run went on past them


def test_every_figure_is_saved_as_an_image_with_the_expected_axes(runs):
    config, reference, _ = runs
    expected = EXPECTED_FIGURES[config.name]
    assert reference.figures == expected
    assert reference.images_shown == len(expected)  # every figure shown is also saved
    for name, axes in expected.items():
        path = reference.folder / lab.FIGURES_DIR / f"{name}.png"
        pixels = mpimg.imread(path)
        assert pixels.ndim == 3 and pixels.shape[0] >= 150 and pixels.shape[1] >= 200
        assert pixels.min() < pixels.max(), f"{name}.png is blank"
        with Image.open(path) as image:
            assert image.format == "PNG"
        assert lab.figure_axes(path) == axes


def test_the_written_answers_become_a_pdf(runs):
    _, reference, _ = runs
    pdf = reference.pdf
    data = pdf.path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and len(data) > 5_000
    # CI installs xelatex and pandoc (make pdf-tools), so there the export takes otter's own route.
    assert pdf.route == ("latex" if lab.latex_available() else "plain"), pdf.note


def test_the_readme_figures_are_fresh(runs):
    from matplotlib.testing.compare import compare_images

    config, reference, _ = runs
    names = README_FIGURES.get(config.name)
    if not names:
        pytest.skip(f"the README shows no figure of {config.name}'s lab")
    for name in names:
        committed = REPO.root.joinpath(*FIGURES_FOLDER, f"{config.name}_{name}.png")
        assert committed.is_file(), f"{committed} is missing: run `make figures` and commit it"
        fresh = reference.folder / lab.FIGURES_DIR / f"{name}.png"
        problem = compare_images(str(committed), str(fresh), tol=1.0)
        assert problem is None, f"{committed} is stale ({problem}): run `make figures` and commit it"
