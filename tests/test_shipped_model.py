"""The shipped model (models/ttsr-mini.pt, the default of ttsr-infer and the explorer) uses its reference: on held-out
pairs this test builds from the held-out test photos (no holes, a seed the model card's pairs do not use), its PSNR
gain over No super-resolution is larger where the reference covers the output than where it does not (issue 9).
Fast: 16 pairs of 96 px on one thread. The test photos come from the Debian packages or, without them, from the
copies in ttsr/data/held_out_photos/ (the same pixels)."""
import torch

from ttsr.checkpoint import load_model, DEFAULT_CHECKPOINT
from ttsr.data.datasets import DataConfig
from ttsr.data.photos import PhotoPairs, TEST_PHOTOS, TRAIN_PHOTOS
from ttsr.evaluate import evaluate_model
from ttsr.shipped import card_numbers


def test_shipped_model_uses_the_reference():
    assert DEFAULT_CHECKPOINT.is_file(), f"{DEFAULT_CHECKPOINT}: the shipped model is missing (ttsr-ship ttsr_mini writes it)"
    assert not set(TEST_PHOTOS) & set(TRAIN_PHOTOS)
    torch.set_num_threads(1)
    model = load_model(DEFAULT_CHECKPOINT)
    data = PhotoPairs(DataConfig(crop_size=96, mask_rate=0.0, val_crops_per_pair=4, seed=2024), 'test')
    h = card_numbers(evaluate_model(model, data, baselines=('no_sr',), protocols=('ttsr',), timing_samples=0))
    assert h['n_images'] == 16 and h['n_masked'] == 0
    assert h["inside_gain_db"] > h["outside_gain_db"] + 0.5, h   # issue 9: inside beats outside (0.5 dB above pair noise)
