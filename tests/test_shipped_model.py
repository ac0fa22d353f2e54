"""The shipped model (models/ttsr-mini.pt, the default of ttsr-infer and the explorer) uses its reference: on held-out
pairs this test builds from a test photo, its PSNR gain over No super-resolution is larger where the reference
covers the output than where it does not (issue 9). Fast: a few 96 px pairs on one thread."""
import pytest
import torch

from ttsr.data.datasets import DataConfig
from ttsr.data.photos import PhotoPairs, TEST_PHOTOS, TRAIN_PHOTOS
from ttsr.evaluate import evaluate_model
from ttsr.checkpoint import load_model
from ttsr.infer import DEFAULT_CHECKPOINT
from ttsr.shipped import headline

PHOTO = 'astronaut'   # held out of training, and bundled with scikit-image (no Debian package needed)


def test_shipped_model_uses_the_reference():
    assert DEFAULT_CHECKPOINT.is_file(), f"{DEFAULT_CHECKPOINT}: the shipped model is missing (ttsr-ship ttsr_mini writes it)"
    assert PHOTO in TEST_PHOTOS and PHOTO not in TRAIN_PHOTOS
    torch.set_num_threads(1)
    model = load_model(DEFAULT_CHECKPOINT)
    # no holes: this checks super-resolution alone; a seed the card's test set does not use
    data = PhotoPairs(DataConfig(crop_size=96, mask_rate=0.0, val_crops_per_pair=6, seed=2024), 'test', photos=(PHOTO,))
    h = headline(evaluate_model(model, data, baselines=('no_sr',), protocols=('ttsr',), timing_samples=0))
    assert h['n_images'] == 6
    assert h['inside_gain_db'] > h['outside_gain_db'] + 1.0, h
